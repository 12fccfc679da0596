"""The chat's short commands ("my reminders", "cancel 3", "snooze 2 1h", ...), parsed to data."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Short ids are small positive integers; anything longer can't name a reminder and must not
# reach the database as an out-of-range integer.
_NUMBER = r"#?(\d{1,9})"


@dataclass(frozen=True)
class Command:
    """A parsed command: ``name`` plus the reminder number, minutes or zone it names."""

    name: str
    number: int | None = None
    minutes: int | None = None
    argument: str | None = None


_UNITS = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60}

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("help", re.compile(r"(help|\?|commands|what can you do\??)")),
    ("list", re.compile(r"(my reminders|reminders|list|list( my)? reminders|show( my)? reminders)")),
    ("cancel_all", re.compile(r"(cancel|delete|remove) all( my)?( reminders)?")),
    ("cancel", re.compile(rf"(?:cancel|delete|remove)(?: reminder)? {_NUMBER}")),
    ("pause", re.compile(rf"pause(?: reminder)? {_NUMBER}")),
    ("resume", re.compile(rf"(?:resume|unpause)(?: reminder)? {_NUMBER}")),
    (
        "snooze",
        re.compile(
            rf"snooze(?: reminder)? {_NUMBER}(?: (?:for )?(\d{{1,6}}) ?({'|'.join(_UNITS)}))?"
        ),
    ),
    ("done", re.compile(rf"(?:done|ack|dismiss)(?: reminder)? {_NUMBER}")),
    ("show_timezone", re.compile(r"(what is |what's )?(my )?time ?zone\??|(set )?(my )?time ?zone (to|is):?")),
    ("set_timezone", re.compile(r"(?:set )?(?:my )?time ?zone(?: to| is|:)? +(\S+)")),
]


def parse_command(text: str) -> Command | None:
    """Return the command ``text`` is, or None when it is not one of the commands."""
    cleaned = " ".join(text.strip().rstrip(".!").split())
    lowered = cleaned.lower()
    for name, pattern in _PATTERNS:
        match = pattern.fullmatch(lowered)
        if match is None:
            continue
        if name in ("cancel", "pause", "resume", "done"):
            return Command(name, number=int(match.group(1)))
        if name == "snooze":
            amount, unit = match.group(2), match.group(3)
            minutes = int(amount) * _UNITS[unit] if amount else 10
            return Command(name, number=int(match.group(1)), minutes=minutes)
        if name == "set_timezone":
            # Keep the zone's original case: "Europe/Prague", not "europe/prague".
            original = re.fullmatch(r"(?i)(?:set )?(?:my )?time ?zone(?: to| is|:)? +(\S+)", cleaned)
            return Command(name, argument=original.group(1) if original else match.group(1))
        return Command(name)
    return None
