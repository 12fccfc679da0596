"""The bot over real HTTP, talking to a fake Emulator channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from models.schedule import format_local
from models.tables import Conversation, Occurrence, Reminder, User
from tests.support.waiting import eventually


async def test_welcome_then_reminder_arrives_on_time(running_bot):
    channel = running_bot.channel
    user = running_bot.user()
    assert await user.join(running_bot.http) == 201
    await channel.wait_for_text("I'm Nudge")

    assert await user.say(running_bot.http, "remind me to stretch in 3 seconds") == 201
    confirmation = await channel.wait_for_text("Reminder #1 set")
    asked_at = time.time()
    # The confirmation shows the resolved local time in the user's zone (Web Chat's localTimezone),
    # which is the stored due time: what the date and the zone's abbreviation are depends on today.
    async with running_bot.sessionmaker() as session:
        due = datetime.fromisoformat((await session.execute(select(Reminder))).scalar_one().schedule["run_at"])
    assert abs(due.timestamp() - (asked_at + 3)) < 2.0, (due, asked_at)
    assert confirmation.text == f"✅ Reminder #1 set: stretch, on {format_local(due, 'Europe/Prague')}.", confirmation.text

    delivered = await channel.wait_for_text("⏰ Reminder #1: stretch", timeout=6)
    assert delivered.at - asked_at < 3 + 1.0
    # Posted to the conversation itself, not as a reply to the synthetic continuation event.
    assert delivered.reply_to is None
    assert "replyToId" not in delivered.activity
    assert delivered.conversation_id == user.conversation_id
    card = delivered.activity["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert [a["title"] for a in card["content"]["actions"]] == ["Snooze 10 min", "Snooze 1 h", "Done"]

    async def recorded():
        async with running_bot.sessionmaker() as session:
            rows = (await session.execute(select(Occurrence))).scalars().all()
            return rows if rows and rows[0].status != "sending" else None

    occurrences = await eventually(recorded)
    assert [(o.status, o.sent_at is not None, o.http_status) for o in occurrences] == [("sent", True, None)]
    async with running_bot.sessionmaker() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
    assert reminder.state == "done" and reminder.next_run_at is None


async def test_conversation_reference_is_stored_per_user_and_conversation(running_bot):
    user = running_bot.user(user_id="anna")
    await user.join(running_bot.http)
    await user.say(running_bot.http, "help")
    await running_bot.channel.wait_for_text("Here's what I can do")
    second = running_bot.user(user_id="anna")  # same user, another conversation
    await second.say(running_bot.http, "help")
    async with running_bot.sessionmaker() as session:
        users = (await session.execute(select(User))).scalars().all()
        conversations = (await session.execute(select(Conversation).order_by(Conversation.id))).scalars().all()
    assert [(u.channel_id, u.user_id, u.timezone, u.timezone_source) for u in users] == [
        ("emulator", "anna", "Europe/Prague", "channel")
    ]
    assert [c.conversation_id for c in conversations] == [user.conversation_id, second.conversation_id]
    reference = conversations[0].reference
    assert reference["serviceUrl"] == running_bot.channel.url
    assert reference["user"]["id"] == "anna" and reference["bot"]["id"] == "nudge-bot"
    assert conversations[0].active and conversations[0].updated_at <= datetime.now(UTC)
