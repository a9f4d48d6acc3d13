"""What the FIS fake's actions do to the sandbox: resolve targets, apply the fault, revert it.

Every effect goes through the same boto3 API a client would use (`client_factory`, clients
on the sandbox server), except the S3 pause, which has no public S3 API ("there is no S3
pause outside FIS") and goes to the sandbox's replicator. Actions and parameters follow
the FIS actions reference, https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html:

- `aws:s3:bucket-pause-replication` (target `aws:s3:bucket`; `duration`, `region`,
  `destinationBuckets`, `prefixes`): replication from the bucket pauses for the duration;
  "objects written during the pause are replicated after" it. The fake pauses every rule
  of the bucket (`destinationBuckets` and `prefixes` are not narrowed).
- `aws:ec2:stop-instances` (target `aws:ec2:instance`; `startInstancesAfterDuration`):
  StopInstances, then StartInstances after that duration when it is given.
- `aws:ec2:terminate-instances` (target `aws:ec2:instance`): TerminateInstances.
- `aws:network:disrupt-connectivity` (target `aws:ec2:subnet`; `duration`, `scope`): for
  scope `all`, a deny-all network ACL tagged `managedByFIS=true` replaces the subnets'
  ACL for the duration (as FIS does), then the original association comes back and the
  ACL is deleted. Other scopes fail the action (not simulated).
- `aws:fis:wait` (`duration`): nothing but time.

Targets: `resourceArns` or `resourceTags` (plus `filters` on `State.Name` and
`Placement.AvailabilityZone` for instances), `selectionMode` ALL | COUNT(n) | PERCENT(n)
(https://docs.aws.amazon.com/fis/latest/userguide/targets.html). No target found fails
the experiment, as FIS does.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any

from drtool.sandbox.fakes.fis_state import Experiment, FisError

SUPPORTED = {"aws:s3:bucket-pause-replication": "aws:s3:bucket", "aws:ec2:stop-instances": "aws:ec2:instance",
             "aws:ec2:terminate-instances": "aws:ec2:instance",
             "aws:network:disrupt-connectivity": "aws:ec2:subnet", "aws:fis:wait": None}
FIS_TAG = {"Key": "managedByFIS", "Value": "true"}
ClientFactory = Callable[[str, str], Any]


class LockedReplicator:
    """The simulator's S3 replicator, changed only under the sandbox lock (its tick holds it)."""

    def __init__(self, replicator: Any, lock: Any) -> None:
        self.replicator, self.lock = replicator, lock

    def pause(self, bucket: str, until: float) -> None:
        with self.lock:
            self.replicator.pause(bucket, until)

    def resume(self, bucket: str) -> None:
        with self.lock:
            self.replicator.resume(bucket)


class NativeFaults:
    """`resolve(exp, action)` -> {target key: ids}; `apply(exp, action, targets, until)` -> undo or None."""

    def __init__(self, client_factory: ClientFactory, replicator: Callable[[], Any] | None = None) -> None:
        self._factory = client_factory
        self._clients: dict[tuple[str, str], Any] = {}
        self.replicator = replicator or (lambda: None)

    def client(self, service: str, region: str) -> Any:
        """One client per service and region (called under the fake's lock)."""
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self._factory(service, region)
        return self._clients[(service, region)]

    # --- targets ---------------------------------------------------------------------

    def resolve(self, exp: Experiment, action: dict[str, Any]) -> dict[str, list[str]]:
        targets = exp.template.body.get("targets") or {}
        found: dict[str, list[str]] = {}
        for key, name in (action.get("targets") or {}).items():
            spec = targets[name]
            ids = self._select(spec, self._candidates(exp.region, spec))
            if not ids:
                raise FisError("ValidationException", f"target {name} resolved to no resource")
            found[key] = ids
        return found

    def _candidates(self, region: str, spec: dict[str, Any]) -> list[str]:
        kind, arns, tags = spec["resourceType"], spec.get("resourceArns") or [], spec.get("resourceTags") or {}
        ids = [re.split(r"[/:]", arn)[-1] for arn in arns]
        if kind == "aws:s3:bucket":
            return ids if arns else [b for b in self._buckets() if self._bucket_tagged(b, tags)]
        if kind == "aws:ec2:instance":
            return self._instances(region, ids, tags, spec.get("filters") or [])
        if kind == "aws:ec2:subnet":
            filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
            if ids:
                filters.append({"Name": "subnet-id", "Values": ids})
            return [s["SubnetId"] for s in self.client("ec2", region).describe_subnets(Filters=filters)["Subnets"]]
        raise FisError("ValidationException", f"resource type {kind} is not simulated by the sandbox FIS")

    def _buckets(self) -> list[str]:
        return [b["Name"] for b in self.client("s3", "us-east-1").list_buckets()["Buckets"]]

    def _bucket_tagged(self, bucket: str, tags: dict[str, str]) -> bool:
        try:
            have = {t["Key"]: t["Value"] for t in self.client("s3", "us-east-1").get_bucket_tagging(
                Bucket=bucket)["TagSet"]}
        except Exception:  # noqa: BLE001 - no tag set
            return False
        return all(have.get(k) == v for k, v in tags.items())

    def _instances(self, region: str, ids: list[str], tags: dict[str, str], filters: list[dict[str, Any]]) -> list[str]:
        query = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
        if ids:
            query.append({"Name": "instance-id", "Values": ids})
        wanted = {f["path"]: set(f["values"]) for f in filters}
        out = []
        for reservation in self.client("ec2", region).describe_instances(Filters=query)["Reservations"]:
            for inst in reservation["Instances"]:
                values = {"State.Name": inst["State"]["Name"],
                          "Placement.AvailabilityZone": inst.get("Placement", {}).get("AvailabilityZone")}
                if inst["State"]["Name"] in ("terminated", "shutting-down"):
                    continue
                if all(values.get(path) in allowed for path, allowed in wanted.items()):
                    out.append(inst["InstanceId"])
        return sorted(out)

    @staticmethod
    def _select(spec: dict[str, Any], ids: list[str]) -> list[str]:
        mode = spec.get("selectionMode") or "ALL"
        found = re.fullmatch(r"(COUNT|PERCENT)\((\d+)\)", mode)
        if mode == "ALL" or not ids:
            return ids
        if found is None:
            raise FisError("ValidationException", f"selectionMode {mode} is not ALL, COUNT(n) or PERCENT(n)")
        n = int(found.group(2))
        count = n if found.group(1) == "COUNT" else math.ceil(len(ids) * n / 100)
        return sorted(random.sample(ids, min(count, len(ids))))

    # --- effects ---------------------------------------------------------------------

    def apply(self, exp: Experiment, action: dict[str, Any], targets: dict[str, list[str]],
              until: float) -> Callable[[], None] | None:
        kind = action["actionId"]
        params = action.get("parameters") or {}
        ids = [i for group in targets.values() for i in group]
        if kind == "aws:s3:bucket-pause-replication":
            return self._pause_buckets(ids, until)
        if kind == "aws:ec2:stop-instances":
            ec2 = self.client("ec2", exp.region)
            ec2.stop_instances(InstanceIds=ids)
            if not params.get("startInstancesAfterDuration"):
                return None
            return lambda: self._start_stopped(ec2, ids)
        if kind == "aws:ec2:terminate-instances":
            self.client("ec2", exp.region).terminate_instances(InstanceIds=ids)
            return None
        if kind == "aws:network:disrupt-connectivity":
            scope = params.get("scope", "all")
            if scope != "all":
                raise FisError("ValidationException", f"scope {scope} of aws:network:disrupt-connectivity "
                                                      "is not simulated by the sandbox FIS (only `all`)")
            return self._disrupt(self.client("ec2", exp.region), ids, exp.id)
        if kind == "aws:fis:wait":
            return None
        raise FisError("ValidationException", f"action {kind} is not simulated by the sandbox FIS")

    def _pause_buckets(self, buckets: list[str], until: float) -> Callable[[], None]:
        replicator = self.replicator()
        if replicator is None:
            raise FisError("ValidationException", "this sandbox has no S3 replicator to pause")
        for bucket in buckets:
            replicator.pause(bucket, until)

        def resume() -> None:
            for bucket in buckets:
                replicator.resume(bucket)
        return resume

    @staticmethod
    def _start_stopped(ec2: Any, ids: list[str]) -> None:
        found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        stopped = [i["InstanceId"] for r in found for i in r["Instances"] if i["State"]["Name"] in ("stopped", "stopping")]
        if stopped:
            ec2.start_instances(InstanceIds=stopped)

    @staticmethod
    def _disrupt(ec2: Any, subnets: list[str], experiment_id: str) -> Callable[[], None]:
        acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": subnets}])["NetworkAcls"]
        moved: list[tuple[str, str, str]] = []   # (subnet, original acl, deny acl)
        denies: dict[str, str] = {}
        for acl in acls:
            for assoc in acl.get("Associations") or []:
                if assoc.get("SubnetId") not in subnets:
                    continue
                vpc = acl["VpcId"]
                if vpc not in denies:
                    tags = [FIS_TAG, {"Key": "Name", "Value": f"fis-{experiment_id}"}]
                    deny = ec2.create_network_acl(VpcId=vpc, TagSpecifications=[
                        {"ResourceType": "network-acl", "Tags": tags}])["NetworkAcl"]["NetworkAclId"]
                    for egress in (False, True):
                        ec2.create_network_acl_entry(NetworkAclId=deny, RuleNumber=1, Protocol="-1",
                                                     RuleAction="deny", Egress=egress, CidrBlock="0.0.0.0/0")
                    denies[vpc] = deny
                ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                                    NetworkAclId=denies[vpc])
                moved.append((assoc["SubnetId"], acl["NetworkAclId"], denies[vpc]))

        def restore() -> None:
            now = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                      "Values": [m[0] for m in moved]}])["NetworkAcls"]
            current = {a["SubnetId"]: (acl["NetworkAclId"], a["NetworkAclAssociationId"])
                       for acl in now for a in acl.get("Associations") or []}
            for subnet, original, deny in moved:
                if current.get(subnet, ("", ""))[0] == deny:
                    ec2.replace_network_acl_association(AssociationId=current[subnet][1], NetworkAclId=original)
            for deny in denies.values():
                ec2.delete_network_acl(NetworkAclId=deny)
        return restore
