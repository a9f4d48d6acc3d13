"""Where a run happens: the endpoint is asked, not trusted (drtool.endpoint)."""

from __future__ import annotations

import socket

import pytest

from drtool.aws.session import AwsSession
from drtool.endpoint import configured_endpoints, is_aws_endpoint, where


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"   # nothing listens once closed


@pytest.fixture
def no_endpoint_env(monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(key)


def test_aws_suffixes_are_aws(no_endpoint_env):
    assert is_aws_endpoint("https://sts.us-east-1.amazonaws.com")
    assert is_aws_endpoint("https://ec2.eu-west-1.api.aws")
    assert is_aws_endpoint("https://sts.cn-north-1.amazonaws.com.cn")
    assert not is_aws_endpoint("http://127.0.0.1:5000")
    assert not is_aws_endpoint("https://amazonaws.com.evil.example")


def test_default_session_is_live_with_no_endpoint(no_endpoint_env):
    w = where(AwsSession(region="us-east-1"))
    assert (w.mode, w.endpoint) == ("live", None)


def test_environment_endpoint_answering_as_moto_is_a_sandbox(no_endpoint_env, monkeypatch, moto_url):
    """What `drtool sandbox up` prints: AWS_ENDPOINT_URL exported, no --sandbox flag."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    session = AwsSession(region="us-east-1")
    assert configured_endpoints(session) == [moto_url]
    w = where(session)
    assert (w.mode, w.endpoint) == ("sandbox", moto_url) and "moto" in (w.identified_by or "")


def test_explicit_endpoint_is_probed_too(no_endpoint_env, moto_url):
    w = where(AwsSession(region="us-east-1", endpoint_url=moto_url + "/"))
    assert (w.mode, w.endpoint) == ("sandbox", moto_url)


def test_unknown_endpoint_stays_live_but_is_recorded(no_endpoint_env, monkeypatch):
    """An endpoint that does not answer as a simulator (a proxy, a VPC endpoint by IP) is
    not called a sandbox, but the run records where it went."""
    url = _closed_port_url()
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", url)
    w = where(AwsSession(region="us-east-1"))
    assert (w.mode, w.endpoint) == ("live", url)


def test_drtool_sandbox_flag_is_sandbox_without_asking(no_endpoint_env):
    w = where(AwsSession(region="us-east-1", endpoint_url=_closed_port_url()), sandbox=True)
    assert w.mode == "sandbox"
