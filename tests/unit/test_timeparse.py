"""Tests for dialogs.timeparse: free text in, schedule spec, first run and reminder text out.

The clock is fixed at Tuesday 24 November 2026, 12:00 in Europe/Prague (11:00 UTC, CET), so
every expectation below is a concrete spec and instant, written as Prague wall-clock time.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialogs.timeparse import ParsedReminder, Schedule, TimeParseError, parse_reminder, parse_when
from models.schedule import build_trigger, first_fire_time, next_fire_time

TZ = "Europe/Prague"
PRAGUE = ZoneInfo(TZ)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=PRAGUE)  # a Tuesday
NOW_UTC = "2026-11-24T11:00:00+00:00"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A Prague wall-clock time as the aware UTC instant the parser returns."""
    return datetime(year, month, day, hour, minute, tzinfo=PRAGUE).astimezone(UTC)


def once(when: datetime) -> dict[str, Any]:
    return {"type": "date", "run_at": when.isoformat()}


def cron(minute: str, hour: str, *, day: str = "*", day_of_week: str = "*") -> dict[str, Any]:
    return {"type": "cron", "minute": minute, "hour": hour, "day": day, "month": "*", "day_of_week": day_of_week}


def every(seconds: int, start: str = NOW_UTC) -> dict[str, Any]:
    return {"type": "interval", "seconds": seconds, "start": start}


def parse(text: str, now: datetime = NOW) -> ParsedReminder:
    return parse_reminder(text, now=now, tz=TZ)


def check_schedule(schedule: Schedule | None, spec: dict[str, Any], first_run: datetime) -> None:
    """The exact spec and first run, and that the spec survives JSON and APScheduler as stored."""
    assert schedule is not None
    assert schedule.spec == spec
    assert schedule.first_run == first_run
    assert schedule.first_run.tzinfo is UTC
    assert json.loads(json.dumps(schedule.spec)) == spec
    build_trigger(schedule.spec, TZ)
    assert first_fire_time(schedule.spec, TZ, now=NOW) == first_run


# --- One-off times -------------------------------------------------------------------------

ONE_OFF = [
    # relative
    ("in 10 minutes", at(11, 24, 12, 10)),
    ("in 1 minute", at(11, 24, 12, 1)),
    ("in an hour", at(11, 24, 13)),
    ("in half an hour", at(11, 24, 12, 30)),
    ("in 2 hours and 15 minutes", at(11, 24, 14, 15)),
    ("in an hour and a half", at(11, 24, 13, 30)),
    ("in 3 days", at(11, 27, 12)),
    ("in a week", at(12, 1, 12)),
    ("in 5 min", at(11, 24, 12, 5)),
    ("in 2h", at(11, 24, 14)),
    ("in 2h30m", at(11, 24, 14, 30)),
    ("in 90 mins", at(11, 24, 13, 30)),
    ("10 minutes from now", at(11, 24, 12, 10)),
    ("in 3 days at 9am", at(11, 27, 9)),
    ("in 2 months", at(1, 24, 12, year=2027)),
    # absolute
    ("tomorrow at 9am", at(11, 25, 9)),
    ("today at 17:30", at(11, 24, 17, 30)),
    ("tonight at 8", at(11, 24, 20)),
    ("at 5pm", at(11, 24, 17)),
    ("at 17:30", at(11, 24, 17, 30)),
    ("at 3am", at(11, 25, 3)),  # a bare time is its next occurrence, not an error
    ("at 9", at(11, 24, 21)),  # 09:00 has passed today, so the pm reading
    ("at 0:30", at(11, 25, 0, 30)),
    # The recognizer reads "next friday" as Friday of next week, "this friday" as the coming one.
    ("next friday at 5pm", at(12, 4, 17)),
    ("this friday at 5pm", at(11, 27, 17)),
    ("on friday at 9", at(11, 27, 9)),  # the am reading of a bare hour when it is still ahead
    ("on December 3rd at 9am", at(12, 3, 9)),
    ("on 2026-12-24 18:00", at(12, 24, 18)),
    ("on 24 December at noon", at(12, 24, 12)),
    ("at midnight", at(11, 25, 0)),
    ("9:15pm", at(11, 24, 21, 15)),
    ("21:15", at(11, 24, 21, 15)),
    ("9 pm", at(11, 24, 21)),
    ("on February 29th at 10", at(2, 29, 10, year=2028)),  # the next leap day
    ("tomorrow", at(11, 25, 9)),  # a day without a time means 09:00
    ("tomorrow morning", at(11, 25, 8)),  # a part of the day means its start
]


@pytest.mark.parametrize(("text", "first_run"), ONE_OFF)
def test_one_off_times(text: str, first_run: datetime) -> None:
    parsed = parse(text)

    assert parsed.error is None
    assert parsed.what is None
    check_schedule(parsed.schedule, once(first_run), first_run)


def test_bare_time_already_past_today_means_tomorrow() -> None:
    evening = datetime(2026, 11, 24, 18, 0, tzinfo=PRAGUE)

    parsed = parse("at 5pm", now=evening)

    assert parsed.schedule is not None
    assert parsed.schedule.spec == once(at(11, 25, 17))
    assert parsed.schedule.first_run == at(11, 25, 17)


def test_one_off_description_is_local_wall_clock() -> None:
    schedule = parse_when("tomorrow at 9am", now=NOW, tz=TZ)

    assert schedule.description == "Wed 25 Nov 2026 09:00"
    assert schedule.spec == {"type": "date", "run_at": "2026-11-25T08:00:00+00:00"}


def test_now_in_any_zone_gives_the_same_result() -> None:
    parsed = parse("tomorrow at 9am", now=NOW.astimezone(UTC))

    assert parsed.schedule is not None
    assert parsed.schedule.first_run == at(11, 25, 9)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_reminder("in 10 minutes", now=datetime(2026, 11, 24, 12, 0), tz=TZ)


# --- Repeats -------------------------------------------------------------------------------

RECURRING = [
    ("every day at 7", cron("0", "7"), at(11, 25, 7), "every day at 07:00"),
    ("daily at 07:00", cron("0", "7"), at(11, 25, 7), "every day at 07:00"),
    ("every weekday at 8:30", cron("30", "8", day_of_week="mon-fri"), at(11, 25, 8, 30), "every weekday at 08:30"),
    ("every weekend at 10am", cron("0", "10", day_of_week="sat,sun"), at(11, 28, 10), "every weekend at 10:00"),
    ("every monday at 9", cron("0", "9", day_of_week="mon"), at(11, 30, 9), "every Monday at 09:00"),
    (
        "every monday and friday at 7pm",
        cron("0", "19", day_of_week="mon,fri"),
        at(11, 27, 19),
        "every Monday and Friday at 19:00",
    ),
    ("every 2 hours", every(7200), at(11, 24, 14), "every 2 hours"),
    ("every 30 minutes", every(1800), at(11, 24, 12, 30), "every 30 minutes"),
    ("every hour", every(3600), at(11, 24, 13), "every hour"),
    ("hourly", every(3600), at(11, 24, 13), "every hour"),
    ("every half hour", every(1800), at(11, 24, 12, 30), "every 30 minutes"),
    ("every 1.5 hours", every(5400), at(11, 24, 13, 30), "every 90 minutes"),
    # Today is Tuesday and 18:00 is still ahead, so the first one is tonight.
    ("every week on tuesday at 18:00", cron("0", "18", day_of_week="tue"), at(11, 24, 18), "every Tuesday at 18:00"),
    (
        "on the 1st of every month at 10:00",
        cron("0", "10", day="1"),
        at(12, 1, 10),
        "on the 1st of every month at 10:00",
    ),
    ("every month on the 15th at 9am", cron("0", "9", day="15"), at(12, 15, 9), "on the 15th of every month at 09:00"),
    (
        "on the last day of every month",
        cron("0", "9", day="last"),
        at(11, 30, 9),
        "on the last day of every month at 09:00",
    ),
    ("every morning at 8", cron("0", "8"), at(11, 25, 8), "every day at 08:00"),
    ("every evening at 7", cron("0", "19"), at(11, 24, 19), "every day at 19:00"),
    ("every weekday morning at 7", cron("0", "7", day_of_week="mon-fri"), at(11, 25, 7), "every weekday at 07:00"),
    ("at 7pm every day", cron("0", "19"), at(11, 24, 19), "every day at 19:00"),
    ("on weekdays at 7:45", cron("45", "7", day_of_week="mon-fri"), at(11, 25, 7, 45), "every weekday at 07:45"),
    ("every day", cron("0", "9"), at(11, 25, 9), "every day at 09:00"),
    # Cron cannot count days or weeks, so these are intervals anchored on the first occurrence.
    (
        "every 2 days at 9am",
        every(172800, "2026-11-25T08:00:00+00:00"),
        at(11, 25, 9),
        "every 2 days at 09:00",
    ),
    (
        "every other friday at 5pm",
        every(1209600, "2026-11-27T16:00:00+00:00"),
        at(11, 27, 17),
        "every 2 weeks on Friday at 17:00",
    ),
    # Raw crontab: day-of-week numbers as in crontab (0 and 7 are Sunday, 1 is Monday).
    ("cron 30 8 * * 1-5", cron("30", "8", day_of_week="mon-fri"), at(11, 25, 8, 30), "every weekday at 08:30"),
    ("cron 0 9 * * 0", cron("0", "9", day_of_week="sun"), at(11, 29, 9), "every Sunday at 09:00"),
    ("cron 0 9 * * 7", cron("0", "9", day_of_week="sun"), at(11, 29, 9), "every Sunday at 09:00"),
    (
        "cron 0 9 * * 5-7",
        cron("0", "9", day_of_week="fri-sun"),
        at(11, 27, 9),
        "every Friday, Saturday and Sunday at 09:00",
    ),
    (
        "cron */15 9-17 * * mon-fri",
        cron("*/15", "9-17", day_of_week="mon-fri"),
        at(11, 24, 12, 15),
        "cron */15 9-17 * * mon-fri",
    ),
]


@pytest.mark.parametrize(("text", "spec", "first_run", "description"), RECURRING)
def test_recurring_schedules(text: str, spec: dict[str, Any], first_run: datetime, description: str) -> None:
    parsed = parse(text)

    assert parsed.error is None
    assert parsed.what is None
    check_schedule(parsed.schedule, spec, first_run)
    assert parsed.schedule is not None
    assert parsed.schedule.description == description


def test_crontab_weekday_numbers_are_not_apschedulers() -> None:
    # APScheduler 3's from_crontab would read "1" as Tuesday; crontab means Monday.
    schedule = parse_when("cron 0 9 * * 1", now=NOW, tz=TZ)

    assert schedule.spec["day_of_week"] == "mon"
    assert schedule.first_run.astimezone(PRAGUE).strftime("%A %H:%M") == "Monday 09:00"


def test_daily_cron_keeps_wall_clock_across_spring_forward() -> None:
    before_dst = datetime(2026, 3, 27, 12, 0, tzinfo=PRAGUE)  # Prague springs forward on 29 March

    schedule = parse_when("every day at 9am", now=before_dst, tz=TZ)
    second = next_fire_time(schedule.spec, TZ, after=schedule.first_run)
    third = next_fire_time(schedule.spec, TZ, after=second)

    assert schedule.first_run == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert second == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # CEST, UTC+2
    assert third == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert {fire.astimezone(PRAGUE).strftime("%H:%M") for fire in (schedule.first_run, second, third)} == {"09:00"}


def test_relative_days_keep_wall_clock_across_spring_forward() -> None:
    before_dst = datetime(2026, 3, 27, 12, 0, tzinfo=PRAGUE)

    schedule = parse_when("in 3 days", now=before_dst, tz=TZ)

    assert schedule.first_run == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # 12:00 CEST


@pytest.mark.parametrize(
    ("now", "text", "first_run"),
    [
        # 01:30 CET on 28 March 2027; at 02:00 the clocks jump to 03:00.
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "in 2 hours", datetime(2027, 3, 28, 2, 30, tzinfo=UTC)),
        # 02:30 CEST on 31 October 2027, the first pass; at 03:00 the clocks go back to 02:00.
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "in 2 hours", datetime(2027, 10, 31, 2, 30, tzinfo=UTC)),
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "in 1 hour", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        # 02:30 CET, the second pass: ten minutes on is not the first pass's 02:40, long gone.
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "in 10 minutes", datetime(2027, 10, 31, 1, 40, tzinfo=UTC)),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "at 2:45", datetime(2027, 10, 31, 1, 45, tzinfo=UTC)),
        # Days still keep the wall clock, and the hours on top are elapsed.
        (datetime(2027, 3, 27, 12, 0, tzinfo=UTC), "in 1 day and 2 hours", datetime(2027, 3, 28, 13, 0, tzinfo=UTC)),
    ],
)
def test_hours_and_minutes_are_elapsed_time_on_dst_change_days(now: datetime, text: str, first_run: datetime) -> None:
    parsed = parse(f"remind me to x {text}", now=now)

    assert (parsed.what, parsed.error) == ("x", None)
    assert parsed.schedule is not None and parsed.schedule.first_run == first_run


@pytest.mark.parametrize(
    ("now", "text", "first_run"),
    [
        # On the leap day itself, after 10:00, and the day after: the next leap day.
        (datetime(2028, 2, 29, 13, 0, tzinfo=PRAGUE), "on February 29th", at(2, 29, 9, year=2032)),
        (datetime(2028, 2, 29, 13, 0, tzinfo=PRAGUE), "on February 29th at 10", at(2, 29, 10, year=2032)),
        (datetime(2028, 3, 1, 13, 0, tzinfo=PRAGUE), "on February 29th at 10", at(2, 29, 10, year=2032)),
        # The recognizer drops "February 29th at 10" from a leap day to the year's end; a plain
        # date with a time still reads as usual then.
        (datetime(2028, 2, 29, 13, 0, tzinfo=PRAGUE), "on March 3rd at 10", at(3, 3, 10, year=2028)),
        (datetime(2028, 2, 28, 13, 0, tzinfo=PRAGUE), "on February 29th at 10", at(2, 29, 10, year=2028)),
    ],
)
def test_leap_day_is_the_next_one_still_ahead(now: datetime, text: str, first_run: datetime) -> None:
    parsed = parse(f"remind me to x {text}", now=now)

    assert (parsed.what, parsed.error) == ("x", None)
    assert parsed.schedule is not None and parsed.schedule.first_run == first_run


# --- The reminder text ---------------------------------------------------------------------

WITH_TEXT = [
    ("remind me to stretch in 10 minutes", "stretch", once(at(11, 24, 12, 10))),
    ("remind me tomorrow at 9am to call Anna", "call Anna", once(at(11, 25, 9))),
    ("remind me tomorrow to call Anna at 9am", "call Anna", once(at(11, 25, 9))),
    ("remind me to pay rent on the 1st of every month at 10:00", "pay rent", cron("0", "10", day="1")),
    ("every weekday at 8:30 remind me to stand up", "stand up", cron("30", "8", day_of_week="mon-fri")),
    ("every 2 hours drink water", "drink water", every(7200)),
    ("in 5 minutes check the oven", "check the oven", once(at(11, 24, 12, 5))),
    ("remind me about the meeting at 3pm", "the meeting", once(at(11, 24, 15))),
    ("remind me that the bins go out tomorrow at 7", "the bins go out", once(at(11, 25, 7))),
    ("Remind me to call Anna at 3 please!", "call Anna", once(at(11, 24, 15))),
    ("hey, can you remind me to water the plants on friday?", "water the plants", once(at(11, 27, 9))),
    ("set a reminder to back up the laptop tomorrow at 8", "back up the laptop", once(at(11, 25, 8))),
    ("remind me daily at 7 to take vitamins", "take vitamins", cron("0", "7")),
    ("drink water hourly", "drink water", every(3600)),
    ("remind me on mondays and thursdays at 18:00 to go swimming", "go swimming", cron("0", "18", day_of_week="mon,thu")),
    ("cron 30 8 * * 1-5 stand up", "stand up", cron("30", "8", day_of_week="mon-fri")),
    # Words that look like times inside the reminder text stay there.
    ("remind me to read the weekly report tomorrow at 9", "read the weekly report", once(at(11, 25, 9))),
    ("remind me to turn the heating on at 6pm", "turn the heating on", once(at(11, 24, 18))),
    ("remind me to take 2 pills at 9pm", "take 2 pills", once(at(11, 24, 21))),
    # Case, spacing and emoji.
    ("REMIND ME TO STRETCH IN 10 MINUTES", "STRETCH", once(at(11, 24, 12, 10))),
    ("  remind   me to    stretch   in  10   minutes  ", "stretch", once(at(11, 24, 12, 10))),
    ("remind me to stretch 🧘 in 10 minutes", "stretch 🧘", once(at(11, 24, 12, 10))),
    ("in 10 minutes 🎂 order the cake 🎉", "🎂 order the cake 🎉", once(at(11, 24, 12, 10))),
]


@pytest.mark.parametrize(("text", "what", "spec"), WITH_TEXT)
def test_reminder_text_is_separated_from_the_time(text: str, what: str, spec: dict[str, Any]) -> None:
    parsed = parse(text)

    assert parsed.error is None
    assert parsed.what == what
    assert parsed.schedule is not None
    assert parsed.schedule.spec == spec


def test_long_reminder_text_is_kept_whole() -> None:
    long_text = " ".join(f"step {n} of the plan," for n in range(1, 80)) + " done"

    parsed = parse(f"remind me to {long_text} in 10 minutes")

    assert parsed.what == long_text
    assert parsed.schedule is not None
    assert parsed.schedule.first_run == at(11, 24, 12, 10)


def test_time_without_text_has_no_what() -> None:
    parsed = parse("remind me in 10 minutes")

    assert parsed == ParsedReminder(
        what=None,
        schedule=Schedule(
            spec=once(at(11, 24, 12, 10)), first_run=at(11, 24, 12, 10), description="Tue 24 Nov 2026 12:10"
        ),
        error=None,
    )


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("remind me to stretch", "stretch"),
        ("remind me to call mom", "call mom"),
        ("remind me to buy a second phone", "buy a second phone"),  # "a second" is no time
        ("remind me to check the May report", "check the May report"),  # nor is "May"
        ("please remind me about the daily standup", "the daily standup"),
        ("hello", None),
    ],
)
def test_text_without_time_has_no_schedule(text: str, what: str | None) -> None:
    assert parse(text) == ParsedReminder(what=what, schedule=None, error=None)


# --- Refusals ------------------------------------------------------------------------------

# Every refusal shows the user a phrase that would work: 'Try "every 1 minute"', 'e.g. "…"'.
SUGGESTS_EXAMPLE = re.compile(r'(?:Try|e\.g\.)[^"]*"[^"]+"')

REFUSED = [
    ("today at 3am", "Tue 24 Nov 2026 03:00 is already in the past", None),
    ("on 2020-01-01 at 10:00", "Wed 1 Jan 2020 10:00 is already in the past", None),
    ("remind me to file taxes on 2020-01-01 at 10:00", "is already in the past", "file taxes"),
    ("every 0 minutes", "The shortest repeat I can do is every minute", None),
    ("every 1 second", "The shortest repeat I can do is every minute", None),
    ("every 30 seconds", "The shortest repeat I can do is every minute", None),
    ("remind me to blink every 30 seconds", "The shortest repeat I can do is every minute", "blink"),
    ("on February 30th", "February 30 doesn't exist", None),
    ("on 2026-02-30 at 10", "February 30 doesn't exist", None),
    ("at 25:00", '"at 25:00" is not a time of day', None),
    ("every day at 25:00", '"at 25:00" is not a time of day', None),
    ("in 0 minutes", "That is right now", None),
    ("every year on 5 may", "I can't set up that kind of repeat yet", None),
    ("every 2nd tuesday at 9", "I can't set up that kind of repeat yet", None),
    ("cron 30 8 * *", "A crontab line has 5 fields", None),
    ("cron 0 9 1 * 1", "both a day of the month and a day of the week", None),
    ("cron 61 8 * * *", "I can't schedule that", None),
    ("cron 0 0 30 2 *", "never comes round", None),
    ("every 3 weeks on mon and fri", "one weekday only", None),
    ("on the 32nd of every month", "A month has no day 32", None),
]


@pytest.mark.parametrize(("text", "message", "what"), REFUSED)
def test_unusable_times_are_refused_with_a_reason(text: str, message: str, what: str | None) -> None:
    parsed = parse(text)

    assert parsed.schedule is None
    assert parsed.error is not None
    assert message in parsed.error
    assert SUGGESTS_EXAMPLE.search(parsed.error)
    assert parsed.what == what


# --- parse_when ----------------------------------------------------------------------------


def test_parse_when_accepts_a_duration_without_in() -> None:
    schedule = parse_when("10 minutes", now=NOW, tz=TZ)

    assert schedule.spec == once(at(11, 24, 12, 10))
    assert schedule.first_run == at(11, 24, 12, 10)


def test_parse_when_returns_a_recurring_schedule() -> None:
    schedule = parse_when("every weekday at 8:30", now=NOW, tz=TZ)

    assert schedule == Schedule(
        spec=cron("30", "8", day_of_week="mon-fri"), first_run=at(11, 25, 8, 30), description="every weekday at 08:30"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("whenever", "Sorry, I couldn't find a time in that."),
        ("", "Sorry, I couldn't find a time in that."),
        ("today at 3am", "is already in the past"),
        ("every 30 seconds", "The shortest repeat I can do is every minute"),
        ("on February 30th", "February 30 doesn't exist"),
    ],
)
def test_parse_when_raises_a_user_facing_error_with_an_example(text: str, message: str) -> None:
    with pytest.raises(TimeParseError) as raised:
        parse_when(text, now=NOW, tz=TZ)

    assert message in str(raised.value)
    assert SUGGESTS_EXAMPLE.search(str(raised.value))
