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
from dialogs._timerecognizer import recognize, recognize_until
from dialogs.zones import find_zone, zone_short_label
from models.schedule import ScheduleError, first_fire_time, is_recurring, next_fire_time, spec_zone

logger = logging.getLogger(__name__)

# Misspellings of "remind" seen in chat (hand-written; the libraries know none).
_REMIND_TYPO = r"(?:rmeind|remidn|remnd|reimnd|remimd|rmind|remaind|reminde|remine|remin|reminf|remond|remined|rmd|remindd|reminnd)"
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
    what = _clean_what(_cut(message, cut_spans))
    unclear = tuple(" ".join(message[a:b].split()) for a, b in _merge(unclear_spans))
    return ParsedReminder(what=what, schedule=result.schedule, error=result.error, unclear=unclear)


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
    return _Reading(spans=spans, schedule=schedule, error=None, unclear=unclear)


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


# --- Slang and typos -------------------------------------------------------------------------
#
# Hand-written: neither library knows chat spelling. Each rule rewrites a word into what the
# grammar and the recognizer read; the map back to the user's characters keeps the reminder
# text made of the user's own words. Day parts become clock times here, because the
# recognizer's "evening" starts at 16:00: morning 08:00, afternoon 14:00, evening 18:00,
# tonight 20:00, night 21:00, end of day 17:00. "next week", "in a few minutes" and the like
# are vague, so they are named back as not understood rather than given a guessed time.

_ORDINAL_WORDS = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "tenth": "10th",
                  "fifteenth": "15th", "twentieth": "20th"}  # fmt: skip
_PART_CLOCK = {"morning": "08:00", "afternoon": "14:00", "evening": "18:00", "night": "21:00"}
_NO_TIME_AFTER = r"(?!\s*(?:,\s*)?(?:at\s+|@\s*|around\s+|about\s+)?\d)"
# A time right before a day part ("at 6:30 tomorrow morning") is read with it by the recognizer.
# ("at 7 tonight", "6:30 tomorrow morning", "7pm this evening"; not "chapter 7 tonight").
_NO_TIME_BEFORE = r"(?<![ap]m )(?<!\d\.m\. )(?<!o'clock )(?<!\d:\d\d )(?<!\d\.\d\d )(?<!\bat \d )(?<!\bat \d\d )(?<!@\d )(?<!@ \d )(?<!@\d\d )(?<!@ \d\d )"
_SLANG: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(rf"\b{_REMIND_TYPO}\b", re.I), "remind"),
    (re.compile(r"\b(?:tomorow|tommorow|tommorrow|tomorrw|tomorro|tomoro|tomrrow|tomorrwo|tmrw|tmrow|tmr|tmw|tmrrw|2moro|2morrow|2morow|2mrw|tomm?or+ow)\b", re.I), "tomorrow"),
    (re.compile(r"\b(?:tonite|tonigth|2nite|2night|tonght|toniht)\b", re.I), "tonight"),
    (re.compile(r"\b(?:minuts|mintues|minuets|minues|mnts|minits)\b", re.I), "minutes"),
    (re.compile(r"\b(?:hrz|hourz|huors)\b", re.I), "hours"),
    (re.compile(r"\b(?:eod|end\s+of\s+(?:the\s+)?day|cob|close\s+of\s+business)\b", re.I), "17:00"),
    (re.compile(r"\b(?:nxt|nex)\b", re.I), "next"),
    (re.compile(r"(?<=\d)h(?=\d{2}\b)", re.I), "h "),
    (re.compile(r"(?<=\dh )(\d{2})\b(?!\s*(?:m|min|mins|minutes?)\b)", re.I), lambda m: f"{m[1]}m"),
    (re.compile(r"\b(?P<word>first|second|third|fourth|fifth|tenth|fifteenth|twentieth)(?=\s+(?:day\s+)?of\s+(?:the|every|each)\s+month)", re.I),
     lambda m: _ORDINAL_WORDS[m["word"].lower()]),
    (re.compile(r"\b(?:evry|evrey|eveyr|everyy|evey|ever)\b(?=\s+(?:\d|day|week|month|year|other|morning|evening|night|mon|tue|wed|thu|fri|sat|sun|hour|minute|weekday|weekend))", re.I), "every"),
    (re.compile(rf"{_NO_TIME_BEFORE}\btonight\b{_NO_TIME_AFTER}", re.I), "today at 20:00"),
    (re.compile(rf"{_NO_TIME_BEFORE}\b(?:this|in\s+the)\s+(?P<part>morning|afternoon|evening){_NO_TIME_AFTER}", re.I),
     lambda m: f"today at {_PART_CLOCK[m['part'].lower()]}" if m[0].lower().startswith("this") else f"at {_PART_CLOCK[m['part'].lower()]}"),
    (re.compile(rf"{_NO_TIME_BEFORE}\b(?P<day>tomorrow|today|(?:next\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day)\s+(?:in\s+the\s+)?(?P<part>morning|afternoon|evening|night){_NO_TIME_AFTER}", re.I),
     lambda m: f"{m['day']} at {_PART_CLOCK[m['part'].lower()]}"),
    # "twice a day at 9am and 9pm": the two times say it all
    (re.compile(r"\b(?:twice|two\s+times)\s+(?:a|per|each)\s+day(?=\s*,?\s*(?:at\s+|@\s*)?\d[^,]*?\s(?:and|&)\s+(?:at\s+|@\s*)?\d[\d:.]*\s*(?:[ap]\.?m\.?)?(?!\s*(?:,|and|&)\s*(?:at\s+)?\d))", re.I), "every day"),
    (re.compile(r"\bat\s+night\b" + _NO_TIME_AFTER, re.I), "at 21:00"),
]  # fmt: skip


@dataclass(frozen=True)
class _Normalized:
    """The message with slang rewritten, and where each of its characters came from."""

    text: str
    sources: tuple[Span, ...]  # per character of ``text``: its (start, end) in the message

    def original(self, span: Span) -> Span:
        start, end = span
        if start >= end or not self.sources:
            return (0, 0)
        return self.sources[start][0], self.sources[end - 1][1]


def _normalize(message: str) -> _Normalized:
    text, sources = message, tuple((i, i + 1) for i in range(len(message)))
    for pattern, replacement in _SLANG:
        out: list[str] = []
        mapped: list[Span] = []
        position = 0
        for match in pattern.finditer(text):
            new = replacement(match) if callable(replacement) else replacement
            out.append(text[position : match.start()])
            mapped.extend(sources[position : match.start()])
            whole = (sources[match.start()][0], sources[match.end() - 1][1])
            out.append(new)
            mapped.extend([whole] * len(new))
            position = match.end()
        if not out:
            continue
        out.append(text[position:])
        mapped.extend(sources[position:])
        text, sources = "".join(out), tuple(mapped)
    return _Normalized(text, sources)


# --- Words that look like a time but were not understood ----------------------------------
#
# Hand-written: what is left of a message once the understood phrases are blanked out is
# searched for anything a reader would take as part of the schedule. Each such phrase is named
# back to the user instead of going into the reminder's text.

_WEEKDAY_WORD = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?"
_MONTH_WORD = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_UNIT_WORD = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|fortnights?|months?|years?|yrs?"
    r"|[smhdw])"
)
_COUNT_WORD = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|few|couple(?:\s+of)?|half(?:\s+an?)?)"
_OWNER = r"(?<!\bthe )(?<!\bmy )(?<!\bour )(?<!\byour )(?<!\ba )(?<!\bthis )(?<!\bthat )(?<!'s )"
_LEFTOVER = re.compile(
    "|".join(
        (
            r"(?:(?:\band|\bor|&|,)\s*)?(?:(?:\bat|@)\s*)?\b\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\b\.?",
            r"(?:(?:\band|\bor|&|,)\s*)?(?:(?:\bat|@)\s*)?(?<![\d:.])\d{1,2}[:.]\d{2}(?![\d])",
            r"(?:(?:\band|\bor|&)\s+)(?:at\s+|@\s*)?\d{1,2}\b(?![\d%.,:])(?!\s*(?:k\b|[$€£]))",
            r"(?:\bat|@)\s*\d{1,2}\b(?![\d%:])(?:\s*o'?clock)?",
            r"\b\d{1,2}\s*o'?clock\b",
            r"\b(?:noon|midday|midnight|tonight|tomorrow|today|yesterday|tmrw|eod)\b",
            rf"{_OWNER}\b{_WEEKDAY_WORD}\b",
            r"\bon\s+(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\b",
            rf"{_OWNER}\b(?:weekdays?|weekends?)\b",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_WORD}\b",
            rf"\b{_MONTH_WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
            r"\b\d{1,2}(?:st|nd|rd|th)\b",
            r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b",
            r"\b(?:every|each)\s+(?:other\s+|second\s+|\d+\s+|few\s+)?(?:\w+)",
            rf"{_OWNER}\b(?:daily|weekly|monthly|yearly|annually|hourly|nightly|fortnightly|bi-?weekly|bi-?monthly|semi-?monthly|quarterly)\b",
            r"\b(?:twice|thrice|once)\s+(?:a|an|per|every|each)\s+\w+",
            rf"\b{_COUNT_WORD}\s+times\b(?:\s+(?:a|an|per|every|each)\s+\w+)?",
            r"\b(?:except|excluding|but\s+not|apart\s+from|other\s+than|skipping)\b(?:\s+(?:on\s+)?(?:the\s+)?\w+)?",
            r"\b(?:until|till|untill|til|thru)\b(?:\s+(?:the|end|start|beginning|middle|of)\b)*(?:\s+[\w/.:-]+){0,2}",
            rf"\bfor\s+(?:the\s+next\s+)?{_COUNT_WORD}\s*{_UNIT_WORD}\b",
            rf"\b(?:in|after|within)\s+(?:a\s+)?{_COUNT_WORD}\s*{_UNIT_WORD}\b",
            rf"\b{_COUNT_WORD}\s*{_UNIT_WORD}\s+(?:from\s+now|later|ago|before|after|earlier|prior)\b",
            r"\b(?:next|this|coming)\s+(?:week|month|year|weekend|morning|afternoon|evening|night|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b(?!'s)",
            r"\b(?:in\s+the|this)\s+(?:morning|afternoon|evening)\b|\bat\s+night\b",
            rf"\b(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\s+(?:{_WEEKDAY_WORD}|(?:mon|tue|wed|thu|fri|sat|sun)|day|week|weekday)\b(?:\s+of(?:\s+the)?(?:\s+month)?)?",
            r"\bof\s+(?:the|every|each)\s+(?:month|year)\b",
            r"\b(?:per|a)\s+(?:day|week|month|year)\b",
            r"(?<![\w+-])(?:utc|gmt)\s*[+\-−]\s*\d{1,2}(?::?\d{2})?\b",
            # zone abbreviations in capitals only ("ist" and "est" end words); "<Name> time" with a
            # capitalised name only ("dinner time" is no zone)
            r"(?-i:\b(?:PST|PDT|EST|EDT|CST|CDT|MST|MDT|CET|CEST|BST|GMT|UTC|IST|JST|AEST|AEDT|EET|EEST|WET|MSK|SGT|HKT|KST|NZST|NZDT)\b)",
            r"(?-i:\b[A-Z][a-z]+(?: [A-Z][a-z]+)?) time\b",
            r"\b(?:in|after)\s+(?:a\s+)?(?:bit|while|little\s+while)\b",
            r"\b(?:in|after)\s+\d+\b(?![%.,]\d|\s*%)",
            r"(?<=,)\s*\d{1,2}(?:[:.]\d{2})?\b(?=\s*(?:,|and\b|&))",
            r"\bbetween\s+\S+\s+and\s+\S+|\bfrom\s+\d\S*\s+(?:to|till|until|-)\s+\S+",
            r"\bfor\s+(?:the\s+next\s+|an?\s+)(?:hour|day|week|month|year|fortnight|minute)\b",
            r"\b(?:19|20|21|22|23|24|25|26|27|28|29)\d{2}\b(?=\s*$|\s*[,.!?])",
        )
    ),
    re.I,
)
def leftovers(text: str) -> list[Span]:
    """Spans of ``text`` that look like a time, date, repeat or zone."""
    spans = []
    for match in _LEFTOVER.finditer(text):
        words = match[0]
        if _ADVERB.fullmatch(words) and _ADJECTIVE_USE.match(text, match.end()):
            continue  # "daily stand-up", "weekly report": a kind of thing, not a repeat
        spans.append((match.start() + len(words) - len(words.lstrip()), match.end()))
    return spans


_ADVERB = re.compile(r"daily|weekly|monthly|yearly|annually|hourly|nightly|fortnightly|bi-?weekly|bi-?monthly|quarterly", re.I)
_ADJECTIVE_USE = re.compile(
    r"\s+(?!(?:at|on|in|from|to|until|till|for|except|and|or|remind|please|starting|beginning|by|@)\b)[a-z]", re.I
)


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
    clocks = clocks or _clock_list(hour, minute)
    if clocks is None or (day != "*" and dow != "*"):
        return fallback
    at = f"at {_listed(clocks)}"
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
