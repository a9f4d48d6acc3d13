"""Assumed-role credentials that outlast one STS session, named after the run (moto STS)."""

from __future__ import annotations

import datetime as dt

import pytest

from drtool.aws.session import AwsSession, role_session_name
from drtool.errors import UsageError

ROLE = "arn:aws:iam::210987654321:role/drill"
RUN = "20250101T000000Z-abc123"


def caller(aws: AwsSession) -> str:
    return aws.client("sts").get_caller_identity()["Arn"]


def test_the_role_session_is_named_after_the_run(aws):
    session = AwsSession(region="us-east-1", role_arn=ROLE, run_id=RUN)
    assert caller(session) == f"arn:aws:sts::210987654321:assumed-role/drill/drtool-{RUN}"
    assert session.calls["sts:AssumeRole"] == 1


def test_set_run_id_after_the_first_client_assumes_the_role_again_under_the_run_name(aws):
    session = AwsSession(region="us-east-1", role_arn=ROLE)
    assert caller(session).endswith("/drill/drtool")
    session.set_run_id(RUN)
    assert caller(session).endswith(f"/drill/drtool-{RUN}")
    assert session.calls["sts:AssumeRole"] == 2


def test_an_explicit_session_name_still_wins(aws):
    session = AwsSession(region="us-east-1", role_arn=ROLE, session_name="ops", run_id=RUN)
    assert caller(session).endswith("/drill/ops")


def test_session_names_keep_to_sts_rules():
    assert role_session_name(None) == "drtool"
    name = role_session_name("run id/with spaces:" + "x" * 80)
    assert name.startswith("drtool-run-id-with-spaces-") and len(name) == 64


def test_short_lived_credentials_are_renewed_before_each_call(aws):
    """900 s, STS's shortest: always inside botocore's 15-minute advisory refresh window."""
    session = AwsSession(region="us-east-1", role_arn=ROLE, run_id=RUN, duration_seconds=900)
    s3 = session.client("s3")
    s3.create_bucket(Bucket="drill-results")
    assert session.calls["sts:AssumeRole"] >= 2
    before = session.calls["sts:AssumeRole"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["drill-results"]
    assert session.calls["sts:AssumeRole"] > before
    assert caller(session).endswith(f"/drtool-{RUN}")


def test_credentials_outlast_a_two_hour_drill(aws):
    session = AwsSession(region="us-east-1", role_arn=ROLE, run_id=RUN, duration_seconds=3600)
    s3 = session.client("s3")
    s3.create_bucket(Bucket="drill-results")
    creds = session._boto_session().get_credentials()
    first = creds.get_frozen_credentials().access_key
    assert session.calls["sts:AssumeRole"] == 1                     # an hour left: no refresh yet
    expiry = creds._expiry_time
    assert dt.timedelta(minutes=55) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)
    real = creds._time_fetcher
    # Two hours into the drill while the first credentials are held (past their expiry).
    creds._time_fetcher = lambda: expiry + dt.timedelta(hours=1) if creds._access_key == first else real()
    assert s3.list_buckets()["Buckets"][0]["Name"] == "drill-results"
    assert session.calls["sts:AssumeRole"] == 2
    assert creds.get_frozen_credentials().access_key != first


@pytest.mark.parametrize("seconds", [60, 50000])
def test_a_duration_outside_sts_bounds_is_refused(seconds):
    with pytest.raises(UsageError, match=f"duration {seconds}s is out of range"):
        AwsSession(region="us-east-1", role_arn=ROLE, duration_seconds=seconds)
