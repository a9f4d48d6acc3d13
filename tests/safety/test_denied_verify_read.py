"""A drill run against a loopback AWS that denies a verify read still restores everything.

The az-loss drill in the sandbox (moto on 127.0.0.1): the zone's subnets are black-holed,
then every later elbv2:DescribeTargetHealth (the probe of `elbv2.targets-healthy`, the
verify check; its steady-state read before the fault is allowed) is denied,
as an IAM policy missing that action would. The run must end aborted (exit 3), or with the
change named as remaining (exit 5); the subnets must be back on their own ACL, the deny
ACL gone, and a scorecard written.
"""

from __future__ import annotations

import json

import yaml

from tests.safety.estate_state import compare, snapshot
from tests.safety.faults import FaultInjector
from tests.safety.matrix import _invoke, _settled, _target


def test_denied_verify_read_still_restores_everything(baselines, tmp_path):
    from drtool.journal import read_journal

    drill = baselines.drills["az-loss"]
    injector = FaultInjector(kind="access-denied", at=1, operation="elbv2:DescribeTargetHealth",
                             after="ec2:ReplaceNetworkAclAssociation")
    sb = baselines.pool.get(drill.parent / "fast-webshop.yaml")
    before = snapshot(sb)
    lost = sb.values()["subnet.us-east-1a"]
    with _target(sb, injector):
        code, output = _invoke(["run", str(drill), "--sandbox", "--yes", "--results", str(tmp_path)])
    [run] = [p for p in (tmp_path / yaml.safe_load(drill.read_text())["name"]).iterdir() if p.is_dir()]
    events = read_journal(run / "journal.jsonl")
    # The fault really was in place when the read was denied.
    assert any(e["event"] == "fault" for e in events), output
    assert injector.injected and injector.injected[0].operation == "elbv2:DescribeTargetHealth", output
    black_holed = [e for e in events if e["event"] == "change.intent" and lost in e.get("resources", [])]
    assert black_holed, "the drill never black-holed the lost zone's subnet"

    assert (run / "scorecard.json").is_file(), f"no scorecard after a denied verify read:\n{output[-3000:]}"
    card = json.loads((run / "scorecard.json").read_text())
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    if code == 5:
        remaining = json.dumps(card["rollback"]["remaining"])
        assert lost in remaining, remaining
    else:
        assert (code, card["run"]["status"]) == (3, "aborted"), (code, card["run"], output[-3000:])
        assert card["rollback"]["remaining"] == [] and card["rollback"]["status"] == "complete", card["rollback"]
        assert "AccessDenied" in (card["run"].get("reason") or ""), card["run"]
        assert _settled(sb, before, None) == [], [str(d) for d in compare(before, snapshot(sb))]
        acl = next(k for k in before.values if k.endswith(f"subnet-acl/{lost}"))
        assert snapshot(sb).values[acl] == before.values[acl]
