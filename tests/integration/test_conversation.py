"""The conversation over the Emulator protocol (real HTTP, fake channel, SQLite and PostgreSQL):
a new request interrupting a question, editing, undo, confirmations and paging.

Times come from the bot's real clock here, so expected times are computed from the stored
rows (``shown``), never written as dates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.tables import Alert
from tests.integration.test_chat_commands import close_to, shown
from tests.integration.test_price_alerts import Prices, bot_settings  # noqa: F401 (the fixture: pushed prices)
from tests.support.chat import Chat

PRAGUE = ZoneInfo("Europe/Prague")


def last_card(chat: Chat) -> dict:
    """The Adaptive Card of the latest reply the fake channel received in this chat."""
    for received in reversed(chat.channel.received):
        if received.conversation_id == chat.user.conversation_id:
            attachments = received.activity.get("attachments") or []
            if attachments:
                return attachments[0]["content"]
    raise AssertionError("no card received")


async def test_a_full_new_reminder_wins_over_a_pending_question(running_bot):
    chat = Chat(running_bot)
    assert (await chat.say("remind me to stretch")).text.startswith("When should I remind you?")

    # A management command answers, and the question is dropped.
    turn = await chat.say("my reminders")
    assert turn.replies == ['You have no reminders. Try "remind me to stretch in 10 minutes".']

    assert (await chat.say("remind me to stretch")).text.startswith("When should I remind you?")
    asked = datetime.now(UTC)
    turn = await chat.say("remind me to call Anna in 1 hour")
    [row] = await chat.reminders()
    assert turn.text == f"✅ Reminder #1 set: call Anna, on {shown(row.next_run_at, PRAGUE)}."
    assert row.text == "call Anna" and close_to(row.next_run_at, asked + timedelta(hours=1))


async def test_edit_never_creates_a_reminder_and_undo_reverts_it(running_bot):
    chat = Chat(running_bot)
    await chat.say("remind me to call Anna in 2 hours")
    before = (await chat.reminder(1)).next_run_at

    turn = await chat.say("edit 13 to 19:00")
    assert turn.replies == ['You have no reminder #13. Say "my reminders" to see them.']
    assert len(await chat.reminders()) == 1

    turn = await chat.say("move 1 to in 3 hours")
    row = await chat.reminder(1)
    assert turn.replies == [
        f'✏️ Moved reminder #1 (call Anna) to {shown(row.next_run_at, PRAGUE)}. Say "undo" to change it back.'
    ]
    assert close_to(row.next_run_at, before + timedelta(hours=1), slack=60)

    turn = await chat.say("rename 1 to call the dentist")
    assert (await chat.reminder(1)).text == "call the dentist"
    turn = await chat.say("undo")
    assert turn.text.startswith("↩️ Undone: reminder #1 is back to call Anna")
    assert (await chat.reminder(1)).text == "call Anna"
    assert (await chat.say("undo")).replies == ["There's nothing to undo."]


async def test_cancel_all_waits_for_yes(running_bot):
    chat = Chat(running_bot)
    await chat.say("remind me to a in 1 hour")
    await chat.say("remind me to b in 2 hours")

    turn = await chat.say("cancel all")
    assert turn.replies == ["Cancel all 2 reminders? Nothing is cancelled until you say yes."]
    card = last_card(chat)
    assert [a["title"] for a in card["actions"]] == ["Yes", "No"]
    assert [r.state for r in await chat.reminders()] == ["active", "active"]

    assert (await chat.say("no")).replies == ["OK, nothing was cancelled."]
    assert [r.state for r in await chat.reminders()] == ["active", "active"]

    await chat.say("cancel all")
    turn = await chat.press({"nudge": "confirm", "action": "cancel_all", "answer": "yes"})
    assert turn.replies == ['🗑️ Cancelled 2 reminders. Say "undo" to bring them back.']
    assert [r.state for r in await chat.reminders()] == ["cancelled", "cancelled"]
    assert (await chat.say("undo")).replies == ["↩️ Undone: 2 reminders are back."]
    assert [r.state for r in await chat.reminders()] == ["active", "active"]


async def test_my_reminders_pages_ten_at_a_time(running_bot):
    chat = Chat(running_bot)
    for n in range(12):
        await chat.say(f"remind me to task{n:02d} in {n + 1} hours")

    first = await chat.say("my reminders")
    assert first.text.startswith("Your reminders (1–10 of 12):")
    card = last_card(chat)
    assert ["More"] == [a["title"] for a in card.get("actions", [])]
    assert len(json.dumps(card)) < 20_000

    second = await chat.say("more")
    assert second.text.startswith("Your reminders (11–12 of 12):")
    assert "task10" in second.text and "task11" in second.text and "task00" not in second.text


async def test_a_full_alert_wins_over_the_symbol_question_and_reuses_none_of_it(running_bot):
    await Prices(running_bot).push("AAPL", 190)
    chat = Chat(running_bot)
    turn = await chat.say("tesla above 300", replies=2)
    assert turn.replies[-1].startswith("Which symbol?")

    turn = await chat.say("tell me if AAPL drops below 180")
    assert turn.text.startswith("🔔 Alert #1 set: AAPL drops below 180"), turn.text
    async with running_bot.sessionmaker() as session:
        [alert] = (await session.execute(select(Alert))).scalars().all()
    assert (alert.symbol, alert.condition, alert.threshold) == ("AAPL", "below", 180.0)

    # "my alerts" and "cancel all alerts" (which asks first) work as usual afterwards.
    assert (await chat.say("my alerts")).text.startswith("Your alerts:")
    assert (await chat.say("cancel all alerts")).replies == [
        "Cancel your 1 price alert? Nothing is cancelled until you say yes."
    ]
    assert (await chat.say("yes")).replies == ['🗑️ Cancelled 1 alert. Say "undo" to bring it back.']


async def test_two_alerts_from_one_message_and_one_undo_for_both(running_bot):
    await Prices(running_bot).push("BTC", 65000)
    chat = Chat(running_bot)
    turn = await chat.say("ping me if BTC goes above 70000 or below 60000", replies=2)
    assert [reply.split(" (")[0] for reply in turn.replies] == [
        "🔔 Alert #1 set: BTC goes above 70,000", "🔔 Alert #2 set: BTC drops below 60,000"
    ], turn.replies

    turn = await chat.say("undo")
    assert turn.replies == [
        "↩️ Undone: alert #1 (BTC goes above 70,000) and alert #2 (BTC drops below 60,000) are cancelled."
    ]
    async with running_bot.sessionmaker() as session:
        alerts = (await session.execute(select(Alert).order_by(Alert.number))).scalars().all()
    assert [(a.condition, a.threshold, a.state) for a in alerts] == [
        ("above", 70000.0, "cancelled"), ("below", 60000.0, "cancelled")
    ]
