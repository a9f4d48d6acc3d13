"""`drtool backups check` through `drtool.cli.invoke`: exit codes, JSON shape, table."""

from __future__ import annotations

import json
import time

import pytest

from drtool.cli import invoke
from tests.backups import helpers as h
from tests.backups.helpers import DR, PRIMARY

DAY = 86_400.0
KEYS = ["id", "type", "region", "newest_recovery_point_at", "age_s", "copy_regions", "compliant", "reason"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = invoke(["backups", "check", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_all_compliant_exits_0_with_the_exact_json_shape(aws, capsys):
    vol = h.volume()
    h.snapshot(vol)
    h.volume(tags=None)  # untagged: never reported
    code, out, _ = run(capsys, "--rpo", "1d", "--tag", "app=orders", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["rpo_s", "resources"] and data["rpo_s"] == DAY
    (item,) = data["resources"]
    assert list(item) == KEYS
    assert item["id"] == vol and item["type"] == "ec2:volume" and item["region"] == PRIMARY
    assert item["newest_recovery_point_at"].endswith("Z") and item["age_s"] >= 0
    assert item["copy_regions"] == [] and item["compliant"] is True


def test_a_violation_exits_1_and_the_table_names_it(aws, capsys):
    fresh, stale, missing = h.volume(), h.volume(), h.table("orders")
    h.snapshot(fresh)
    h.snapshot(stale, at=time.time() - 3 * DAY)
    code, out, _ = run(capsys, "--rpo", "24h", "--tag", "app=orders")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["TYPE", "ID", "REGION"]
    row = {line.split()[1]: line for line in lines[1:4]}
    assert "  yes  " in row[fresh] and "  NO  " in row[stale] and "  NO  " in row[missing]
    assert "no recovery point found" in row[missing]
    assert lines[-1] == "3 resource(s), 1 compliant, 2 violating (RPO 24h00m)."


def test_uncopied_and_copied_with_copy_region_across_regions(aws, capsys):
    copied, uncopied = h.volume(), h.volume()
    h.copy_snapshot(h.snapshot(copied))
    h.snapshot(uncopied)
    code, out, _ = run(capsys, "--rpo", "1d", "--copy-region", DR, "--region", PRIMARY, "--region", DR, "--json")
    assert code == 1
    by_id = {r["id"]: r for r in json.loads(out)["resources"]}
    assert by_id[copied]["compliant"] and by_id[copied]["copy_regions"] == [DR]
    assert not by_id[uncopied]["compliant"] and by_id[uncopied]["reason"] == f"no copy in {DR}"


def test_nothing_selected_exits_0_and_warns(aws, capsys):
    code, out, err = run(capsys, "--rpo", "1d", "--tag", "app=nothing", "--json")
    assert code == 0 and json.loads(out)["resources"] == []
    assert "no tagged resources matched" in err


@pytest.mark.parametrize("args", [["--rpo", "soon"], ["--rpo", "0"], ["--rpo", "1d", "--tag", "app"],
                                  ["--rpo", "1d", "--tag", "=x"], [], ["--rpo", "1d", "--bogus"]])
def test_bad_options_exit_2_without_touching_aws(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == "" and "Traceback" not in err


def test_an_aws_error_is_one_line_and_exit_3(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    code, out, err = run(capsys, "--rpo", "1d")
    assert code == 3
    assert err.startswith("error: tag:GetResources failed: EndpointUnreachable")
    assert "Traceback" not in err and out == ""
