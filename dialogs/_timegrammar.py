"""Hand-written grammar for the time phrases the Microsoft recognizer resolves poorly.

recognizers-text-date-time is good at one-off dates ("next friday at 5pm"), but for repeats
("every weekday at 8:30", "on the 1st of every month") it returns only vague "set" values, it
misses relative forms such as "in half an hour" or "in 2h", and it knows nothing of crontab
lines. This module finds those phrases with regular expressions and turns each one straight
into a schedule spec (see models/schedule.py). It is pure: the clock and the zone come in as
arguments, and checking the spec against APScheduler is left to dialogs/timeparse.py.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from models.schedule import MIN_INTERVAL

#: A day, weekday or day of the month given without a time of day means this time.
DEFAULT_TIME = time(9, 0)
#: APScheduler's weekday names, Monday first (APScheduler 3 counts 0 = Monday).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOO_SHORT = 'The shortest repeat I can do is every minute. Try "every 1 minute" or "every 30 minutes".'
#: How far ahead a reminder may be set; later dates are refused, never moved to another year.
MAX_YEARS_AHEAD = 10
TOO_FAR = f'That is too far ahead: I can set reminders up to {MAX_YEARS_AHEAD} years ahead, e.g. "in 2 years".'
_MAX_SECONDS = MAX_YEARS_AHEAD * 366 * 86400


class GrammarError(ValueError):
    """A phrase that is clearly a time but cannot be scheduled; the message is user-facing."""


@dataclass(frozen=True)
class Found:
    """A time phrase found in a message: where it is, and the spec or why it was refused.

    ``spans`` are (start, end) slices of the message; there are two when the date and the
    time stand apart ("remind me tomorrow to call Anna at 9am").
    """

    spans: tuple[tuple[int, int], ...]
    spec: dict[str, Any] | None
    error: str | None = None


# --- Building blocks ---------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60,
    "ninety": 90,
}  # fmt: skip
_WORDS = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))  # longest first: "an" before "a"
# A quantity with the space after it; words need that space, or "and" would read "an d(ay)".
_AMOUNT = rf"(?:\d+(?:\.\d+)?\s*|(?:half(?:\s+an?)?|(?:a\s+)?couple\s+of|(?<![a-z])(?:{_WORDS}))\s+)"
# A lookahead instead of \b so that "2h30m" splits, while "a meeting" is not "a m(inute)".
_UNIT = (
    r"(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|fortnights?|months?|mos?"
    r"|years?|yrs?)(?![a-z])"
)
_COMPONENT = rf"{_AMOUNT}{_UNIT}(?:\s+and\s+a\s+half)?"
_DURATION = rf"{_COMPONENT}(?:(?:\s*,\s*|\s+and\s+|\s*){_COMPONENT})*"
_COMPONENT_RE = re.compile(rf"(?P<amount>{_AMOUNT})(?P<unit>{_UNIT})(?P<half>\s+and\s+a\s+half)?", re.I)

_DAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)s?(?![a-z])"
)
_PLURAL_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days(?![a-z])"  # "on mondays" repeats
_JOIN = r"(?:\s*,\s*(?:and\s+)?|\s+(?:and|or)\s+|\s*[&/+]\s*)"
_DAYS = rf"{_DAY}(?:{_JOIN}{_DAY})*"
_AND_JOIN = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*[&/+]\s*)"
_DAY_RE = re.compile(rf"weekdays?|weekends?|{_DAY}", re.I)
_DOM = r"(?:(?P<dom>\d{1,2})(?:st|nd|rd|th)?|(?P<last>last))(?:\s+day)?"

# Bare hours ("at 9") need "at" so that numbers in the reminder text are left alone.
TIME_RE = re.compile(
    r"(?<![\w:.])(?:(?:at|@)\s*)?(?:(?P<word>noon|midday|midnight)"
    r"|(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ampm>[ap])\.?m\b\.?"
    r"|(?P<h24>\d{1,2})[:.](?P<m24>\d{2})(?!\d))"
    r"|(?<![\w:.])(?:at|@)\s*(?P<hb>\d{1,2})(?:\s*o'?clock)?(?![\d:]|[.,]\d)",
    re.I,
)


def time_of_day(match: re.Match[str] | None) -> time | None:
    """Turn a ``TIME_RE`` match into a time; bare hours are read on the 24-hour clock."""
    if match is None:
        return None
    if word := match["word"]:
        return time(0, 0) if word.lower() == "midnight" else time(12, 0)
    if match["h12"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise GrammarError(f'"{match[0].strip()}" is not a time of day. Try e.g. "9:15pm" or "21:15".')
        return time(hour % 12 + (12 if match["ampm"].lower() == "p" else 0), minute)
    hour = int(match["h24"] or match["hb"])
    minute = int(match["m24"] or 0)
    if hour > 23 or minute > 59:
        raise GrammarError(f'"{match[0].strip()}" is not a time of day. Try e.g. "9:15pm" or "21:15".')
    return time(hour, minute)


def _amount(text: str) -> float:
    word = " ".join(text.lower().split())
    if word.startswith("half"):
        return 0.5
    if word.endswith("couple of"):
        return 2
    value = float(_NUMBER_WORDS.get(word, word))
    if value > 10**7:  # "in 99999999999999999999 minutes" is past any calendar
        raise GrammarError(TOO_FAR)
    return value


def _unit(text: str) -> str:
    word = text.lower()
    if word.startswith("mo"):
        return "month"
    if word.startswith("f"):
        return "fortnight"
    if word.startswith("y"):
        return "year"
    if word.startswith("mi") or word == "m":
        return "minute"
    return {"s": "second", "h": "hour", "d": "day", "w": "week"}[word[0]]


_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


def weekday_set(text: str) -> set[int]:
    """Weekday indices (0 = Monday) named in text such as "monday and fri" or "weekdays"."""
    days: set[int] = set()
    for token in _DAY_RE.findall(text):
        token = token.lower()
        if token.startswith("weekday"):
            days.update(range(5))
        elif token.startswith("weekend"):
            days.update((5, 6))
        else:
            days.add(WEEKDAYS.index(token[:3]))
    return days


def render_weekdays(days: set[int]) -> str:
    """APScheduler's day_of_week field for a set of weekdays, runs of three or more as ranges."""
    if len(days) == 7:
        return "*"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    parts = [
        f"{WEEKDAYS[a]}-{WEEKDAYS[b]}" if b - a >= 2 else ",".join(WEEKDAYS[a : b + 1]) for a, b in runs
    ]
    return ",".join(parts)


_CRONTAB_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_BAD_CRONTAB_DAY = 'I don\'t understand the crontab day of week "{}". Try e.g. "cron 30 8 * * 1-5".'


def _crontab_day(token: str, field: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _CRONTAB_DAYS:
        return _CRONTAB_DAYS[token]
    raise GrammarError(_BAD_CRONTAB_DAY.format(field))


def crontab_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0 or 7 = Sunday) into APScheduler's names.

    APScheduler 3 counts 0 = Monday, and ``CronTrigger.from_crontab`` passes the numbers
    through unchanged (its docstring admits the mismatch), so "1-5" would mean Tuesday to
    Saturday there. Expanding the field into names keeps crontab's meaning.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        match = re.fullmatch(r"(\*|\w+)(?:-(\w+))?(?:/(\d+))?", part)
        if match is None:
            raise GrammarError(_BAD_CRONTAB_DAY.format(field))
        first, last, step = match.groups()
        if first == "*":
            low, high = 0, 6
        else:
            low = _crontab_day(first, field)
            # "1/2" means "from Monday on, every other day", as in Vixie cron.
            high = _crontab_day(last, field) if last else 7 if step else low
        if high < low or step == "0":
            raise GrammarError(_BAD_CRONTAB_DAY.format(field))
        # crontab 0 and 7 are Sunday and 1 is Monday, so APScheduler's index is (n - 1) mod 7.
        days.update((n - 1) % 7 for n in range(low, high + 1, int(step or 1)))
    return render_weekdays(days)


# --- Spec helpers --------------------------------------------------------------------------


def _cron(at: time, *, day: str = "*", day_of_week: str = "*", month: str = "*") -> dict[str, Any]:
    return {
        "type": "cron", "minute": str(at.minute), "hour": str(at.hour),
        "day": day, "month": month, "day_of_week": day_of_week,
    }  # fmt: skip


def _interval(seconds: int, start: datetime) -> dict[str, Any]:
    if seconds < MIN_INTERVAL.total_seconds():
        raise GrammarError(TOO_SHORT)
    if seconds > _MAX_SECONDS:
        raise GrammarError(TOO_FAR)
    return {"type": "interval", "seconds": seconds, "start": start.astimezone(UTC).isoformat()}


def _next_local(now: datetime, at: time, weekdays: set[int] | None = None) -> datetime:
    """The first wall-clock ``at`` after ``now`` (aware, in the user's zone) on an allowed weekday."""
    for offset in range(8):
        day = now.date() + timedelta(days=offset)
        candidate = datetime.combine(day, at, tzinfo=now.tzinfo)
        if candidate > now and (weekdays is None or day.weekday() in weekdays):
            return candidate
    raise AssertionError("a weekday recurs within 8 days")


def _repeat(now: datetime, count: float, unit: str, days: set[int] | None, at: time | None) -> dict[str, Any]:
    """The spec for "every <count> <unit> [on <days>] [at <time>]"."""
    if unit in _SECONDS:
        if days:
            raise GrammarError('I can\'t mix hours and weekdays yet. Try "every 2 hours" or "every monday at 9".')
        return _interval(round(count * _SECONDS[unit]), now)
    if count != int(count) or count < 1:
        raise GrammarError(f'Please use a whole number of {unit}s, e.g. "every 2 {unit}s".')
    count, at = int(count), at or DEFAULT_TIME
    if unit == "fortnight":
        count, unit = count * 2, "week"
    if unit == "year":
        if count != 1 or days:
            raise GrammarError('I can repeat yearly on one date, e.g. "every year on 5 March at 9".')
        return _cron(at, day=str(now.day), month=str(now.month))
    if unit == "month" and count > 1 and not days:
        return _every_months(now, count, str(now.day), at)
    if unit == "month":
        if count != 1 or days:
            raise GrammarError(
                'I can repeat monthly on one day of the month, e.g. "on the 1st of every month at 10:00".'
            )
        return _cron(at, day=str(now.day))
    if unit == "day":
        if days:
            raise GrammarError('Try "every monday at 9" or "every weekday at 8:30".')
        if count == 1:
            return _cron(at)
        return _interval(count * 86400, _next_local(now, at))
    days = days or {now.weekday()}
    if count == 1:
        return _cron(at, day_of_week=render_weekdays(days))
    if len(days) != 1:
        raise GrammarError(f'Every {count} weeks works on one weekday only, e.g. "every 2 weeks on monday at 9".')
    # Cron cannot count weeks, so anchor an interval on the first occurrence.
    return _interval(count * 7 * 86400, _next_local(now, at, days))


def _every_months(now: datetime, count: int, day: str, at: time) -> dict[str, Any]:
    """ "every 2 months on the 15th": a cron on every ``count``-th month, counted from the next such day.

    Cron counts months within a year, so only steps that divide 12 (2, 3, 4, 6) repeat evenly.
    """
    if day != "last" and int(day) > 28:
        # Some of the chosen months would lack the day and be skipped without a word.
        raise GrammarError(f'Not every month has a {day}th: say "on the last day", e.g. "every {count} months on the last day".')
    if 12 % count or count >= 12:
        raise GrammarError(
            'I can repeat every 2, 3, 4 or 6 months, or yearly, e.g. "every 3 months on the 1st at 9".'
        )
    for ahead in range(13):
        year, month0 = divmod(now.month - 1 + ahead, 12)
        last = calendar.monthrange(now.year + year, month0 + 1)[1]
        dom = last if day == "last" else int(day)
        if dom <= last and datetime(now.year + year, month0 + 1, dom, at.hour, at.minute, tzinfo=now.tzinfo) > now:
            first = month0 + 1
            break
    else:  # pragma: no cover - a day 1..31 comes round within 13 months
        raise GrammarError(f'A month has no day {day}. Try e.g. "every 2 months on the 1st at 10:00".')
    months = sorted((first - 1 + step * count) % 12 + 1 for step in range(12 // count))
    return _cron(at, day=day, month=",".join(map(str, months)))


def _monthly_every(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    count = _amount(match["n"]) if match["n"] else 2
    if count != int(count) or count < 1:
        raise GrammarError('Please use a whole number of months, e.g. "every 2 months on the 1st".')
    day = "last" if match["last"] else str(int(match["dom"]))
    if day != "last" and not 1 <= int(day) <= 31:
        raise GrammarError(f'A month has no day {day}. Try e.g. "every 2 months on the 1st at 10:00".')
    at = _clock(near) or DEFAULT_TIME
    if count == 1:
        return _cron(at, day=day), True
    return _every_months(now, int(count), day, at), True


def _date(when: datetime) -> dict[str, Any]:
    return {"type": "date", "run_at": when.astimezone(UTC).isoformat()}


def _add_months(wall: datetime, months: int) -> datetime:
    years, month0 = divmod(wall.month - 1 + months, 12)
    year, month = wall.year + years, month0 + 1
    return wall.replace(year=year, month=month, day=min(wall.day, calendar.monthrange(year, month)[1]))


# --- A time of day next to a repeat: "every weekday at 8:30", "at 7pm every day" ---------

_PART_TIMES = {"morning": time(8, 0), "afternoon": time(14, 0), "evening": time(18, 0), "night": time(21, 0)}
_PART = r"(?P<part>morning|afternoon|evening|night)s?(?![a-z])"
_AFTER = re.compile(rf"\s*,?\s*(?:(?:in\s+the\s+)?{_PART}\s*,?\s*)?", re.I)


@dataclass(frozen=True)
class _Near:
    """A time of day (and/or a part of the day) found right next to a phrase."""

    start: int
    end: int
    clock: re.Match[str] | None
    part: str | None


def _time_next_to(text: str, start: int, end: int) -> _Near | None:
    """An "at 7pm" or "morning at 7" right after the phrase (preferred), or an "at 7pm" right before it."""
    lead = _AFTER.match(text, end)
    assert lead is not None  # every group in _AFTER is optional
    clock = TIME_RE.match(text, lead.end())
    if clock or lead["part"]:
        begin = lead.start("part") if lead["part"] else clock.start()  # type: ignore[union-attr]
        return _Near(begin, clock.end() if clock else lead.end("part"), clock, lead["part"])
    for before in TIME_RE.finditer(text, 0, start):
        if re.fullmatch(r"\s*,?\s*", text[before.end() : start]):
            return _Near(before.start(), before.end(), before, None)
    if (bare := bare_hour_before(text, start)) is not None:
        # The last of "at 9 and 17 every day"; ``more_times`` adds the ones before it.
        begin, finish, at = bare
        return _Near(begin, finish, TIME_RE.fullmatch(f"at {at:%H:%M}"), None)
    return None


def _clock(near: _Near | None, part: str | None = None) -> time | None:
    """The time of day ``near`` names; a part of the day sets the default and the half of the clock."""
    part = (part or (near.part if near else None) or "").lower() or None
    at = time_of_day(near.clock) if near is not None else None
    if at is None:
        return _PART_TIMES.get(part or "")
    # "every evening at 7" means 19:00, "every night at 1" stays 01:00; "7am" or "07:00" are kept.
    later = {"afternoon": 1, "evening": 1, "night": 6}.get(part or "")
    if later and near is not None and near.clock is not None and not near.clock["ampm"] and later <= at.hour < 12:
        at = at.replace(hour=at.hour + 12)
    return at


# --- Rules: each handler returns (spec, whether it used the time next to it), or None to skip -

Result = tuple[dict[str, Any], bool]
Handler = Callable[[re.Match[str], datetime, _Near | None], Result | None]


def _crontab(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    minute, hour, day, month, dow = match["fields"].split()
    if day not in ("*", "?") and dow not in ("*", "?"):
        # crontab fires when EITHER field matches, APScheduler only when both do.
        raise GrammarError(
            "A crontab line with both a day of the month and a day of the week means something "
            'different here, so please use only one, e.g. "cron 30 8 * * 1-5".'
        )
    spec = {"type": "cron", "minute": minute, "hour": hour, "day": day.replace("?", "*"),
            "month": month, "day_of_week": crontab_weekdays(dow)}  # fmt: skip
    return spec, False


def _short_crontab(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    raise GrammarError('A crontab line has 5 fields (minute hour day month weekday), e.g. "cron 30 8 * * 1-5".')


def _monthly_days(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    """ "on the 1st and 15th of every month": one cron with a list of days."""
    days = sorted({int(d) for d in re.findall(r"\d{1,2}", match["doms"])})
    if any(not 1 <= d <= 31 for d in days):
        raise GrammarError('A month has days 1 to 31. Try e.g. "on the 1st and 15th of every month at 9".')
    return _cron(_clock(near) or DEFAULT_TIME, day=",".join(map(str, days))), True


def _monthly(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    day = "last" if match["last"] else str(int(match["dom"]))
    if day != "last" and not 1 <= int(day) <= 31:
        raise GrammarError(f'A month has no day {day}. Try e.g. "on the 1st of every month at 10:00".')
    return _cron(_clock(near) or DEFAULT_TIME, day=day), True


def _hourly(match: re.Match[str], now: datetime, near: _Near | None) -> Result | None:
    """ "every hour on the hour", "every 2 hours at :15", "every hour from 9 to 17 on weekdays": a cron."""
    if not (match["align"] or match["range"]):
        return None  # a plain "every hour" counts from now
    step = int(match["n"] or 1)
    if not 1 <= step <= 12:
        raise GrammarError('Try e.g. "every 2 hours on the hour" or "every hour from 9 to 17".')
    minute = int(match["mm"] or match["mm2"] or {"quarter": 15, "half": 30}.get((match["q"] or "").lower(), 0))
    if match["halfhour"]:
        minute = 30
    hours = "*"
    if match["range"]:
        first, last = _hour_of(match["h1"], match["a1"] or (match["a2"] if int(match["h1"]) <= int(match["h2"]) else None)), _hour_of(match["h2"], match["a2"])
        if last < first and last < 12 and not match["a2"]:
            last += 12  # "from 9 to 5": until 17:00
        if not first < last <= 23:
            raise GrammarError('Please give the hours in order, e.g. "every hour from 9 to 17".')
        hours = f"{first}-{last}"
    if step > 1:
        hours += f"/{step}"
    days = render_weekdays(weekday_set(match["days"])) if match["days"] else "*"
    return {"type": "cron", "minute": str(minute), "hour": hours, "day": "*", "month": "*", "day_of_week": days}, False


def _hour_of(hour: str, ampm: str | None) -> int:
    value = int(hour)
    if ampm and value <= 12:
        value = value % 12 + (12 if ampm.lower().startswith("p") else 0)
    if value > 23:
        raise GrammarError(f'"{hour}" is not an hour. Try e.g. "every hour from 9 to 17".')
    return value


def _every_unit(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    count = _amount(match["n"]) if match["n"] else 2 if match["other"] else 1
    unit = _unit(match["unit"])
    days = weekday_set(match["days"]) if match["days"] else None
    uses_time = unit not in _SECONDS
    return _repeat(now, count, unit, days, _clock(near) if uses_time else None), uses_time


def _every_days(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    days = weekday_set(match["days"])
    if match.groupdict().get("other"):
        return _repeat(now, 2, "week", days, _clock(near)), True
    return _cron(_clock(near) or DEFAULT_TIME, day_of_week=render_weekdays(days)), True


def _day_list(match: re.Match[str], now: datetime, near: _Near | None) -> Result | None:
    days = weekday_set(match["days"])
    if len(days) < 2:
        return None
    return _cron(_clock(near) or DEFAULT_TIME, day_of_week=render_weekdays(days)), True


def _day_range(match: re.Match[str], now: datetime, near: _Near | None) -> Result | None:
    first, last = min(weekday_set(match["a"])), min(weekday_set(match["b"]))
    if first == last:
        return None
    days = set(range(first, last + 1)) if first < last else set(range(first, 7)) | set(range(last + 1))
    return _cron(_clock(near) or DEFAULT_TIME, day_of_week=render_weekdays(days)), True


def _every_part(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    return _cron(_clock(near, match["part"]) or DEFAULT_TIME), True


_ADVERBS = {"hourly": (1, "hour"), "daily": (1, "day"), "weekly": (1, "week"),
            "fortnightly": (2, "week"), "biweekly": (2, "week"), "bi-weekly": (2, "week"),
            "monthly": (1, "month"), "yearly": (1, "year"), "annually": (1, "year")}  # fmt: skip


def _adverb(match: re.Match[str], now: datetime, near: _Near | None) -> Result | None:
    # "daily" is a repeat in "stretch daily" or "daily at 7", but not in "the daily standup".
    before, after = match.string[: match.start()], match.string[match.end() :]
    # ("biweekly tuesdays 10am": with days named, a time may follow directly)
    alone = re.match(r"\s*(?:$|[,.;:!?]|(?:at|on|in|@|remind|to|from)\b)", after, re.I) or re.fullmatch(
        r"\s*(?:(?:hey|ok|please|remind me)\b[\s,]*)*", before, re.I
    )
    if not alone and not (match["days"] and re.match(r"\s*\d", after)):
        return None
    count, unit = _ADVERBS[match["word"].lower()]
    uses_time = unit not in _SECONDS
    days = weekday_set(match["days"]) if match.groupdict().get("days") else None
    return _repeat(now, count, unit, days, _clock(near) if uses_time else None), uses_time


_NTH = {"first": "1st", "1st": "1st", "second": "2nd", "2nd": "2nd", "third": "3rd", "3rd": "3rd",
        "fourth": "4th", "4th": "4th", "fifth": "5th", "5th": "5th", "last": "last"}  # fmt: skip
_NTH_WORD = r"(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)"
_NTH_ONE = r"(?:first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)"
_NTHS = rf"(?P<nths>{_NTH_ONE}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?:the\s+)?{_NTH_ONE})*)"


def _nth_weekday(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    """ "the first monday of every month": APScheduler's day field says "1st mon" / "last fri"."""
    day = WEEKDAYS[min(weekday_set(match["day"]))]
    nths = re.findall(_NTH_WORD.replace("(?P<nth>", "("), match["nths"], re.I)
    field = ",".join(f"{_NTH[nth.lower()]} {day}" for nth in dict.fromkeys(n.lower() for n in nths))
    return _cron(_clock(near) or DEFAULT_TIME, day=field), True


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)
_DATE_WORDS = (
    rf"(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})"
    rf"|(?P<m2>{_MONTH})\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:]))"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _yearly(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    """ "every year on 5 March", "every March 5th", "on 5 March every year"."""
    month = _MONTHS.index((match["m1"] or match["m2"])[:3].lower()) + 1
    day = int(match["d1"] or match["d2"])
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise GrammarError(f'{calendar.month_name[month]} has no day {day}. Please check the date, e.g. "every year on 5 March".')
    return _cron(_clock(near) or DEFAULT_TIME, day=str(day), month=str(month)), True


def _relative(match: re.Match[str], now: datetime, near: _Near | None) -> Result:
    seconds, days, months = 0.0, 0.0, 0.0
    for part in _COMPONENT_RE.finditer(match["dur"]):
        amount, unit = _amount(part["amount"]) + (0.5 if part["half"] else 0), _unit(part["unit"])
        if unit in _SECONDS:
            seconds += amount * _SECONDS[unit]
        elif unit == "month":
            months += amount
        elif unit == "year":
            months += amount * 12
        else:
            days += amount * {"week": 7, "fortnight": 14}.get(unit, 1)
    if seconds > _MAX_SECONDS or days > _MAX_SECONDS / 86400 or months > MAX_YEARS_AHEAD * 12:
        raise GrammarError(TOO_FAR)
    if months != int(months):
        raise GrammarError('Please use whole months, e.g. "in 2 months", or weeks: "in 6 weeks".')
    if seconds == days == months == 0:
        raise GrammarError('That is right now. Give me a time in the future, e.g. "in 10 minutes".')
    # Days and months move the wall clock (the same time in 3 days, even across a DST change);
    # hours and minutes are elapsed time.
    wall = _add_months(now.replace(tzinfo=None) + timedelta(days=days), int(months))
    at = _clock(near) if not seconds else None
    if at is not None:
        wall = datetime.combine(wall.date(), at)
    # Without days or months, start from ``now`` itself: the wall clock loses which pass of a
    # repeated hour it is. The seconds are added in UTC, since aware arithmetic in the user's
    # zone would move the wall clock, and "in 2 hours" be 1 or 3 hours on a DST change day.
    start = wall.replace(tzinfo=now.tzinfo) if days or months or at is not None else now
    return _date(start.astimezone(UTC) + timedelta(seconds=seconds)), at is not None


_EVERY = r"\b(?:every|each)\s+"
_ON_THE_HOUR = (
    r"(?P<align>\s*,?\s*(?:on\s+the\s+hour|(?P<halfhour>on\s+the\s+half\s+hour)|at\s+the\s+top\s+of\s+the\s+hour|at\s*:(?P<mm>[0-5]\d)"
    r"|at\s+(?:(?P<mm2>[1-5]?\d)\s+(?:minutes?\s+)?|(?P<q>quarter|half)\s+)past(?:\s+the\s+hour)?))?"
    r"(?P<range>\s*,?\s*(?:(?:from|between)\s+|(?=\d{1,2}(?::00)?\s*(?:[ap]\.?m\.?)?\s*-\s*\d))(?P<h1>\d{1,2})(?::00)?\s*(?P<a1>[ap]\.?m\.?)?\s*(?:to|till|until|and|-)\s*"
    r"(?P<h2>\d{1,2})(?::00)?\s*(?P<a2>[ap]\.?m\.?)?(?![\d:]))?"
    r"(?P<during>\s*,?\s*(?:on\s+|every\s+)?(?P<days>weekdays?|weekends?|(?:mon|tues|wednes|thurs|fri|satur|sun)days?(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?:mon|tues|wednes|thurs|fri|satur|sun)days?)*)(?![a-z]))?"
)
_ORD = r"\d{1,2}(?:st|nd|rd|th)"
_OF_EVERY_MONTH = r"(?:\s+(?:day\s+)?of\s+(?:the|every|each)\s+month)"
_QUOTE = "[`'\"]?"


def _rule(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# Tried in order; the first rule that matches anywhere in the message wins. Monthly rules come
# before "every <unit>" so that "every month on the 15th" keeps its day.
_RULES: list[tuple[re.Pattern[str], Handler]] = [
    # "cron 30 8 * * 1-5", and a line with too few fields
    (_rule(rf"\bcron\s*:?\s+{_QUOTE}(?P<fields>\S+\s+\S+\s+\S+\s+\S+\s+[^\s`'\"]+){_QUOTE}"), _crontab),
    (_rule(rf"\bcron\s*:?\s+{_QUOTE}[\d*]\S*(?:\s+[\d*]\S*)*"), _short_crontab),
    # "the first monday of every month", "every last friday of the month", "monthly on the 2nd tuesday"
    (_rule(rf"(?:{_EVERY}|\bon\s+)?(?:the\s+)?{_NTHS}\s+(?P<day>{_DAY})\s+(?:of\s+)?(?:every|each|the|a)\s+month\b"), _nth_weekday),
    (_rule(rf"(?:{_EVERY}(?:month\s+)?(?:on\s+)?|\bmonthly\s*,?\s+on\s+)(?:the\s+)?{_NTHS}\s+(?P<day>{_DAY})"), _nth_weekday),
    # "on the 1st of every month", "every month on the 15th", "every 15th", "every last day of the month"
    (_rule(rf"(?:\bon\s+)?\bthe\s+{_DOM}\s+(?:of\s+)?(?:every|each)\s+month\b"), _monthly),
    (_rule(rf"(?:{_EVERY}month|\bmonthly)\s*,?\s+(?:on\s+)?the\s+{_DOM}(?:\s+of\s+the\s+month)?"), _monthly),
    (_rule(rf"{_EVERY}(?:the\s+)?(?P<doms>{_ORD}(?:{_AND_JOIN}(?:the\s+)?{_ORD})+)(?!\s+{_DAY}){_OF_EVERY_MONTH}?"), _monthly_days),
    (_rule(rf"{_EVERY}(?:(?P<dom>\d{{1,2}})(?:st|nd|rd|th)(?!\s+{_DAY})|(?P<last>last)\s+day){_OF_EVERY_MONTH}?"), _monthly),
    # "every year on 5 March", "every March 5th", "on 5 March every year", "annually on 1 jan"
    (_rule(rf"(?:{_EVERY}year|\b(?:yearly|annually))\s*,?\s+(?:on\s+)?(?:the\s+)?{_DATE_WORDS}"), _yearly),
    (_rule(rf"{_EVERY}(?:the\s+)?{_DATE_WORDS}"), _yearly),
    (_rule(rf"(?:\bon\s+)?(?:the\s+)?{_DATE_WORDS}\s*,?\s+(?:every|each|a)\s+year\b"), _yearly),
    (_rule(rf"(?:\bon\s+)?\bthe\s+{_DOM}\s+of\s+the\s+month\b"), _monthly),
    (_rule(r"(?:\bon\s+)?(?:\bthe\s+)?\b(?P<last>last)\s+day\s+of\s+(?:the|every|each)\s+month\b"), _monthly),
    (_rule(rf"(?:\bon\s+)?(?:\bthe\s+)?(?P<doms>{_ORD}(?:{_AND_JOIN}(?:the\s+)?{_ORD})+)\s+(?:day\s+)?(?:of\s+)?(?:every|each|the)\s+month\b"), _monthly_days),
    (_rule(rf"(?:{_EVERY}month|\bmonthly)\s*,?\s+(?:on\s+)?(?:the\s+)?(?P<doms>{_ORD}(?:{_AND_JOIN}(?:the\s+)?{_ORD})+)"), _monthly_days),
    # "mon-fri at 7", "monday to friday at 8": a range of weekdays
    (_rule(rf"(?:\bon\s+|{_EVERY})?(?<!\bthe )(?P<a>{_DAY})\s*(?:-|–|\bto\b)\s*(?P<b>{_DAY})"), _day_range),
    # "every weekday", "every monday and friday", "every other friday", "every morning"
    (_rule(rf"{_EVERY}(?:(?P<other>other|second)\s+)?(?P<days>weekdays?|weekends?(?:\s+days?)?|{_DAYS})"), _every_days),
    (_rule(rf"{_EVERY}(?:day\s+(?:in\s+the\s+)?)?{_PART}"), _every_part),
    # "every hour on the hour", "every hour at :15", "every hour from 9 to 17 on weekdays"
    (_rule(rf"(?:{_EVERY}(?:(?P<n>\d{{1,2}})\s*)?(?:hours?|hrs?|h)(?![a-z])|\bhourly\b){_ON_THE_HOUR}"), _hourly),
    # "every 2 months on the 15th", "every other month on the last day"
    (_rule(rf"{_EVERY}(?:(?P<n>{_AMOUNT})|(?P<other>other|second)\s+)(?:months?|mos?)(?![a-z])\s*,?\s*(?:on\s+)?(?:the\s+)?(?:(?P<dom>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:.])|(?P<last>last))(?:\s+day)?(?:\s+of\s+the\s+month)?"), _monthly_every),
    # "every 2 hours", "every day", "every other week on monday"
    (_rule(rf"{_EVERY}(?:(?P<n>{_AMOUNT})|(?P<other>other|second)\s+)?(?P<unit>{_UNIT})(?:\s+on\s+(?P<days>{_DAYS}))?"), _every_unit),
    # "on weekdays", "on mondays and thursdays", "daily", "hourly"
    (_rule(rf"\bon\s+(?P<days>(?:weekdays|weekends|{_PLURAL_DAY})(?:{_JOIN}{_DAY})*)"), _every_days),
    (_rule(rf"\b(?P<word>hourly|daily|weekly|fortnightly|bi-?weekly|monthly|yearly|annually)\b(?:\s+(?:on\s+)?(?P<days>{_DAYS}))?"), _adverb),
    # "mon, wed and fri at 8": several weekdays named together repeat (one alone is a date)
    # ("mon wed fri at 6:30" too: a list joined by spaces, unless it is "the sun sat ...")
    (_rule(rf"(?:\bon\s+)?(?<!\bthe )(?<!\ba )(?<!\bmy )(?P<days>{_DAY}(?:(?:{_AND_JOIN}|\s+){_DAY})+)"), _day_list),
    # "in 10 minutes", "in an hour and a half", "10 minutes from now"
    (_rule(rf"\b(?:in|after|within)\s+(?P<dur>{_DURATION})(?:\s+from\s+now)?"), _relative),
    (_rule(rf"(?<![\w.])(?P<dur>{_DURATION})\s+from\s+now"), _relative),
]  # fmt: skip


def find(text: str, now: datetime) -> Found | None:
    """Find the first phrase this grammar knows in ``text`` and build its spec.

    Args:
        text: the message, with runs of whitespace collapsed.
        now: the current time, aware and in the user's zone.

    Returns:
        The phrase's span with its spec or a user-facing error, or None if no rule matched.
    """
    for pattern, handler in _RULES:
        for match in pattern.finditer(text):
            near = _time_next_to(text, match.start(), match.end())
            far = _time_later(text, match.end()) if near is None else None
            try:
                result = handler(match, now, near or far)
            except GrammarError as exc:
                return Found((_span(match, near),), spec=None, error=str(exc))
            if result is not None:
                spec, used_near = result
                if far is not None and used_near:
                    return Found((match.span(), (far.start, far.end)), spec=spec)
                return Found((_span(match, near if used_near else None),), spec=spec)
    return None


_LATER_CLOCK = re.compile(r"(?:at|@)\s*\S", re.I)
_AT_THE_END = re.compile(r"\s*(?:[.!]+\s*)?(?:please|pls|thanks)?[.!]*\s*$", re.I)


def _time_later(text: str, end: int) -> _Near | None:
    """ "on the last day of every month to pay rent at 9am": the one time said after the text.

    Only an "at 9am" ending the message and the single clock after the repeat counts; "the 9:30
    train" or "moved to 3pm" don't.
    """
    clocks = [m for m in TIME_RE.finditer(text, end) if _LATER_CLOCK.match(text, m.start()) and _AT_THE_END.match(text, m.end())]
    if len(clocks) != 1 or len(list(TIME_RE.finditer(text, end))) != 1:
        return None
    clock = clocks[0]
    return _Near(clock.start(), clock.end(), clock, None)


def _span(match: re.Match[str], near: _Near | None) -> tuple[int, int]:
    if near is None:
        return match.start(), match.end()
    return min(match.start(), near.start), max(match.end(), near.end)


# --- Compound schedules: more times, exceptions and an end ---------------------------------
#
# These refine a repeat the rules above found: "every day at 7am and 7pm", "every weekday at 9
# except friday", "every monday until 31 March", "every day for 3 weeks", "every day 10 times".
# Each returns the refined spec and the spans it understood, or leaves the spec alone, so the
# words stay for dialogs.timeparse to name back as not understood.

_MORE_TIME = re.compile(r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?=(?:at\s+|@\s*)?\d|noon|midnight|midday)", re.I)
_TIME_THEN_JOIN = re.compile(r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)$", re.I)
_EXCEPT = re.compile(
    rf"\s*,?\s*(?:except(?:\s+for)?|but(?:\s+not)?|excluding|apart\s+from|other\s+than|not\s+on|skipping)\s+"
    rf"(?:on\s+)?(?:the\s+)?(?P<days>weekdays?|weekends?|{_DAYS})",
    re.I,
)


# "every day at 9 and 13": after a first time, a bare hour on the 24-hour clock is a time too.
_BARE_MORE = re.compile(
    r"(?P<hour>[01]?\d|2[0-3])(?!\d|[:.,]\d)"
    r"(?=\s*(?:$|[,.;!?]|(?:to|every|each|daily|on|and|or|remind|except|until|for)\b|&))",
    re.I,
)


# "every day at 9 and 17 take pills": an hour past noon can only be a clock time, text or not after it.
_BARE_AFTERNOON = re.compile(
    r"(?P<hour>1[3-9]|2[0-3])(?!\d|[:.,]\d)(?!\s*(?:%|(?:minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|times)\b))", re.I
)
_BARE_BEFORE = re.compile(r"(?<![\w:.])(?P<hour>[01]?\d|2[0-3])$")


def _times_before(text: str, start: int) -> list[tuple[int, time]]:
    """ "at 9, 13 and 17 every day": the times listed before the one at ``start``, leftmost first.

    Each is (where it starts, its time). The list must begin with a written time ("at 9", "9am");
    hours given bare after it count only in rising order (so "at 9 and 5" is asked about).
    """
    items: list[tuple[int, time, bool]] = []
    while (join := _TIME_THEN_JOIN.search(text, 0, start)) is not None:
        written = [m for m in TIME_RE.finditer(text, 0, join.start()) if m.end() == join.start()]
        if written:
            items.append((written[-1].start(), time_of_day(written[-1]), True))  # type: ignore[arg-type]
        elif bare := _BARE_BEFORE.search(text, 0, join.start()):
            items.append((bare.start(), time(int(bare["hour"]), 0), False))
        else:
            break
        start = items[-1][0]
    while items and not items[-1][2]:
        items.pop()
    items.reverse()
    return [(at, clock) for at, clock, _ in items]


def bare_hour_before(text: str, start: int) -> tuple[int, int, time] | None:
    """ "at 9 and 17 every day": the bare last hour of a list of times right before ``start``."""
    gap = re.search(r"\s*,?\s*$", text[:start])
    end = gap.start() if gap else start
    bare = _BARE_BEFORE.search(text, 0, end)
    if bare is None:
        return None
    listed = _times_before(text, bare.start())
    hour = int(bare["hour"])
    if not listed or listed[-1][1].hour >= hour:
        return None
    return bare.start(), bare.end(), time(hour, 0)


def _single_clock(spec: dict[str, Any]) -> time | None:
    if spec.get("type") != "cron" or not (spec["hour"].isdigit() and spec["minute"].isdigit()):
        return None
    if int(spec["hour"]) > 23 or int(spec["minute"]) > 59:
        return None  # a bad crontab line: APScheduler's refusal says why
    return time(int(spec["hour"]), int(spec["minute"]))


def _with_times(spec: dict[str, Any], times: list[time]) -> dict[str, Any]:
    times = sorted(set(times))
    if len({t.minute for t in times}) == 1:
        return {**spec, "hour": ",".join(str(t.hour) for t in times), "minute": str(times[0].minute)}
    base = {k: v for k, v in spec.items() if k not in ("tz", "end")}
    parts = [{**base, "hour": str(t.hour), "minute": str(t.minute)} for t in times]
    return {"type": "multi", "parts": parts}


def more_times(text: str, span: tuple[int, int], spec: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """ "every day at 7am and 7pm": the times joined to a daily/weekly/monthly repeat's time."""
    first = _single_clock(spec)
    if first is None:
        return spec, []
    times, spans = [first], []
    start, end = span
    while join := _MORE_TIME.match(text, end):
        clock = TIME_RE.match(text, join.end()) or _BARE_MORE.match(text, join.end())
        if clock is None and (clock := _BARE_AFTERNOON.match(text, join.end())) is not None:
            if int(clock["hour"]) <= max(t.hour for t in times):
                clock = None
        if clock is None:
            break
        at = time_of_day(clock) if clock.re is TIME_RE else time(int(clock["hour"]), 0)
        times.append(at)  # type: ignore[arg-type]
        spans.append((join.start(), clock.end()))
        end = clock.end()
    listed = _times_before(text, start)
    if listed and all(a.hour < b.hour for (_, a), b in zip(listed, [t for _, t in listed[1:]] + [first])):
        times.extend(clock for _, clock in listed)
        spans.append((listed[0][0], start))
    elif listed and all(TIME_RE.match(text, at) for at, _ in listed):
        times.extend(clock for _, clock in listed)  # written times ("at 9pm and 7am every day"): any order
        spans.append((listed[0][0], start))
    if len(times) == 1:
        return spec, []
    return _with_times(spec, times), spans


def _parts(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["parts"] if spec.get("type") == "multi" else [spec]


def find_exception(text: str) -> re.Match[str] | None:
    """ "except friday", "but not on weekends": found before the time, so it can stand anywhere."""
    return _EXCEPT.search(text)


def exceptions(match: re.Match[str], spec: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """ "every weekday at 9 except friday": weekdays taken out of a weekly repeat."""
    parts = _parts(spec)
    if any(p.get("type") != "cron" or p["day"] != "*" or p["month"] != "*" for p in parts):
        return spec, []
    allowed = _weekday_field(parts[0]["day_of_week"])
    if allowed is None:
        return spec, []
    remaining = allowed - weekday_set(match["days"])
    if remaining == allowed:
        return spec, []  # "every monday except friday": nothing to take out, so name it back
    if not remaining:
        raise GrammarError('That leaves no day to remind you on. Try e.g. "every weekday at 9 except friday".')
    field = render_weekdays(remaining)
    new_parts = [{**p, "day_of_week": field} for p in parts]
    new = {**spec, "parts": new_parts} if spec.get("type") == "multi" else new_parts[0]
    return new, [match.span()]


def _weekday_field(field: str) -> set[int] | None:
    days: set[int] = set()
    if field == "*":
        return set(range(7))
    for part in field.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in WEEKDAYS for e in ends):
            return None
        days.update(range(WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1]) + 1))
    return days


#: "until 31 March", "till friday", "for 3 weeks", "10 times": where a repeat ends.
END_RE = re.compile(
    rf"(?:\s*,)?\s*(?:\b(?P<until>until|till|til|untill|through|thru|up\s+to|ending(?:\s+on)?|to\s+the\s+end\s+of)\s+(?P<date>\S.*)"
    rf"|\bfor\s+(?:the\s+next\s+)?(?P<dur>{_DURATION}|(?:an?\s+)?(?:hour|day|week|fortnight|month|year)(?![a-z]))"
    rf"|\b(?P<count>\d{{1,4}}|{_WORDS})\s+times\b(?!\s+(?:a|an|per|each|in)\b|\s+every\s+(?!\d)))",
    re.I,
)
MAX_COUNT = 1000


def duration_end(text: str, now: datetime) -> datetime:
    """ "3 weeks" -> now plus three weeks, on the wall clock for days and longer."""
    seconds, days, months = 0.0, 0.0, 0.0
    if not _COMPONENT_RE.match(text):
        text = "1 " + re.sub(r"^an?\s+", "", text, flags=re.I)  # "for the next hour", "for a week"
    for part in _COMPONENT_RE.finditer(text):
        amount, unit = _amount(part["amount"]) + (0.5 if part["half"] else 0), _unit(part["unit"])
        if unit in _SECONDS:
            seconds += amount * _SECONDS[unit]
        elif unit in ("month", "year"):
            months += amount * (12 if unit == "year" else 1)
        else:
            days += amount * {"week": 7, "fortnight": 14}.get(unit, 1)
    if seconds > _MAX_SECONDS or days > _MAX_SECONDS / 86400 or months > MAX_YEARS_AHEAD * 12:
        raise GrammarError(TOO_FAR)
    if months != int(months) or seconds == days == months == 0:
        raise GrammarError('Please say how long in whole units, e.g. "for 3 weeks".')
    wall = _add_months(now.replace(tzinfo=None) + timedelta(days=days), int(months))
    return wall.replace(tzinfo=now.tzinfo).astimezone(UTC) + timedelta(seconds=seconds)


def count_of(word: str) -> int:
    value = int(_NUMBER_WORDS.get(word.lower(), word)) if not word.isdigit() else int(word)
    if not 1 <= value <= MAX_COUNT:
        raise GrammarError(f"I can count between 1 and {MAX_COUNT} times.")
    return value
