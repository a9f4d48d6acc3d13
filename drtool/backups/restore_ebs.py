"""`ec2.restore-volume`, its undo and the `ec2.volume-available` probe (see drtool.backups.restore)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from drtool.backups.inventory import paginate
from drtool.backups.restore_common import (
    RESTORED_FROM_TAG,
    is_missing,
    newest,
    retry_busy,
    run_tags,
    step_region,
)
from drtool.context import RUN_TAG, StepContext
from drtool.errors import DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import rfc3339, to_epoch


class Ec2RestoreVolumeParams(Params):
    volume: str = Field(description="volume whose snapshot is restored")
    az: str | None = Field(default=None, description="availability zone, by name or AZ ID (default: the source "
                                                     "volume's)")
    snapshot: str | None = Field(default=None, description="snapshot id (default: newest completed)")
    volume_type: str | None = None
    initialization_rate: int | None = Field(
        default=None, ge=100, le=300,
        description="EBS Provisioned Rate for Volume Initialization, MiB/s (100-300): the snapshot's blocks are "
                    "downloaded at this rate, so the volume is fully initialized after a predictable time "
                    "(CreateVolume VolumeInitializationRate; omit it for a snapshot with fast snapshot restore)")


def _ebs_snapshot(client: Any, params: Ec2RestoreVolumeParams) -> dict[str, Any]:
    filters = [{"Name": "status", "Values": ["completed"]}]
    if params.snapshot:
        found = client.describe_snapshots(SnapshotIds=[params.snapshot], Filters=filters)["Snapshots"]
    else:
        found = list(paginate(client.describe_snapshots, "ec2:DescribeSnapshots", "Snapshots", "NextToken",
                              OwnerIds=["self"], Filters=[*filters, {"Name": "volume-id", "Values": [params.volume]}]))
    snap = newest(found, "StartTime")
    if snap is None:
        raise DrToolError(f"no completed snapshot of EBS volume {params.volume}")
    return snap


def _az(ctx: StepContext, client: Any, params: Ec2RestoreVolumeParams, region: str) -> str:
    if params.az:   # a name, or an AZ ID resolved in this account (drtool.aws.az_ids)
        from drtool.aws.az_ids import resolve_az

        return resolve_az(ctx, params.az, region).name
    try:
        return client.describe_volumes(VolumeIds=[params.volume])["Volumes"][0]["AvailabilityZone"]
    except Exception as exc:  # the source volume may be the very thing that was lost
        if not is_missing(exc, "InvalidVolume.NotFound"):
            raise
    zones = client.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    return sorted(z["ZoneName"] for z in zones["AvailabilityZones"])[0]


@action("ec2.restore-volume", summary="Create an EBS volume from the newest (or named) snapshot of a volume "
        "(undo: delete it)", params=Ec2RestoreVolumeParams, undo="ec2.delete-restored-volume",
        iam=["ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeAvailabilityZones", "ec2:CreateVolume",
             "ec2:CreateTags"])
def ec2_restore_volume(ctx: StepContext, params: Ec2RestoreVolumeParams, targets: list[Resource]) -> Outcome:
    region = step_region(ctx, params)
    client = ctx.client("ec2", region)
    snap = _ebs_snapshot(client, params)
    az = _az(ctx, client, params, region)
    kwargs: dict[str, Any] = {"SnapshotId": snap["SnapshotId"], "AvailabilityZone": az, "TagSpecifications": [
        {"ResourceType": "volume", "Tags": run_tags(ctx, **{RESTORED_FROM_TAG: params.volume})}]}
    if params.volume_type:
        kwargs["VolumeType"] = params.volume_type
    if params.initialization_rate is not None:
        kwargs["VolumeInitializationRate"] = params.initialization_rate
    out = ctx.change(f"create a volume from snapshot {snap['SnapshotId']} of {params.volume} in {az}",
                     lambda: client.create_volume(**kwargs),
                     undo=UndoSpec("ec2.delete-restored-volume",
                                   {"run_id": ctx.run_id, "restored_from": params.volume, "region": region}, region),
                     resources=[params.volume])
    at = to_epoch(snap.get("StartTime"))
    return Outcome(f"Creating volume {out['VolumeId']} in {az} from snapshot {snap['SnapshotId']} of "
                   f"{params.volume} (taken {rfc3339(at)}).",
                   {"volume_id": out["VolumeId"], "recovery_point": snap["SnapshotId"], "recovery_point_at": at,
                    "az": az, "region": region})


class DeleteVolumesParams(Params):
    run_id: str
    restored_from: str | None = None


def delete_volume(ctx: StepContext, client: Any, vol: dict[str, Any]) -> None:
    if vol.get("State") in ("deleting", "deleted"):
        return
    if vol.get("State") == "in-use":
        raise DrToolError(f"restored volume {vol['VolumeId']} is attached; detach it, then run rollback again")

    def delete() -> Any:
        try:
            return client.delete_volume(VolumeId=vol["VolumeId"])
        except Exception as exc:
            if is_missing(exc, "InvalidVolume.NotFound"):
                return None
            raise

    retry_busy(ctx, delete, ("IncorrectState",), f"delete volume {vol['VolumeId']}")


@undo("ec2.delete-restored-volume", summary="Delete the EBS volumes a run restored (found by its drtool:run-id tag)",
      params=DeleteVolumesParams, iam=["ec2:DescribeVolumes", "ec2:DeleteVolume"])
def ec2_delete_restored_volume(ctx: StepContext, params: DeleteVolumesParams) -> str:
    client = ctx.client("ec2", params.region)
    filters = [{"Name": f"tag:{RUN_TAG}", "Values": [params.run_id]}]
    if params.restored_from:
        filters.append({"Name": f"tag:{RESTORED_FROM_TAG}", "Values": [params.restored_from]})
    volumes = [v for v in paginate(client.describe_volumes, "ec2:DescribeVolumes", "Volumes", "NextToken",
                                   Filters=filters) if v.get("State") not in ("deleting", "deleted")]
    if not volumes:
        return "No restored volume is left."
    for vol in volumes:
        delete_volume(ctx, client, vol)
    return f"Deleted restored volume(s) {', '.join(v['VolumeId'] for v in volumes)}."


class VolumeAvailableParams(Params):
    volume_id: str | None = None
    tags: dict[str, str] | None = None
    restored_from: str | None = Field(default=None, description="volumes this run restored from this volume")
    initialized: bool = Field(
        default=False, description="also require volume initialization to be complete (DescribeVolumeStatus "
                                   "progress 100): until then a volume restored from a snapshot reads its blocks "
                                   "lazily from S3, with much higher latency, unless fast snapshot restore is on")

    @model_validator(mode="after")
    def _some(self) -> VolumeAvailableParams:
        if not (self.volume_id or self.tags or self.restored_from):
            raise ValueError("give volume_id, tags or restored_from")
        return self


@probe("ec2.volume-available", summary="The EBS volume(s) exist and are ready (available or in-use); with "
       "`initialized`, also fully initialized from their snapshot", params=VolumeAvailableParams,
       iam=["ec2:DescribeVolumes", "ec2:DescribeVolumeStatus"])
def ec2_volume_available(ctx: StepContext, params: VolumeAvailableParams) -> ProbeResult:
    """One filtered describe_volumes; every matching volume must be available or in-use.
    With `initialized`, a DescribeVolumeStatus too (see `initialization_waiting`)."""
    client = ctx.client("ec2", params.region)
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in (params.tags or {}).items()]
    if params.volume_id:
        filters.append({"Name": "volume-id", "Values": [params.volume_id]})
    if params.restored_from:
        filters += [{"Name": f"tag:{RUN_TAG}", "Values": [ctx.run_id]},
                    {"Name": f"tag:{RESTORED_FROM_TAG}", "Values": [params.restored_from]}]
    volumes = list(paginate(client.describe_volumes, "ec2:DescribeVolumes", "Volumes", "NextToken", Filters=filters))
    states = {v["VolumeId"]: v.get("State") for v in volumes}
    if not states:
        return ProbeResult(False, "No matching volume exists (yet).")
    waiting = {i: s for i, s in states.items() if s not in ("available", "in-use")}
    if waiting:
        return ProbeResult(False, "Not ready: " + ", ".join(f"{i} is {s}" for i, s in sorted(waiting.items())) + ".",
                           {"states": states})
    if params.initialized:
        from_snapshot = sorted(v["VolumeId"] for v in volumes if v.get("SnapshotId"))
        pending = initialization_waiting(client, from_snapshot)
        if pending:
            return ProbeResult(False, "Available, not initialized: " + ", ".join(
                f"{i} {why}" for i, why in sorted(pending.items())) + ".", {"states": states, "initializing": pending})
    return ProbeResult(True, f"Ready: {', '.join(sorted(states))}.", {"states": states})


def initialization_waiting(client: Any, volume_ids: list[str]) -> dict[str, str]:
    """Volumes whose initialization from a snapshot is not complete -> why.

    A volume created from a snapshot is `available` at once, but its blocks are downloaded
    from Amazon S3 on first access, so I/O to them is much slower until the volume is
    initialized, unless the snapshot has fast snapshot restore in that AZ ("Initialize
    Amazon EBS volumes", https://docs.aws.amazon.com/ebs/latest/userguide/initalize-volume.html).
    DescribeVolumeStatus reports `InitializationStatusDetails.Progress` (100 once complete)
    for volumes created from snapshots; AWS says the information "can take up to 5 minutes"
    to be updated, so a volume with no details yet counts as not initialized.
    """
    if not volume_ids:
        return {}
    statuses = {s["VolumeId"]: s for s in paginate(client.describe_volume_status, "ec2:DescribeVolumeStatus",
                                                     "VolumeStatuses", "NextToken", VolumeIds=volume_ids)}
    waiting = {}
    for volume_id in volume_ids:
        details = statuses.get(volume_id, {}).get("InitializationStatusDetails")
        if details is None:
            waiting[volume_id] = "has no initialization status yet (AWS reports it within about 5 minutes)"
        elif int(details.get("Progress", 0)) < 100:
            eta = details.get("EstimatedTimeToCompleteInSeconds")
            waiting[volume_id] = (f"is {details.get('Progress', 0)}% initialized"
                                  + (f", about {eta}s left" if eta else ""))
    return waiting
