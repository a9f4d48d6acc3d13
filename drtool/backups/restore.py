"""Restore drills: restore a backup as a new resource, prove it holds data, delete it.

Actions (each undone by deleting what it restored; the undo is journaled before the
restore call, and finds its resource by name, by `drtool:run-id` tag or by restore job,
so a crash between the call and the journal leaves nothing behind):

- `rds.restore-snapshot`: newest (or named) snapshot of `db_instance` as instance
  `target` (undo `rds.delete-restored-instance`, SkipFinalSnapshot);
- `dynamodb.restore-backup`: newest (or named) on-demand backup of `table` as table
  `target` (undo `dynamodb.delete-restored-table`);
- `ec2.restore-volume`: a volume from the newest (or named) snapshot of `volume`
  (undo `ec2.delete-restored-volume`);
- `backup.start-restore`: an AWS Backup restore job of a recovery point (named, or the
  newest of `resource_arn`) (undo `backup.delete-restored-resource`: deletes what the
  journaled restore job created; after a crash, only restored resources carrying the run tag).

Actions start the restore and return; a `wait:` on a probe marks when the copy is usable.
Probes: `dynamodb.item-count`, `ec2.volume-available`, `backup.restore-job-completed`
(`rds.available` lives in drtool.aws.rds).

RPO: every action's `Outcome.data` carries `recovery_point_at` (epoch seconds: when the
restored data was captured) and `recovery_point` (its id/ARN). With `method:
recovery-point` the runner takes the measured RPO as the drill's start time minus
`recovery_point_at`: the data a real restore at that moment would have lost. The
restore time (RTO) is what the runner measures around the steps.
"""

from __future__ import annotations

from drtool.backups import restore_aws_backup, restore_dynamodb, restore_ebs, restore_rds  # noqa: F401 - register

__all__ = ["restore_aws_backup", "restore_dynamodb", "restore_ebs", "restore_rds"]
