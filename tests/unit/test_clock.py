"""Clocks (fixed, simulated, Moscow business date) and ISO 8601 durations."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from simulator.domain.clock import FixedClock, SimClock, SystemClock, format_duration, parse_duration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_the_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)


def test_a_fixed_clock_stands_still_until_advanced():
    clock = FixedClock(T0)
    assert clock.now() == clock.now() == T0
    clock.advance(timedelta(days=21))
    assert clock.now() == T0 + timedelta(days=21)


def test_a_fixed_clock_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 3, 2, 9, 0))


def test_a_fixed_clock_given_moscow_time_reports_utc():
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=3))))
    assert clock.now() == T0 and clock.now().tzinfo == timezone.utc


def test_today_is_the_moscow_date_which_turns_at_21_utc():
    assert FixedClock(datetime(2026, 3, 2, 20, 59, tzinfo=timezone.utc)).today() == date(2026, 3, 2)
    assert FixedClock(datetime(2026, 3, 2, 21, 0, tzinfo=timezone.utc)).today() == date(2026, 3, 3)


def test_a_sim_clock_is_its_base_plus_the_offset():
    clock = SimClock(offset=timedelta(days=21), base=FixedClock(T0))
    assert clock.now() == T0 + timedelta(days=21)
    assert clock.today() == date(2026, 3, 23)


def test_a_sim_clock_follows_its_base_as_it_moves():
    base = FixedClock(T0)
    clock = SimClock(offset=timedelta(hours=1), base=base)
    base.advance(timedelta(minutes=5))
    assert clock.now() == T0 + timedelta(hours=1, minutes=5)


def test_a_frozen_sim_clock_ignores_its_base_and_offset():
    base = FixedClock(T0)
    frozen = T0 + timedelta(days=3)
    clock = SimClock(offset=timedelta(days=99), frozen_at=frozen, base=base)
    base.advance(timedelta(hours=5))
    assert clock.now() == frozen and clock.frozen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P21D", timedelta(days=21)),
        ("P2W", timedelta(weeks=2)),
        ("P1W2D", timedelta(days=9)),
        ("PT90S", timedelta(seconds=90)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT0,25S", timedelta(milliseconds=250)),
        ("P1DT2H3M4.5S", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
        ("PT15M", timedelta(minutes=15)),
        ("PT0S", timedelta(0)),
    ],
)
def test_iso_durations_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1Y", "P1M", "P1Y2D", "P2M3DT4H"])
def test_years_and_months_are_refused_because_they_have_no_fixed_length(text):
    with pytest.raises(ValueError, match="no fixed length"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "P1DT", "-P1D", "P-1D", "21D", "P21", "p21d", "P1.5D", "PT1H2D", "P1D ", "garbage",
     "P" + "9" * 20 + "D", "PT" + "9" * 400 + "S", None, 21],
)  # fmt: skip
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_negative_duration_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="negative"):
        parse_duration("-P1D")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=21), "P21D"),
        (timedelta(seconds=90), "PT1M30S"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(milliseconds=500), "PT0.5S"),
        (timedelta(0), "PT0S"),
        (timedelta(days=-1), "-P1D"),
    ],
)
def test_durations_format_in_their_shortest_iso_form(delta, text):
    assert format_duration(delta) == text


def test_formatting_then_parsing_gives_the_same_duration():
    for delta in (timedelta(days=400, seconds=3661, microseconds=120), timedelta(weeks=3), timedelta(seconds=59)):
        assert parse_duration(format_duration(delta)) == delta
