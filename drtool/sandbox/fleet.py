"""Auto Scaling and load-balancer health, as AWS would run them, on AWS's clock.

Timings come from the estate's behaviour, whose defaults are AWS's documented delays
(drtool/sandbox/delays.py, docs/sandbox-delays.md):

- A target in an unreachable subnet turns `unhealthy` only after the ALB's interval x
  unhealthy threshold (30 s x 2 by default), and healthy again after interval x healthy
  threshold (30 s x 5) once reachable: "Health checks for Application Load Balancer target
  groups", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
- Members that are gone, stopped or marked unhealthy are replaced. Only a group with ELB
  health checks replaces a member the load balancer reports unhealthy, and not during the
  health-check grace period after it came InService; a group with EC2 health checks (the
  default) never notices a network black-hole: "Health checks for instances in an Auto
  Scaling group", https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html
  and https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
- New members go to the reachable AZ with the fewest members, are held Pending (target
  `initial`) for the group's delay (launch + interval x healthy threshold), then turn
  InService and healthy.

moto itself never launches for the sandbox's groups (see `moto_adapter.patches`). State is
read from moto (`moto_adapter.fleet_state`, every tick); changes go through the API where
AWS has one: SetInstanceHealth, RegisterTargets, DeregisterTargets, TerminateInstances.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from drtool.sandbox.estate import GroupTruth, Truth
from drtool.sandbox.loopback import ClientFactory
from drtool.sandbox.moto_adapter import fleet_state as mi
from drtool.sandbox.moto_adapter import patches

INITIAL = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
UNHEALTHY = ("unhealthy", "Target.Timeout", "Request timed out")
BAD_EC2_STATES = frozenset({"stopped", "stopping", "shutting-down", "terminated"})


@dataclass
class _GroupBook:
    known: set[str] = field(default_factory=set)
    owed: int = 0                 # replacements owed for members that failed or vanished


class Fleet:
    """Auto Scaling groups and target groups of the sandbox's regions."""

    def __init__(self, account: str, regions: list[str], truth: Truth, clients: ClientFactory) -> None:
        self.account = account
        self.clients = clients                        # (service, region) -> boto3 client on the sandbox
        self.regions = regions
        self.truth = truth
        self.ready_at: dict[str, float] = {}          # instance id -> when it turns healthy
        self.marked_unhealthy: set[str] = set()       # members we marked (and may mark healthy again)
        self.in_service_at: dict[str, float] = {}     # member -> when it came InService (grace period)
        self.alb_unhealthy: set[str] = set()          # targets the load balancer reports unhealthy
        self._changing: dict[str, float] = {}         # target -> since when its checks disagree with its state
        self._books: dict[tuple[str, str], _GroupBook] = {}

    def step(self, now: float, reachable: dict[str, dict[str, bool]], warm: bool = False) -> dict[tuple[str, str], int]:
        """Advance every group; publish target health. Returns healthy targets per (region, tg name)."""
        overrides: dict[str, dict[str, tuple[str, str, str]]] = {}
        healthy: dict[tuple[str, str], int] = {}
        for region in self.regions:
            reach = reachable.get(region, {})
            for group in mi.auto_scaling_groups(self.account, region):
                self._reconcile(region, group, now, reach, warm)
                self._sync_targets(region, group)
            for name, arn in mi.target_group_arns(self.account, region).items():
                ids = mi.target_ids(self.account, region, arn)
                states = mi.instance_states(self.account, region, ids)
                per, count = {}, 0
                for instance_id in ids:
                    state, subnet = states.get(instance_id, ("terminated", None))
                    if state != "running":
                        continue  # moto answers unused / draining
                    if self.ready_at.get(instance_id, 0.0) > now:
                        per[instance_id] = INITIAL
                    elif not self._target_healthy(instance_id, subnet is None or reach.get(subnet, True), now):
                        per[instance_id] = UNHEALTHY
                    else:
                        count += 1
                overrides[arn] = per
                healthy[(region, name)] = count
        patches.set_target_health(overrides)
        return healthy

    def _target_healthy(self, instance_id: str, passing: bool, now: float) -> bool:
        """The load balancer's verdict: it changes only after enough consecutive checks agree."""
        unhealthy = instance_id in self.alb_unhealthy
        if passing != unhealthy:            # the checks agree with the current state
            self._changing.pop(instance_id, None)
            return not unhealthy
        since = self._changing.setdefault(instance_id, now)
        wait = self.truth.target_healthy_after if unhealthy else self.truth.target_unhealthy_after
        if now - since < wait:
            return not unhealthy
        self._changing.pop(instance_id, None)
        if unhealthy:
            self.alb_unhealthy.discard(instance_id)
        else:
            self.alb_unhealthy.add(instance_id)
        return unhealthy

    def _delays(self, name: str) -> GroupTruth:
        return self.truth.groups.get(name) or GroupTruth(replacement_delay=self.truth.replacement_delay,
                                                         scale_up_delay=self.truth.scale_up_delay)

    def _reconcile(self, region: str, group: mi.Group, now: float, reach: dict[str, bool], warm: bool) -> None:
        book = self._books.setdefault((region, group.name), _GroupBook())
        current = {m.instance_id for m in group.members}
        book.owed += len(book.known - current)
        usable = [s for s in group.subnet_ids if reach.get(s, True)]
        live: list[mi.Member] = []
        for member in group.members:
            if member.lifecycle == mi.PENDING and self.ready_at.get(member.instance_id, 0.0) <= now:
                mi.set_lifecycle(self.account, region, group.name, member.instance_id, mi.IN_SERVICE)
                self.ready_at.pop(member.instance_id, None)
                self.in_service_at[member.instance_id] = now
            failed = self._failed(group, member, now)
            if failed and (usable or member.state == "terminated"):
                self._remove(region, group, member.instance_id)
                self._forget(member.instance_id)
                book.owed += 1
                continue
            if failed and member.health != "Unhealthy":
                self._set_health(region, member.instance_id, "Unhealthy")
                self.marked_unhealthy.add(member.instance_id)
            elif not failed and member.instance_id in self.marked_unhealthy:
                self._set_health(region, member.instance_id, "Healthy")
                self.marked_unhealthy.discard(member.instance_id)
            live.append(member)
        live = self._scale_in(region, group, live)
        deficit = group.desired - len(live)
        launched: list[str] = []
        if deficit > 0 and usable:
            launched = self._launch(region, group, live, usable, deficit, book, now, warm)
            deficit = 0
        book.owed = min(book.owed, max(0, deficit))
        book.known = {m.instance_id for m in live} | set(launched)

    def _set_health(self, region: str, instance_id: str, health: str) -> None:
        """SetInstanceHealth: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetInstanceHealth.html"""
        self.clients("autoscaling", region).set_instance_health(InstanceId=instance_id, HealthStatus=health,
                                                                ShouldRespectGracePeriod=False)

    def _remove(self, region: str, group: mi.Group, instance_id: str) -> None:
        """What Auto Scaling does to an unhealthy or surplus member: deregister it from the
        group's target groups, terminate it ("Replace unhealthy instances",
        https://docs.aws.amazon.com/autoscaling/ec2/userguide/replace-unhealthy-instance.html).
        TerminateInstances takes it out of the group in moto, as in AWS; a member whose
        instance is already terminated is dropped from the group directly."""
        elb = self.clients("elbv2", region)
        for arn in group.target_group_arns:
            if instance_id in mi.target_ids(self.account, region, arn):
                elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": instance_id}])
        state = mi.instance_states(self.account, region, [instance_id]).get(instance_id, ("terminated", None))[0]
        if state != "terminated":
            self.clients("ec2", region).terminate_instances(InstanceIds=[instance_id])
        mi.forget_member(self.account, region, group.name, instance_id)

    def _sync_targets(self, region: str, group: mi.Group) -> None:
        """Register the group's running members in its target groups (RegisterTargets);
        deregister targets whose instance is gone or terminated (DeregisterTargets)."""
        running = mi.running_members(self.account, region, group.name)
        elb = self.clients("elbv2", region)
        for arn in group.target_group_arns:
            registered = mi.target_ids(self.account, region, arn)
            missing = [{"Id": i} for i in running if i not in registered]
            if missing:
                elb.register_targets(TargetGroupArn=arn, Targets=missing)
            instances = [i for i in registered if i.startswith("i-")]
            states = mi.instance_states(self.account, region, instances)
            gone = [{"Id": i} for i in instances if states.get(i, ("terminated",))[0] == "terminated"]
            if gone:
                elb.deregister_targets(TargetGroupArn=arn, Targets=gone)

    def _forget(self, instance_id: str) -> None:
        for book in (self.ready_at, self.in_service_at, self._changing):
            book.pop(instance_id, None)
        self.marked_unhealthy.discard(instance_id)
        self.alb_unhealthy.discard(instance_id)

    def _failed(self, group: mi.Group, member: mi.Member, now: float) -> bool:
        if member.state in BAD_EC2_STATES:
            return True
        if member.health == "Unhealthy" and member.instance_id not in self.marked_unhealthy:
            return True  # set_instance_health by someone
        if member.lifecycle == mi.PENDING or group.health_check_type != "ELB":
            return False  # EC2 health checks see only the instance's own status
        in_grace = now - self.in_service_at.get(member.instance_id, -math.inf) < self.truth.health_check_grace_period
        return member.instance_id in self.alb_unhealthy and not in_grace

    def _scale_in(self, region: str, group: mi.Group, live: list[mi.Member]) -> list[mi.Member]:
        surplus = len(live) - group.desired
        if surplus <= 0:
            return live
        order = sorted(live, key=lambda m: (m.lifecycle != mi.PENDING, m.health == "Healthy"))
        for member in order[:surplus]:
            self._remove(region, group, member.instance_id)
            self._forget(member.instance_id)
        gone = {m.instance_id for m in order[:surplus]}
        return [m for m in live if m.instance_id not in gone]

    def _launch(self, region: str, group: mi.Group, live: list[mi.Member], usable: list[str], count: int,
                book: _GroupBook, now: float, warm: bool) -> list[str]:
        azs = mi.subnet_azs(self.account, region)
        per_az = Counter(azs.get(m.subnet_id or "", "") for m in live)
        delays = self._delays(group.name)
        launched = []
        for n in range(count):
            subnet = min(usable, key=lambda s: (per_az[azs.get(s, "")], usable.index(s)))
            per_az[azs.get(subnet, "")] += 1
            instance_id = mi.launch_member(self.account, region, group.name, subnet)
            launched.append(instance_id)
            replacing = n < book.owed
            delay = 0.0 if warm else (delays.replacement_delay if replacing else delays.scale_up_delay)
            if delay > 0:
                self.ready_at[instance_id] = now + delay
            else:
                mi.set_lifecycle(self.account, region, group.name, instance_id, mi.IN_SERVICE)
                if not warm:
                    self.in_service_at[instance_id] = now
        book.owed = max(0, book.owed - count)
        return launched
