"""ARN parsing shared by the backup inventory, the RPO samplers and the AWS Backup fake."""

from __future__ import annotations

import re
from typing import NamedTuple

_ARN = re.compile(r"^arn:[\w-]+:(?P<service>[\w-]+):(?P<region>[\w-]*):(?P<account>\d*):(?P<resource>.+)$")


class Arn(NamedTuple):
    service: str
    region: str
    account: str
    resource: str  # the part after `account:` (e.g. `snapshot:name`, `table/t`)


def parse_arn(arn: str) -> Arn | None:
    match = _ARN.match(arn)
    return Arn(match["service"], match["region"], match["account"], match["resource"]) if match else None


def arn_region(arn: str) -> str | None:
    parsed = parse_arn(arn)
    return parsed.region if parsed else None


def arn_resource(arn: str) -> str | None:
    parsed = parse_arn(arn)
    return parsed.resource if parsed else None
