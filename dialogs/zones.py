"""Time zones as users and channels name them: which IANA zone a name means, the zone a
channel reports, and how a zone is shown back to the user."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from botbuilder.core import TurnContext


@cache
def _zones_by_lowercase() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def valid_zone(name: str) -> str | None:
    """The IANA zone ``name`` names (case-insensitively), or None."""
    candidate = name.strip()
    if not candidate or len(candidate) > 64 or ".." in candidate:
        return None
    try:
        ZoneInfo(candidate)
        return candidate
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return _zones_by_lowercase().get(candidate.lower())


def resolve_zone(text: str) -> str | None:
    """The IANA zone a user's words name ("Europe/Prague"), or None when they name none."""
    return valid_zone(text)


def zone_label(tz: str) -> str:
    """How a zone is shown to the user."""
    return tz


def zone_from_activity(turn_context: TurnContext) -> tuple[str, str] | None:
    """The user's zone as the channel tells it: (zone, source) or None.

    Web Chat sends ``localTimezone`` (an IANA name); the Emulator and others send only
    ``localTimestamp``, whose UTC offset maps to a fixed ``Etc/GMT`` zone (no DST rules).
    """
    activity = turn_context.activity
    if activity.local_timezone:
        zone = valid_zone(activity.local_timezone)
        if zone:
            return zone, "channel"
    stamp = activity.local_timestamp
    if stamp is not None and stamp.tzinfo is not None:
        offset = stamp.utcoffset() or timedelta(0)
        hours, remainder = divmod(int(offset.total_seconds()), 3600)
        if remainder == 0 and -12 <= hours <= 14:
            # POSIX zone names have the sign inverted: UTC+1 is Etc/GMT-1.
            return ("UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"), "offset"
    return None
