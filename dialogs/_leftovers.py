"""Words left in a message that look like a time, date, repeat or zone but were not understood.

Hand-written: dialogs.timeparse blanks out the phrases it understood and asks ``leftovers``
for anything else a reader would take as part of the schedule; those words are named back to
the user instead of going into the reminder's text.
"""

from __future__ import annotations

import re

Span = tuple[int, int]


# --- Words that look like a time but were not understood ----------------------------------
#
# Hand-written: what is left of a message once the understood phrases are blanked out is
# searched for anything a reader would take as part of the schedule. Each such phrase is named
# back to the user instead of going into the reminder's text.

_WEEKDAY_WORD = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?"
_MONTH_WORD = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_UNIT_WORD = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|fortnights?|months?|years?|yrs?"
    r"|[smhdw])"
)
_COUNT_WORD = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|few|couple(?:\s+of)?|half(?:\s+an?)?)"
_OWNER = r"(?<!\bthe )(?<!\bmy )(?<!\bour )(?<!\byour )(?<!\ba )(?<!\bthis )(?<!\bthat )(?<!'s )"
_LEFTOVER = re.compile(
    "|".join(
        (
            r"(?:(?:\band|\bor|&|,)\s*)?(?:(?:\bat|@)\s*)?\b\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\b\.?",
            r"(?:(?:\band|\bor|&|,)\s*)?(?:(?:\bat|@)\s*)?(?<![\d:.])\d{1,2}[:.]\d{2}(?![\d])",
            r"(?:(?:\band|\bor|&)\s+)(?:at\s+|@\s*)?\d{1,2}\b(?![\d%.,:])(?!\s*(?:k\b|[$€£]))",
            r"(?:\bat|@)\s*\d{1,2}\b(?![\d%:])(?:\s*o'?clock)?",
            r"\b\d{1,2}\s*o'?clock\b",
            r"\b(?:noon|midday|midnight|tonight|tomorrow|today|yesterday|tmrw|eod)\b",
            rf"{_OWNER}\b{_WEEKDAY_WORD}\b",
            r"\bon\s+(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\b",
            rf"{_OWNER}\b(?:weekdays?|weekends?)\b",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_WORD}\b",
            rf"\b{_MONTH_WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
            r"\b\d{1,2}(?:st|nd|rd|th)\b",
            r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b",
            r"\b(?:every|each)\s+(?:other\s+|second\s+|\d+\s+|few\s+)?(?:\w+)",
            rf"{_OWNER}\b(?:daily|weekly|monthly|yearly|annually|hourly|nightly|fortnightly|bi-?weekly|bi-?monthly|semi-?monthly|quarterly)\b",
            r"\b(?:twice|thrice|once)\s+(?:a|an|per|every|each)\s+\w+",
            rf"\b{_COUNT_WORD}\s+times\b(?:\s+(?:a|an|per|every|each)\s+\w+)?",
            r"\b(?:except|excluding|but\s+not|apart\s+from|other\s+than|skipping)\b(?:\s+(?:on\s+)?(?:the\s+)?\w+)?",
            r"\b(?:until|till|untill|til|thru)\b(?:\s+(?:the|end|start|beginning|middle|of)\b)*(?:\s+[\w/.:-]+){0,2}",
            rf"\bfor\s+(?:the\s+next\s+)?{_COUNT_WORD}\s*{_UNIT_WORD}\b",
            rf"\b(?:in|after|within)\s+(?:a\s+)?{_COUNT_WORD}\s*{_UNIT_WORD}\b",
            rf"\b{_COUNT_WORD}\s*{_UNIT_WORD}\s+(?:from\s+now|later|ago|before|after|earlier|prior)\b",
            r"\b(?:next|this|coming)\s+(?:week|month|year|weekend|morning|afternoon|evening|night|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b(?!'s)",
            r"\b(?:in\s+the|this)\s+(?:morning|afternoon|evening)\b|\bat\s+night\b",
            rf"\b(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\s+(?:{_WEEKDAY_WORD}|(?:mon|tue|wed|thu|fri|sat|sun)|day|week|weekday)\b(?:\s+of(?:\s+the)?(?:\s+month)?)?",
            r"\bof\s+(?:the|every|each)\s+(?:month|year)\b",
            r"\b(?:per|a)\s+(?:day|week|month|year)\b",
            r"(?<![\w+-])(?:utc|gmt)\s*[+\-−]\s*\d{1,2}(?::?\d{2})?\b",
            # zone abbreviations in capitals only ("ist" and "est" end words); "<Name> time" with a
            # capitalised name only ("dinner time" is no zone)
            r"(?-i:\b(?:PST|PDT|EST|EDT|CST|CDT|MST|MDT|CET|CEST|BST|GMT|UTC|IST|JST|AEST|AEDT|EET|EEST|WET|MSK|SGT|HKT|KST|NZST|NZDT)\b)",
            r"(?-i:\b[A-Z][a-z]+(?: [A-Z][a-z]+)?) time\b",
            r"\b(?:in|after)\s+(?:a\s+)?(?:bit|while|little\s+while)\b",
            r"\b(?:in|after)\s+\d+\b(?![%.,]\d|\s*%)",
            r"(?<=,)\s*\d{1,2}(?:[:.]\d{2})?\b(?=\s*(?:,|and\b|&))",
            r"\bon\s+the\s+(?:half\s+)?hour\b|\b(?:at\s+)?:[0-5]\d\b|\bpast\s+the\s+hour\b",
            r"\bbetween\s+\S+\s+and\s+\S+|\bfrom\s+\d\S*\s+(?:to|till|until|-)\s+\S+",
            r"\bfor\s+(?:the\s+next\s+|an?\s+)(?:hour|day|week|month|year|fortnight|minute)\b",
            r"\b(?:19|20|21|22|23|24|25|26|27|28|29)\d{2}\b(?=\s*$|\s*[,.!?])",
        )
    ),
    re.I,
)
def leftovers(text: str) -> list[Span]:
    """Spans of ``text`` that look like a time, date, repeat or zone."""
    spans = []
    for match in _LEFTOVER.finditer(text):
        words = match[0]
        if _ADVERB.fullmatch(words) and _ADJECTIVE_USE.match(text, match.end()):
            continue  # "daily stand-up", "weekly report": a kind of thing, not a repeat
        spans.append((match.start() + len(words) - len(words.lstrip()), match.end()))
    return spans


_ADVERB = re.compile(r"daily|weekly|monthly|yearly|annually|hourly|nightly|fortnightly|bi-?weekly|bi-?monthly|quarterly", re.I)
_ADJECTIVE_USE = re.compile(
    r" (?!(?:at|on|in|from|to|until|till|for|except|and|or|remind|please|starting|beginning|by|@)\b)[a-z]", re.I
)
