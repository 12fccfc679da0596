"""Adaptive Card messages as the JSON the Bot Connector takes, for replies and proactive
messages alike.

A card message carries no ``text`` (Web Chat and Teams would show it as a second bubble
above the card). Its plain version is the card's ``fallbackText`` (clients that can't render
the card show it), and the message's ``summary`` (notifications) and ``speak`` (screen
readers and voice channels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.text import shorten

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Notifications show the summary on one or two lines; it ends at a word.
SUMMARY_LENGTH = 200


def adaptive_card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """An Adaptive Card (version 1.3, which Web Chat, Teams and the Emulator render)."""
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.3", "body": body}
    if actions:
        card["actions"] = list(actions)
    return card


def card_message(card: dict[str, Any], plain: str) -> dict[str, Any]:
    """A message carrying ``card``, with ``plain`` as its fallback, summary and speech."""
    return {
        "type": "message",
        "summary": shorten(plain, SUMMARY_LENGTH),
        "speak": plain,
        "inputHint": "acceptingInput",
        "attachments": [{"contentType": ADAPTIVE_CARD, "content": {**card, "fallbackText": plain, "speak": plain}}],
    }
