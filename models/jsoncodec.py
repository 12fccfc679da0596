"""JSON for the database columns and the proactive sender: orjson where it is exact, the
standard library where it is not.

Every send reads two JSON columns (the conversation reference and the activity) and writes
one request body; with the standard library that was a tenth of the sender's CPU. orjson is
several times faster but not a drop-in: it reads an integer beyond 64 bits as a float, and
refuses big integers, lone surrogates and non-string keys on the way out and NaN on the way in.
Those go through ``json`` instead, so what is stored is read back unchanged. (orjson writes a
NaN as ``null``, which is at least JSON; the notify API refuses NaN anyway.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# An integer token this long may not fit in 64 bits (orjson would turn it into a float).
_LONG_NUMBER = re.compile(rb"\d{19}")


def dumps(value: Any) -> str:
    """``value`` as JSON text (what SQLAlchemy's JSON type stores)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # a big integer, a lone surrogate, a non-string key
        return json.dumps(value)


def dumps_bytes(value: Any) -> bytes:
    """``value`` as UTF-8 JSON bytes (a request body)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # ASCII escapes: a lone surrogate can't be written as UTF-8 at all
        return json.dumps(value).encode("ascii")


def loads(text: str | bytes) -> Any:
    """Parse JSON text exactly as ``json.loads`` would."""
    raw = text.encode() if isinstance(text, str) else text
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # NaN/Infinity or a lone surrogate, which json accepts
            pass
    return json.loads(text)
