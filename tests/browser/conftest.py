"""The outputs fixtures (scorecards) for the browser checks."""

from tests.outputs.conftest import make_scorecard  # noqa: F401 - re-exported fixture
