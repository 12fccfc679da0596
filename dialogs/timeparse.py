"""Understand when a reminder should fire: a chat message in, a schedule spec out.

``parse_reminder`` splits a whole message ("remind me to stretch in 10 minutes") into the
thing to remember and a ``Schedule``; ``parse_when`` reads only a time (the answer to the
bot's "When?" prompt). Repeats, relative times and crontab lines come from the grammar in
``dialogs._timegrammar``; one-off dates ("next friday at 5pm") come from Microsoft's
recognizers-text-date-time, via ``dialogs._timerecognizer``. Every spec is checked by
building its APScheduler trigger (``models.schedule``), and wall-clock times are read in the
user's zone. The clock is always passed in as ``now``, so nothing here reads the system time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialogs._timegrammar import WEEKDAYS, Found, find
from dialogs._timerecognizer import recognize
from models.schedule import ScheduleError, first_fire_time

EXAMPLES = '"in 10 minutes", "tomorrow at 9am" or "every weekday at 8:30"'

_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule.

    Attributes:
        spec: the JSON-serialisable schedule spec (see ``models.schedule``).
        first_run: the first occurrence, aware UTC.
        description: short text in the user's zone, e.g. "every weekday at 08:30".
    """

    spec: dict[str, Any]
    first_run: datetime
    description: str


@dataclass(frozen=True)
class ParsedReminder:
    """A whole reminder message, taken apart.

    Attributes:
        what: the thing to be reminded of, or None if the message names none.
        schedule: when, or None if no time was found or it was refused.
        error: a user-facing reason when a time was found but cannot be used, else None.
        unclear: words left over that look like a time, date, repetition or zone but were not
            understood ("and 7pm"); a reminder must not be created while any remain.
    """

    what: str | None
    schedule: Schedule | None
    error: str | None
    unclear: tuple[str, ...] = ()


class TimeParseError(ValueError):
    """A time that cannot be used; the message is meant for the user."""


def parse_reminder(text: str, *, now: datetime, tz: str) -> ParsedReminder:
    """Parse a whole message like "remind me to stretch in 10 minutes".

    Args:
        text: the user's message.
        now: the current time, aware (any zone).
        tz: the user's IANA time zone; wall-clock times are read in it.

    Returns:
        The reminder text and its schedule, or the reason the time was refused.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    message = " ".join(text.split())
    found = _find_time(message, now.astimezone(ZoneInfo(tz)))
    if found is None:
        return ParsedReminder(what=_clean_what(message), schedule=None, error=None)
    what = _clean_what(_cut(message, found.spans))
    if found.error is not None or found.spec is None:
        return ParsedReminder(what=what, schedule=None, error=found.error)
    try:
        schedule = _schedule(found.spec, tz, now)
    except TimeParseError as exc:
        return ParsedReminder(what=what, schedule=None, error=str(exc))
    return ParsedReminder(what=what, schedule=schedule, error=None)


def parse_when(text: str, *, now: datetime, tz: str) -> Schedule:
    """Parse only a time expression, such as the answer to the bot's "When?" prompt.

    Args:
        text: the user's answer, e.g. "tomorrow at 9am" or just "10 minutes".
        now: the current time, aware (any zone).
        tz: the user's IANA time zone.

    Returns:
        The schedule.

    Raises:
        TimeParseError: no time was found, or it is in the past, impossible or too frequent.
    """
    parsed = parse_reminder(text, now=now, tz=tz)
    if parsed.schedule is None and parsed.error is None:
        # Answering "When?", people often drop the "in": "10 minutes", "2h".
        parsed = parse_reminder(f"in {text}", now=now, tz=tz)
    if parsed.error is not None:
        raise TimeParseError(parsed.error)
    if parsed.schedule is None:
        raise TimeParseError(f"Sorry, I couldn't find a time in that. Try {EXAMPLES}.")
    return parsed.schedule


def describe_schedule(spec: dict[str, Any], tz: str) -> str:
    """Short human text for a spec, in the user's zone: "every weekday at 08:30", "Wed 25 Nov 2026 09:00"."""
    zone = ZoneInfo(tz)
    if spec["type"] == "date":
        return format_local(datetime.fromisoformat(spec["run_at"]), zone)
    if spec["type"] == "interval":
        return _describe_interval(spec, zone)
    return _describe_cron(spec)


def format_local(when: datetime, zone: ZoneInfo) -> str:
    """An instant as "Wed 25 Nov 2026 09:00" in ``zone`` (fixed English names, not the locale's)."""
    local = when.astimezone(zone)
    return f"{_DAY_ABBR[local.weekday()]} {local.day} {_MONTH_ABBR[local.month - 1]} {local.year} {local:%H:%M}"


# --- Finding the time in a message -------------------------------------------------------


def _find_time(message: str, now: datetime) -> Found | None:
    """The grammar first (repeats, "in N units", cron), then the recognizer for one-off dates."""
    return find(message, now) or recognize(message, now)


def _cut(message: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The message without the time phrases, and without the "on"/"at" that led into them."""
    kept, position = [], 0
    for start, end in sorted(spans):
        lead = re.search(r"\b(?:on|at|by)\s+$", message[position:start], re.I)
        kept.append(message[position : position + lead.start()] if lead else message[position:start])
        position = end
    kept.append(message[position:])
    return " ".join(kept)


def _schedule(spec: dict[str, Any], tz: str, now: datetime) -> Schedule:
    """Check a spec against APScheduler and work out its first run."""
    try:
        first = first_fire_time(spec, tz, now=now)
    except ScheduleError as exc:
        raise TimeParseError(f"I can't schedule that ({exc}). Try {EXAMPLES}.") from exc
    if first is None:
        raise TimeParseError(f"That schedule never comes round. Try {EXAMPLES}.")
    description = describe_schedule(spec, tz)
    if first <= now:
        raise TimeParseError(
            f'{description} is already in the past. Give me a time in the future, e.g. "tomorrow at 9am".'
        )
    return Schedule(spec=spec, first_run=first, description=description)


# --- The reminder text ---------------------------------------------------------------------

_LEADING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|please|pls|can you|could you|would you|will you)\b[\s,!:]*"
    r"|(?:remind|ping|nudge|tell)\s+(?:me|us)\b[\s,:]*"
    r"|(?:set|create|add|make)\s+(?:me\s+)?(?:a\s+)?reminder\b[\s,:]*"
    r"|(?:to|about|that|of|for)(?:\s+|$)|[-–—:,;]\s*)",
    re.I,
)
_TRAILING = re.compile(r"(?:[\s,;:.!?]+|\s+(?:please|thanks|thank you))$", re.I)


def _clean_what(text: str) -> str | None:
    """Strip the chat around the reminder text; keep its own case, emoji and length."""
    what = re.sub(r"\s+([,.!?;:])", r"\1", " ".join(text.split()))
    previous = None
    while what != previous:
        previous = what
        what = _LEADING.sub("", what)
        what = _TRAILING.sub("", what)
    return what or None


# --- Descriptions ----------------------------------------------------------------------------

_UNITS = ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def _describe_interval(spec: dict[str, Any], zone: ZoneInfo) -> str:
    seconds = int(spec["seconds"])
    size, unit = next((size, unit) for size, unit in _UNITS if seconds % size == 0)
    count = seconds // size
    text = f"every {unit}" if count == 1 else f"every {count} {unit}s"
    start = datetime.fromisoformat(spec["start"]).astimezone(zone)
    if unit == "week":
        text += f" on {_DAY_NAMES[start.weekday()]}"
    if unit in ("week", "day"):
        text += f" at {start:%H:%M}"
    return text


def _describe_cron(spec: dict[str, Any]) -> str:
    fields = ("minute", "hour", "day", "month", "day_of_week")
    minute, hour, day, month, dow = (str(spec.get(field, "*")) for field in fields)
    fallback = f"cron {minute} {hour} {day} {month} {dow}"
    if not (minute.isdigit() and hour.isdigit()) or month != "*" or (day != "*" and dow != "*"):
        return fallback
    at = f"at {int(hour):02d}:{int(minute):02d}"
    if day == "last":
        return f"on the last day of every month {at}"
    if day.isdigit():
        return f"on the {_ordinal(int(day))} of every month {at}"
    if day != "*":
        return fallback
    days = _weekdays_of(dow)
    if days is None:
        return fallback
    if len(days) == 7:
        return f"every day {at}"
    if days == set(range(5)):
        return f"every weekday {at}"
    if days == {5, 6}:
        return f"every weekend {at}"
    names = [_DAY_NAMES[d] for d in sorted(days)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"every {listed} {at}"


def _weekdays_of(field: str) -> set[int] | None:
    """Expand an APScheduler day_of_week of names and ranges ("mon-fri,sun"); None if fancier."""
    if field == "*":
        return set(range(7))
    days: set[int] = set()
    for part in field.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in WEEKDAYS for end in ends):
            return None
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.update(range(first, last + 1))
    return days


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
