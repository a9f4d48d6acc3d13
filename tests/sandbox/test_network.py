"""Truth tests for reachability: black-holed subnets (an AZ, then a whole region).

A fresh sandbox of tests/sandbox/truth-estate.yaml for this module; each test restores
the network ACLs it swapped.
"""

from __future__ import annotations

import time

import pytest

from tests.sandbox.helpers import assert_timing, blackhole, elapsed_until, get, restore, tolerance

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)


def test_blackholed_az_members_turn_unhealthy_and_are_replaced_in_other_azs(truth_sandbox):
    sb = truth_sandbox
    ec2, asg, elb = sb.client("ec2"), sb.client("autoscaling"), sb.client("elbv2")
    values = sb.values()
    tg = values["target_group.web-tg"]

    def health():
        return {d["Target"]["Id"]: d["TargetHealth"]["State"]
                for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}

    def members():
        return asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["Instances"]

    lost = [m["InstanceId"] for m in members() if m["AvailabilityZone"] == "us-east-1a"]
    assert len(lost) == 1
    undo = blackhole(ec2, values["vpc.us-east-1"], [values["subnet.us-east-1a"]])
    start = time.monotonic()
    try:
        # one read per poll: the instance may drop out of the target group between two reads
        # the load balancer needs interval x unhealthy threshold (docs/sandbox-delays.md)
        detected = elapsed_until(lambda: health().get(lost[0]) in (None, "unhealthy"),
                                 timeout=sb.truth.target_unhealthy_after + 1)
        assert_timing("ALB marks the black-holed target unhealthy", detected, sb.truth.target_unhealthy_after, sb.truth)
        elapsed_until(lambda: list(health().values()).count("healthy") == 3)
        measured = time.monotonic() - start
        assert_timing("AZ loss replacement", measured,
                      sb.truth.target_unhealthy_after + sb.truth.groups["web"].replacement_delay, sb.truth)
        azs = sorted(m["AvailabilityZone"] for m in members())
        assert "us-east-1a" not in azs and len(azs) == 3, azs
        state = ec2.describe_instances(InstanceIds=lost)["Reservations"][0]["Instances"][0]["State"]["Name"]
        assert state == "terminated"
        assert get(values["endpoint.us-east-1"] + "/health")[0] == 200  # two AZs still serve
    finally:
        restore(ec2, undo)


def test_region_loss_fails_over_after_the_ttl_fires_the_alarm_and_loses_in_flight_writes(truth_sandbox):
    sb = truth_sandbox
    ec2, s3, cw = sb.client("ec2"), sb.client("s3"), sb.client("cloudwatch")
    r53 = sb.client("route53")
    values = sb.values()
    url = values["endpoint"] + "/health"
    assert get(url) == (200, {"status": "ok", "region": "us-east-1", "reason": "serving", "via": "dns"})
    assert _alarm(cw) == "OK"

    s3.put_object(Bucket="truth-src", Key="in-flight.json", Body=b"lost")
    put_at = time.monotonic()
    subnets = [values[f"subnet.us-east-1{az}"] for az in "abc"]
    undo = blackhole(ec2, values["vpc.us-east-1"], subnets)
    start = time.monotonic()
    assert start - put_at + sb.truth.tick < sb.truth.buckets["truth-src"], \
        f"the black-hole took {start - put_at:.2f}s: the write was no longer in flight"
    try:
        elapsed_until(lambda: get(values["endpoint.us-east-1"] + "/health")[0] == 503, timeout=0.5)
        fired = elapsed_until(lambda: _alarm(cw) == "ALARM", timeout=3)
        print(f"timing alarm fired: {fired:.3f}s after the region went down (metric interval "
              f"{sb.truth.metric_interval}s)")
        assert fired <= sb.truth.metric_interval + tolerance(sb.truth), fired

        def checker_status() -> str:
            status = r53.get_health_check_status(HealthCheckId=values["health_check.us-east-1"])
            return str(status["HealthCheckObservations"][0]["StatusReport"]["Status"])

        # Route 53 needs request interval x failure threshold before the check fails
        failed = elapsed_until(lambda: checker_status().startswith("Failure"), timeout=sb.truth.dns_failover_after + 1)
        assert_timing("Route 53 health check fails", failed, sb.truth.dns_failover_after, sb.truth)

        elapsed_until(lambda: get(url) == (200, {"status": "ok", "region": "us-west-2", "reason": "serving",
                                                 "via": "dns"}))
        measured = time.monotonic() - start
        assert_timing("region loss DNS failover", measured, sb.truth.dns_failover_after + sb.truth.dns_ttl, sb.truth)
        time.sleep(sb.truth.buckets["truth-src"] + tolerance(sb.truth))
        assert sb.client("s3", "us-west-2").list_objects_v2(Bucket="truth-dst").get("KeyCount", 0) == 0
    finally:
        restore(ec2, undo)
    elapsed_until(lambda: get(url)[1]["region"] == "us-east-1", timeout=sb.truth.dns_failover_after + 5)
    elapsed_until(lambda: _alarm(cw) == "OK", timeout=5)


def _alarm(cw) -> str:
    return cw.describe_alarms(AlarmNames=["truth-5xx"])["MetricAlarms"][0]["StateValue"]
