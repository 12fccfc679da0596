"""Schedule specs → next occurrences, in the user's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.schedule import ScheduleError, build_trigger, format_local, is_recurring, next_fire_time

PRAGUE = "Europe/Prague"


def daily(hour: int, minute: int) -> dict:
    return {"type": "cron", "minute": str(minute), "hour": str(hour), "day": "*", "month": "*", "day_of_week": "*"}


def fires(spec: dict, start: datetime, count: int) -> list[datetime]:
    out, after, previous = [], start, None
    for _ in range(count):
        after = previous = next_fire_time(spec, PRAGUE, after=after, previous=previous)
        out.append(after)
    return out


def test_daily_time_survives_spring_forward():
    assert fires(daily(9, 0), datetime(2026, 3, 27, 12, tzinfo=UTC), 3) == [
        datetime(2026, 3, 28, 8, tzinfo=UTC),
        datetime(2026, 3, 29, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]


def test_repeated_wall_clock_hour_in_autumn_fires_once():
    # 02:30 happens twice on 2026-10-25 in Prague; the reminder fires at the first only.
    assert fires(daily(2, 30), datetime(2026, 10, 24, 12, tzinfo=UTC), 3) == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 27, 1, 30, tzinfo=UTC),
    ]


def test_skipped_wall_clock_hour_in_spring_still_fires_that_day():
    # 02:30 does not exist on 2026-03-29 in Prague; APScheduler moves it into the gap's end.
    first = next_fire_time(daily(2, 30), PRAGUE, after=datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert first.date() == datetime(2026, 3, 29).date()


def test_interval_skips_forward_aligned_to_its_start():
    spec = {"type": "interval", "seconds": 3600, "start": "2026-11-24T10:00:00+00:00"}
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 26, 7, 15, tzinfo=UTC)) == datetime(
        2026, 11, 26, 8, 0, tzinfo=UTC
    )


def test_interval_of_days_keeps_its_wall_clock_time_across_dst_changes():
    # "every 2 days at 09:00" from Fri 26 March 2027 (CET); Prague springs forward on the 28th.
    spring = {"type": "interval", "seconds": 2 * 86400, "start": "2027-03-26T08:00:00+00:00"}
    assert fires(spring, datetime(2027, 3, 26, 8, tzinfo=UTC), 2) == [
        datetime(2027, 3, 28, 7, tzinfo=UTC),  # 09:00 CEST
        datetime(2027, 3, 30, 7, tzinfo=UTC),
    ]
    # "every 2 weeks on Friday at 17:00" across the autumn change (31 October 2027), and after
    # a long downtime: skipped forward, still 17:00.
    autumn = {"type": "interval", "seconds": 14 * 86400, "start": "2027-10-22T15:00:00+00:00"}
    assert next_fire_time(autumn, PRAGUE, after=datetime(2027, 10, 22, 15, tzinfo=UTC)) == datetime(
        2027, 11, 5, 16, tzinfo=UTC  # 17:00 CET
    )
    assert next_fire_time(autumn, PRAGUE, after=datetime(2028, 2, 20, tzinfo=UTC)) == datetime(
        2028, 2, 25, 16, tzinfo=UTC
    )


def test_interval_of_hours_is_elapsed_time_across_dst_changes():
    every_2h = {"type": "interval", "seconds": 7200, "start": "2027-03-27T23:30:00+00:00"}
    assert fires(every_2h, datetime(2027, 3, 27, 23, 30, tzinfo=UTC), 2) == [
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 3, 30, tzinfo=UTC),
    ]


def test_one_off_has_no_next_after_its_time():
    spec = {"type": "date", "run_at": "2026-11-24T10:00:00+00:00"}
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 24, 9, tzinfo=UTC)) == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 24, 10, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "interval", "seconds": 30, "start": "2026-11-24T10:00:00+00:00"},
        {"type": "date", "run_at": "2026-11-24T10:00:00"},
        {"type": "cron", "hour": "25"},
        {"type": "weekly"},
        {"type": "interval"},
    ],
)
def test_bad_specs_are_refused(spec):
    with pytest.raises(ScheduleError):
        build_trigger(spec, PRAGUE)


def test_format_local_shows_the_zone():
    assert format_local(datetime(2026, 11, 24, 13, 5, tzinfo=UTC), PRAGUE) == "Tue 24 Nov 2026 14:05 CET"
    assert format_local(datetime(2026, 7, 1, 13, 5, tzinfo=UTC), PRAGUE) == "Wed 1 Jul 2026 15:05 CEST"


def test_format_local_shows_an_offset_only_zone_as_its_offset():
    # The Emulator sends only an offset; the scheduler's delivered alerts use this same function.
    assert format_local(datetime(2026, 11, 24, 13, 5, tzinfo=UTC), "Etc/GMT+5") == "Tue 24 Nov 2026 08:05 UTC−05:00"
    assert format_local(datetime(2026, 11, 24, 13, 5, tzinfo=UTC), "Etc/GMT-2") == "Tue 24 Nov 2026 15:05 UTC+02:00"
    assert format_local(datetime(2026, 11, 24, 13, 5, tzinfo=UTC), "Etc/UTC") == "Tue 24 Nov 2026 13:05 UTC"


# --- Issue 13: zones of their own, ends, several times a day, nth weekdays ------------------


def test_a_spec_with_its_own_zone_ignores_the_reminders_zone():
    # 09:00 in London is 09:00 UTC in winter, 08:00 UTC in summer, whatever the user's zone.
    spec = {**daily(9, 0), "tz": "Europe/London"}
    assert fires(spec, datetime(2027, 3, 26, 12, tzinfo=UTC), 3) == [
        datetime(2027, 3, 27, 9, tzinfo=UTC),
        datetime(2027, 3, 28, 8, tzinfo=UTC),
        datetime(2027, 3, 29, 8, tzinfo=UTC),
    ]


def test_an_end_stops_a_repeat_after_its_last_occurrence():
    spec = {**daily(9, 0), "end": "2026-11-26T08:00:00+00:00"}  # 09:00 Prague on the 26th
    assert fires(spec, datetime(2026, 11, 24, 12, tzinfo=UTC), 2) == [
        datetime(2026, 11, 25, 8, tzinfo=UTC),
        datetime(2026, 11, 26, 8, tzinfo=UTC),
    ]
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 26, 8, tzinfo=UTC)) is None


def test_an_end_applies_to_day_intervals_too():
    spec = {"type": "interval", "seconds": 2 * 86400, "start": "2026-11-25T08:00:00+00:00",
            "end": "2026-11-28T00:00:00+00:00"}
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 25, 8, tzinfo=UTC)) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert next_fire_time(spec, PRAGUE, after=datetime(2026, 11, 27, 8, tzinfo=UTC)) is None


def test_multi_fires_at_each_parts_time_and_keeps_them_across_dst():
    spec = {"type": "multi", "parts": [daily(7, 30), daily(19, 0)]}
    assert is_recurring(spec)
    build_trigger(spec, PRAGUE)
    assert fires(spec, datetime(2027, 3, 27, 12, tzinfo=UTC), 4) == [
        datetime(2027, 3, 27, 18, tzinfo=UTC),  # 19:00 CET
        datetime(2027, 3, 28, 5, 30, tzinfo=UTC),  # 07:30 CEST
        datetime(2027, 3, 28, 17, tzinfo=UTC),
        datetime(2027, 3, 29, 5, 30, tzinfo=UTC),
    ]


def test_nth_and_last_weekday_of_the_month():
    first_monday = {**daily(9, 0), "day": "1st mon"}
    last_friday = {**daily(9, 0), "day": "last fri"}
    start = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert fires(first_monday, start, 2) == [datetime(2026, 12, 7, 8, tzinfo=UTC), datetime(2027, 1, 4, 8, tzinfo=UTC)]
    assert fires(last_friday, start, 2) == [datetime(2026, 11, 27, 8, tzinfo=UTC), datetime(2026, 12, 25, 8, tzinfo=UTC)]


def test_a_yearly_leap_day_comes_round_in_leap_years():
    spec = {**daily(9, 0), "day": "29", "month": "2"}
    assert fires(spec, datetime(2026, 11, 24, 12, tzinfo=UTC), 2) == [
        datetime(2028, 2, 29, 8, tzinfo=UTC),
        datetime(2032, 2, 29, 8, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "multi", "parts": []},
        {"type": "multi", "parts": [{"type": "date", "run_at": "2026-11-24T12:00:00+00:00"}]},
        {"type": "multi"},
        {**daily(9, 0), "tz": "Mars/Olympus"},
        {**daily(9, 0), "end": "not a date"},
    ],
)
def test_malformed_new_specs_are_refused(spec):
    with pytest.raises(ScheduleError):
        build_trigger(spec, PRAGUE)


def test_hourly_on_the_hour_skips_the_missing_hour_in_spring():
    # "every hour on the hour": 01:00 CET, then 03:00 CEST (02:00 does not exist on 2026-03-29)
    spec = {"type": "cron", "minute": "0", "hour": "*", "day": "*", "month": "*", "day_of_week": "*"}
    assert fires(spec, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 3) == [
        datetime(2026, 3, 29, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 2, tzinfo=UTC),
    ]


def test_hour_range_on_weekdays_keeps_local_hours_across_dst():
    # "every hour from 9 to 17 on weekdays": 09:00 Prague is 08:00 UTC in winter, 07:00 in summer
    spec = {"type": "cron", "minute": "0", "hour": "9-17", "day": "*", "month": "*", "day_of_week": "mon-fri"}
    winter = fires(spec, datetime(2026, 3, 27, 16, 30, tzinfo=UTC), 2)  # Friday 17:30 CET
    assert winter == [datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)]
