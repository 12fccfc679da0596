"""Plain text shared by replies and proactive messages: long texts cut at a word."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending with "…".

    A single word longer than the limit is cut inside it (there is no boundary to use).
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 1)
    cut = text[: room + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 else text[:room]
    return head.rstrip(" ,;:.-") + ELLIPSIS
