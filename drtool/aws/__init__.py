"""AWS service modules: one per service, each holding its actions, probes, undos and
target resolvers (registered in `drtool.registry`)."""
