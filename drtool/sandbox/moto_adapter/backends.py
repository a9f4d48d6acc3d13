"""moto's per-account, per-region backends, and its timestamp conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

GLOBAL = "aws"  # moto's region key for its global services (S3, Route 53)


def epoch(value: datetime) -> float:
    """Epoch seconds of a moto timestamp (naive UTC or aware); moto always sets them."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def naive_utc(epoch_s: float) -> datetime:
    """A naive-UTC datetime (what moto stores) for epoch seconds."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).replace(tzinfo=None)


def naive(value: datetime) -> datetime:
    """A moto timestamp as naive UTC (moto mixes naive and aware ones)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def is_true(value: Any) -> bool:
    """moto keeps some booleans as the request's strings ("true")."""
    return value is True or str(value).lower() == "true"


def ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def autoscaling(account: str, region: str) -> Any:
    from moto.autoscaling.models import autoscaling_backends

    return autoscaling_backends[account][region]


def elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def rds(account: str, region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[account][region]


def s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account][GLOBAL]


def dynamodb(account: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region]


def route53(account: str) -> Any:
    from moto.route53.models import route53_backends

    return route53_backends[account][GLOBAL]


def cloudwatch(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]
