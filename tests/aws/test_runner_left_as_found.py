"""End to end through the runner on moto: an operator moves a black-holed subnet to their own
network ACL mid-drill. The rollback restores the other subnet, leaves theirs as found, and
the run ends rollback-incomplete with exit 5; `drtool rollback` then says the same."""

from __future__ import annotations

import boto3

from drtool.documents import load_drill
from drtool.errors import LEFT_AS_FOUND
from drtool.journal import read_journal
from drtool.rollback import rollback_run
from drtool.runner import RunOptions, run_drill
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE

fake_entries.register()

SCENARIO = """\
kind: scenario
name: subnet-cut
inject:
  - action: ec2.blackhole-subnets
    targets: {tags: {app: shop}}
  - action: test.flip
    with: {key: flag}
recover:
  - wait: test.recovered-after
    with: {seconds: 5}
    timeout: 30s
"""

DRILL = """\
kind: drill
name: subnet-cut-drill
scenario: subnet-cut
service: {name: shop, tier: gold, owner: sre}
objectives: {rto: 60s}
poll: 1s
guardrails:
  accounts: ["123456789012"]
"""


def acl_of(ec2, subnet):
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
    return next((acl["NetworkAclId"], a["NetworkAclAssociationId"])
                for acl in acls for a in acl["Associations"] if a["SubnetId"] == subnet)


def test_operator_moves_a_subnet_mid_drill_rollback_incomplete_exit_5(session, tmp_path):
    fake_entries.reset()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    tags = [{"ResourceType": "subnet", "Tags": [{"Key": "app", "Value": "shop"}]}]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", TagSpecifications=tags)["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", TagSpecifications=tags)["Subnet"]["SubnetId"]
    original = {s: acl_of(ec2, s)[0] for s in (a, b)}
    theirs = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]

    clock = FakeClock()

    def operator(_now: float) -> None:  # 2 s into recovery, someone moves subnet a to their own ACL
        if STATE["flipped_at"].get("flag") and not STATE.get("moved") \
                and clock.now() - STATE["flipped_at"]["flag"] >= 2:
            STATE["moved"] = True
            ec2.replace_network_acl_association(AssociationId=acl_of(ec2, a)[1], NetworkAclId=theirs)

    clock.on_sleep.append(operator)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "subnet-cut.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "subnet-cut.yaml").write_text(DRILL)
    drill = load_drill(tmp_path / "drills" / "subnet-cut.yaml")
    result = run_drill(drill, session, RunOptions(results=tmp_path / "r", yes=True, clock=clock, seed=1))

    assert STATE["moved"]
    assert result.exit_code == 5
    card = result.scorecard
    assert card["run"]["status"] == "rollback-incomplete" and card["rollback"]["status"] == "incomplete"
    (item,) = card["rollback"]["remaining"]
    assert item["undo"] == "ec2.restore-acl-association" and LEFT_AS_FOUND in item["reason"]
    assert f"subnet {a} is on network ACL {theirs}" in item["reason"]
    assert acl_of(ec2, a)[0] == theirs                      # the operator's change stands
    assert acl_of(ec2, b)[0] == original[b]                 # the other subnet is restored
    assert ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": [card["run"]["id"]]}]
                                     )["NetworkAcls"] == []  # the deny ACL, no longer used, is gone
    assert STATE["flags"]["flag"] is False

    remaining, again = rollback_run(result.run_dir / "journal.jsonl", session, clock=clock)
    assert len(remaining) == 1 and LEFT_AS_FOUND in remaining[0]
    assert again["run"]["status"] == "rollback-incomplete" and acl_of(ec2, a)[0] == theirs
    failed = [e for e in read_journal(result.run_dir / "journal.jsonl") if e["event"] == "undo.failed"]
    assert len(failed) == 2 and all(e.get("left_as_found") for e in failed)
