import pytest

from drtool.durations import format_duration, parse_duration


@pytest.mark.parametrize("text,seconds", [
    ("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("7d", 604800.0), ("0.25s", 0.25),
    ("1.5m", 90.0), (12, 12.0), (0.5, 0.5), ("30", 30.0), ("250ms", 0.25),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["ten minutes", "5 weeks", "-3s", -1, True, None, "", "1.2.3s", [1]])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_format_duration():
    assert format_duration(None) == "-"
    assert format_duration(1.234) == "1.23s"
    assert format_duration(245) == "4m05s"
    assert format_duration(7380) == "2h03m"


@pytest.mark.parametrize("bad,fragment", [
    (float("inf"), "at most 3660d"), (float("nan"), ".nan"), (10**400, "at most 3660d"),
    ("9" * 400, "expected a duration"), ("3661d", "at most 3660d"), ("1" * 16 + "s", "expected a duration"),
])
def test_parse_duration_is_finite_and_bounded(bad, fragment):
    with pytest.raises(ValueError, match="duration") as info:
        parse_duration(bad)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 120                     # a 400-digit input is not echoed whole


def test_parse_duration_upper_bound_is_inclusive():
    assert parse_duration("3660d") == 3660 * 86400.0
