"""Sandbox test fixtures."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import TRUTH_ESTATE


@pytest.fixture(scope="module")
def truth_sandbox():
    """A running sandbox of tests/sandbox/truth-estate.yaml (shared by a module's tests)."""
    from drtool.sandbox import Sandbox

    sb = Sandbox.load(TRUTH_ESTATE).start()
    yield sb
    errors = list(sb.simulator.errors)
    sb.stop()
    assert not errors, errors
