"""Tests for dialogs.zones: the zone a user's words or a channel name, and how it is shown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from dialogs.zones import find_zone, offset_zone, resolve_zone, valid_zone, zone_from_activity, zone_label


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Prague", "Europe/Prague"),
        ("europe/prague", "Europe/Prague"),
        ("london", "Europe/London"),
        ("London time", "Europe/London"),
        ("New York", "America/New_York"),
        ("prague", "Europe/Prague"),
        ("san francisco", "America/Los_Angeles"),
        ("PST", "America/Los_Angeles"),
        ("est", "America/New_York"),
        ("CET", "Europe/Berlin"),
        ("CEST", "Europe/Berlin"),
        ("GMT", "UTC"),
        ("UTC", "UTC"),
        ("BST", "Europe/London"),
        ("IST", "Asia/Kolkata"),
        ("JST", "Asia/Tokyo"),
        ("AEST", "Australia/Sydney"),
        ("eastern", "America/New_York"),
        ("UTC+2", "Etc/GMT-2"),
        ("GMT-5", "Etc/GMT+5"),
        ("utc +14", "Etc/GMT-14"),
        ("+05:30", "Asia/Kolkata"),
        ("UTC+5:45", "Asia/Kathmandu"),
        ("narnia", None),
        ("UTC+15", None),
        ("+2", None),
        ("", None),
        ("christmas", None),
    ],
)
def test_resolve_zone(text: str, zone: str | None) -> None:
    assert resolve_zone(text) == zone
    if zone is not None:
        ZoneInfo(zone)  # every answer is a zone ZoneInfo accepts


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Prague", "Europe/Prague"),
        ("Etc/GMT+5", "UTC−05:00"),  # five hours behind UTC, whatever POSIX says
        ("Etc/GMT-2", "UTC+02:00"),
        ("Etc/GMT-14", "UTC+14:00"),
        ("UTC", "UTC"),
    ],
)
def test_zone_label_never_shows_the_backwards_etc_sign(zone: str, label: str) -> None:
    assert zone_label(zone) == label


def test_offset_zone_has_the_offset_it_names() -> None:
    moment = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)
    for hours in range(-12, 15):
        zone = offset_zone(hours)
        assert zone is not None
        assert moment.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(hours=hours)
    assert offset_zone(5, 30) == "Asia/Kolkata"
    assert offset_zone(15) is None


@pytest.mark.parametrize(
    ("text", "zone", "words"),
    [
        ("remind me at 3pm London time to call", "Europe/London", "London time"),
        ("at 9am PST standup", "America/Los_Angeles", "PST"),
        ("at 9 pst standup", "America/Los_Angeles", "pst"),
        ("17:00 CET call", "Europe/Berlin", "CET"),
        ("at 10 UTC+2 deploy", "Etc/GMT-2", "UTC+2"),
        ("call Bob at 3pm New York time", "America/New_York", "New York time"),
        ("at 6pm in Sydney call Jack", "Australia/Sydney", "in Sydney"),
        ("at 9:00 +05:30 call", "Asia/Kolkata", "+05:30"),
    ],
)
def test_find_zone_in_a_message(text: str, zone: str, words: str) -> None:
    mention = find_zone(text)
    assert mention is not None
    assert (mention.zone, mention.words) == (zone, words)
    assert words in text[mention.start : mention.end]


@pytest.mark.parametrize(
    "text",
    ["check dinner time", "call London", "meeting in Paris next week", "the best part", "meet ET at 5", "lunch time"],
)
def test_words_that_are_not_a_zone(text: str) -> None:
    assert find_zone(text) is None


def _turn(local_timezone: str | None = None, local_timestamp: datetime | None = None) -> SimpleNamespace:
    return SimpleNamespace(activity=SimpleNamespace(local_timezone=local_timezone, local_timestamp=local_timestamp))


def test_zone_from_activity() -> None:
    assert zone_from_activity(_turn("Europe/Prague")) == ("Europe/Prague", "channel")
    minus_five = datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert zone_from_activity(_turn(None, minus_five)) == ("Etc/GMT+5", "offset")
    assert zone_label(zone_from_activity(_turn(None, minus_five))[0]) == "UTC−05:00"
    india = datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert zone_from_activity(_turn(None, india)) == ("Asia/Kolkata", "offset")
    assert zone_from_activity(_turn("Not/AZone")) is None
    assert valid_zone("../etc/passwd") is None
