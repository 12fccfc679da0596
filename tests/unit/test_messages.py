"""The proactive messages' cards: what a user sees, and what a client without cards shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.card_json import adaptive_card, card_message
from scheduler.messages import alert_activity, reminder_activity

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_delivered_reminder_is_one_card_with_fallback_text_and_escaped_markdown():
    activity = reminder_activity(number=3, text="send **Q3**", recurring=False, due_at=NOW, now=NOW)
    assert "text" not in activity  # no second bubble above the card
    [attachment] = activity["attachments"]
    card = attachment["content"]
    assert card["fallbackText"] == activity["summary"] == activity["speak"] == "⏰ Reminder #3: send **Q3**"
    assert card["body"][0]["text"] == r"⏰ Reminder #3: send \*\*Q3\*\*"
    assert [a["title"] for a in card["actions"]] == ["Snooze 10 min", "Snooze 1 h", "Done"]


def test_a_late_reminder_says_so_and_an_alert_names_its_source_in_words():
    late = reminder_activity(number=1, text="x", recurring=False, due_at=NOW - timedelta(minutes=5), now=NOW)
    assert late["summary"] == "⏰ Reminder #1: x (late by 5 min)"
    fired = alert_activity(
        number=2, condition_text="BTC goes above 70,000", symbol="BTC", price=70500, reference_price=70000,
        change_pct=0.71, at_local="Tue 24 Nov 2026 13:00 CET", source="push", simulated=False, repeat=False,
    )
    assert fired["summary"].endswith("Source: live feed.")
    assert "push" not in str(fired)


def test_a_card_message_summary_ends_at_a_word():
    plain = "Reminder #12: " + " ".join(["water the plants on the balcony"] * 12)
    message = card_message(adaptive_card([]), plain)
    summary = message["summary"]
    assert len(summary) <= 200 and summary.endswith("…")
    # What is kept is whole words of the plain text.
    assert plain.startswith(summary[:-1]) and plain[len(summary) - 1] == " "
    assert message["speak"] == plain
