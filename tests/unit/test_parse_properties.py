"""Property tests (hypothesis): no message breaks the parsers, and a reminder's text is the user's.

Messages are drawn from the words the parsers look for (times, dates, repeats, zones, slang,
numbers huge and small) mixed with arbitrary text, up to 1,000 characters. For each:

* ``parse_reminder``, ``parse_when`` and the alert parsers raise nothing but their documented
  errors (``parse_when``: ``TimeParseError``);
* a returned ``what`` is made of the user's words: taken in order from the message, with only
  understood or unclear spans and the chat around them ("remind me to") removed;
* a returned schedule is in the future, its first run is what the stored spec gives, and the
  spec survives JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.alert_parse import looks_like_alert, parse_alert, parse_alerts
from dialogs.timeparse import TimeParseError, parse_reminder, parse_when
from dialogs.zones import find_zone, resolve_zone, zone_label
from models.schedule import first_fire_time

SYMBOLS = ("BTC", "ETH", "AAPL", "MSFT", "EUR/USD")
ZONES = ("Europe/Prague", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney", "Etc/GMT+5")
# Instants around the edges that matter: DST changes in Prague and New York, a year end, a leap day.
NOWS = (
    datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
    datetime(2027, 10, 31, 0, 45, tzinfo=UTC),
    datetime(2027, 12, 31, 22, 59, tzinfo=UTC),
    datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    datetime(2027, 3, 14, 6, 59, tzinfo=UTC),
)

WORDS = (
    "remind me to", "rmeind me", "tomorow", "tmrw", "tonite", "tonight", "this evening", "next week",
    "in", "at", "@", "on", "every", "each", "other", "and", "or", "except", "until", "for", "times",
    "daily", "weekly", "biweekly", "fortnightly", "monthly", "yearly", "twice a day", "first", "last",
    "monday", "fri", "weekday", "weekends", "mon, wed and fri", "day", "week", "month", "year",
    "of the month", "of every month", "the 1st", "15th", "March 5th", "5 march", "Jan 1 2226", "2030",
    "noon", "midnight", "eod", "7am", "7pm", "19:00", "9", "0", "25:00", "99999999999999999999",
    "minutes", "mins", "hrs", "secs", "h", "m", "London time", "PST", "CET", "UTC+2", "GMT-5",
    "+05:30", "in Sydney", "cron 0 9 * * 1-5", "cron", "*", "call mom", "the daily report", "🙂",
    "BTC", "above", "below", "70000", "70k", "or below 60000", "hits", "drops", "5%", "150%",
    "alert me when", "ping me if", "let me know when", "within 1 hour", "every time", ",", ".", "?",
    "until 31 Feb", "until the end of", "until 2226-01-01", "for 0 weeks", "0 times", "10000 times",
    "every 0 minutes", "in 1.5e400 minutes", "on 31 june", "every 31st", "Narnia time", "in a few minutes",
    "actually,", "don't let me forget", "I have", "see you", "next year", "and ETH below 3000",
)
TEXT = st.text(min_size=0, max_size=40)
TOKEN = st.one_of(st.sampled_from(WORDS), TEXT, st.integers(-10**25, 10**25).map(str))
MESSAGE = st.lists(TOKEN, max_size=40).map(" ".join).map(lambda text: text[:1000])
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _made_of(what: str, message: str) -> bool:
    """``what`` is the message's characters in order with spans left out, modulo whitespace."""
    rest = iter("".join(message.split()))
    return all(char in rest for char in "".join(what.split()))


@SETTINGS
@given(MESSAGE, st.sampled_from(NOWS), st.sampled_from(ZONES))
def test_parse_reminder_never_raises_and_keeps_the_users_words(text: str, now: datetime, tz: str) -> None:
    parsed = parse_reminder(text, now=now, tz=tz)
    if parsed.what is not None:
        # The text is the user's words in their order, nothing added (modulo whitespace).
        assert _made_of(parsed.what, text), (text, parsed.what)
        for words in parsed.unclear:
            assert words not in parsed.what or words in text.replace(words, "", 1), (text, parsed)
    if parsed.schedule is not None:
        schedule = parsed.schedule
        assert parsed.error is None
        assert schedule.first_run > now
        assert schedule.first_run <= now + timedelta(days=366 * 10 + 1)
        assert json.loads(json.dumps(schedule.spec)) == schedule.spec
        assert first_fire_time(schedule.spec, tz, now=now) == schedule.first_run
        assert schedule.description


@SETTINGS
@given(MESSAGE, st.sampled_from(NOWS), st.sampled_from(ZONES))
def test_parse_when_raises_only_time_parse_error(text: str, now: datetime, tz: str) -> None:
    try:
        schedule = parse_when(text, now=now, tz=tz)
    except TimeParseError as exc:
        assert str(exc)
        return
    assert schedule.first_run > now


@SETTINGS
@given(MESSAGE)
def test_alert_parsers_never_raise(text: str) -> None:
    looks_like_alert(text)
    single = parse_alert(text, known_symbols=SYMBOLS)
    several = parse_alerts(text, known_symbols=SYMBOLS)
    assert several
    assert several[0].symbol == single.symbol
    assert several[0].threshold == single.threshold
    if len(several) > 1:
        assert single.unclear  # one alert alone never silently drops the others
    for alert in several:
        if alert.threshold is not None:
            assert alert.threshold > 0


@SETTINGS
@given(st.one_of(MESSAGE, st.text(max_size=200)))
def test_zone_lookups_never_raise(text: str) -> None:
    zone = resolve_zone(text)
    if zone is not None:
        assert "Etc/GMT" not in zone_label(zone)
    mention = find_zone(text)
    if mention is not None:
        assert 0 <= mention.start < mention.end <= len(text)


def test_a_long_message_is_handled() -> None:
    now = NOWS[0]
    text = ("remind me every day at 7am and 7pm except sunday until 31 March " * 20)[:1000]
    parsed = parse_reminder(text, now=now, tz="Europe/Prague")
    assert parsed.schedule is None or parsed.unclear or parsed.error is None
