"""Hand-written fakes for AWS APIs that moto does not implement, served over HTTP.

The sandbox server puts `rest_json.FakesMiddleware` in front of moto's app, so every
client pointed at the sandbox (boto3, the AWS CLI, `drtool run`) reaches the fakes the
same way it reaches moto: e.g. `aws backup list-backup-jobs --endpoint-url $URL` against
`drtool sandbox up`. Tests on in-process moto (`mock_aws`) use `in_process.serving(...)`.

- AWS Backup jobs and recovery points: `backup_state` (state machine on a clock),
  `backup_native` (the native snapshots/backups/restores in moto), `backup_api` (the
  operations, `FakeBackup`).
- ARC Region switch: `arc_switch_state` (plans and executions on a clock,
  `FakeRegionSwitch`), `arc_switch_run` (one execution: steps, graceful/ungraceful mode,
  pause/resume, cancel), `arc_switch_http` (awsJson1_0 and rpcv2Cbor; registered by
  `drtool.sandbox.server`, in-process through `arc_switch_http.serving`).
"""
