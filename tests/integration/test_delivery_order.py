"""Messages to one conversation arrive in the order they became due, also when its pace defers
some of them to the database and one is retried after a 503; other conversations don't wait."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import scheduler.outbox as outbox_module
from app import Settings
from models.tables import Occurrence
from scheduler.outbox import ConversationPacer, RetryPolicy
from tests.support.factories import make_conversation
from tests.support.waiting import eventually

KEY = "o" * 32
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(database_url=database_url, notify_api_keys=(KEY,))


async def notify(running_bot, conversation_id: str, text: str) -> None:
    url = running_bot.url.replace("/api/messages", "/api/notify")
    body = {"conversation": {"channelId": "emulator", "id": conversation_id}, "text": text}
    async with running_bot.http.post(url, headers=AUTH, json=body) as response:
        assert response.status == 202, await response.text()


@pytest.mark.parametrize("retry", [False, True], ids=["paced", "paced-and-retried"])
async def test_twenty_notifications_to_one_conversation_arrive_in_due_order(running_bot, monkeypatch, retry):
    channel = running_bot.channel
    outbox = running_bot.scheduler.outbox
    # 3 at once, then 10 a second; a send that would wait over 10 ms goes back to the database
    # (due when its pace allows) and is claimed again: the path that used to reorder them.
    outbox._pacer = ConversationPacer(rate=10.0, burst=3)
    outbox._retry = RetryPolicy(base_seconds=0.3, max_seconds=1.0)
    monkeypatch.setattr(outbox_module, "DEFER_AFTER_SECONDS", 0.01)
    async with running_bot.sessionmaker.begin() as session:
        for name in ("busy", "calm"):
            await make_conversation(session, user_id=f"user-{name}", conversation_id=name,
                                    service_url=channel.url + "/")
    if retry:
        # The 8th post to "busy" gets a 503 (with Retry-After 0): a retry of message 7 must
        # hold back 8.. of that conversation.
        channel.scripts["busy"] = [None] * 7 + [503]
    texts = [f"n{n:02d}" for n in range(20)]
    for text in texts:
        await notify(running_bot, "busy", text)
    await notify(running_bot, "calm", "calm one")

    await eventually(lambda: len(channel.texts("busy")) >= 20 and channel.texts("calm"), timeout=30)
    assert channel.texts("busy") == texts  # in due order, each once
    assert channel.texts("calm") == ["calm one"]
    # The other conversation did not wait behind the paced one.
    arrival = [r.conversation_id for r in channel.received]
    assert arrival.index("calm") < len(arrival) - 1
    async def recorded():
        async with running_bot.sessionmaker() as session:
            rows = (await session.execute(select(Occurrence.status, Occurrence.attempts))).tuples().all()
        return rows if len(rows) == 21 and {status for status, _ in rows} == {"sent"} else None

    rows = await eventually(recorded, timeout=10)
    assert sum(attempts for _, attempts in rows) == 21 + (1 if retry else 0)
    assert channel.refused.get("busy", 0) == (1 if retry else 0)
    deferred = outbox.metrics.outcomes.labels("notify", "deferred")._value.get()
    assert deferred >= 1  # the pace did send some of them back to the database
