"""EBS volume initialization: a volume restored from a snapshot is `available` at once but
reads its blocks lazily from S3 until it is initialized ("Initialize Amazon EBS volumes",
https://docs.aws.amazon.com/ebs/latest/userguide/initalize-volume.html). moto 5.2 does not
implement DescribeVolumeStatus (NotImplementedError), so its answers here are served through
botocore's own `before-call` event on the client the probe uses, after botocore has validated
the request against the EC2 model; the shapes are those of the EC2 API reference
(VolumeStatusItem.InitializationStatusDetails: Progress 0-100, 100 once complete)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from pydantic import ValidationError

from drtool.registry import ACTIONS, PROBES
from tests.backups import helpers as h
from tests.backups.helpers import PRIMARY


def _probe(ctx, **with_):
    entry = PROBES.get("ec2.volume-available")
    ctx.read_only = True
    try:
        return entry.func(ctx, entry.params.model_validate(with_))
    finally:
        ctx.read_only = False


def _serve_volume_status(ctx, statuses: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Answer DescribeVolumeStatus for `ctx`'s EC2 client: volume -> InitializationStatusDetails
    (None: AWS has not reported it yet). Returns the requests botocore validated and sent."""
    sent: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        sent.append(params)
        items = []
        for volume_id in _ids(params["body"]):
            item: dict[str, Any] = {"VolumeId": volume_id, "AvailabilityZone": f"{PRIMARY}a",
                                    "VolumeStatus": {"Status": "ok", "Details": []}}
            if statuses.get(volume_id) is not None:
                item["InitializationStatusDetails"] = statuses[volume_id]
            items.append(item)
        return AWSResponse("https://ec2.local", 200, {}, None), {"VolumeStatuses": items}

    ctx.client("ec2", PRIMARY).meta.events.register("before-call.ec2.DescribeVolumeStatus", answer)
    return sent


def _ids(body: dict[str, str]) -> list[str]:
    return [v for k, v in sorted(body.items()) if k.startswith("VolumeId.")]


def _restore(ctx, **with_) -> str:
    entry = ACTIONS.get("ec2.restore-volume")
    return str(entry.func(ctx, entry.params.model_validate(with_), []).data["volume_id"])


def test_restored_volume_is_available_before_it_is_initialized(ctx):
    vol = h.volume()
    h.snapshot(vol)
    restored = _restore(ctx, volume=vol)
    progress: dict[str, dict[str, Any] | None] = {restored: None}
    sent = _serve_volume_status(ctx, progress)

    assert _probe(ctx, volume_id=restored).ok            # `available`: what the plain check sees
    waiting = _probe(ctx, volume_id=restored, initialized=True)
    assert not waiting.ok and "no initialization status yet" in waiting.detail
    assert _ids(sent[-1]["body"]) == [restored]

    progress[restored] = {"InitializationType": "default", "Progress": 42}
    waiting = _probe(ctx, volume_id=restored, initialized=True)
    assert not waiting.ok and "42% initialized" in waiting.detail
    assert waiting.data["initializing"] == {restored: "is 42% initialized"}

    progress[restored] = {"InitializationType": "default", "Progress": 100, "EstimatedTimeToCompleteInSeconds": 0}
    done = _probe(ctx, volume_id=restored, initialized=True)
    assert done.ok, done.detail


def test_empty_volumes_need_no_initialization(ctx):
    """AWS reports initialization only for volumes created from snapshots."""
    vol = h.volume()
    sent = _serve_volume_status(ctx, {})
    assert _probe(ctx, volume_id=vol, initialized=True).ok
    assert sent == []


def test_restore_with_a_provisioned_initialization_rate_sends_it(ctx):
    vol = h.volume()
    h.snapshot(vol)
    seen: list[dict[str, Any]] = []
    ctx.client("ec2", PRIMARY).meta.events.register(
        "before-call.ec2.CreateVolume", lambda params, **_: seen.append(params["body"]))
    restored = _restore(ctx, volume=vol, initialization_rate=200)
    assert int(seen[-1]["VolumeInitializationRate"]) == 200
    assert boto3.client("ec2", PRIMARY).describe_volumes(VolumeIds=[restored])["Volumes"][0]["State"] == "available"


@pytest.mark.parametrize("rate", [99, 301])
def test_initialization_rate_outside_what_ebs_accepts_is_refused(rate):
    """CreateVolume VolumeInitializationRate: 100-300 MiB/s."""
    with pytest.raises(ValidationError):
        ACTIONS.get("ec2.restore-volume").params.model_validate({"volume": "vol-1", "initialization_rate": rate})
