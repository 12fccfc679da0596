"""Small talk ("hi", "thanks", "what time is it") and the fallback that suggests the nearest command.

Hand-written: a short table of phrases (compared after lower-casing and dropping punctuation)
and ``difflib`` for "did you mean" over the command words, so a typo such as "my remidners"
is answered with the command it most likely meant, offered as a button.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from dialogs.formatting import format_local

_PHRASES: dict[str, tuple[str, ...]] = {
    "hello": ("hi", "hello", "hey", "hiya", "howdy", "yo", "good morning", "good afternoon", "good evening",
              "hi there", "hello there", "hey there", "hey nudge", "hi nudge", "hello nudge"),
    "thanks": ("thanks", "thank you", "thx", "ty", "thanks a lot", "thank you very much", "cheers",
               "many thanks", "thanks!", "great thanks", "ok thanks", "ok thank you"),
    "ok": ("ok", "okay", "k", "cool", "great", "nice", "got it", "alright", "all right", "fine", "sure",
           "perfect", "awesome", "👍"),
    "time": ("what time is it", "what's the time", "whats the time", "what is the time", "time",
             "the time", "current time", "what time is it now", "time now"),
    "bye": ("bye", "goodbye", "good night", "see you", "see ya", "later", "cya"),
}
_BY_PHRASE = {phrase: kind for kind, phrases in _PHRASES.items() for phrase in phrases}
_PUNCTUATION = re.compile(r"[.!?,;:]+")


@dataclass(frozen=True)
class SmallTalk:
    """A small-talk message: ``name`` is hello, thanks, ok, time or bye."""

    name: str


def parse_smalltalk(text: str) -> SmallTalk | None:
    """The small talk ``text`` is, or None."""
    cleaned = " ".join(_PUNCTUATION.sub(" ", text.lower()).split()).replace("’", "'")
    kind = _BY_PHRASE.get(cleaned)
    return SmallTalk(kind) if kind else None


def smalltalk_reply(talk: SmallTalk, *, now: datetime, tz: str | None) -> str:
    """What the bot says back."""
    if talk.name == "hello":
        return '👋 Hi! Tell me what to remind you about, like "remind me to stretch in 10 minutes", or say "help".'
    if talk.name == "thanks":
        return "You're welcome! 🙂"
    if talk.name == "ok":
        return '👍 Say "my reminders" to see what is coming up.'
    if talk.name == "bye":
        return "👋 Bye! I'll message you when it's time."
    if tz:
        return f"🕒 It's {format_local(now, tz)}."
    return f'🕒 It\'s {format_local(now, "UTC")}. Say "set my timezone to <your city>" to see your local time.'


# What the fallback may suggest: whole commands, and verbs that take a number.
COMMANDS = (
    "my reminders", "my alerts", "help", "cancel all", "cancel all alerts", "prices", "my timezone",
    "undo", "snooze", "cancel last",
)
VERBS = ("cancel", "pause", "resume", "snooze", "done", "move", "rename", "edit", "change", "delete")


def nearest_command(text: str) -> str | None:
    """The command ``text`` most likely meant ("my remidners" → "my reminders"), or None."""
    cleaned = " ".join(_PUNCTUATION.sub(" ", text.lower()).split())
    if not cleaned or len(cleaned) > 40:
        return None
    verb, _, rest = cleaned.partition(" ")
    if rest[:1].isdigit() or rest[:1] == "#":
        close = difflib.get_close_matches(verb, VERBS, n=1, cutoff=0.75)
        if close and close[0] != verb:
            return f"{close[0]} {rest}"
    found = difflib.get_close_matches(cleaned, COMMANDS, n=1, cutoff=0.75)
    return found[0] if found else None
