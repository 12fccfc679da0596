"""Channel faults seen end to end: a user who blocked the bot (403) stops getting messages, and
writing again brings their reminders back."""

from __future__ import annotations

from sqlalchemy import select

from models.tables import Conversation, Occurrence, Reminder
from tests.support.waiting import eventually


async def test_blocked_user_is_suspended_and_resumed_when_they_write_again(running_bot):
    channel = running_bot.channel
    user = running_bot.user()
    assert await user.join(running_bot.http) == 201
    await user.say(running_bot.http, "every 1 minute remind me to stretch")
    await channel.wait_for_text("Reminder #1 set")

    # The user blocks the bot: the channel answers 403 from now on.
    channel.fail_with = 403
    async with running_bot.sessionmaker.begin() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
        reminder.next_run_at = running_bot.scheduler.outbox._clock()
    running_bot.scheduler.poke(reminder.next_run_at)

    async def suspended():
        async with running_bot.sessionmaker() as session:
            conversation = (await session.execute(select(Conversation))).scalar_one()
            state = (await session.execute(select(Reminder.state))).scalar_one()
            statuses = list((await session.execute(select(Occurrence.http_status))).scalars())
        return (not conversation.active and state == "suspended" and statuses == [403]) or None

    await eventually(suspended, timeout=10)

    # They unblock and write: the reminder is active again and listed.
    channel.fail_with = None
    before = len(channel.received)
    await user.say(running_bot.http, "my reminders")
    listed = await channel.wait_for_text("stretch", after=before)
    assert "#1" in listed.text
    async with running_bot.sessionmaker() as session:
        resumed = (await session.execute(select(Reminder))).scalar_one()
        assert (await session.execute(select(Conversation.active))).scalar_one() is True
    # Still on its schedule (the occurrence the channel refused stays recorded as failed).
    assert resumed.state == "active" and resumed.next_run_at > reminder.next_run_at
