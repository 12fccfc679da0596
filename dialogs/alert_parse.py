"""Read a price alert out of a chat message: "alert me when BTC goes above 70000", "ETH moves 5%".

Pure functions, no I/O. ``parse_alert`` returns whatever parts it recognised, so the dialog
can ask for the rest step by step; ``looks_like_alert`` is the bot router's cheap check.
Symbols are matched against the caller's list of known symbols (the alert engine's), so
this module needs nothing from the scheduler.

How a message is read, in order:

1. the modes and durations anywhere in it are taken out: "every time", "at most once an
   hour", "for 7 days", "within 1 hour" / "in 15 minutes" (the window of a change);
2. a leading "alert me when", "tell me if", "notify me when"... is dropped;
3. what is left is ``<symbol> <condition> <number>``, each part optional: the condition is a
   price level ("goes above", "drops below", "crosses") or a change ("moves", "rises",
   "drops", "changes" followed by a percentage).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from models.alerts import MAX_EXPIRY, MAX_PERCENT, MAX_WINDOW

# A handful of names people type for the default symbols; used only when the symbol is known.
_ALIASES = {
    "BITCOIN": "BTC",
    "ETHER": "ETH",
    "ETHEREUM": "ETH",
    "APPLE": "AAPL",
    "MICROSOFT": "MSFT",
    "EURO": "EUR/USD",
}

# Words around a symbol that are not the symbol: "the price of BTC", "apple stock".
_FILLER = frozenset(
    "the a an of my price prices rate stock stocks share shares coin token it its when if "
    "whenever once about on for is".split()
)

# The shape of an unknown symbol worth naming back: like scheduler.feeds.normalise_symbol,
# but starting with a letter ("5pm" is no symbol). Known symbols match whatever their shape.
_SYMBOLISH = re.compile(r"[a-z][a-z0-9./-]{0,14}")

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
}
_UNIT = "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True))
# "7 days", "7days", "an hour"; a word count needs its space ("as" is not "a s").
_COUNT = r"(?:(?P<count>\d{1,6})\s*|(?:an?|one)\s+)"
_DURATION = rf"{_COUNT}?(?P<unit>{_UNIT})\b"
_COUNTED_DURATION = rf"{_COUNT}(?P<unit>{_UNIT})\b"
_LEAD = r"(?:,\s*|\s+and\s+|\s+but\s+|^|\s+)"

# Modes and durations, taken out of the message before the rest is read. Order matters:
# "at most once an hour" must go before a bare trailing "once".
_COOLDOWN = re.compile(
    rf"{_LEAD}(?:at\s+most|no\s+more\s+than|max(?:imum)?)\s+once\s+"
    rf"(?:(?:an?|per|every|each)\s+)?{_DURATION}"
)
_REPEAT = re.compile(rf"{_LEAD}(?:every\s+time|each\s+time|repeatedly|repeating|every\s+crossing)\b")
_ONCE = re.compile(rf"{_LEAD}(?:just\s+|only\s+)?once$")
_EXPIRY = re.compile(
    rf"{_LEAD}(?:for(?:\s+the\s+next)?|(?:expir(?:e|es|ing)|ending)\s+(?:in|after))\s+{_COUNTED_DURATION}"
)
_WINDOW = re.compile(rf"{_LEAD}(?:within|in|over)\s+(?:the\s+)?(?:last\s+|past\s+)?{_COUNTED_DURATION}")
# "is up 8% today": no window a reader could check (since midnight? a rolling day?), so asked about.
_TODAY_WINDOW = re.compile(rf"{_LEAD}(?:today|this\s+week)(?=$|[\s,;])")

_PREFIX = re.compile(
    r"(?:(?:actually|no|wait|nah|never\s*mind|nvm|forget\s+it|oh|and|also|sorry|i\s+meant|instead|scratch\s+that|ignore\s+that|cancel\s+that)"
    r"[\s,.!;:-]+)*"
    r"(?:(?:please|hey|ok|okay|can\s+you|could\s+you)\s+)*"
    r"(?:(?:alert|notify|tell|ping|warn|message|text|buzz)\s+me|let\s+me\s+know"
    r"|(?:set|create|add|make)\s+(?:me\s+)?(?:an?\s+)?(?:price\s+)?alert"
    r"|(?:new\s+|an?\s+)?(?:price\s+)?alert)"
    r"(?:\s+(?:when(?:ever)?|if|once|as\s+soon\s+as|the\s+moment|in\s+case|about|on|for))?"
    r"(?=\s|$)"
)

# A price level: optional verb, then the keyword. (?<!\S) rather than \b so ">" works.
_LEVEL_VERBS = (
    r"goes|go|is|are|gets|get|trades|is\s+trading|climbs?|rises?|jumps?|moves?|drops?|falls?"
    r"|dips?|sinks?|breaks?|heads?|comes|closes|declines?|spikes?|rallies|tanks?|crashes|goes\s+back"
)
_LEVEL = re.compile(
    rf"(?<!\S)(?:(?:{_LEVEL_VERBS})\s+)?(?:back\s+)?"
    r"(?:(?P<above>above|over|higher\s+than|more\s+than|greater\s+than|exceeds?|>=?)"
    r"|(?P<below>below|under|beneath|lower\s+than|less\s+than|<=?)"
    r"|(?P<cross>cross(?:es|ing)?|through|hits?|hitting|reach(?:es|ing)?|touch(?:es|ing)?|breaks?|gets\s+to|is\s+at|trades\s+at))"
    r"(?=\s|$|[\d$.+-])"
)
# A change: longer forms first, so "moves up" is not read as "moves".
_WAY = r"goes|go|is|moves?|changes?|gets|swings?"
_CHANGE = re.compile(
    rf"(?<!\S)(?:(?P<any>(?:{_WAY})\s+(?:up\s+or\s+down|either\s+way))"
    rf"|(?P<up>(?:{_WAY})\s+up|rises?|climbs?|jumps?|gains?|increases?|rallies|spikes?)"
    rf"|(?P<down>(?:{_WAY})\s+down|drops?|falls?|declines?|sinks?|dips?|loses|decreases?|tanks?|crashes)"
    rf"|(?P<any2>moves?|changes?|swings?|shifts?))"
    r"(?:\s+by)?(?:\s+(?:more\s+than|over|above|at\s+least|upwards\s+of))?(?=\s|$|[\d.+-])"
)

_AMOUNT = re.compile(
    r"(?P<sign>[-+])?\s*\$?\s*(?P<sign2>[-+])?\s*(?P<digits>\d[\d,]*(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<suffix>k|m|mm|bn|b)\b)?"
)
_SUFFIX = {None: 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_CURRENCY = re.compile(r"\s*(?:usd|dollars?|\$|eur|euros?)?")
_PERCENT_SIGN = re.compile(r"\s*(?:%|percent\b|per\s?cent\b|pct\b)")
_LEADING_WORDS = re.compile(r"(?:(?:by|of|at|to|the|level|price)\s+)*")


@dataclass(frozen=True)
class ParsedAlert:
    """What a message said about an alert; None for the parts it did not say.

    Attributes:
        symbol: a known symbol, as the caller spells it ("EUR/USD").
        unknown_symbol: a symbol-looking word that is not known ("DOGE"), upper-cased.
        condition: "above" | "below" | "cross" | "move" | "window".
        threshold: a price for above/below/cross, a percentage for move/window.
        direction: "up" | "down" | "any" (only move and window use it).
        window_seconds: the window of a "window" change.
        repeat: fire every time rather than once.
        cooldown_seconds: the least time between two firings of a repeating alert.
        expires_in_seconds: how long the alert lives; None for no end.
        error: a user-facing reason when a part was recognised but can't be used.
        unclear: words left over that look like another condition or price ("or below 60000")
            and were not made into this alert; an alert must not be created while any remain.
            ``parse_alerts`` returns such further alerts as alerts of their own.
    """

    symbol: str | None
    unknown_symbol: str | None
    condition: str | None
    threshold: float | None
    direction: str = "any"
    window_seconds: int | None = None
    repeat: bool = False
    cooldown_seconds: int = 0
    expires_in_seconds: int | None = None
    error: str | None = None
    unclear: tuple[str, ...] = ()


def _clean(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".!?")


def _amount(text: str) -> float | None:
    """A signed number with an optional $, thousands commas and k/m/bn suffix; else None."""
    match = _AMOUNT.fullmatch(text.strip())
    return _amount_of(match) if match else None


def _amount_of(match: re.Match[str]) -> float | None:
    digits = match["digits"]
    if "," in digits and not _GROUPED.fullmatch(digits):
        return None  # "1,5" might mean 1.5 or 15: refuse rather than guess
    value = float(digits.replace(",", "")) * _SUFFIX[match["suffix"]]
    if "-" in (match["sign"], match["sign2"]):
        value = -value
    return value if math.isfinite(value) else None


def parse_threshold(text: str) -> float | None:
    """A price: "70000", "70,000", "70k", "$180.50", "1.5m", "0.5"; None unless positive and finite."""
    match = _AMOUNT.match(text.strip().lower())
    if match is None or _CURRENCY.fullmatch(text.strip().lower()[match.end():]) is None:
        return None
    value = _amount_of(match)
    return value if value is not None and value > 0 else None


def parse_percent(text: str) -> float | None:
    """A percentage: "5%", "5 %", "5 percent", "0.5"; None unless positive and finite."""
    match = re.fullmatch(
        r"(?:by\s+)?\+?(?P<digits>\d+(?:\.\d+)?|\.\d+)(?:\s*(?:%|percent|per\s?cent|pct))?",
        _clean(text),
    )
    if match is None:
        return None
    value = float(match["digits"])
    return value if value > 0 and math.isfinite(value) else None


def match_symbol(text: str, known_symbols: tuple[str, ...]) -> str | None:
    """The known symbol ``text`` names, case-insensitively: "btc" -> "BTC", "eurusd" -> "EUR/USD"."""
    wanted = text.strip().upper()
    if not wanted:
        return None
    by_upper = {symbol.upper(): symbol for symbol in known_symbols}
    if wanted in by_upper:
        return by_upper[wanted]
    alias = _ALIASES.get(wanted)
    if alias is not None and alias in by_upper:
        return by_upper[alias]
    compact = re.sub(r"[^A-Z0-9]", "", wanted)
    matches = [s for s in known_symbols if re.sub(r"[^A-Z0-9]", "", s.upper()) == compact]
    return matches[0] if len(matches) == 1 else None


def _seconds(match: re.Match[str]) -> int:
    count = match["count"]
    return (int(count) if count else 1) * _UNIT_SECONDS[match["unit"]]


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """Find ``pattern`` in ``text``; return the match and the text without it."""
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, " ".join((text[: match.start()] + " " + text[match.end():]).split())


def _symbol_tokens(text: str) -> list[str]:
    tokens = []
    for raw in text.split():
        token = raw.strip(",;:!?\"'()").removesuffix("'s")
        if token and token not in _FILLER and _AMOUNT.fullmatch(token) is None:
            tokens.append(token)
    return tokens


def _leading_number(tail: str) -> re.Match[str] | None:
    """The number a condition's tail starts with ("by 5%", "$70k usd"), if it is a whole word."""
    text = _LEADING_WORDS.sub("", tail.strip(), count=1)
    match = _AMOUNT.match(text)
    if match is None or re.match(r"$|[\s%,]", text[match.end():]) is None:
        return None  # "5pm" is a time, not 5
    return match


def _find_symbol(text: str, known_symbols: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(known symbol, unknown symbol-looking word) named in ``text``."""
    tokens = _symbol_tokens(text)
    if not tokens:
        return None, None
    joined = match_symbol("".join(tokens), known_symbols)  # "eur usd" -> EUR/USD
    if joined is not None:
        return joined, None
    for token in tokens:
        found = match_symbol(token, known_symbols)
        if found is not None:
            return found, None
    for token in tokens:
        if _SYMBOLISH.fullmatch(token):
            return None, token.upper()
    return None, None


def _condition(core: str) -> tuple[str | None, str, re.Match[str] | None]:
    """(condition, direction, match) of the first price level or change in ``core``."""
    level = _LEVEL.search(core)
    change = _CHANGE.search(core)
    # "drops by more than 3%": a change verb before the level word is the change.
    # "moves more than 4%": a level word before a percentage is a change too.
    percent_next = level is not None and re.match(r"\s*[-+]?\s*[\d.,]+\s*(?:%|percent\b|per\s?cent\b|pct\b)", core[level.end():])
    if change is not None and (level is None or change.start() < level.start() or (percent_next and change.start() <= level.start())):
        direction = "up" if change["up"] else "down" if change["down"] else "any"
        return "move", direction, change
    if level is not None:
        kind = next(name for name in ("above", "below", "cross") if level[name])
        return kind, "any", level
    change = _CHANGE.search(core)
    if change is not None:
        direction = "up" if change["up"] else "down" if change["down"] else "any"
        return "move", direction, change
    return None, "any", None


def _strip_prefix(text: str) -> tuple[str | None, str]:
    """("strong" for "alert me..."/"set an alert...", "weak" for "tell me if..." or None; the rest)."""
    match = _PREFIX.match(text)
    if match is None:
        return None, text
    strength = "strong" if "alert" in match.group(0) else "weak"
    return strength, text[match.end():].strip()


# "BTC above 70000 or below 60000", "... and ETH below 3000": a joint followed by another condition.
_JOINT = re.compile(r"\s*(?:,\s*)?(?:\b(?:or|and|but)\b|,|;)\s+(?:(?:also\s+)?(?:if|when|once)\s+)?")


def _split(core: str, known_symbols: tuple[str, ...]) -> list[str]:
    """The conditions a message joins with "or"/"and": each starts a part with a condition."""
    parts, start = [], 0
    for joint in _JOINT.finditer(core):
        after = core[joint.end():]
        condition = _LEVEL.match(after) or _CHANGE.match(after)
        if condition is None:
            # "and ETH below 3000": a symbol, then a condition
            head = re.match(r"(?:the\s+price\s+of\s+)?([\w./-]+)(?:'s)?\s+(?:price\s+)?", after)
            if head is None or (_LEVEL.match(after, head.end()) is None and _CHANGE.match(after, head.end()) is None):
                continue
            if match_symbol(head[1], known_symbols) is None and not _SYMBOLISH.fullmatch(head[1]):
                continue
        parts.append(core[start:joint.start()])
        start = joint.end()
    parts.append(core[start:])
    return [p for p in parts if p.strip()]


def parse_alerts(text: str, *, known_symbols: tuple[str, ...]) -> tuple[ParsedAlert, ...]:
    """Every alert a message asks for: "BTC above 70000 or below 60000" is two.

    A part without a symbol takes the first part's ("or below 60000" watches BTC). The modes
    and durations ("every time", "for 7 days") apply to every part. A part that is not complete
    stays in the list as it is, for the dialog to ask about.
    """
    first = _parse_one(text, known_symbols=known_symbols)
    cleaned = _clean(text)
    _, rest = _strip_prefix(_remove_modes(cleaned))
    pieces = _split(rest, known_symbols)
    if len(pieces) < 2:
        return (first,)
    results = []
    head = _parse_one(_remove_modes(cleaned)[: len(_remove_modes(cleaned)) - len(rest)] + pieces[0],
                      known_symbols=known_symbols)
    symbol = head.symbol
    for number, piece in enumerate(pieces):
        parsed = head if number == 0 else _parse_one(piece, known_symbols=known_symbols)
        if number and parsed.symbol is None and parsed.unknown_symbol is None and symbol is not None:
            parsed = _parse_one(f"{symbol} {piece}", known_symbols=known_symbols)
        results.append(
            ParsedAlert(**{
                **parsed.__dict__,
                "repeat": first.repeat, "cooldown_seconds": first.cooldown_seconds,
                "expires_in_seconds": first.expires_in_seconds,
                "window_seconds": parsed.window_seconds if parsed.window_seconds else first.window_seconds,
            })
        )
    return tuple(results)


def _remove_modes(text: str) -> str:
    for pattern in (_COOLDOWN, _REPEAT, _ONCE, _EXPIRY, _WINDOW):
        _, text = _take(pattern, text)
    return text


def parse_alert(text: str, *, known_symbols: tuple[str, ...]) -> ParsedAlert:
    """Read one alert request out of ``text``; further conditions go to ``unclear``.

    "BTC above 70000 or below 60000" gives the first alert with ``unclear=("or below 60000",)``,
    so a caller that makes one alert never drops the rest silently; ``parse_alerts`` gives both.
    """
    alerts = parse_alerts(text, known_symbols=known_symbols)
    if len(alerts) == 1:
        return alerts[0]
    cleaned = _remove_modes(_clean(text))
    _, rest = _strip_prefix(cleaned)
    pieces = _split(rest, known_symbols)
    others = rest[len(pieces[0]):].strip(" ,;")
    return ParsedAlert(**{**alerts[0].__dict__, "unclear": (others,)})


_AFTER_NUMBER = re.compile(r"\s*(?:%|percent\b|per\s?cent\b|pct\b|usd\b|dollars?\b|\$|eur\b|euros?\b)?")
_LOOKS_LIKE_MORE = re.compile(
    r"\d|\b(?:or|and|but|by|until|till|before|after|on|at|tomorrow|today|tonight|next|every|each|except"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.I,
)


def _leftover(after: str) -> tuple[str, ...]:
    """Words after the price that look like another price, condition or date ("or 80000", "by friday")."""
    rest = after[_AFTER_NUMBER.match(after).end():].strip(" ,.;!?")  # type: ignore[union-attr]
    rest = re.sub(r"^(?:please|pls|thanks|thank\s+you)$", "", rest, flags=re.I)
    return (rest,) if rest and _LOOKS_LIKE_MORE.search(rest) else ()


def _parse_one(text: str, *, known_symbols: tuple[str, ...]) -> ParsedAlert:
    """Read an alert request out of ``text``.

    Args:
        text: the user's message, e.g. "alert me when BTC goes above 70k for 7 days".
        known_symbols: the symbols alerts may watch, spelled canonically.

    Returns:
        The parts recognised; missing parts are None. ``error`` is set (and the offending
        part left None) when a part was recognised but is out of range, e.g. a price of 0.
    """
    rest = _clean(text)
    errors: list[str] = []

    cooldown_seconds = 0
    cooldown, rest = _take(_COOLDOWN, rest)
    if cooldown is not None:
        cooldown_seconds = _seconds(cooldown)
        if cooldown_seconds > MAX_EXPIRY.total_seconds():
            errors.append("The pause between two alerts can be at most a year.")
            cooldown_seconds = 0
    repeat_match, rest = _take(_REPEAT, rest)
    _, rest = _take(_ONCE, rest)
    repeat = repeat_match is not None or cooldown is not None

    expires_in_seconds = None
    expiry, rest = _take(_EXPIRY, rest)
    if expiry is not None:
        expires_in_seconds = _seconds(expiry)
        if not 60 <= expires_in_seconds <= MAX_EXPIRY.total_seconds():
            errors.append("An alert can last between 1 minute and a year.")
            expires_in_seconds = None

    window, rest = _take(_WINDOW, rest)
    today = None
    if window is None:
        today, rest = _take(_TODAY_WINDOW, rest)
    _, core = _strip_prefix(rest)

    condition, direction, match = _condition(core)
    symbol_text, tail = (core[: match.start()], core[match.end():]) if match else (core, "")
    symbol, unknown_symbol = _find_symbol(symbol_text, known_symbols)

    window_seconds = None
    if today is not None:
        # "today" may mean since midnight or the market's open; a rolling day is not the same, so ask.
        words = today[0].strip(" ,")
        if condition in ("move", "window"):
            errors.append(f'"{words}": I watch changes over a time window, so please say how long, '
                          f'e.g. "{symbol or "ETH"} rises 8% within 24 hours".')
        else:
            errors.append(f'"{words}": please say how long the alert should last, e.g. "for 1 day".')
    if window is not None:
        if condition in ("above", "below", "cross"):
            errors.append(
                'A time window only goes with a change, like "EUR/USD changes 1% within 1 hour".'
            )
        else:
            condition = "window" if condition == "move" else condition
            window_seconds = _seconds(window)
            if not 60 <= window_seconds <= MAX_WINDOW.total_seconds():
                errors.append("The time window must be between 1 minute and 7 days.")
                window_seconds = None

    threshold = None
    number = _leading_number(tail) if condition else None
    unclear = _leftover(number.string[number.end():]) if number is not None else ()
    if number is not None:
        value = _amount_of(number)
        is_percent = _PERCENT_SIGN.match(number.string, number.end()) is not None
        if condition in ("move", "window"):
            if value is None or value <= 0:
                errors.append("The change must be more than 0%, like 5%.")
            elif direction == "down" and value >= 100:
                errors.append("A price can't fall by 100% or more; pick a smaller drop, e.g. 10%.")
            elif value > MAX_PERCENT:
                errors.append(f"A change can be at most {MAX_PERCENT:g}%.")
            else:
                threshold = value
        elif is_percent:
            errors.append(
                f'That looks like a percentage. For a change, say "{symbol or "BTC"} moves {number["digits"]}%".'
            )
        elif value is None or value <= 0:
            errors.append("The price must be a positive number, like 70000 or 70k.")
        else:
            threshold = value

    return ParsedAlert(
        symbol=symbol,
        unknown_symbol=unknown_symbol,
        condition=condition,
        threshold=threshold,
        direction=direction,
        window_seconds=window_seconds,
        repeat=repeat,
        cooldown_seconds=cooldown_seconds,
        expires_in_seconds=expires_in_seconds,
        error=" ".join(errors) or None,
        unclear=unclear,
    )


def looks_like_alert(text: str) -> bool:
    """Cheap check for the router: is ``text`` (probably) asking for a price alert?

    True for "alert me ..." and "set an alert ..." even when incomplete ("alert me",
    "alert me when BTC"), so the dialog can ask for the rest. "tell me if/when ...",
    "notify me when ..." and a bare "<SYMBOL> goes above/drops below/crosses/moves ..." must
    carry a condition and a number, because "tell me when it's time" or "the meeting moves
    to 5pm" are not alerts. Messages starting with "remind" belong to reminders.
    """
    cleaned = _clean(text)
    if not cleaned or cleaned.startswith("remind"):
        return False
    for pattern in (_COOLDOWN, _REPEAT, _EXPIRY, _WINDOW):
        _, cleaned = _take(pattern, cleaned)
    prefix, core = _strip_prefix(cleaned)
    tokens = _symbol_tokens(core)
    if prefix == "strong" and (not tokens or len(tokens) == 1 and _SYMBOLISH.fullmatch(tokens[0])):
        return True
    _, _, match = _condition(core)
    if match is None:
        return False
    before = _symbol_tokens(core[: match.start()])
    if len(before) > 1 or (before and not _SYMBOLISH.fullmatch(before[0])):
        return False
    if prefix == "strong":
        return True
    if prefix is None and not before:
        return False
    return _leading_number(core[match.end():]) is not None
