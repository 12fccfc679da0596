"""The Direct Line route: a ``proactive`` event (or a structured message) through /api/messages."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from app import NOTIFICATIONS, Settings
from models.tables import Conversation, Notification, User
from tests.support.waiting import eventually

SYSTEM = "order-service"


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        proactive_trusted_senders=(f"directline:{SYSTEM}", "emulator:ops-console"),
        notify_max_targets=3,
    )


class System:
    """An external system talking to the bot as Direct Line does (channelId "directline")."""

    def __init__(self, running_bot, user_id: str = SYSTEM, channel_id: str = "directline") -> None:
        self.running_bot = running_bot
        self.client = running_bot.user(user_id=user_id)
        self.channel_id = channel_id

    def _stamp(self, activity: dict) -> dict:
        activity["channelId"] = self.channel_id
        return activity

    async def event(self, value, name: str = "proactive") -> int:
        activity = self._stamp(self.client._base("event"))
        activity["name"] = name
        activity["value"] = value
        return await self.client.post(self.running_bot.http, activity)

    async def message(self, text=None, value=None) -> int:
        return await self.client.post(self.running_bot.http, self._stamp(self.client.message(text, value)))

    def results(self) -> list[dict]:
        return [
            r.activity["value"]
            for r in self.running_bot.channel.received
            if r.conversation_id == self.client.conversation_id and r.activity.get("name") == "proactive.result"
        ]

    async def next_result(self, count: int) -> dict:
        async def arrived():
            results = self.results()
            return results[count - 1] if len(results) >= count else None

        return await eventually(arrived)


async def joined(running_bot, user_id: str):
    user = running_bot.user(user_id=user_id)
    assert await user.join(running_bot.http) == 201
    await running_bot.channel.wait_for(lambda r: r.conversation_id == user.conversation_id)
    return user


async def test_trusted_event_sends_to_the_user_and_answers_with_the_notification(running_bot):
    customer = await joined(running_bot, "customer-7")
    system = System(running_bot)
    status = await system.event(
        {"user": {"channelId": "emulator", "id": "customer-7"}, "text": "Order 1042 has shipped"}
    )
    assert status in (200, 201)
    received = await running_bot.channel.wait_for_text("Order 1042 has shipped")
    assert received.conversation_id == customer.conversation_id
    result = await system.next_result(1)
    assert result["status"] == "queued" and result["targets"]["unknown"] == []
    # The same notification record as the HTTP endpoint's.
    report = await eventually(lambda: _done(running_bot.app[NOTIFICATIONS], result["id"]), timeout=5)
    assert report["source"] == "directline" and report["counts"]["sent"] == 1


async def _done(notifications, notification_id):
    report = await notifications.status(notification_id)
    return report if report["status"] == "done" else None


async def test_structured_message_value_works_like_the_event(running_bot):
    customer = await joined(running_bot, "customer-8")
    system = System(running_bot)
    await system.message(value={"conversation": customer.conversation_id, "text": "Via a message"})
    received = await running_bot.channel.wait_for_text("Via a message")
    assert received.conversation_id == customer.conversation_id
    assert (await system.next_result(1))["id"]


async def test_broadcast_from_the_system_does_not_reach_the_system_itself(running_bot):
    a = await joined(running_bot, "fan-a")
    b = await joined(running_bot, "fan-b")
    system = System(running_bot)
    await system.event({"broadcast": True, "text": "Sale starts now"})
    for user in (a, b):
        await running_bot.channel.wait_for(
            lambda r, user=user: r.conversation_id == user.conversation_id and "Sale starts now" in r.text
        )
    await system.next_result(1)
    # The system's conversation was never stored as a user's, so it is no broadcast target.
    async with running_bot.sessionmaker() as session:
        stored = (
            await session.execute(select(User.user_id).join(Conversation, Conversation.user_pk == User.id))
        ).scalars().all()
    assert SYSTEM not in stored
    assert not [r for r in running_bot.channel.received if r.conversation_id == system.client.conversation_id and "Sale" in r.text]


async def test_untrusted_sender_is_ignored_with_a_log_line(running_bot, caplog):
    victim = await joined(running_bot, "victim")
    impostor = System(running_bot, user_id="impostor")
    same_id_other_channel = System(running_bot, user_id=SYSTEM, channel_id="webchat")
    with caplog.at_level(logging.WARNING, logger="dialogs.proactive"):
        await impostor.event({"user": {"channelId": "emulator", "id": "victim"}, "text": "Phishing link"})
        await same_id_other_channel.event({"broadcast": True, "text": "Phishing link"})
        await impostor.message(value={"broadcast": True, "text": "Phishing link"})
    assert sum("ignored a proactive request from" in m for m in caplog.messages) == 3
    assert "directline:impostor" in caplog.text and "webchat:order-service" in caplog.text
    # A normal turn afterwards is answered, and nothing was stored or sent for the three.
    await victim.say(running_bot.http, "help")
    await running_bot.channel.wait_for_text("Here's what I can do")
    assert "Phishing link" not in running_bot.channel.texts()
    assert impostor.results() == [] and same_id_other_channel.results() == []
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 0


@pytest.mark.parametrize(
    "value, field",
    [
        (None, "body"),
        ("text", "body"),
        ({"text": "no target"}, "targets"),
        ({"broadcast": True}, "text"),
        ({"users": [{"channelId": "e", "id": str(i)} for i in range(4)], "text": "x"}, "users"),
        ({"broadcast": True, "text": "x", "at": "yesterday"}, "at"),
    ],
)
async def test_bad_request_is_answered_with_the_field_and_stores_nothing(running_bot, value, field):
    system = System(running_bot)
    await system.event(value)
    result = await system.next_result(1)
    assert result["field"] == field and result["error"].startswith(field)
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 0


async def test_idempotency_key_in_the_value_sends_once(running_bot):
    customer = await joined(running_bot, "customer-9")
    system = System(running_bot)
    request = {"user": {"channelId": "emulator", "id": "customer-9"}, "text": "Once only", "idempotencyKey": "evt-1"}
    await system.event(request)
    await system.event(request)
    first, second = await system.next_result(1), await system.next_result(2)
    assert first["id"] == second["id"] and second["replayed"] is True
    await running_bot.channel.wait_for_text("Once only")
    await running_bot.scheduler.run_due()
    assert sum(
        1 for r in running_bot.channel.received if r.conversation_id == customer.conversation_id and r.text == "Once only"
    ) == 1


async def test_trusted_system_chatting_gets_a_hint_not_the_reminder_bot(running_bot):
    system = System(running_bot, user_id="ops-console", channel_id="emulator")
    await system.message("remind me to stretch in 10 minutes")
    hint = await running_bot.channel.wait_for_text("send an event named")
    assert hint.conversation_id == system.client.conversation_id
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 0
