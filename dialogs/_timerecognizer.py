"""One-off dates via Microsoft's recognizers-text-date-time ("next friday at 5pm").

The recognizer resolves phrases against a naive wall-clock reference and often returns
several readings ("at 9" is 09:00 or 21:00; "December 3rd" this year or last). This module
picks the first reading still ahead of ``now`` and returns it as a "date" spec, together with
where in the message the phrase stood, so the caller can cut it out of the reminder text.
Repeats and relative times are handled before this, by ``dialogs._timegrammar``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from recognizers_date_time import recognize_datetime
from recognizers_text import Culture

from dialogs._timegrammar import DEFAULT_TIME, MAX_YEARS_AHEAD, TIME_RE, TOO_FAR, Found, GrammarError, time_of_day

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")  # fmt: skip

# Preferred first: an exact date and time, then a time (today or tomorrow), a date (at the
# default time), and last a part of day ("tomorrow morning") whose start is used. Durations
# ("a second") and bare month names ("the May report") are too often part of the reminder text.
_USABLE = ("datetime", "time", "date", "datetimerange", "timerange", "set")
_UNSUPPORTED_REPEAT = (
    'I can\'t set up that kind of repeat yet. Try "every day at 7", "every monday at 9", '
    '"every 2 hours" or "on the 1st of every month at 10:00".'
)

Span = tuple[int, int]


class _Impossible(ValueError):
    """A date that does not exist ("February 30th"); carries where it was found."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


def recognize(message: str, now: datetime) -> Found | None:
    """Find a one-off date or time in ``message``.

    Args:
        message: the message, with runs of whitespace collapsed.
        now: the current time, aware and in the user's zone.

    Returns:
        The phrase's spans with a "date" spec (possibly in the past, for the caller to refuse)
        or a user-facing error, or None if the message holds no usable time.
    """
    # The recognizer reads "at 25:00" as 5:00; refuse such times before it gets the chance.
    for clock in TIME_RE.finditer(message):
        try:
            time_of_day(clock)
        except ValueError as exc:
            return Found((clock.span(),), spec=None, error=str(exc))
    refused = _numeric_year_check(message, now)
    if refused is not None:
        return refused
    results = recognize_datetime(message, Culture.English, reference=now.replace(tzinfo=None))
    by_kind: dict[str, list[Any]] = {kind: [] for kind in _USABLE}
    for result in results:
        kind = result.type_name.rsplit(".", 1)[-1]
        if kind == "date" and _is_text_word(message, result):
            continue
        if kind in by_kind and result.resolution and result.resolution.get("values"):
            by_kind[kind].append(result)
    # A repeat the grammar did not understand ("every year on 5 may") must not quietly become
    # a one-off; but "the weekly report" is also a "set", so only "every"/"each" ones count.
    # All the recognized parts ("5 may" too) belong to the refused time, not to the reminder text.
    if any(re.match(r"(?:every|each)\b", result.text, re.I) for result in by_kind["set"]):
        spans = tuple(_span(result) for results in by_kind.values() for result in results)
        return Found(spans, spec=None, error=_UNSUPPORTED_REPEAT)
    try:
        picked = _pick(by_kind, now)
    except _Impossible as exc:
        return Found((exc.span,), spec=None, error=str(exc))
    if picked is None:
        return _fallback_time(message, now)
    spans, moments = picked
    if _names_today(message, spans, now):
        moments, question = _this_or_next_week(moments, now)
        if question is not None:
            return Found(spans, spec=None, error=question)
    spec = _first_ahead(moments, now)
    refused = _year_check(message, spans, spec) or _small_hour_check(message, spans, spec, now)
    return refused or Found(spans, spec=spec)


# "31/12/9999", "12/31/2099", "9999-12-31": the recognizer reads the day and month and drops a
# year it does not like, which would move the date to this year. A written year is checked here.
_NUMERIC_DATE = re.compile(r"(?<![\w/.-])(?:(?P<y1>\d{4,})[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-](?P<y2>\d{4,}))(?![\w/.-])")


_SLASHED = re.compile(r"(?<![\w/.-])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\w/.-])")


def _numeric_year_check(message: str, now: datetime) -> Found | None:
    for match in _SLASHED.finditer(message):
        # "05/06": 5 June in most of the world, May 6 in the US; ask rather than guess.
        first, second = int(match["a"]), int(match["b"])
        if first != second and 1 <= first <= 12 and 1 <= second <= 12:
            year = f" {match['y']}" if match["y"] else ""
            error = (f'Is {match[0]} the {first} {_MONTH_NAMES[second - 1]}{year} or {_MONTH_NAMES[first - 1]} '
                     f'{second}{year}? Please write the month as a word, e.g. "{first} {_MONTH_NAMES[second - 1]}".')
            return Found((match.span(),), spec=None, error=error)
    for match in _NUMERIC_DATE.finditer(message):
        year = int(match["y1"] or match["y2"])
        if year > now.year + MAX_YEARS_AHEAD:
            return Found((match.span(),), spec=None, error=f"{year} is too far ahead: " + TOO_FAR.split(": ", 1)[1])
    return None


# A named day the recognizer finds inside the reminder text: "say happy new year", "the monday
# memo", "buy a christmas tree". A holiday counts as the date only after a word that leads into
# a date ("on christmas", "by new year") or at the start; a weekday not after "the"/"my"/"a".
_HOLIDAY_LEAD = re.compile(r"(?:\b(?:on|at|by|until|till|this|next|over|from)\s+|^\W*(?:(?:remind|ping|nudge)\s+(?:me|us)\s+)?)$", re.I)
_OWNED = re.compile(r"\b(?:the|a|an|my|our|your|his|her|their|this\s+week's)\s+$|'s\s+$", re.I)
_DEICTIC = re.compile(r"(?:the\s+day\s+after\s+)?(?:today|tomorrow|tonight)$|(?:this|next|last|coming)\s+\w+$", re.I)
_WEEKDAY_NAME = re.compile(r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?$", re.I)


def _is_text_word(message: str, result: Any) -> bool:
    words = result.text.strip()
    if re.search(r"\d", words) or _DEICTIC.match(words) or re.search(_MONTH_WORD, words, re.I):
        return False
    before = message[: result.start]
    if _WEEKDAY_NAME.match(words):
        if _NOUN_AFTER.match(message, result.start):
            return True  # "sun cream", "sat nav", "wed dress"
        return _OWNED.search(before) is not None
    return _HOLIDAY_LEAD.search(before) is None


_NOUN_AFTER = re.compile(r"(?:sun\s+(?:cream|screen|block|hat|glasses|lotion|lounger|bed|tan)|sat\s+nav)\b", re.I)
_MONTH_WORD = r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
_BARE_HOUR = re.compile(r"(?:\bat|@)\s*(?P<hour>\d{1,2})(?:\s*o'?clock)?\s*$", re.I)
_DAY_PART = re.compile(r"morning|afternoon|evening|night|tonight|noon|[ap]\.?m\b", re.I)


_WEEKDAY_WORD = re.compile(r"\b(?P<day>mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.I)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _names_today(message: str, spans: tuple[Span, ...], now: datetime) -> bool:
    """Whether the date phrase is a weekday name that is today's ("on tuesday", said on a Tuesday)."""
    text = " ".join(message[a:b] for a, b in spans)
    days = {("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(m["day"].lower()) for m in _WEEKDAY_WORD.finditer(text)}
    return days == {now.weekday()}


def _this_or_next_week(moments: list[datetime], now: datetime) -> tuple[list[datetime], str | None]:
    """Today's weekday named: its readings today, else the same readings a week later.

    The recognizer offers last week's and today's; a time already past today means next week's
    ("on saturday at 9am" said on Saturday evening). When the hour could be either half of the
    clock and only the later one is still ahead today ("on tuesday at 10" said on Tuesday at
    noon: 22:00 today, or 10:00 next Tuesday?), both are plausible, so ask instead of picking.
    """
    local_now = now.replace(tzinfo=None)
    today = [m for m in moments if m.date() == local_now.date()]
    if not today:
        return moments, None
    later = [m + timedelta(days=7) for m in today]
    clocks = list(dict.fromkeys(m.time() for m in today))
    if len(clocks) > 1 and datetime.combine(local_now.date(), clocks[0]) <= local_now < max(today):
        first, second = clocks[0], max(clocks)
        day = _DAY_NAMES[local_now.weekday()]
        return moments, (
            f"Today at {second:%H:%M}, or next {day} at {first:%H:%M}? "
            f'Say e.g. "today at {second:%H:%M}" or "next {day.lower()} at {first:%H:%M}".'
        )
    return moments + later, None


def _small_hour_check(message: str, spans: tuple[Span, ...], spec: dict[str, Any] | None, now: datetime) -> Found | None:
    """ "friday at 4": 04:00 is seldom meant and 16:00 not said, so ask rather than guess.

    The recognizer offers the morning first; a bare hour from 1 to 6 read as the small hours is
    refused with both readings, unless a part of the day ("in the morning") settles it.
    """
    if spec is None:
        return None
    text = " ".join(message[a:b] for a, b in spans)
    match = _BARE_HOUR.search(text)
    if match is None or _DAY_PART.search(message):
        return None
    hour = int(match["hour"])
    local = datetime.fromisoformat(spec["run_at"]).astimezone(now.tzinfo)
    if not 1 <= hour <= 6 or local.hour != hour:
        return None
    return Found(spans, spec=None, error=f'Did you mean {hour:02d}:00 or {hour + 12}:00? Say "at {hour}am" or "at {hour}pm".')


_YEAR_AFTER = re.compile(r"(?:[/.-]|\s*,?\s*(?:in\s+)?)(?P<year>\d{4,})\b(?![:.]\d)")


def _year_check(message: str, spans: tuple[Span, ...], spec: dict[str, Any] | None) -> Found | None:
    """A year written right after a date that the recognizer did not take ("Jan 1 2226").

    The recognizer reads years only up to about 2100 and otherwise drops them, which would move
    the date to another year; a year beyond the limit is refused, one it dropped for another
    reason is named back as not understood. Never shifted.
    """
    if spec is None:
        return None
    for start, end in spans:
        match = _YEAR_AFTER.match(message, end)
        if match is None:
            continue
        year = int(match["year"])
        chosen = datetime.fromisoformat(spec["run_at"]).year
        if abs(year - chosen) <= 1 and year == chosen:
            return None
        span = (start, match.end())
        if year > chosen:
            return Found((span,), spec=None, error=f"{match['year']} is too far ahead: " + TOO_FAR.split(": ", 1)[1])
        return Found((span,), spec=None, error=f'{match["year"]} is in the past. Give me a date in the future, e.g. "on 5 March".')
    return None


def recognize_until(message: str, start: int, now: datetime) -> tuple[datetime, int] | None:
    """The end a phrase starting at ``start`` names ("31 March", "friday", "the end of may").

    Returns:
        The end instant (the end of that day in the user's zone when no time is given, so the
        day itself is included) and where the phrase ends, or None when no date starts there.
    """
    rest = message[start : start + 40]  # a date phrase is short; the recognizer is slow on long text
    for result in recognize_datetime(rest, Culture.English, reference=now.replace(tzinfo=None)):
        if result.start != 0 or not result.resolution or not result.resolution.get("values"):
            continue
        kind = result.type_name.rsplit(".", 1)[-1]
        try:
            if kind == "datetime":
                moments = _datetimes(result, now)
            elif kind == "time":  # "until 6pm": today, else tomorrow
                moments = _today_or_tomorrow(_times(result), now)
            elif kind == "date":
                moments = [datetime.combine(d, time(23, 59, 59)) for d in _dates(result, now)]
            elif kind == "daterange":
                ends = [v["end"] for v in _values(result) if v.get("end")]
                moments = [datetime.fromisoformat(end) - timedelta(seconds=1) for end in ends]
            else:
                continue
        except _Impossible as exc:
            raise GrammarError(str(exc)) from exc
        spec = _first_ahead(moments, now)
        if spec is None:
            continue
        if _year_check(message, ((start, start + result.end + 1),), spec) is not None:
            return None
        return datetime.fromisoformat(spec["run_at"]), start + result.end + 1
    return None


def _span(result: Any) -> Span:
    return result.start, result.end + 1  # the recognizer's ``end`` is inclusive


def _pick(by_kind: dict[str, list[Any]], now: datetime) -> tuple[tuple[Span, ...], list[datetime]] | None:
    """The recognized phrase to use, and its candidate wall-clock times in the recognizer's order."""
    if by_kind["datetime"]:
        result = by_kind["datetime"][0]
        return (_span(result),), _datetimes(result, now)
    if by_kind["time"]:
        time_result = by_kind["time"][0]
        times = _times(time_result)
        if by_kind["date"]:
            # "remind me tomorrow to call Anna at 9am": the date and the time stand apart.
            date_result = by_kind["date"][0]
            moments = [datetime.combine(d, t) for d in _dates(date_result, now) for t in times]
            return (_span(date_result), _span(time_result)), moments
        return (_span(time_result),), _today_or_tomorrow(times, now)
    if by_kind["date"]:
        result = by_kind["date"][0]
        return (_span(result),), [datetime.combine(d, DEFAULT_TIME) for d in _dates(result, now)]
    for kind in ("datetimerange", "timerange"):
        if by_kind[kind]:
            result = by_kind[kind][0]
            return (_span(result),), _range_starts(result, now)
    return None


def _today_or_tomorrow(times: list[time], now: datetime) -> list[datetime]:
    # A time without a day means its next occurrence: "at 3am" said at noon is tomorrow's 3am.
    return [datetime.combine(now.date() + timedelta(days=n), t) for n in (0, 1) for t in times]


def _first_ahead(moments: list[datetime], now: datetime) -> dict[str, Any] | None:
    """A date spec for the first candidate still ahead of ``now``.

    The recognizer lists readings in order (for "at 9": 09:00 before 21:00; for "December 3rd":
    last year before this year), so the first future one is the natural reading. When none is
    ahead, the first is kept so that the caller reports it as being in the past.
    """
    if not moments:
        return None
    # Both passes of a wall time that happens twice (the hour the clocks go back), compared as
    # instants: datetimes sharing a zone compare by wall clock, which ignores the pass.
    aware = [moment.replace(tzinfo=now.tzinfo, fold=fold) for moment in moments for fold in (0, 1)]
    chosen = next((moment for moment in aware if moment.astimezone(UTC) > now.astimezone(UTC)), aware[0])
    return {"type": "date", "run_at": chosen.astimezone(UTC).isoformat()}


_TIMEX_DATE = re.compile(r"(XXXX|\d{4})-(\d{2})-(\d{2})")


def _values(result: Any) -> list[dict[str, str]]:
    return result.resolution["values"]


def _datetimes(result: Any, now: datetime) -> list[datetime]:
    moments = []
    for value in _values(result):
        if value.get("value", "not resolved") != "not resolved":
            moments.append(datetime.fromisoformat(value["value"]))
            continue
        clock = re.search(r"T(\d{2})(?::(\d{2}))?", value.get("timex", ""))
        at = time(int(clock[1]), int(clock[2] or 0)) if clock else DEFAULT_TIME
        moments.extend(datetime.combine(d, at) for d in _timex_dates(value, result, now))
    return moments


def _dates(result: Any, now: datetime) -> list[date]:
    dates: list[date] = []
    for value in _values(result):
        if value.get("value", "not resolved") != "not resolved":
            dates.append(date.fromisoformat(value["value"][:10]))
        else:
            dates.extend(_timex_dates(value, result, now))
    return dates


def _timex_dates(value: dict[str, str], result: Any, now: datetime) -> list[date]:
    """Resolve what the recognizer gave up on: a leap day ("February 29th"), or an impossible date."""
    match = _TIMEX_DATE.match(value.get("timex", ""))
    if match is None:
        return []
    year, month, day = match.groups()
    month_no, day_no = int(month), int(day)
    # A leap day without a year is next possible within eight years. Two readings, as the
    # recognizer gives for other dates: this year's leap day may be past ("February 29th" said
    # on 1 March 2028 means 2032).
    years = [int(year)] if year != "XXXX" else range(now.year, now.year + 9)
    dates: list[date] = []
    for candidate in years:
        try:
            dates.append(date(candidate, month_no, day_no))
        except ValueError:
            continue
        if len(dates) == 2:
            break
    if dates:
        return dates
    name = _MONTH_NAMES[month_no - 1] if 1 <= month_no <= 12 else f"month {month_no}"
    message = f'{name} {day_no} doesn\'t exist. Please check the date, e.g. "on December 3rd at 9am".'
    raise _Impossible(message, _span(result))


def _times(result: Any) -> list[time]:
    return [time.fromisoformat(v["value"]) for v in _values(result) if v.get("value", "").count(":") == 2]


def _range_starts(result: Any, now: datetime) -> list[datetime]:
    starts = []
    for value in _values(result):
        start = value.get("start", "")
        if len(start) == 8:  # a time range ("in the evening"): today, else tomorrow
            starts += [datetime.combine(now.date() + timedelta(days=n), time.fromisoformat(start)) for n in (0, 1)]
        elif start:
            starts.append(datetime.fromisoformat(start))
    return starts


def _fallback_time(message: str, now: datetime) -> Found | None:
    """Times the recognizer leaves unresolved, such as "at 0:30"."""
    match = TIME_RE.search(message)
    if match is None:
        return None
    try:
        at = time_of_day(match)
    except ValueError as exc:
        return Found((match.span(),), spec=None, error=str(exc))
    assert at is not None  # TIME_RE matched, so there is a time
    # The recognizer can drop a date together with its time: "February 29th at 10" gives nothing
    # from a leap day to the end of that year. Read the date without the time (blanked out, so
    # that the spans still fit the message), so that it is neither lost nor left in the text.
    blanked = message[: match.start()] + " " * (match.end() - match.start()) + message[match.end() :]
    for result in recognize_datetime(blanked, Culture.English, reference=now.replace(tzinfo=None)):
        if result.type_name.endswith(".date") and result.resolution and result.resolution.get("values"):
            moments = [datetime.combine(d, at) for d in _dates(result, now)]
            return Found((_span(result), match.span()), spec=_first_ahead(moments, now))
    return Found((match.span(),), spec=_first_ahead(_today_or_tomorrow([at], now), now))
