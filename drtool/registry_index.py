"""Which built-in module registers each action, probe, undo and target type, so a run
imports only the modules its drill names (drtool.registry). Generated; tests/unit/
test_registry_index.py keeps it equal to what the modules register:

    PYTHONPATH=. python -m drtool.registry_index > drtool/registry_index.py
"""

from __future__ import annotations

INDEX: dict[str, dict[str, str]] = {
    "action": {
        "arc.set-routing-control": "drtool.aws.arc",
        "arc.start-region-switch": "drtool.aws.arc_region_switch",
        "autoscaling.exclude-az": "drtool.aws.az_capacity",
        "autoscaling.set-capacity": "drtool.aws.autoscaling",
        "backup.start-restore": "drtool.backups.restore_aws_backup",
        "dynamodb.pause-replication": "drtool.aws.dynamodb",
        "dynamodb.restore-backup": "drtool.backups.restore_dynamodb",
        "ec2.blackhole-subnets": "drtool.aws.ec2",
        "ec2.restore-volume": "drtool.backups.restore_ebs",
        "ec2.stop-instances": "drtool.aws.ec2",
        "ec2.terminate-instances": "drtool.aws.ec2",
        "fis.experiment": "drtool.aws.fis",
        "rds.failover-cluster": "drtool.aws.rds",
        "rds.promote-read-replica": "drtool.aws.rds",
        "rds.restore-snapshot": "drtool.backups.restore_rds",
        "route53.failover": "drtool.aws.route53",
        "s3.pause-replication": "drtool.aws.s3",
    },
    "probe": {
        "arc.plan-execution-state": "drtool.aws.arc_region_switch",
        "arc.routing-control-state": "drtool.aws.arc",
        "autoscaling.capacity-healthy": "drtool.aws.autoscaling",
        "backup.restore-job-completed": "drtool.backups.restore_aws_backup",
        "cloudwatch.alarm-ok": "drtool.aws.cloudwatch",
        "dynamodb.item-count": "drtool.backups.restore_dynamodb",
        "ec2.volume-available": "drtool.backups.restore_ebs",
        "elbv2.targets-healthy": "drtool.aws.elbv2",
        "fis.experiment-state": "drtool.aws.fis",
        "http.ok": "drtool.aws.http",
        "rds.available": "drtool.aws.rds",
        "rds.cluster-writable": "drtool.aws.rds",
        "route53.points-to": "drtool.aws.route53",
    },
    "undo": {
        "arc.cancel-region-switch": "drtool.aws.arc_region_switch",
        "arc.restore-routing-control": "drtool.aws.arc",
        "autoscaling.restore-capacity": "drtool.aws.autoscaling",
        "autoscaling.restore-subnets": "drtool.aws.az_capacity",
        "backup.delete-restored-resource": "drtool.backups.restore_aws_backup",
        "dynamodb.delete-canaries": "drtool.aws.dynamodb",
        "dynamodb.delete-restored-table": "drtool.backups.restore_dynamodb",
        "dynamodb.resume-replication": "drtool.aws.dynamodb",
        "ec2.delete-restored-volume": "drtool.backups.restore_ebs",
        "ec2.delete-run-acls": "drtool.aws.ec2",
        "ec2.restore-acl-association": "drtool.aws.ec2",
        "ec2.start-instances": "drtool.aws.ec2",
        "fis.delete-template": "drtool.aws.fis",
        "fis.stop-experiment": "drtool.aws.fis",
        "rds.delete-restored-instance": "drtool.backups.restore_rds",
        "rds.failover-cluster-back": "drtool.aws.rds",
        "route53.restore-health-check": "drtool.aws.route53",
        "route53.restore-record": "drtool.aws.route53",
        "s3.delete-canaries": "drtool.aws.s3",
        "s3.resume-replication": "drtool.aws.s3",
    },
    "target type": {
        "ec2:instance": "drtool.aws.ec2",
        "ec2:subnet": "drtool.aws.ec2",
    },
}


if __name__ == "__main__":
    from drtool.registry import render_index

    print(render_index(), end="")
