"""The chat's reminder commands ("my reminders", "cancel 3", "move 3 to 5pm", "undo", ...),
parsed to data.

The grammar here is deliberately small and hand-written (regular expressions over the
whitespace-normalised, lower-cased message): each command is a verb, an optional target (a
number, "last", or words of the reminder's text) and an optional argument after "to". What a
time argument means is left to ``dialogs.timeparse``, so no time grammar lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Short ids are small positive integers; anything longer can't name a reminder (or an alert)
# and must not reach the database as an out-of-range integer.
NUMBER = r"#?(\d{1,9})"
DEFAULT_SNOOZE_MINUTES = 10


@dataclass(frozen=True)
class Command:
    """A parsed command: ``name`` plus what it names.

    Attributes:
        name: help, list, cancel_all, cancel, pause, resume, snooze, done, show_timezone,
            set_timezone, edit (``field`` "when", "text", "shift" by ``minutes``, "ask", or None:
            a time if it reads as one), undo, find_cancel, find_edit (``target`` the words to
            look the reminder up by). A snooze has ``minutes`` or ``argument``, the time it lasts until.
        number: the reminder's short number; None with ``target`` "last" or words, or for a
            bare "snooze" (the reminder delivered last).
        minutes: the snooze length.
        argument: the zone name, the new time or text, or the words to look a reminder up by.
        target: "last" for "the last one"; otherwise None.
        field: for edit: what the user said to change.
    """

    name: str
    number: int | None = None
    minutes: int | None = None
    argument: str | None = None
    target: str | None = None
    field: str | None = None


# Minutes in each unit people give a snooze in (reminders and alerts alike).
DURATION_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
}
DURATION_UNIT = "|".join(sorted(DURATION_UNITS, key=len, reverse=True))
# Up to 20 digits: a huge snooze is refused with its reason rather than not understood.
_LENGTH = rf"(?:for )?(\d{{1,20}}|an?|one) ?({DURATION_UNIT})"
_LAST = r"(?:the |my )?(?:last|latest)(?: one| reminder)?|that(?: one| reminder)?|it"
# A reminder named by number or as "the last one".
_REF = rf"(?:reminder )?(?:{NUMBER}|({_LAST}))"
_EDIT_VERB = r"(?:change|edit|update|modify|set)"
_MOVE_VERB = r"(?:move|reschedule|postpone|push|shift)"
# "set my timezone to X" and its variants; the zone name is the one group that matched.
_ZONE = (
    r"(?:set|change|switch|update) (?:my )?(?:time ?zone|tz)(?: to| is|:)? +(.+)"
    r"|(?:my )?(?:time ?zone|tz)(?: to| is|:) *(.+)|time ?zone +(.+)"
    r"|use (.+?) as my (?:time ?zone|tz)|switch me to (.+)"
    r"|(?:i'?m|i am) (?:now )?(?:in|living in|based in) (.+?)(?: now)?|i(?:'ve| have)? (?:just )?moved to (.+?)(?: now)?"
)
_ORIGINAL_ZONE = re.compile("(?i)" + _ZONE)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("help", re.compile(r"(help|\?|commands|what can you do\??)")),
    ("list", re.compile(r"(my reminders|reminders|list|list( my)? reminders|show( my)? reminders|show me my reminders)")),
    # Asked as a question: "what reminders do I have?", "which reminders are set", "do I have any reminders?"
    ("list", re.compile(r"(?:what|which|any)(?: are)?(?: my)? reminders(?: (?:do i have|have i got|are (?:there|set|left|coming up)|i have))?(?: now| today)? ?\??"
                        r"|(?:what are|what's|whats) my reminders ?\??|(?:do i have|have i got) any reminders(?: set| left)? ?\??")),
    ("cancel_all", re.compile(r"(cancel|delete|remove|clear) (all( of)?( my)?( reminders)?|everything|all of them)")),
    ("cancel", re.compile(rf"(?:cancel|delete|remove) {_REF}")),
    ("pause", re.compile(rf"pause {_REF}")),
    ("resume", re.compile(rf"(?:resume|unpause) {_REF}")),
    ("snooze", re.compile(rf"snooze(?: {_REF})?(?: {_LENGTH})?")),
    ("snooze_until", re.compile(rf"snooze(?: {_REF})? (?:until|till|til|to) (.+)")),
    ("snooze_again", re.compile(rf"remind me (?:again|once more|later) (?:in )?(\d{{1,20}}|an?|one) ?({DURATION_UNIT})")),
    ("done", re.compile(rf"(?:done|ack|dismiss)(?: reminder)? {NUMBER}")),
    ("undo", re.compile(r"undo( that| it| the last (?:change|one))?|take (?:that|it) back")),
    ("edit_text", re.compile(rf"(?:rename|retitle|{_EDIT_VERB} the (?:text|name|title) of) {_REF} to (.+)")),
    ("edit_text", re.compile(rf"{_EDIT_VERB} {_REF}(?:'s)? (?:text|name|title) to (.+)")),
    ("edit_when", re.compile(rf"{_MOVE_VERB} {_REF} (?:to|until|till|for) (.+)")),
    ("edit_when", re.compile(rf"{_EDIT_VERB} the (?:time|date|day|schedule) of {_REF} to (.+)")),
    ("edit_when", re.compile(rf"make {_REF} (?:repeat|recur|happen) (.+)")),
    ("edit_shift", re.compile(rf"(?:{_MOVE_VERB}|delay) {_REF} (?:by|for) (\d{{1,20}}|an?|one) ?({DURATION_UNIT})")),
    ("edit_any", re.compile(rf"{_EDIT_VERB} {_REF} (?:to|at|for) (.+)")),
    ("edit_ask", re.compile(rf"(?:{_EDIT_VERB}|{_MOVE_VERB}|rename) {_REF}")),
    ("find_cancel", re.compile(r"(?:cancel|delete|remove|stop) (?:reminding me (?:about |to |of )?)?(?:the |my )?([a-z][^\d]*?)(?: reminders?)?")),
    ("find_edit", re.compile(rf"(?:{_EDIT_VERB}|{_MOVE_VERB}) (?:the |my )([a-z][^\d]*?) reminder (?:to|until|till) (.+)")),
    ("show_timezone", re.compile(r"(what is |what's )?(my )?time ?zone\??|(set )?(my )?time ?zone (to|is):?")),
    ("set_timezone", re.compile(_ZONE)),
]
# Words a text look-up must not treat as a reminder's text: the bulk and "nothing" forms.
_NOT_TEXT = re.compile(r"(all|all alerts|all (?:my )?price alerts|everything|it|that|this|them|the|my|reminder|reminders|(?:price )?alerts?)")


def _clean(text: str) -> str:
    cleaned = " ".join(text.strip().rstrip(".!").split())
    # A polite ending changes nothing: "snooze 20 minutes please".
    return re.sub(r"(?i)[ ,]+(?:please|pls|thanks|thank you)$", "", cleaned)


def _ref(match: re.Match[str], start: int = 1) -> tuple[int | None, str | None]:
    number, last = match.group(start), match.group(start + 1)
    return (int(number) if number else None), ("last" if last else None)


def _minutes(amount: str | None, unit: str | None) -> int:
    if not amount:
        return DEFAULT_SNOOZE_MINUTES
    count = 1 if amount in ("a", "an", "one") else int(amount)
    return count * DURATION_UNITS[unit]


def parse_command(text: str) -> Command | None:
    """Return the command ``text`` is, or None when it is not one of the commands."""
    cleaned = _clean(text)
    lowered = cleaned.lower()
    for name, pattern in _PATTERNS:
        match = pattern.fullmatch(lowered)
        if match is None:
            continue
        if name in ("cancel", "pause", "resume"):
            number, target = _ref(match)
            return Command(name, number=number, target=target)
        if name == "done":
            return Command(name, number=int(match.group(1)))
        if name == "snooze":
            number, target = _ref(match)
            return Command(name, number=number, target=target, minutes=_minutes(match.group(3), match.group(4)))
        if name == "snooze_until":
            number, target = _ref(match)
            return Command("snooze", number=number, target=target, argument=match.group(3))
        if name == "snooze_again":
            return Command("snooze", minutes=_minutes(match.group(1), match.group(2)))
        if name == "edit_shift":
            number, target = _ref(match)
            return Command("edit", number=number, target=target, field="shift", minutes=_minutes(match.group(3), match.group(4)))
        if name == "find_edit":
            words = match.group(1).strip()
            if _NOT_TEXT.fullmatch(words):
                return None
            start, end = match.span(2)
            argument = cleaned[start:end] if len(cleaned) == len(lowered) else match.group(2)
            return Command("find_edit", argument=argument, target=words)
        if name in ("edit_text", "edit_when", "edit_any"):
            number, target = _ref(match)
            # The argument keeps the user's case: it may become the reminder's text.
            same = len(cleaned) == len(lowered)
            argument = cleaned[match.start(3):match.end(3)] if same else match.group(3)
            field = {"edit_text": "text", "edit_when": "when", "edit_any": None}[name]
            return Command("edit", number=number, target=target, argument=argument, field=field)
        if name == "edit_ask":
            number, target = _ref(match)
            return Command("edit", number=number, target=target, field="ask")
        if name == "find_cancel":
            words = match.group(1).strip()
            if _NOT_TEXT.fullmatch(words):
                return None
            return Command("find_cancel", argument=words)
        if name == "set_timezone":
            # Keep the zone's original case: "Europe/Prague", not "europe/prague".
            original = _ORIGINAL_ZONE.fullmatch(cleaned)
            groups = original.groups() if original else match.groups()
            return Command(name, argument=next(group for group in groups if group).strip())
        return Command(name)
    return None
