"""The runner against moto: stop conditions, assumed roles."""

from __future__ import annotations

import boto3
import pytest

from drtool.aws.session import AwsSession
from drtool.errors import GuardrailRefusal
from drtool.runner import RunOptions, run_drill
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import make_drill

fake_entries.register()

STOP = """\
  stop_conditions:
    - alarm: svc-5xx
"""


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()


def test_alarm_in_alarm_aborts_and_rolls_back(session, tmp_path):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_alarm(AlarmName="svc-5xx", MetricName="5xx", Namespace="svc", Statistic="Sum",
                                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    clock = FakeClock()
    start = clock.now()

    def fire(now: float) -> None:          # the service starts failing 2 s into the drill
        if now - start >= 2 and not STATE.get("fired"):
            STATE["fired"] = True
            cloudwatch.set_alarm_state(AlarmName="svc-5xx", StateValue="ALARM", StateReason="test")

    clock.on_sleep.append(fire)
    drill = make_drill(tmp_path, params="{recover_after: 999}", drill_extra=STOP)
    result = run_drill(drill, session, RunOptions(results=tmp_path / "r", yes=True, clock=clock, seed=1))
    assert result.exit_code == 3
    assert result.scorecard["run"]["reason"] == "stop condition: alarm svc-5xx in ALARM"
    assert STATE["flags"]["flag"] is False and result.scorecard["rollback"]["status"] == "complete"


def test_stop_condition_on_a_missing_alarm_is_refused(session, tmp_path):
    drill = make_drill(tmp_path, drill_extra=STOP)
    with pytest.raises(GuardrailRefusal, match="alarm 'svc-5xx' does not exist"):
        run_drill(drill, session, RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock()))
    assert STATE["flags"] == {}


def test_role_arn_is_assumed_and_its_account_checked(aws, tmp_path):
    drill = make_drill(tmp_path)
    role = "arn:aws:iam::210987654321:role/drill"
    assumed = AwsSession(region="us-east-1", role_arn=role, external_id="x-1")
    assert assumed.account_id() == "210987654321"
    with pytest.raises(GuardrailRefusal, match="account 210987654321 is not in guardrails.accounts"):
        run_drill(drill, assumed, RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock()))
    drill.doc.guardrails.accounts = ["210987654321"]
    result = run_drill(drill, AwsSession(region="us-east-1", role_arn=role),
                       RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock()))
    assert result.exit_code == 0 and result.scorecard["run"]["account_ids"] == ["210987654321"]
