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

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialogs._timegrammar import (
    END_RE,
    MAX_YEARS_AHEAD,
    TOO_FAR,
    WEEKDAYS,
    Found,
    GrammarError,
    count_of,
    duration_end,
    exceptions,
    find,
    find_exception,
    more_times,
)
from dialogs._leftovers import leftovers
from dialogs._slang import REMIND_TYPO as _REMIND_TYPO
from dialogs._slang import normalize as _normalize
from dialogs._timerecognizer import recognize, recognize_until
from dialogs.zones import find_zone, zone_short_label
from models.schedule import ScheduleError, first_fire_time, is_recurring, next_fire_time, spec_zone

logger = logging.getLogger(__name__)

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
        tz: the user's IANA time zone; wall-clock times are read in it unless the message
            names another ("at 3pm London time"), which then goes into the spec as ``tz``.

    Returns:
        The reminder text and its schedule, or the reason the time was refused, and the words
        that look like a time but were not understood (``unclear``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    message = " ".join(text.split())
    if _looks_like_chat(message):
        return ParsedReminder(what=None, schedule=None, error=None)
    norm = _normalize(message)
    try:
        result = _read(norm.text, now, tz)
    except (GrammarError, TimeParseError) as exc:
        result = _Reading(spans=[], schedule=None, error=str(exc), unclear=[])
    except (ValueError, OverflowError, KeyError):
        # A bug in the rules must not cost the user a reply: refuse, and keep the trace.
        logger.exception("could not parse %r", message)
        result = _Reading(spans=[], schedule=None, error=f"Sorry, I couldn't read the time in that. Try {EXAMPLES}.", unclear=[])
    unclear_spans = [norm.original(span) for span in result.unclear]
    cut_spans = [norm.original(span) for span in result.spans] + unclear_spans
    if result.error is not None:
        # A refused time ("on Jan 1 2226 at 9"): the time words around the refused part are not
        # the text either, or the answer to "When?" would store "at 9 anniversary".
        cut_spans += [norm.original(span) for span in leftovers(_blank(norm.text, result.spans))]
    what = _clean_what(_cut(message, cut_spans))
    unclear = tuple(" ".join(message[a:b].split()) for a, b in _merge(unclear_spans))
    if result.schedule is not None and not unclear and what and (joined := _JOINED.match(what)):
        # "every day at 7am and at lunch brush teeth": text that starts by joining on to the
        # time is more of the schedule, not understood; never store it as the text.
        unclear = (joined[0],)
        what = _clean_what(what[joined.end():])
    return ParsedReminder(what=what, schedule=result.schedule, error=result.error, unclear=unclear)


_JOINED = re.compile(r"(?:and|or|plus|also|&)\b(?:\s+\S+){0,2}", re.I)


def parse_when(text: str, *, now: datetime, tz: str) -> Schedule:
    """Parse only a time expression, such as the answer to the bot's "When?" prompt.

    Args:
        text: the user's answer, e.g. "tomorrow at 9am" or just "10 minutes".
        now: the current time, aware (any zone).
        tz: the user's IANA time zone.

    Returns:
        The schedule.

    Raises:
        TimeParseError: no time was found, it is in the past, impossible or too frequent, or
            words that look like a time were left over (the message names them).
    """
    parsed = parse_reminder(text, now=now, tz=tz)
    if parsed.schedule is None and parsed.error is None and not parsed.unclear:
        # Answering "When?", people often drop the "in": "10 minutes", "2h".
        retry = parse_reminder(f"in {text}", now=now, tz=tz)
        if retry.schedule is not None or retry.error is not None:
            parsed = retry
    if parsed.error is not None:
        raise TimeParseError(parsed.error)
    if parsed.unclear:
        quoted = ", ".join(f'"{words}"' for words in parsed.unclear)
        if parsed.schedule is None:
            raise TimeParseError(f"Sorry, I didn't understand {quoted} as a time. Try {EXAMPLES}.")
        raise TimeParseError(f"I understood {parsed.schedule.description}, but not {quoted}. Try {EXAMPLES}.")
    if parsed.schedule is None:
        raise TimeParseError(f"Sorry, I couldn't find a time in that. Try {EXAMPLES}.")
    return parsed.schedule


def describe_schedule(spec: dict[str, Any], tz: str) -> str:
    """Short human text for a spec, in its zone: "every weekday at 08:30", "Wed 25 Nov 2026 09:00".

    A spec with a zone of its own (the message named one) says so: "Thu 10 Dec 2026 15:00 (London)".
    """
    own = spec_zone(spec, tz)
    zone = ZoneInfo(own)
    kind = spec["type"]
    if kind == "date":
        text = format_local(datetime.fromisoformat(spec["run_at"]), zone)
    elif kind == "interval":
        text = _describe_interval(spec, zone)
    elif kind == "multi":
        text = _describe_multi(spec, zone)
    else:
        text = _describe_cron(spec)
    if spec.get("times"):
        text += f", {int(spec['times'])} times"
    if spec.get("end"):
        text += f" until {format_local(datetime.fromisoformat(spec['end']), zone)}"
    if own != tz:
        text += f" ({zone_short_label(own)})"
    return text


def format_local(when: datetime, zone: ZoneInfo) -> str:
    """An instant as "Wed 25 Nov 2026 09:00" in ``zone`` (fixed English names, not the locale's)."""
    local = when.astimezone(zone)
    return f"{_DAY_ABBR[local.weekday()]} {local.day} {_MONTH_ABBR[local.month - 1]} {local.year} {local:%H:%M}"


# Statements and questions that mention a time but ask for nothing: "I have a meeting at 3pm",
# "see you tomorrow", "what day is it tomorrow?". Hand-written, and deliberately narrow: a
# message with a request verb is never chat.
_REQUEST = re.compile(
    rf"\b(?:remind|{_REMIND_TYPO}|ping|nudge|alert|notify|tell\s+me|let\s+me\s+know|forget|set|create|add|schedule|make\s+sure)\b",
    re.I,
)
_CHAT = re.compile(
    r"^(?:(?:thanks|thank\s+you|thx|ok|okay|cool|great|nice|lol|haha)\b[\s,.!]*)*"
    r"(?:i\s|i'm\b|im\s|i've\b|i\s+have\b|we\s|we're\b|it's\b|its\s|it\s+is\b|that's\b|see\s+you\b|see\s+ya\b|cya\b"
    r"|what\b|when\b|how\b|why\b|who\b|where\b|is\s+it\b|are\s+you\b|do\s+you\b|did\s+you\b|good\s+(?:morning|night|evening)\b"
    r"|have\s+a\s+(?:nice|good|great)\b|happy\s+\w+day\b|my\s+\w+\s+is\b)",
    re.I,
)


def _looks_like_chat(message: str) -> bool:
    if _REQUEST.search(message):
        return False
    return message.rstrip().endswith("?") or _CHAT.match(message) is not None


# --- Reading a message -----------------------------------------------------------------------

Span = tuple[int, int]


@dataclass
class _Reading:
    spans: list[Span]  # understood, in the normalised text
    schedule: Schedule | None
    error: str | None
    unclear: list[Span]


def _read(text: str, now: datetime, tz: str) -> _Reading:
    """Zone, end, time and the refinements of a repeat, then whatever time-like words are left."""
    spans: list[Span] = []
    zone = tz
    mention = find_zone(text)
    if mention is not None:
        zone = mention.zone
        spans.append((mention.start, mention.end))
    local_now = now.astimezone(ZoneInfo(zone))
    vague = [m.span() for m in _VAGUE.finditer(text)]
    _, end_span, end_at, times = _find_end(_blank(text, spans + vague), local_now)
    aside = vague + ([end_span] if end_span else [])
    skip = find_exception(_blank(text, spans + aside))
    if skip is not None:
        aside.append(skip.span())
    work = _blank(text, spans + aside)
    found = _find_time(work, local_now)
    if found is None:
        # A zone or an end alone is not a time: name them back rather than drop them.
        unclear = spans + aside + leftovers(work)
        return _Reading(spans=[], schedule=None, error=None, unclear=unclear)
    spans.extend(found.spans)
    if found.error is not None or found.spec is None:
        return _Reading(spans=spans, schedule=None, error=found.error, unclear=[])
    spec = dict(found.spec)
    if zone != tz and spec["type"] == "date":
        spec = _speakers_day(spec, text, found.spans, now, tz, zone)
    unclear: list[Span] = list(vague)
    if is_recurring(spec) and len(found.spans) == 1:
        spec, more = more_times(work, found.spans[0], spec)
        spans.extend(more)
    if skip is not None:
        try:
            spec, skipped = exceptions(skip, spec) if is_recurring(spec) else (spec, [])
        except GrammarError as exc:
            return _Reading(spans=spans + [skip.span()], schedule=None, error=str(exc), unclear=[])
        (spans if skipped else unclear).append(skip.span())
    if end_span is not None:
        if is_recurring(spec):
            spans.append(end_span)
        else:
            unclear.append(end_span)
    if zone != tz:
        spec["tz"] = zone
    if is_recurring(spec) and end_span is not None:
        if times is not None:
            end_at = _nth_fire(spec, tz, now, times)
            spec["times"] = times
        if end_at is not None:
            spec["end"] = end_at.astimezone(UTC).isoformat()
    rest = leftovers(_blank(text, spans + unclear))
    if spec["type"] == "date":
        # "next year on 1 March": the year a date was given is understood when it is that date's.
        year = datetime.fromisoformat(spec["run_at"]).astimezone(local_now.tzinfo).year
        for span in list(rest):
            gaps = [text[span[1] : a] if span[1] <= a else text[b : span[0]] for a, b in found.spans]
            beside = any(re.fullmatch(r"\s*(?:,|on|in|at)?\s*", gap) for gap in gaps)
            if text[span[0] : span[1]].lower() == "next year" and year == local_now.year + 1 and beside:
                rest.remove(span)
                spans.append(span)
    unclear.extend(rest)
    unclear.extend(_numbers_beside(text, found.spans, spans + unclear))
    try:
        schedule = _schedule(spec, tz, now)
    except TimeParseError as exc:
        return _Reading(spans=spans, schedule=None, error=str(exc), unclear=[])
    if unclear and _guessed(text, spans, unclear):
        # "biweekly tuesdays 10am" understood as "biweekly" alone would describe a weekday and a
        # time the user did not say; offer no schedule rather than a wrong one.
        schedule = None
    return _Reading(spans=spans, schedule=schedule, error=None, unclear=unclear)


_RELATIVE_DAY = re.compile(r"\b(?:today|tonight|tomorrow)\b", re.I)


def _speakers_day(spec: dict[str, Any], text: str, found: tuple[Span, ...], now: datetime, tz: str, zone: str) -> dict[str, Any]:
    """ "tomorrow at 9am London time": the speaker's tomorrow, even where London's date is already another.

    The time is read in the zone named, so "tomorrow" came out relative to that zone's date; shift
    the day by how far the user's date differs (a New Yorker's Saturday evening is Sunday in London).
    """
    if not any(_RELATIVE_DAY.search(text[a:b]) for a, b in found):
        return spec
    shift = now.astimezone(ZoneInfo(tz)).date() - now.astimezone(ZoneInfo(zone)).date()
    if not shift:
        return spec
    wall = datetime.fromisoformat(spec["run_at"]).astimezone(ZoneInfo(zone)).replace(tzinfo=None) + shift
    return {**spec, "run_at": wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat()}


_CLOCK_WORDS = re.compile(
    r"\d{1,2}\s*[ap]\.?m\b|\d{1,2}[:.]\d{2}|\b(?:at|@)\s*\d|\b(?:from|between)\s+\d|\d\s*o'?clock"
    r"|\b(?:noon|midday|midnight|morning|afternoon|evening|night|tonight)\b",
    re.I,
)
_DAY_WORDS = re.compile(r"\b(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:days?)?|weekdays?|weekends?)\b", re.I)


def _guessed(text: str, spans: list[Span], unclear: list[Span]) -> bool:
    """Whether the words not understood name a time or a day that the understood ones lack.

    Then the schedule's time or day is a default (09:00, today's weekday), not what was said.
    """
    said = " ".join(text[a:b] for a, b in spans)
    left = " ".join(text[a:b] for a, b in unclear)
    return bool(
        (_CLOCK_WORDS.search(left) and not _CLOCK_WORDS.search(said))
        or (_DAY_WORDS.search(left) and not _DAY_WORDS.search(said))
    )


_LONE_NUMBER = re.compile(r"(?<![\w.,:$€£#/-])\d{1,2}(?![\w.,:%/-]|\s*(?:%|[$€£]))")


def _numbers_beside(text: str, found: tuple[Span, ...], taken: list[Span]) -> list[Span]:
    """A lone number right next to a date ("9 tomorrow", "tomorrow 9") is probably its hour."""
    blanked = _blank(text, taken)
    out = []
    for number in _LONE_NUMBER.finditer(blanked):
        if any(text[number.end() : a].isspace() or text[b : number.start()].isspace() for a, b in found):
            out.append(number.span())
    return out


# "in a few minutes", "next week", "later today": no time a reader could check, so asked about.
_VAGUE = re.compile(
    r"\b(?:in|after|within|for)\s+(?:a\s+)?(?:few|several|some|couple(?!\s+of))\s+\w+"
    r"|\b(?:next|this|the\s+coming)\s+(?:week|month|weekend)\b(?!\s*(?:on\s+)?(?:mon|tue|wed|thu|fri|sat|sun))"
    r"|\blater\s+(?:today|tonight|this\s+\w+)|\bsome\s*time\s+(?:today|tomorrow|next\s+\w+)"
    r"|\bsoon(?:ish)?\b|\b(?:in|after)\s+a\s+(?:bit|while|little\s+while)\b",
    re.I,
)


def _find_end(text: str, now: datetime) -> tuple[re.Match[str] | None, Span | None, datetime | None, int | None]:
    """ "until 31 March" / "for 3 weeks" / "10 times": (match, its span, the end instant, the count)."""
    for match in END_RE.finditer(text):
        if match["until"]:
            month_end = _END_OF.match(text, match.start("date"))
            if month_end is not None:
                return match, (match.start(), month_end.end()), _end_of(month_end, now), None
            until = recognize_until(text, match.start("date"), now)
            if until is None:
                continue
            end_at, date_end = until
            return match, (match.start(), date_end), end_at, None
        if match["dur"]:
            return match, match.span(), duration_end(match["dur"], now), None
        return match, match.span(), None, count_of(match["count"])
    return None, None, None, None


_END_OF = re.compile(
    rf"(?:the\s+)?end\s+of\s+(?:the\s+)?(?:(?P<unit>month|year)|(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b)", re.I
)


def _end_of(match: re.Match[str], now: datetime) -> datetime:
    """ "the end of March" / "the end of the month": the last second of it, in the user's zone."""
    if match["unit"] and match["unit"].lower() == "year":
        year, month = now.year, 12
    elif match["unit"]:
        year, month = now.year, now.month
    else:
        month = _MONTH_ABBR.index(match["month"][:3].title()) + 1
        year = now.year if month >= now.month else now.year + 1
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, last, 23, 59, 59, tzinfo=now.tzinfo)


def _nth_fire(spec: dict[str, Any], tz: str, now: datetime, count: int) -> datetime | None:
    """The instant of a repeat's ``count``-th occurrence, which becomes its end."""
    fire, previous = now, None
    for _ in range(count):
        fire = next_fire_time(spec, tz, after=fire, previous=previous)
        if fire is None:
            return previous
        previous = fire
    return fire


def _blank(text: str, spans: list[Span]) -> str:
    """``text`` with the spans replaced by spaces, so offsets still fit."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _find_time(message: str, now: datetime) -> Found | None:
    """The grammar first (repeats, "in N units", cron), then the recognizer for one-off dates."""
    return find(message, now) or recognize(message, now)


def _cut(message: str, spans: list[Span]) -> str:
    """The message without the time phrases, and without the "on"/"at"/"@" that led into them."""
    kept, position = [], 0
    for start, end in _merge(spans):
        lead = re.search(r"(?:\b(?:on|at|by|in)\s+|@\s*)$", message[position:start], re.I)
        kept.append(message[position : position + lead.start()] if lead else message[position:start])
        position = end
    kept.append(message[position:])
    return " ".join(kept)


def _schedule(spec: dict[str, Any], tz: str, now: datetime) -> Schedule:
    """Check a spec against APScheduler and work out its first run."""
    try:
        first = first_fire_time(spec, tz, now=now)
    except (ScheduleError, OverflowError, ValueError) as exc:
        raise TimeParseError(f"I can't schedule that ({exc}). Try {EXAMPLES}.") from exc
    if first is None:
        if spec.get("end"):
            # "every day at 7 until 9pm": the end is before the first time; say so, don't blame the repeat.
            end = format_local(datetime.fromisoformat(spec["end"]), ZoneInfo(spec_zone(spec, tz)))
            unbounded = {k: v for k, v in spec.items() if k not in ("end", "times")}
            try:
                start = first_fire_time(unbounded, tz, now=now)
            except (ScheduleError, OverflowError, ValueError):
                start = None
            begins = f" (the first would be {format_local(start, ZoneInfo(spec_zone(spec, tz)))})" if start else ""
            raise TimeParseError(
                f"That repeat would end on {end}, before it ever fires{begins}. Give an end after the first "
                'time, e.g. "every day at 7 until friday", or "every hour from 7am to 9pm" for hourly within each day.'
            )
        raise TimeParseError(f"That schedule never comes round. Try {EXAMPLES}.")
    description = describe_schedule(spec, tz)
    if first <= now:
        raise TimeParseError(
            f'{description} is already in the past. Give me a time in the future, e.g. "tomorrow at 9am".'
        )
    if first > _limit(now):
        raise TimeParseError(f"{description} is too far ahead: " + TOO_FAR.split(": ", 1)[1])
    return Schedule(spec=spec, first_run=first, description=description)


def _limit(now: datetime) -> datetime:
    try:
        return now.replace(year=now.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return now.replace(year=now.year + MAX_YEARS_AHEAD, day=28)


# --- The reminder text ---------------------------------------------------------------------

_LEADING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|please|pls|can you|could you|would you|will you)\b[\s,!:]*"
    r"|(?:(?:actually|no|nope|wait|nah|forget\s+it|never\s*mind|nvm|oh|and|also|so|sorry|scratch\s+that|hmm+|um+|"
    r"well|instead|cancel\s+that|ignore\s+that|i\s+meant|i\s+mean|oops|ugh|ah|err?|rather|correction|"
    r"one\s+more(?:\s+thing)?|another\s+one|btw)\b[\s,.!;:-]*)+"
    rf"(?=(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?(?:remind|{_REMIND_TYPO}|ping|nudge|set|create|add|make)\b)"
    rf"|(?:remind|{_REMIND_TYPO}|ping|nudge|tell)\s+(?:me|us)\b[\s,:]*"
    r"|(?:set|create|add|make)\s+(?:me\s+)?(?:a\s+)?reminder\b[\s,:]*"
    r"|(?:do\s+not|don'?t)\s+let\s+me\s+forget\b[\s,:]*|make\s+sure\s+(?:i|to)\b[\s,:]*"
    r"|i\s+(?:need|want)\s+(?:a\s+reminder|to\s+be\s+reminded)\b[\s,:]*"
    r"|(?:to|about|that|of|for)(?:\s*[:,-]\s*|\s+|$)|[-–—:,;]\s*)",
    re.I,
)
_TRAILING = re.compile(r"(?:[\s,;:.!?]+|\s+(?:please|pls|plz|thanks|thx|ty|thank you))$", re.I)


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


_NTH_NAMES = {"1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth", "last": "last"}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")  # fmt: skip


def _clock_list(hours: str, minutes: str) -> list[str] | None:
    """ "7,19" and "0" -> ["07:00", "19:00"]; None for steps and ranges."""
    if not re.fullmatch(r"\d+(?:,\d+)*", hours) or not minutes.isdigit():
        return None
    return [f"{int(h):02d}:{int(minutes):02d}" for h in hours.split(",")]


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _describe_multi(spec: dict[str, Any], zone: ZoneInfo) -> str:
    parts = spec["parts"]
    same = {k: v for k, v in parts[0].items() if k not in ("hour", "minute")}
    if all(part.get("type") == "cron" and {k: v for k, v in part.items() if k not in ("hour", "minute")} == same
           for part in parts):
        clocks = sorted(c for part in parts for c in (_clock_list(str(part["hour"]), str(part["minute"])) or ["?"]))
        if "?" not in clocks:
            return _describe_cron(parts[0], clocks)
    return " and ".join(_describe_cron(part) if part["type"] == "cron" else _describe_interval(part, zone) for part in parts)


def _describe_cron(spec: dict[str, Any], clocks: list[str] | None = None) -> str:
    fields = ("minute", "hour", "day", "month", "day_of_week")
    minute, hour, day, month, dow = (str(spec.get(field, "*")) for field in fields)
    fallback = f"cron {minute} {hour} {day} {month} {dow}"
    hourly = re.fullmatch(r"(?:\*|(?P<first>\d+)-(?P<last>\d+))(?:/(?P<step>\d+))?", hour)
    if hourly and minute.isdigit() and day == "*" and month == "*" and (days := _weekdays_of(dow)) is not None:
        step = int(hourly["step"] or 1)
        text = "every hour" if step == 1 else f"every {step} hours"
        text += " on the hour" if int(minute) == 0 else f" at :{int(minute):02d}"
        if hourly["first"]:
            text += f" from {int(hourly['first']):02d}:{int(minute):02d} to {int(hourly['last']):02d}:{int(minute):02d}"
        if days == set(range(5)):
            text += " on weekdays"
        elif days == {5, 6}:
            text += " on weekends"
        elif len(days) < 7:
            text += f" on {_listed([_DAY_NAMES[d] for d in sorted(days)])}"
        return text
    clocks = clocks or _clock_list(hour, minute)
    if clocks is None or (day != "*" and dow != "*"):
        return fallback
    at = f"at {_listed(clocks)}"
    if re.fullmatch(r"\d+(?:,\d+)+", month) and (day.isdigit() or day == "last") and dow == "*":
        # "every 2 months on the 15th": evenly spaced months (see _timegrammar._every_months)
        months = sorted(int(m) for m in month.split(","))
        step = 12 // len(months)
        if any((b - a) % 12 != step for a, b in zip(months, months[1:] + months[:1])):
            return fallback
        which = "last day" if day == "last" else _ordinal(int(day))
        names = ", ".join(_MONTH_NAMES[m - 1][:3] for m in months)
        return f"every {step} months on the {which} {at} ({names})"
    if month != "*":
        if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12):
            return fallback
        return f"every year on {int(day)} {_MONTH_NAMES[int(month) - 1]} {at}"
    if day == "last":
        return f"on the last day of every month {at}"
    if re.fullmatch(r"\d+(?:,\d+)*", day):
        return f"on the {_listed([_ordinal(int(d)) for d in day.split(',')])} of every month {at}"
    nths = [re.fullmatch(r"(1st|2nd|3rd|4th|5th|last) (mon|tue|wed|thu|fri|sat|sun)", part) for part in day.split(",")]
    if all(nths) and len({m[2] for m in nths}) == 1:  # type: ignore[index]
        which = _listed([_NTH_NAMES[m[1]] for m in nths])  # type: ignore[index]
        return f"on the {which} {_DAY_NAMES[WEEKDAYS.index(nths[0][2])]} of every month {at}"  # type: ignore[index]
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
    if len(days) == 6:
        return f"every day except {_DAY_NAMES[(set(range(7)) - days).pop()]} {at}"
    return f"every {_listed([_DAY_NAMES[d] for d in sorted(days)])} {at}"


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
