"""Channel faults seen end to end: a user who blocked the bot (403) stops getting messages, and
writing again brings their reminders back."""

from __future__ import annotations

from sqlalchemy import select

from models.tables import Conversation, Occurrence, Reminder
from scheduler.breaker import BreakerPolicy, ChannelBreaker
from tests.support.factories import make_conversation, make_reminder
from tests.support.waiting import eventually


async def test_blocked_user_is_suspended_and_resumed_when_they_write_again(running_bot):
    channel = running_bot.channel
    user = running_bot.user()
    assert await user.join(running_bot.http) == 201
    await user.say(running_bot.http, "every 1 minute remind me to stretch")
    await channel.wait_for_text("Reminder #1 set")

    # The user blocks the bot: the channel answers 403 for their conversation from now on,
    # while another user's reminder, due at the same time, goes through (a 403 is blamed on
    # its conversation only while other sends to the channel succeed; tried again quickly here).
    running_bot.scheduler.outbox.breaker = ChannelBreaker(BreakerPolicy(suspect_seconds=0.2))
    channel.fail_conversations[user.conversation_id] = 403
    now = running_bot.scheduler.outbox._clock()
    async with running_bot.sessionmaker.begin() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
        reminder.next_run_at = now
        other_user, other = await make_conversation(session, user_id="other", conversation_id="other",
                                                    service_url=channel.url)
        session.add(make_reminder(user_pk=other_user, conversation_pk=other, number=1, text="other's",
                                  schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
    running_bot.scheduler.poke(reminder.next_run_at)
    await channel.wait_for_text("other's")

    async def suspended():
        async with running_bot.sessionmaker() as session:
            conversation = await session.get(Conversation, reminder.conversation_pk, populate_existing=True)
            state = await session.scalar(select(Reminder.state).where(Reminder.id == reminder.id))
            statuses = list((await session.execute(
                select(Occurrence.http_status).where(Occurrence.reminder_id == reminder.id))).scalars())
        return (not conversation.active and state == "suspended" and statuses == [403]) or None

    await eventually(suspended, timeout=10)

    # They unblock and write: the reminder is active again and listed.
    channel.fail_conversations.clear()
    before = len(channel.received)
    await user.say(running_bot.http, "my reminders")
    listed = await channel.wait_for_text("stretch", after=before)
    assert "#1" in listed.text
    async with running_bot.sessionmaker() as session:
        resumed = await session.get(Reminder, reminder.id)
        assert await session.scalar(select(Conversation.active).where(Conversation.id == reminder.conversation_pk))
    # Still on its schedule (the occurrence the channel refused stays recorded as failed).
    assert resumed.state == "active" and resumed.next_run_at > reminder.next_run_at
