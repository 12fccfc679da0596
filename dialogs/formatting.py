"""How the chat shows times, zones, prices and long texts: one place for the dialogs' wording.

``format_price``, ``format_local`` and ``zone_label`` are re-exported from ``models`` (the
scheduler, which may not import ``dialogs``, formats delivered messages with them too, so a
delivered alert shows its time exactly as the chat does); the dialogs import them from here.
"""

from __future__ import annotations

from datetime import datetime

from models.alerts import format_price
from models.schedule import format_local, zone_label
from models.text import ELLIPSIS, shorten

__all__ = ["ELLIPSIS", "ZONE_EXAMPLES", "cancel_all_question", "format_local", "format_price", "plural", "shorten", "when", "zone_label"]

# What "set my timezone to ..." and the zone question accept (dialogs.zones.resolve_zone).
ZONE_EXAMPLES = (
    'Name a city ("London", "New York"), an abbreviation ("PST", "CET"), an offset ("UTC+2") '
    'or an IANA name ("Europe/Prague").'
)


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
