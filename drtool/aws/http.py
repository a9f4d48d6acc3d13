"""http actions, probes, undos and target types (to be filled)."""
