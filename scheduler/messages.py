"""The proactive reminder message: text for every channel plus an Adaptive Card with actions.

Both are built as the JSON the Bot Connector takes (what ``MessageFactory.attachment`` with
``CardFactory.adaptive_card`` would serialise to): they are stored as an occurrence's payload
and sent as they are, with no model objects in between.

The card's ``Action.Submit`` buttons come back as a message whose ``value`` is
``{"nudge": "snooze", "number": 3, "minutes": 10}`` or ``{"nudge": "done", "number": 3}``;
the bot handles them like the typed commands "snooze 3 10m" and "done 3".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from typing import Any

from models.alerts import describe_source, format_price
from models.card_json import adaptive_card, card_message
from models.markdown import escape_markdown

LATE_NOTE_AFTER = timedelta(minutes=1)


def late_note(due_at: datetime, now: datetime) -> str | None:
    """"late by N min" when an occurrence goes out noticeably after its time (bot was down)."""
    late = now - due_at
    if late < LATE_NOTE_AFTER:
        return None
    minutes = int(late.total_seconds() // 60)
    if minutes < 120:
        return f"late by {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"late by {hours} h {minutes} min"


def reminder_activity(
    *, number: int, text: str, recurring: bool, due_at: datetime, now: datetime
) -> dict[str, Any]:
    """Build the message that delivers reminder ``number``."""
    note = late_note(due_at, now)
    headline = f"⏰ Reminder #{number}: {text}"
    plain = headline + (f" ({note})" if note else "")
    shown = f"⏰ Reminder #{number}: {escape_markdown(text)}"  # the card renders markdown
    body = [{"type": "TextBlock", "text": shown, "wrap": True, "weight": "Bolder"}]
    if note:
        body.append({"type": "TextBlock", "text": f"Sorry, {note}.", "isSubtle": True, "wrap": True})
    actions = [
        {"type": "Action.Submit", "title": "Snooze 10 min", "data": {"nudge": "snooze", "number": number, "minutes": 10}},
        {"type": "Action.Submit", "title": "Snooze 1 h", "data": {"nudge": "snooze", "number": number, "minutes": 60}},
        {"type": "Action.Submit", "title": "Done", "data": {"nudge": "done", "number": number}},
    ]
    return card_message(adaptive_card(body, actions), plain)


def alert_activity(
    *,
    number: int,
    condition_text: str,
    symbol: str,
    price: float,
    reference_price: float,
    change_pct: float,
    at_local: str,
    source: str,
    simulated: bool,
    repeat: bool,
) -> dict[str, Any]:
    """Build the message that tells a user their price alert ``number`` fired."""
    headline = f"🔔 Alert #{number}: {condition_text}"
    detail = (
        f"{symbol} is at {format_price(price)} ({change_pct:+.2f}% vs {format_price(reference_price)}) "
        f"at {at_local}. Source: {describe_source(source, simulated)}."
    )
    plain = f"{headline}. {detail}"
    if repeat:
        # A repeating alert keeps watching: it can be silenced for a while or switched off.
        actions = [
            {"type": "Action.Submit", "title": "Snooze 1 h", "data": {"nudge": "alert-snooze", "number": number, "minutes": 60}},
            {"type": "Action.Submit", "title": "Disable", "data": {"nudge": "alert-disable", "number": number}},
        ]
    else:
        # A once alert is done after firing; the useful action is to watch again.
        actions = [{"type": "Action.Submit", "title": "Re-arm", "data": {"nudge": "alert-rearm", "number": number}}]
    body = [
        {"type": "TextBlock", "text": headline, "wrap": True, "weight": "Bolder"},
        {"type": "TextBlock", "text": detail, "wrap": True},
    ]
    return card_message(adaptive_card(body, actions), plain)
