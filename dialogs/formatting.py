"""How the chat shows times, zones, prices and long texts: one place for the dialogs' wording.

``format_price`` is re-exported from ``models`` and ``format_local`` wraps ``models.schedule``'s
(the scheduler, which may not import ``dialogs``, formats delivered messages with them); the
dialogs import both from here, so the chat's formatting can change in one module.
"""

from __future__ import annotations

from datetime import datetime

from dialogs.zones import zone_label
from models.alerts import format_price
from models.schedule import format_local as _format_local
from models.text import ELLIPSIS, shorten

__all__ = ["ELLIPSIS", "ZONE_EXAMPLES", "cancel_all_question", "format_local", "format_price", "plural", "shorten", "when", "zone_label"]

# What "set my timezone to ..." and the zone question accept (dialogs.zones.resolve_zone).
ZONE_EXAMPLES = (
    'Name a city ("London", "New York"), an abbreviation ("PST", "CET"), an offset ("UTC+2") '
    'or an IANA name ("Europe/Prague").'
)


def format_local(moment: datetime, tz: str) -> str:
    """An instant in ``tz``, e.g. "Tue 24 Nov 2026 14:05 CET"; a fixed-offset zone (known only
    from the channel's UTC offset) ends with its offset, "UTC−05:00", not "-05" or "Etc/GMT+5"."""
    text = _format_local(moment, tz)
    if tz.startswith("Etc/"):
        head, _, _name = text.rpartition(" ")
        return f"{head} {zone_label(tz)}"
    return text


def when(moment: datetime | None, tz: str) -> str:
    """An instant in ``tz`` as confirmations show it, or "(not scheduled)"."""
    return format_local(moment, tz) if moment is not None else "(not scheduled)"


def plural(count: int, noun: str) -> str:
    """ "1 reminder", "3 reminders"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def cancel_all_question(count: int, noun: str) -> str:
    """The confirmation a bulk cancel asks first: "Cancel all 3 reminders? ..."."""
    what = f"your 1 {noun}" if count == 1 else f"all {count} {noun}s"
    return f"Cancel {what}? Nothing is cancelled until you say yes."
