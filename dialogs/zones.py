"""Time zones as users and channels name them: which IANA zone a name means, the zone a
channel reports, and how a zone is shown back to the user.

A user may name a zone by its IANA name ("Europe/Prague"), a city ("london", "new york": every
IANA zone's city, plus a few big cities that share another's zone), a common abbreviation
("PST", "CET", "IST") or a UTC offset ("UTC+2", "GMT-5", "+05:30"). Abbreviations are read as the
region people mean, DST included: "9am PST" in July is Los Angeles' 09:00 (PDT), since that is
what people who write PST all year mean. Offsets are fixed zones without DST. The tables are
hand-written (the IANA database has no abbreviation index, and its abbreviations are ambiguous:
CST is Chicago and China); where an abbreviation has two readings the more common one in chat is
taken and stated in ``ABBREVIATIONS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from botbuilder.core import TurnContext

from models.schedule import zone_label

#: Abbreviation -> the zone it is read as. IST is India (not Ireland or Israel), CST is
#: US Central (not China), BST is British Summer Time.
ABBREVIATIONS = {
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PT": "America/Los_Angeles",
    "MST": "America/Denver", "MDT": "America/Denver", "MT": "America/Denver",
    "CST": "America/Chicago", "CDT": "America/Chicago", "CT": "America/Chicago",
    "EST": "America/New_York", "EDT": "America/New_York", "ET": "America/New_York",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage", "HST": "Pacific/Honolulu",
    "UTC": "UTC", "GMT": "UTC", "Z": "UTC", "BST": "Europe/London", "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon", "CET": "Europe/Berlin", "CEST": "Europe/Berlin",
    "EET": "Europe/Athens", "EEST": "Europe/Athens", "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata", "PKT": "Asia/Karachi", "SGT": "Asia/Singapore", "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
    "ACST": "Australia/Adelaide", "AWST": "Australia/Perth", "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland", "SAST": "Africa/Johannesburg", "EAT": "Africa/Nairobi",
    "WAT": "Africa/Lagos", "BRT": "America/Sao_Paulo",
}  # fmt: skip

# Cities (and a few countries) that are not the city of their IANA zone.
_PLACES = {
    "nyc": "America/New_York", "new york city": "America/New_York", "boston": "America/New_York",
    "washington": "America/New_York", "miami": "America/New_York", "atlanta": "America/New_York",
    "philadelphia": "America/New_York", "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles", "seattle": "America/Los_Angeles", "portland": "America/Los_Angeles",
    "san diego": "America/Los_Angeles", "las vegas": "America/Los_Angeles", "la": "America/Los_Angeles",
    "dallas": "America/Chicago", "houston": "America/Chicago", "austin": "America/Chicago",
    "munich": "Europe/Berlin", "frankfurt": "Europe/Berlin", "hamburg": "Europe/Berlin",
    "milan": "Europe/Rome", "barcelona": "Europe/Madrid", "geneva": "Europe/Zurich",
    "edinburgh": "Europe/London", "manchester": "Europe/London", "uk": "Europe/London",
    "england": "Europe/London", "brno": "Europe/Prague", "czechia": "Europe/Prague",
    "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "india": "Asia/Kolkata",
    "beijing": "Asia/Shanghai", "shenzhen": "Asia/Shanghai", "china": "Asia/Shanghai",
    "japan": "Asia/Tokyo", "osaka": "Asia/Tokyo", "hong kong": "Asia/Hong_Kong",
    "melbourne": "Australia/Melbourne", "canberra": "Australia/Sydney", "wellington": "Pacific/Auckland",
    "eastern": "America/New_York", "pacific": "America/Los_Angeles", "central": "America/Chicago",
    "mountain": "America/Denver", "us eastern": "America/New_York", "us pacific": "America/Los_Angeles",
    "us central": "America/Chicago", "us mountain": "America/Denver", "east coast": "America/New_York",
    "west coast": "America/Los_Angeles", "uk": "Europe/London", "british": "Europe/London",
    "central european": "Europe/Berlin", "saigon": "Asia/Ho_Chi_Minh", "kiev": "Europe/Kyiv", "rio": "America/Sao_Paulo",
}  # fmt: skip

# Offsets that are not whole hours have no Etc/ zone; each maps to a zone that keeps that
# offset all year (no DST).
_HALF_HOURS = {
    (5, 30): "Asia/Kolkata", (5, 45): "Asia/Kathmandu", (4, 30): "Asia/Kabul",
    (6, 30): "Asia/Yangon", (9, 30): "Australia/Darwin", (3, 30): "Asia/Tehran",
    (-9, -30): "Pacific/Marquesas", (8, 45): "Australia/Eucla", (12, 45): "Pacific/Chatham",
}  # fmt: skip

_OFFSET = re.compile(
    r"(?:(?P<base>utc|gmt)\s*)?(?P<sign>[+\-−])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.I
)


# Zone names that are regions or research stations, not cities people say.
_NOT_CITIES = ("Etc", "SystemV", "US", "Canada", "Brazil", "Chile", "Mexico", "Antarctica")


@cache
def _zones_by_lowercase() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


@cache
def _cities() -> dict[str, str]:
    """City name (lowercase, spaces) -> IANA zone, from the zone names themselves."""
    cities: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        area, _, city = zone.rpartition("/")
        if area and not area.startswith(_NOT_CITIES) and zone not in ("Indian/Christmas", "Pacific/Easter"):
            cities.setdefault(city.replace("_", " ").lower(), zone)
    cities.update(_PLACES)
    return cities


def valid_zone(name: str) -> str | None:
    """The IANA zone ``name`` names (case-insensitively), or None."""
    candidate = name.strip()
    if not candidate or len(candidate) > 64 or ".." in candidate or "\x00" in candidate:
        return None
    try:
        ZoneInfo(candidate)
        return candidate
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    return _zones_by_lowercase().get(candidate.lower())


def offset_zone(hours: int, minutes: int = 0) -> str | None:
    """A zone with this fixed UTC offset (``minutes`` has the sign of ``hours``), or None."""
    if minutes == 0:
        if hours == 0:
            return "UTC"
        # POSIX zone names have the sign inverted: UTC+1 is Etc/GMT-1.
        return f"Etc/GMT{-hours:+d}" if -12 <= hours <= 14 else None
    return _HALF_HOURS.get((hours, minutes))


def _offset(text: str) -> str | None:
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    if match["base"] is None and match["m"] is None and len(text.strip()) < 3:
        return None  # a bare "+2" is too little to go on
    sign = -1 if match["sign"] in "-−" else 1
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if minutes >= 60:
        return None
    return offset_zone(sign * hours, sign * minutes)


def resolve_zone(text: str) -> str | None:
    """The IANA zone a user's words name, or None when they name none.

    "Europe/Prague", "prague", "new york", "PST", "cet", "UTC+2", "GMT-5", "+05:30" (with or
    without a trailing "time").
    """
    words = " ".join(text.split()).strip(" .!?,")
    words = re.sub(r"\s+time$", "", words, flags=re.I)
    if not words or len(words) > 64:
        return None
    if words.upper() in ("UTC", "GMT", "Z", "ZULU"):
        return "UTC"
    zone = valid_zone(words)
    if zone is not None and "/" in zone:
        return zone
    if words.upper() in ABBREVIATIONS:
        return ABBREVIATIONS[words.upper()]
    offset = _offset(words)
    if offset is not None:
        return offset
    city = _cities().get(words.lower())
    if city is not None:
        return city
    return zone  # legacy names such as "Singapore" or "Cuba" that are zones themselves


def zone_short_label(tz: str) -> str:
    """A short name for a zone inside a sentence: "London", "New York", "UTC+02:00"."""
    label = zone_label(tz)
    if label.startswith("UTC"):
        return label
    return label.rpartition("/")[2].replace("_", " ")


@dataclass(frozen=True)
class ZoneMention:
    """A zone named inside a message: the zone, where the words stand, and the words."""

    zone: str
    start: int
    end: int
    words: str


_ABBR_ALT = "|".join(sorted((a for a in ABBREVIATIONS if len(a) >= 3), key=len, reverse=True))
# An abbreviation counts in capitals anywhere ("17:00 CET"), in any case right after a time
# ("9am pst"); "et"/"pt"/"z" only in capitals after a time, as they are also words or letters.
_ABBR_ANY = re.compile(rf"(?<![\w/])(?:in\s+)?(?P<abbr>{_ABBR_ALT})(?![\w/+\-−])")
_ABBR_AFTER_TIME = re.compile(
    rf"(?:(?<=\d)|(?<=[ap]m)|(?<=[ap]\.m\.)|(?<=o'clock))\s*(?P<abbr>{_ABBR_ALT}|(?-i:ET|PT|CT|MT|Z))(?![\w/+\-−])",
    re.I,
)
_OFFSET_IN_TEXT = re.compile(
    r"(?<![\w+\-])(?:in\s+)?(?P<abbr>(?:utc|gmt)\s*[+\-−]\s*\d{1,2}(?::?\d{2})?|(?:utc|gmt)(?![\w+\-]))(?![\w:])"
    r"|(?<=\d)\s+(?P<bare>[+\-−]\d{2}:?\d{2})(?![\w:])",
    re.I,
)
# "at 6pm in Sydney": a place right after a clock time is the clock's place.
_IN_PLACE_AFTER_TIME = re.compile(
    r"(?:(?<=\d)|(?<=[ap]m)|(?<=[ap]\.m\.)|(?<=noon)|(?<=midnight))\s+(?P<in>in)\s+"
    r"(?P<place>[A-Za-z][\w.'-]*(?:\s+[A-Za-z][\w.'-]*)?)",
    re.I,
)
_PLACE_TIME = re.compile(r"(?<![\w/])(?:in\s+)?(?P<place>(?:[A-Za-z][\w.'/-]*\s+){0,2}?[A-Za-z][\w.'/-]*)\s+time\b", re.I)


def find_zone(text: str) -> ZoneMention | None:
    """The first zone named in a message: "3pm London time", "9am PST", "17:00 CET", "10 UTC+2".

    A city needs the word "time" after it ("London time"), since "call London" or "in Paris"
    is about a place, not a clock.
    """
    found: list[ZoneMention] = []
    for match in _PLACE_TIME.finditer(text):
        words = match["place"].split()
        for first in range(len(words)):  # "call Bob at 3pm New York time": try "bob at 3pm new york", ...
            place = " ".join(words[first:])
            zone = resolve_zone(place)
            if zone is not None and ("/" in zone or zone == "UTC"):
                start = match.start("place") + match["place"].lower().rindex(place.lower())
                lead = re.search(r"\bin\s+$", text[:start], re.I)
                found.append(ZoneMention(zone, lead.start() if lead else start, match.end(), text[start : match.end()]))
                break
    for match in _IN_PLACE_AFTER_TIME.finditer(text):
        words = match["place"].split()
        for count in range(len(words), 0, -1):  # "in New York" before "in New"
            place = " ".join(words[:count])
            zone = resolve_zone(place)
            if zone is not None and ("/" in zone or zone == "UTC"):
                end = match.start("place") + len(place)
                found.append(ZoneMention(zone, match.start("in"), end, text[match.start("in") : end]))
                break
    for pattern in (_ABBR_ANY, _ABBR_AFTER_TIME):
        for match in pattern.finditer(text):
            if pattern is _ABBR_ANY and not match["abbr"].isupper():
                continue
            zone = ABBREVIATIONS.get(match["abbr"].upper())
            if zone is not None:
                start = match.start("abbr") if pattern is _ABBR_AFTER_TIME else match.start()
                found.append(ZoneMention(zone, start, match.end(), match["abbr"]))
    for match in _OFFSET_IN_TEXT.finditer(text):
        words = match["abbr"] or match["bare"]
        zone = resolve_zone(words)
        if zone is not None:
            start = match.start() if match["abbr"] else match.start("bare")
            found.append(ZoneMention(zone, start, match.end(), words))
    return min(found, key=lambda mention: (mention.start, -mention.end), default=None)


def zone_from_activity(turn_context: TurnContext) -> tuple[str, str] | None:
    """The user's zone as the channel tells it: (zone, source) or None.

    Web Chat sends ``localTimezone`` (an IANA name); the Emulator and others send only
    ``localTimestamp``, whose UTC offset maps to a fixed zone (no DST rules), shown by
    ``zone_label`` as "UTC−05:00".
    """
    activity = turn_context.activity
    if activity.local_timezone:
        zone = valid_zone(activity.local_timezone)
        if zone:
            return zone, "channel"
    stamp = activity.local_timestamp
    if stamp is not None and stamp.tzinfo is not None:
        offset = stamp.utcoffset() or timedelta(0)
        total_minutes = int(offset.total_seconds()) // 60
        sign = -1 if total_minutes < 0 else 1
        hours, minutes = divmod(abs(total_minutes), 60)
        zone = offset_zone(sign * hours, sign * minutes)
        if zone is not None:
            return zone, "offset"
    return None
