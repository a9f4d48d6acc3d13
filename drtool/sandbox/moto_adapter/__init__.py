"""The only package that reaches into moto's internals (pinned: moto[server]==5.2.5).

moto answers the AWS API but has no dynamics. Everything the sandbox can do through the
public AWS API it does with boto3 against its own server (`drtool.sandbox.loopback`);
what is left here is what no AWS API offers, or what the simulator must read every
50 ms tick (a public read costs a request; see `fleet_state`):

- `patches`: moto methods patched while a sandbox runs (deferred Auto Scaling launches,
  simulated target health and health-check status, operations that take time).
- `fleet_state`: EC2 / Auto Scaling / ELB state the fleet reads each tick, and the
  Pending -> InService lifecycle AWS moves by itself (no API sets it).
- `data_state`: RDS, S3 and DynamoDB state the replicators read each tick; backdating.
- `dns_alarm_state`: Route 53 and CloudWatch state the routing and alarms read each tick.

`tests/sandbox/test_moto_internals.py` guards every moto behaviour relied on here.
All reads return frozen dataclasses. Callers hold the sandbox lock (the same lock the
moto server takes around every request), so nothing here locks.
"""
