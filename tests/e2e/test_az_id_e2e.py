"""An AZ-loss drill naming its zone by AZ ID (use1-az6), as a subprocess against the moto
server: the ID is resolved to the account's zone name (moto: us-east-1a) once, the zone's
subnets are the ones black-holed and taken out of the group, and the scorecard shows both
the ID and the name it resolved to."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import HealthEndpoint, acl_associations, client, spawn, write_drill
from tests.e2e.test_cli_e2e import AZ_DRILL, fault_journaled, scorecard_of, wait_for_event

pytestmark = pytest.mark.e2e


def test_az_loss_by_az_id_acts_on_the_resolved_zone_and_records_both(moto_url, web_estate, tmp_path):
    original = acl_associations(moto_url, web_estate["vpc"])
    lost = web_estate["subnets"]["us-east-1a"]
    with HealthEndpoint(fault_journaled(tmp_path), delay=10_000) as health:
        drill = write_drill(tmp_path / "drills" / "az.yaml",
                            AZ_DRILL.format(url=health.url).replace("az: us-east-1a", "az: use1-az6"))
        proc = spawn(["run", str(drill), "--yes"], moto_url, tmp_path)
        journal = wait_for_event(tmp_path / "drill-results", "fault")
        changed = acl_associations(moto_url, web_estate["vpc"])
        group = client("autoscaling", moto_url).describe_auto_scaling_groups(
            AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"][0]
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert {s for s, acl in changed.items() if acl != original[s]} == {lost}   # only us-east-1a was cut off
    assert lost not in group["VPCZoneIdentifier"].split(",")
    assert acl_associations(moto_url, web_estate["vpc"]) == original         # rolled back
    card = scorecard_of(tmp_path, "web-az-loss")
    assert {t["id"] for t in card["targets"]} == {lost}
    assert all("az=use1-az6 (us-east-1a)" in t["selected_by"] for t in card["targets"])
    excluded = next(e for e in card["timeline"] if e["step"].endswith("stop launches into the lost zone"))
    assert "use1-az6 (us-east-1a)" in excluded["detail"]
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    notes = [e for e in events if e["event"] == "note" and "az_id" in e]
    assert {(n["az_id"], n["az"]) for n in notes} == {("use1-az6", "us-east-1a")}
