"""Shared fixtures. Fake credentials everywhere so nothing can reach a real account."""

from __future__ import annotations

import importlib.util
import logging
import os

import pytest

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _moto_installed() -> bool:
    try:
        return importlib.util.find_spec("moto") is not None
    except ImportError:
        return False


MOTO = _moto_installed()
# Fixtures that start moto: a test using any of them (directly or through another fixture)
# needs the sandbox extra, and so does every `e2e` test (drtool in a subprocess against
# moto's server or `--sandbox`). Tests that start a Sandbox themselves carry @pytest.mark.moto.
MOTO_FIXTURES = {"aws", "moto_server", "moto_url", "truth_sandbox", "baselines", "bundled_runs"}
MOTO_MARKERS = ("moto", "e2e")
E2E_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e")  # all drtool-against-moto
# Folders whose tests start the sandbox (or FIS/ARC fakes inside it) themselves.
SANDBOX_DIRS = tuple(os.path.join(os.path.dirname(os.path.abspath(__file__)), d) + os.sep for d in ("sandbox", "safety", "fis"))


def pytest_collection_modifyitems(config, items):
    """Mark every moto-needing test `moto`; without moto (a venv with only `.[test]`) skip
    them with a visible reason, so the rest proves the live commands never need moto."""
    skip = pytest.mark.skip(reason="needs moto: install drtool[sandbox] (pip install '.[sandbox]')")
    for item in items:
        path = str(item.path)
        if MOTO_FIXTURES & set(getattr(item, "fixturenames", ())) or path.startswith(E2E_DIR + os.sep) \
                or path.startswith(SANDBOX_DIRS):
            item.add_marker(pytest.mark.moto)
        if not MOTO and any(item.get_closest_marker(name) is not None for name in MOTO_MARKERS):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch):
    """Every test: no real AWS_* settings, fake keys, moto-friendly switches."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    yield


@pytest.fixture
def aws(fake_aws_credentials):
    """moto in-process for the duration of the test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def bundled_runs(tmp_path_factory):
    """Each bundled drill run once per session in the sandbox (tests/bundled_runs.py)."""
    from tests.bundled_runs import BundledRuns

    return BundledRuns(tmp_path_factory.mktemp("bundled"))


@pytest.fixture(scope="session")
def moto_server():
    """A ThreadedMotoServer on loopback for end-to-end subprocess tests."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server, monkeypatch):
    """A freshly reset moto server; AWS_ENDPOINT_URL points at it."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


@pytest.fixture
def session(aws):
    """A drtool AwsSession against in-process moto, us-east-1 by default."""
    from drtool.aws.session import AwsSession

    return AwsSession(region="us-east-1")
