import pytest

from drtool.timing import FakeClock, PollTimeout, parse_rfc3339, rfc3339, wait_until


def test_rfc3339_has_milliseconds_and_round_trips():
    assert rfc3339(1767225600.5) == "2026-01-01T00:00:00.500Z"
    assert parse_rfc3339("2026-01-01T00:00:00.500Z") == 1767225600.5


def test_wait_until_returns_first_true_instant_exactly():
    clock = FakeClock()
    start = clock.now()
    at, value = wait_until(lambda: (clock.now() - start >= 7.0, "v"), clock=clock, interval=0.5, timeout=60)
    assert at - start == pytest.approx(7.0)
    assert value == "v"


def test_wait_until_times_out_with_last_value():
    clock = FakeClock()
    with pytest.raises(PollTimeout) as info:
        wait_until(lambda: (False, "still down"), clock=clock, interval=1, timeout=5)
    assert info.value.last == "still down"


def test_wait_until_tick_can_abort():
    clock = FakeClock()

    def tick():
        if clock.now() > 1767225600 + 2:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        wait_until(lambda: (False, None), clock=clock, interval=1, timeout=10, on_tick=tick)


def test_epoch_conversions_treat_naive_datetimes_as_utc():
    from datetime import UTC, datetime

    from drtool.timing import to_datetime, to_epoch

    aware = datetime(2026, 1, 1, tzinfo=UTC)
    assert to_epoch(aware) == to_epoch(datetime(2026, 1, 1)) == 1767225600.0
    assert to_epoch(None) is None and to_epoch(5) == 5.0
    assert to_datetime(1767225600.0) == aware and to_datetime(None) is None
