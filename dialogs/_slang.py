"""Slang and typos in reminder messages, rewritten into what the parsers read.

Hand-written: neither recognizers-text nor the grammar knows chat spelling. ``normalize``
returns the rewritten text together with where each of its characters came from, so that the
reminder text cut out of the message stays made of the user's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Span = tuple[int, int]

# Misspellings of "remind" seen in chat (hand-written; the libraries know none).
REMIND_TYPO = r"(?:rmeind|remidn|remnd|reimnd|remimd|rmind|remaind|reminde|remine|remin|reminf|remond|remined|rmd|remindd|reminnd)"
_REMIND_TYPO = REMIND_TYPO


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
_ABBR = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)"
_FULL_DAY = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
             "sat": "saturday", "sun": "sunday"}  # fmt: skip
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
    (re.compile(r"(?:\b(?:by|before|at)\s+)?\b(?:eod|end\s+of\s+(?:the\s+)?day|cob|close\s+of\s+business)\b", re.I), "at 17:00"),
    (re.compile(r"\b(?:nxt|nex)\b", re.I), "next"),
    # "sat morning at 9", "thu 5pm", "mon wed fri at 6:30": a bare abbreviated weekday before a
    # time or a part of the day (alone, "sat" or "wed" is too often another word)
    (re.compile(rf"(?<!\bthe )(?<!\ba )(?<!\bi )\b(?P<abbr>{_ABBR})\b(?=(?:\s*(?:,|and|&|/)?\s*(?:{_ABBR}|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b)*\s*,?\s*(?:morning|afternoon|evening|night|at\b|@|\d))", re.I),
     lambda m: _FULL_DAY[m["abbr"].lower()[:3]]),
    (re.compile(rf"(?<=\bme )(?P<abbr>{_ABBR})\b(?=\s+to\b)", re.I), lambda m: _FULL_DAY[m["abbr"].lower()[:3]]),
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


def normalize(message: str) -> _Normalized:
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
