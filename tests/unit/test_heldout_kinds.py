"""The kinds of failure the untuned held-out run for issue 13 found, pinned on what the user is told.

Each test uses an injected ``now``; none depends on the real date, time of day or machine zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs.alert_commands import parse_alert_command
from dialogs.commands import parse_command
from dialogs.timeparse import TimeParseError, parse_reminder, parse_when

PRAGUE = "Europe/Prague"
TUESDAY_NOON = datetime(2027, 2, 9, 12, 0, tzinfo=ZoneInfo(PRAGUE))
NY_SATURDAY_EVENING = datetime(2027, 3, 13, 20, 0, tzinfo=ZoneInfo("America/New_York"))


def test_todays_weekday_with_an_hour_of_either_half_asks_which() -> None:
    parsed = parse_reminder("on tuesday at 10 stand-up", now=TUESDAY_NOON, tz=PRAGUE)
    assert parsed.schedule is None
    assert parsed.what == "stand-up"
    assert parsed.error is not None and "Today at 22:00, or next Tuesday at 10:00?" in parsed.error
    # Either answer then works.
    assert parse_when("today at 22:00", now=TUESDAY_NOON, tz=PRAGUE).first_run == datetime(2027, 2, 9, 21, 0, tzinfo=UTC)
    assert parse_when("next tuesday at 10:00", now=TUESDAY_NOON, tz=PRAGUE).first_run == datetime(2027, 2, 16, 9, 0, tzinfo=UTC)


def test_todays_weekday_with_a_past_explicit_time_is_next_week() -> None:
    parsed = parse_reminder("remind me on saturday at 9am to mow the lawn", now=NY_SATURDAY_EVENING, tz="America/New_York")
    assert parsed.error is None and parsed.what == "mow the lawn"
    assert parsed.schedule.first_run == datetime(2027, 3, 20, 13, 0, tzinfo=UTC)


def test_tomorrow_in_a_named_zone_is_the_speakers_tomorrow() -> None:
    # 20:00 in New York is already Sunday 01:00 in London; "tomorrow" is still the New Yorker's Sunday.
    parsed = parse_reminder("tomorrow at 9am London time call the bank", now=NY_SATURDAY_EVENING, tz="America/New_York")
    assert parsed.what == "call the bank"
    assert parsed.schedule.first_run == datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["every day at 9 and 17 take pills", "at 9 and 17 every day take pills", "at 9, 13 and 17 every day take pills"],
)
def test_a_list_of_times_before_or_after_the_repeat(text: str) -> None:
    parsed = parse_reminder(text, now=TUESDAY_NOON, tz=PRAGUE)
    assert parsed.unclear == () and parsed.what == "take pills"
    assert parsed.schedule.spec["hour"] in ("9,17", "9,13,17")


def test_a_bare_earlier_second_hour_is_asked_about() -> None:
    parsed = parse_reminder("at 9 and 5 every day take pills", now=TUESDAY_NOON, tz=PRAGUE)
    assert parsed.schedule is None and parsed.unclear


def test_every_two_months_on_a_day() -> None:
    parsed = parse_reminder("every 2 months on the 15th at 10 change the filter", now=TUESDAY_NOON, tz=PRAGUE)
    assert parsed.what == "change the filter"
    assert parsed.schedule.description == "every 2 months on the 15th at 10:00 (Feb, Apr, Jun, Aug, Oct, Dec)"
    refused = parse_reminder("every 5 months on the 3rd check tyres", now=TUESDAY_NOON, tz=PRAGUE)
    assert refused.schedule is None and "every 2, 3, 4 or 6 months" in refused.error


def test_an_end_before_the_first_time_says_so() -> None:
    with pytest.raises(TimeParseError, match=r"would end on Tue 9 Feb 2027 21:00, before it ever fires"):
        parse_when("every day at 7 until 9pm", now=TUESDAY_NOON, tz=PRAGUE)


def test_a_refused_date_leaves_no_time_words_in_the_text() -> None:
    parsed = parse_reminder("on Jan 1 2226 at 9 anniversary", now=TUESDAY_NOON, tz=PRAGUE)
    assert parsed.error is not None and "too far ahead" in parsed.error
    assert parsed.what == "anniversary"


@pytest.mark.parametrize("text", ["what reminders do I have?", "do I have any reminders?", "what are my reminders?"])
def test_list_asked_as_a_question(text: str) -> None:
    assert parse_command(text).name == "list"


@pytest.mark.parametrize("text", ["what alerts do I have?", "do I have any price alerts?"])
def test_alert_list_asked_as_a_question(text: str) -> None:
    assert parse_alert_command(text).name == "list"


def test_stop_reminding_me_looks_the_reminder_up_by_its_words() -> None:
    command = parse_command("stop reminding me about water")
    assert command.name == "find_cancel" and command.argument == "water"
