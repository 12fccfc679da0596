"""Tests for dialogs.timeparse: free text in, schedule spec, first run and reminder text out.

The clock is fixed at Tuesday 24 November 2026, 12:00 in Europe/Prague (11:00 UTC, CET), so
every expectation below is a concrete spec and instant, written as Prague wall-clock time.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
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
    ("every 2 years", "I can repeat yearly on one date", None),
    ("remind me in 99999999999999999999 minutes", "too far ahead: I can set reminders up to 10 years ahead", None),
    ("remind me to party on Jan 1 2226", "2226 is too far ahead: I can set reminders up to 10 years ahead", "party"),
    ("in 11 years", "too far ahead", None),
    ("every 99999999999 minutes", "too far ahead", None),
    ("every weekend except saturday and sunday", "leaves no day", None),
    ("on 30 February every year", "February has no day 30", None),
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


# --- Issue 13: schedules people use -------------------------------------------------------

LONDON = ZoneInfo("Europe/London")

COMPOUND = [
    # several times a day: one cron when the minutes agree, a "multi" spec when they don't
    ("every day at 7am and 7pm brush teeth", "brush teeth", cron("0", "7,19"), at(11, 24, 19), "every day at 07:00 and 19:00"),
    ("at 7am and 7pm every day take pills", "take pills", cron("0", "7,19"), at(11, 24, 19), "every day at 07:00 and 19:00"),
    ("twice a day at 9am and 9pm eye drops", "eye drops", cron("0", "9,21"), at(11, 24, 21), "every day at 09:00 and 21:00"),
    (
        "every day at 7:30am and 7pm stretch",
        "stretch",
        {"type": "multi", "parts": [cron("30", "7"), cron("0", "19")]},
        at(11, 24, 19),
        "every day at 07:30 and 19:00",
    ),
    # weekday sets and exceptions, wherever the exception stands
    ("every weekday at 9 except friday standup", "standup", cron("0", "9", day_of_week="mon-thu"), at(11, 25, 9),
     "every Monday, Tuesday, Wednesday and Thursday at 09:00"),
    ("every day except sunday at 6:30 open the shop", "open the shop", cron("30", "6", day_of_week="mon-sat"),
     at(11, 25, 6, 30), "every day except Sunday at 06:30"),
    ("mon, wed and fri at 8 gym", "gym", cron("0", "8", day_of_week="mon,wed,fri"), at(11, 25, 8),
     "every Monday, Wednesday and Friday at 08:00"),
    # nth and last weekday, last day, several days of the month
    ("first monday of each month at 9 report", "report", cron("0", "9", day="1st mon"), at(12, 7, 9),
     "on the first Monday of every month at 09:00"),
    ("last friday of the month drinks", "drinks", cron("0", "9", day="last fri"), at(11, 27, 9),
     "on the last Friday of every month at 09:00"),
    ("every 2nd tuesday at 9 sync", "sync", cron("0", "9", day="2nd tue"), at(12, 8, 9),
     "on the second Tuesday of every month at 09:00"),
    ("last day of the month at 20:00 pay the rent", "pay the rent", cron("0", "20", day="last"), at(11, 30, 20),
     "on the last day of every month at 20:00"),
    ("on the 1st and 15th of every month at 9am bills", "bills", cron("0", "9", day="1,15"), at(12, 1, 9),
     "on the 1st and 15th of every month at 09:00"),
    # yearly dates
    ("every year on 5 March birthday", "birthday", {**cron("0", "9", day="5"), "month": "3"}, at(3, 5, 9, year=2027),
     "every year on 5 March at 09:00"),
    ("every March 5th at 10 birthday", "birthday", {**cron("0", "10", day="5"), "month": "3"}, at(3, 5, 10, year=2027),
     "every year on 5 March at 10:00"),
    ("on 24 december every year at 18:00 call grandma", "call grandma", {**cron("0", "18", day="24"), "month": "12"},
     at(12, 24, 18), "every year on 24 December at 18:00"),
    # fortnightly
    ("biweekly on friday payroll", "payroll", every(14 * 86400, "2026-11-27T08:00:00+00:00"), at(11, 27, 9),
     "every 2 weeks on Friday at 09:00"),
    ("every fortnight on monday at 10 review", "review", every(14 * 86400, "2026-11-30T09:00:00+00:00"), at(11, 30, 10),
     "every 2 weeks on Monday at 10:00"),
]


@pytest.mark.parametrize(("text", "what", "spec", "first_run", "description"), COMPOUND)
def test_compound_schedules(text: str, what: str, spec: dict[str, Any], first_run: datetime, description: str) -> None:
    parsed = parse(text)

    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)
    assert parsed.schedule.description == description


def test_every_weekday_except_friday_skips_friday() -> None:
    schedule = parse("every weekday at 9 except friday").schedule
    assert schedule is not None
    fires, after = [], NOW.astimezone(UTC)
    for _ in range(5):
        after = next_fire_time(schedule.spec, TZ, after=after)
        fires.append(after.astimezone(PRAGUE).strftime("%a %H:%M"))
    assert fires == ["Wed 09:00", "Thu 09:00", "Mon 09:00", "Tue 09:00", "Wed 09:00"]


ENDS = [
    # "until" a date includes that day; "for" counts from now; "N times" ends at the Nth
    ("every day at 9 until 31 March water plants", "water plants", datetime(2027, 3, 31, 23, 59, 59, tzinfo=PRAGUE),
     "every day at 09:00 until Wed 31 Mar 2027 23:59"),
    ("every day at 9 for 3 weeks pills", "pills", datetime(2026, 12, 15, 12, 0, tzinfo=PRAGUE),
     "every day at 09:00 until Tue 15 Dec 2026 12:00"),
    ("every monday at 9 10 times gym", "gym", datetime(2027, 2, 1, 9, 0, tzinfo=PRAGUE),
     "every Monday at 09:00, 10 times until Mon 1 Feb 2027 09:00"),
]


@pytest.mark.parametrize(("text", "what", "end", "description"), ENDS)
def test_a_repeat_can_end(text: str, what: str, end: datetime, description: str) -> None:
    parsed = parse(text)

    assert parsed.unclear == ()
    assert parsed.what == what
    assert parsed.schedule is not None
    assert parsed.schedule.spec["end"] == end.astimezone(UTC).isoformat()
    assert parsed.schedule.description == description
    last = next_fire_time(parsed.schedule.spec, TZ, after=end.astimezone(UTC) - timedelta(days=8))
    while last is not None and (following := next_fire_time(parsed.schedule.spec, TZ, after=last)) is not None:
        last = following
    assert last is not None and last <= end


def test_ten_times_means_ten_occurrences() -> None:
    schedule = parse("every monday at 9 10 times gym").schedule
    assert schedule is not None
    fires, after = [], NOW.astimezone(UTC)
    while (after := next_fire_time(schedule.spec, TZ, after=after)) is not None:
        fires.append(after)
    assert len(fires) == 10
    assert fires[0] == at(11, 30, 9)


# --- Zones in the message -------------------------------------------------------------------

ZONED = [
    ("remind me at 3pm London time to call", "call", "Europe/London", datetime(2026, 11, 24, 15, 0, tzinfo=LONDON),
     "Tue 24 Nov 2026 15:00 (London)"),
    ("at 9am PST standup", "standup", "America/Los_Angeles", datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
     "Tue 24 Nov 2026 09:00 (Los Angeles)"),
    ("17:00 CET call", "call", "Europe/Berlin", at(11, 24, 17), "Tue 24 Nov 2026 17:00 (Berlin)"),
    ("at 10pm UTC+2 deploy", "deploy", "Etc/GMT-2", datetime(2026, 11, 24, 20, 0, tzinfo=UTC),
     "Tue 24 Nov 2026 22:00 (UTC+02:00)"),
    ("remind me at 6pm in Sydney to call Jack", "call Jack", "Australia/Sydney", datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
     "Wed 25 Nov 2026 18:00 (Sydney)"),
]


@pytest.mark.parametrize(("text", "what", "zone", "first_run", "description"), ZONED)
def test_a_zone_in_the_message_applies_to_that_reminder(
    text: str, what: str, zone: str, first_run: datetime, description: str
) -> None:
    parsed = parse(text)

    assert parsed.unclear == ()
    assert parsed.what == what
    assert parsed.schedule is not None
    assert parsed.schedule.first_run == first_run.astimezone(UTC)
    assert parsed.schedule.spec["tz"] == zone
    assert parsed.schedule.description == description


def test_a_repeat_in_a_named_zone_keeps_that_zones_wall_clock_across_its_dst_change() -> None:
    # London changes on 28 March 2027, Prague the same day; New York on 14 March: 9am there
    # is 14:00 UTC before and 13:00 UTC after.
    schedule = parse("every day at 9am New York time standup", now=datetime(2027, 3, 12, 12, tzinfo=PRAGUE)).schedule
    assert schedule is not None
    assert schedule.spec["tz"] == "America/New_York"
    first = schedule.first_run
    second = next_fire_time(schedule.spec, TZ, after=first)
    third = next_fire_time(schedule.spec, TZ, after=second)
    assert [first.hour, second.hour, third.hour] == [14, 14, 13]


# --- Slang and typos ---------------------------------------------------------------------------

SLANG = [
    ("rmeind me tomorow at 9 to call Anna", "call Anna", at(11, 25, 9)),
    ("remidn me tmrw at 9 gym", "gym", at(11, 25, 9)),
    ("tmr at 10 dentist", "dentist", at(11, 25, 10)),
    ("2moro at 8 run", "run", at(11, 25, 8)),
    ("remind me tonite to call mom", "call mom", at(11, 24, 20)),
    ("remind me @ 6pm dinner", "dinner", at(11, 24, 18)),
    ("remind me this evening to call mom", "call mom", at(11, 24, 18)),
    ("remind me tomorrow evening to water plants", "water plants", at(11, 25, 18)),
    ("remind me to put the bins out at 6:30 tomorrow morning", "put the bins out", at(11, 25, 6, 30)),
    ("remind me at noon lunch", "lunch", at(11, 25, 12)),
    ("send the report eod", "send the report", at(11, 24, 17)),
    ("in 5 mins tea", "tea", at(11, 24, 12, 5)),
    ("in 2 hrs stretch", "stretch", at(11, 24, 14)),
    ("actually, remind me to call Tom at 4pm", "call Tom", at(11, 24, 16)),
    ("don't let me forget to call Eva at 6pm", "call Eva", at(11, 24, 18)),
    ("remind me nxt monday at 10am to renew the permit", "renew the permit", at(11, 30, 10)),
    ("remind me in 2 years to renew the passport", "renew the passport", at(11, 24, 12, year=2028)),
]


@pytest.mark.parametrize(("text", "what", "first_run"), SLANG)
def test_slang_and_typos(text: str, what: str, first_run: datetime) -> None:
    parsed = parse(text)

    assert parsed.unclear == ()
    assert parsed.what == what
    assert parsed.schedule is not None
    assert parsed.schedule.first_run == first_run


# --- Never silently wrong: what was not understood is named back -------------------------------

UNCLEAR = [
    ("remind me to call Bob tomorrow at 5 and 7pm", ("and 7pm",)),
    ("every day at 9 water the plants biweekly", ("biweekly",)),
    ("every monday at 9 except friday gym", ("except friday",)),
    ("tomorrow at 9 except friday gym", ("except friday",)),
    ("remind me to x at 3pm London time and 4pm", ("and 4pm",)),
    ("remind me at 3pm Narnia time", ("Narnia time",)),
    ("remind me every day at 9 until 2226-01-01", ("until 2226-01-01",)),
    ("remind me to take pills twice a day", ("twice a day",)),
    ("remind me about the dentist next week", ("next week",)),
    ("remind me in a few minutes to check the rice", ("in a few minutes",)),
    ("call mom PST", ("PST",)),
    ("every month on the last weekday at 4pm close the books", ("weekday", "at 4pm")),
]


@pytest.mark.parametrize(("text", "unclear"), UNCLEAR)
def test_words_that_look_like_a_time_are_named_back_not_kept_in_the_text(text: str, unclear: tuple[str, ...]) -> None:
    parsed = parse(text)

    assert parsed.unclear == unclear
    for words in unclear:
        assert words not in (parsed.what or "")
    with pytest.raises(TimeParseError) as raised:
        parse_when(text, now=NOW, tz=TZ)
    assert all(words in str(raised.value) for words in unclear)


@pytest.mark.parametrize(
    "text",
    ["I have a meeting at 3pm", "see you tomorrow", "what day is it tomorrow?", "thanks, see you at 5",
     "it's my birthday on friday"],
)
def test_chat_that_mentions_a_time_is_not_a_reminder(text: str) -> None:
    assert parse(text) == ParsedReminder(what=None, schedule=None, error=None)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("remind me in 10 minutes to check the daily report", "check the daily report"),
        ("every weekday except wednesday at 8:15 daily stand-up", "daily stand-up"),
        ("remind me on december 31 at 8pm to book next year's party", "book next year's party"),
        ("remind me at 3pm that it's dinner time", "it's dinner time"),
    ],
)
def test_time_words_that_are_part_of_the_text_stay(text: str, kept: str) -> None:
    parsed = parse(text)

    assert parsed.unclear == ()
    assert parsed.what == kept


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("every day at 9 until the end of march", datetime(2027, 3, 31, 23, 59, 59, tzinfo=PRAGUE)),
        ("every weekday at 9 until the end of the month", datetime(2026, 11, 30, 23, 59, 59, tzinfo=PRAGUE)),
        ("every day at 9 until friday", datetime(2026, 11, 27, 23, 59, 59, tzinfo=PRAGUE)),
    ],
)
def test_until_the_end_of_a_month(text: str, end: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.schedule is not None
    assert parsed.schedule.spec["end"] == end.astimezone(UTC).isoformat()


def test_an_end_phrase_on_a_one_off_is_named_back() -> None:
    parsed = parse("tomorrow at 9 until friday call Anna")
    assert parsed.unclear == ("until friday",)
    assert parsed.what == "call Anna"


def test_a_bare_small_hour_on_a_given_day_is_asked_not_guessed() -> None:
    parsed = parse("remind me friday at 4 to submit the timesheet")
    assert parsed.schedule is None
    assert parsed.error == 'Did you mean 04:00 or 16:00? Say "at 4am" or "at 4pm".'
    assert parse("remind me friday at 4pm to submit the timesheet").schedule.first_run == at(11, 27, 16)
    assert parse("remind me tomorrow at 6 in the morning to run").schedule.first_run == at(11, 25, 6)


@pytest.mark.parametrize(
    ("text", "what", "first_run", "description"),
    [
        ("remind me in 1h30 to check the oven", "check the oven", at(11, 24, 13, 30), "Tue 24 Nov 2026 13:30"),
        ("remind me on the first of every month to pay rent", "pay rent", at(12, 1, 9), "on the 1st of every month at 09:00"),
        ("remind me every 15 minutes for the next hour to check the oven", "check the oven", at(11, 24, 12, 15),
         "every 15 minutes until Tue 24 Nov 2026 13:00"),
    ],
)
def test_more_phrasings(text: str, what: str, first_run: datetime, description: str) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    assert parsed.schedule is not None
    assert (parsed.schedule.first_run, parsed.schedule.description) == (first_run, description)


@pytest.mark.parametrize(
    ("text", "unclear", "what"),
    [
        ("remind me in 15 to check the oven", ("in 15",), "check the oven"),
        ("remind me every 90 minutes between 9 and 5 to stretch", ("between 9 and 5",), "stretch"),
        ("remind me quarterly to review goals", ("quarterly",), "review goals"),
    ],
)
def test_more_leftovers(text: str, unclear: tuple[str, ...], what: str) -> None:
    parsed = parse(text)
    assert (parsed.unclear, parsed.what) == (unclear, what)


@pytest.mark.parametrize(
    ("text", "spec", "first_run", "description"),
    [
        ("every 2nd and 4th tuesday at 9", cron("0", "9", day="2nd tue,4th tue"), at(12, 8, 9),
         "on the second and fourth Tuesday of every month at 09:00"),
        ("every day at 9 and 13 to drink water", cron("0", "9,13"), at(11, 24, 13), "every day at 09:00 and 13:00"),
        ("every day at 9, 13 and 17 to drink water", cron("0", "9,13,17"), at(11, 24, 13),
         "every day at 09:00, 13:00 and 17:00"),
    ],
)
def test_lists_of_nth_weekdays_and_of_bare_hours(
    text: str, spec: dict[str, Any], first_run: datetime, description: str
) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    check_schedule(parsed.schedule, spec, first_run)
    assert parsed.schedule.description == description


def test_a_number_after_and_that_is_not_an_hour_is_not_read_as_one() -> None:
    parsed = parse("every day at 9 and 5 apples")
    assert parsed.unclear == ("and 5",)


@pytest.mark.parametrize("text", ["remind me 9 tomorrow to call", "remind me tomorrow 9 to call"])
def test_a_lone_number_next_to_a_date_is_asked_about(text: str) -> None:
    parsed = parse(text)
    assert parsed.unclear == ("9",)
    assert parsed.what == "call"


# --- Held-out kinds: date words in the text, short weekdays, hourly alignment, years ----------


@pytest.mark.parametrize(
    ("text", "what", "first_run"),
    [
        ("remind me at 9pm to say happy new year", "say happy new year", at(11, 24, 21)),
        ("remind me at midnight to watch the new year fireworks", "watch the new year fireworks", at(11, 25, 0)),
        ("remind me at 8pm to read the monday memo", "read the monday memo", at(11, 24, 20)),
        ("remind me at 6pm to wrap the christmas presents", "wrap the christmas presents", at(11, 24, 18)),
        # a date word that leads into a date is still the date
        ("remind me on christmas to call mom", "call mom", at(12, 25, 9)),
        ("remind me at 9 to call anna tomorrow", "call anna", at(11, 25, 9)),
    ],
)
def test_date_words_inside_the_reminder_text_stay_text(text: str, what: str, first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    assert parsed.schedule is not None
    assert parsed.schedule.first_run == first_run


def test_a_holiday_used_as_a_noun_is_no_date() -> None:
    parsed = parse("remind me to buy a christmas tree")
    assert (parsed.what, parsed.schedule) == ("buy a christmas tree", None)


@pytest.mark.parametrize(
    ("text", "what", "first_run"),
    [
        ("remind me sat morning at 9 to mow the lawn", "mow the lawn", at(11, 28, 9)),
        ("thu 5pm dentist", "dentist", at(11, 26, 17)),
        ("weds 8am standup", "standup", at(11, 25, 8)),
        ("remind me fri at 10 to call the bank", "call the bank", at(11, 27, 10)),
    ],
)
def test_bare_abbreviated_weekdays_before_a_time(text: str, what: str, first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, once(first_run), first_run)


@pytest.mark.parametrize(
    ("text", "what", "spec", "first_run"),
    [
        ("remind me mon wed fri at 6:30 to go to the gym", "go to the gym", cron("30", "6", day_of_week="mon,wed,fri"),
         at(11, 25, 6, 30)),
        ("tue thu at 7pm tennis", "tennis", cron("0", "19", day_of_week="tue,thu"), at(11, 24, 19)),
        ("remind me monday wednesday at 7 to run", "run", cron("0", "7", day_of_week="mon,wed"), at(11, 25, 7)),
    ],
)
def test_weekdays_listed_without_every_repeat_weekly(text: str, what: str, spec: dict[str, Any], first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)


@pytest.mark.parametrize(
    ("text", "what", "spec", "first_run", "description"),
    [
        ("every hour on the hour drink water", "drink water", cron("0", "*"), at(11, 24, 13), "every hour on the hour"),
        ("every hour at :30 stretch", "stretch", cron("30", "*"), at(11, 24, 12, 30), "every hour at :30"),
        ("every 2 hours at quarter past check mail", "check mail", cron("15", "*/2"), at(11, 24, 12, 15),
         "every 2 hours at :15"),
        ("every hour from 9 to 17 on weekdays stand up", "stand up", cron("0", "9-17", day_of_week="mon-fri"),
         at(11, 24, 13), "every hour on the hour from 09:00 to 17:00 on weekdays"),
        ("hourly from 9am to 5pm drink water", "drink water", cron("0", "9-17"), at(11, 24, 13),
         "every hour on the hour from 09:00 to 17:00"),
        ("every hour 9-5 on weekdays stretch", "stretch", cron("0", "9-17", day_of_week="mon-fri"), at(11, 24, 13),
         "every hour on the hour from 09:00 to 17:00 on weekdays"),
        ("every hour on the half hour stretch", "stretch", cron("30", "*"), at(11, 24, 12, 30), "every hour at :30"),
    ],
)
def test_hourly_repeats_aligned_to_the_clock(
    text: str, what: str, spec: dict[str, Any], first_run: datetime, description: str
) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)
    assert parsed.schedule.description == description


def test_hourly_range_fires_only_inside_it() -> None:
    schedule = parse("every hour from 9 to 17 on weekdays stand up").schedule
    assert schedule is not None
    fires, previous = [schedule.first_run], schedule.first_run
    for _ in range(6):
        previous = next_fire_time(schedule.spec, TZ, after=previous, previous=previous)
        fires.append(previous)
    local = [f.astimezone(PRAGUE).strftime("%a %H:%M") for f in fires]
    assert local == ["Tue 13:00", "Tue 14:00", "Tue 15:00", "Tue 16:00", "Tue 17:00", "Wed 09:00", "Wed 10:00"]


@pytest.mark.parametrize(
    "text",
    ["remind me on 31/12/9999 to check the calendar", "remind me on 12/31/2099 to check the calendar",
     "remind me on 2999-01-01 to check the calendar", "remind me on 1.1.2500 to check the calendar"],
)
def test_an_explicit_year_in_a_numeric_date_beyond_the_limit_is_refused(text: str) -> None:
    parsed = parse(text)
    assert parsed.schedule is None
    assert parsed.error is not None and "too far ahead" in parsed.error
    assert parsed.what == "check the calendar"


def test_a_numeric_date_in_a_past_year_is_refused_not_moved() -> None:
    parsed = parse("remind me on 31/12/2020 to check the calendar")
    assert parsed.schedule is None
    assert parsed.error is not None and "past" in parsed.error


@pytest.mark.parametrize(
    ("text", "what", "spec", "first_run"),
    [
        ("every day but sunday at 8 breakfast with the kids", "breakfast with the kids",
         cron("0", "8", day_of_week="mon-sat"), at(11, 25, 8)),
        ("every weekday but friday at 9:30 standup", "standup", cron("30", "9", day_of_week="mon-thu"), at(11, 25, 9, 30)),
    ],
)
def test_but_takes_days_out_of_a_repeat(text: str, what: str, spec: dict[str, Any], first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)


def test_biweekly_with_a_weekday_and_a_time() -> None:
    parsed = parse("biweekly tuesdays 10am 1:1 with Petr")
    assert parsed.unclear == ()
    assert parsed.what == "1:1 with Petr"
    check_schedule(parsed.schedule, every(14 * 86400, at(12, 1, 10).isoformat()), at(12, 1, 10))
    assert parsed.schedule.description == "every 2 weeks on Tuesday at 10:00"


@pytest.mark.parametrize(
    "text",
    ["every month on the last weekday at 4pm close the books", "every hour from 9 to 17 and weekends drink water",
     "monthly on fridays at 10 review"],
)
def test_what_was_understood_never_states_a_default_the_user_did_not_say(text: str) -> None:
    parsed = parse(text)
    assert parsed.unclear != ()
    if parsed.schedule is not None:
        assert "09:00" not in parsed.schedule.description
    with pytest.raises(TimeParseError) as raised:
        parse_when(text, now=NOW, tz=TZ)
    assert "09:00" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "what", "spec", "first_run"),
    [
        ("remind me on the last day of every month to pay rent at 9am", "pay rent", cron("0", "9", day="last"),
         at(11, 30, 9)),
        ("every monday remind me to call the office at 5pm", "call the office", cron("0", "17", day_of_week="mon"),
         at(11, 30, 17)),
        ("every 1st and 15th at 9:00 invoice clients", "invoice clients", cron("0", "9", day="1,15"), at(12, 1, 9)),
    ],
)
def test_a_repeat_takes_the_one_time_said_after_the_text(text: str, what: str, spec: dict[str, Any], first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)


@pytest.mark.parametrize(
    ("text", "unclear"),
    [("every day to catch the 9:30 train", ("9:30",)),
     ("every monday remind me to tell bob the meeting moved to 3pm", ("3pm",))],
)
def test_a_clock_inside_the_text_is_not_taken_for_the_repeat(text: str, unclear: tuple[str, ...]) -> None:
    parsed = parse(text)
    assert parsed.unclear == unclear
    assert parsed.schedule is None  # the repeat's 09:00 would be a guess


def test_a_count_before_an_interval_ends_it() -> None:
    parsed = parse("remind me 5 times every 10 minutes to check the bread")
    assert parsed.unclear == ()
    assert parsed.what == "check the bread"
    schedule = parsed.schedule
    assert schedule is not None
    fires, previous = [schedule.first_run], schedule.first_run
    while (previous := next_fire_time(schedule.spec, TZ, after=previous, previous=previous)) is not None:
        fires.append(previous)
    assert fires == [at(11, 24, 12, 10) + timedelta(minutes=10 * n) for n in range(5)]


def test_an_interval_until_a_clock_time_ends_today() -> None:
    parsed = parse("every 45 mins take a break until 6pm")
    assert parsed.unclear == ()
    assert parsed.what == "take a break"
    assert parsed.schedule is not None
    assert parsed.schedule.spec["end"] == at(11, 24, 18).isoformat()
    assert parsed.schedule.description == "every 45 minutes until Tue 24 Nov 2026 18:00"


@pytest.mark.parametrize("text", ["remind me to submit the timesheet by eod", "submit the timesheet eod"])
def test_by_end_of_day_is_five_pm(text: str) -> None:
    parsed = parse(text)
    assert parsed.what == "submit the timesheet"
    check_schedule(parsed.schedule, once(at(11, 24, 17)), at(11, 24, 17))


@pytest.mark.parametrize(
    ("text", "what", "spec", "first_run"),
    [
        ("mon-fri at 7 wake up", "wake up", cron("0", "7", day_of_week="mon-fri"), at(11, 25, 7)),
        ("remind me every monday to friday at 8 to stretch", "stretch", cron("0", "8", day_of_week="mon-fri"),
         at(11, 25, 8)),
        ("sat-sun at 10 brunch", "brunch", cron("0", "10", day_of_week="sat,sun"), at(11, 28, 10)),
    ],
)
def test_a_range_of_weekdays_repeats_weekly(text: str, what: str, spec: dict[str, Any], first_run: datetime) -> None:
    parsed = parse(text)
    assert parsed.unclear == ()
    assert parsed.what == what
    check_schedule(parsed.schedule, spec, first_run)


def test_on_the_hour_with_minutes_is_named_back() -> None:
    parsed = parse("every 30 minutes on the hour drink water")
    assert parsed.unclear == ("on the hour",)
    assert parsed.what == "drink water"


@pytest.mark.parametrize("text", ["remind me on 05/06/2031 at 10 to renew", "remind me on 3/4 to renew"])
def test_a_slashed_date_that_reads_both_ways_is_asked_about(text: str) -> None:
    parsed = parse(text)
    assert parsed.schedule is None
    assert parsed.error is not None and parsed.error.startswith("Is ")


def test_a_slashed_date_that_reads_one_way_is_used() -> None:
    parsed = parse("remind me on 25/12 at 10 to call grandma")
    assert parsed.what == "call grandma"
    check_schedule(parsed.schedule, once(at(12, 25, 10)), at(12, 25, 10))


def test_text_that_joins_on_to_the_time_is_named_back_not_stored():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    for message, fragment in (
        ("every day at 7am and at lunch brush teeth", "and at lunch"),
        ("every day at 7am and around noonish brush teeth", "and around noonish"),
        ("remind me tomorrow at 9 or after breakfast to call mum", "or after breakfast"),
    ):
        parsed = parse_reminder(message, now=now, tz="Europe/Prague")
        assert parsed.unclear == (fragment,), (message, parsed)
