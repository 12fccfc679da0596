"""A channel that refuses everyone (a misconfigured bot, a tenant-wide 403) during a broadcast:
nobody is deactivated, every message waits, and all of them arrive once it recovers; refusals
specific to one conversation (404, a 403 among successes) still deactivate just that one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import Settings
from models.tables import Conversation, Occurrence
from scheduler.breaker import BreakerPolicy, ChannelBreaker
from tests.support.factories import make_conversation
from tests.support.waiting import eventually

KEY = "k" * 32
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(database_url=database_url, notify_api_keys=(KEY,))


def quick_breaker(running_bot) -> ChannelBreaker:
    """The running bot's breaker with short cool-downs, so a test sees it probe and close."""
    breaker = ChannelBreaker(BreakerPolicy(cooldown_seconds=0.5, max_cooldown_seconds=1.0, suspect_seconds=0.3))
    running_bot.scheduler.outbox.breaker = breaker
    return breaker


async def seed(running_bot, names: list[str]) -> None:
    async with running_bot.sessionmaker.begin() as session:
        for name in names:
            await make_conversation(session, user_id=f"user-{name}", conversation_id=name,
                                    service_url=running_bot.channel.url + "/")


async def broadcast(running_bot, text: str) -> None:
    url = running_bot.url.replace("/api/messages", "/api/notify")
    async with running_bot.http.post(url, headers=AUTH, json={"broadcast": True, "text": text}) as response:
        assert response.status == 202, await response.text()


async def occurrence_rows(running_bot):
    async with running_bot.sessionmaker() as session:
        return (await session.execute(
            select(Conversation.conversation_id, Occurrence.status, Occurrence.attempts, Occurrence.http_status)
            .join(Conversation, Conversation.id == Occurrence.conversation_pk).order_by(Occurrence.id)
        )).tuples().all()


async def active(running_bot) -> dict[str, bool]:
    async with running_bot.sessionmaker() as session:
        return dict((await session.execute(select(Conversation.conversation_id, Conversation.active))).tuples().all())


async def metrics_text(running_bot) -> str:
    async with running_bot.http.get(running_bot.url.replace("/api/messages", "/metrics")) as response:
        assert response.status == 200
        return await response.text()


async def test_a_channel_wide_403_deactivates_nobody_and_every_message_arrives_once_in_order(running_bot):
    channel = running_bot.channel
    breaker = quick_breaker(running_bot)
    names = [f"conv-{n:03d}" for n in range(150)]
    await seed(running_bot, names)
    channel.fail_with = 403  # the whole channel refuses the bot
    await broadcast(running_bot, "first")
    await broadcast(running_bot, "second")

    # Both broadcasts expanded, every message kept pending (none failed; only the refusals
    # before the circuit opened counted an attempt), the circuit open, and not all 300 sends
    # were even tried.
    async def held_everywhere():
        rows = await occurrence_rows(running_bot)
        # ("sending": claimed again at a probe time, and put back.)
        return len(rows) == 300 and all(
            status in ("pending", "sending") and attempts <= 1 for _, status, attempts, _ in rows
        ) and sum(attempts for _, _, attempts, _ in rows) < 300

    await eventually(held_everywhere, timeout=60)
    assert breaker.status()["open"] == 1
    [circuit] = breaker.open_circuits()
    assert circuit["channel"] == channel.url + "/" and circuit["state"] in ("open", "half-open")
    assert sum(channel.refused.values()) < 300
    assert all((await active(running_bot)).values())
    assert channel.received == []
    text = await metrics_text(running_bot)
    assert "nudge_channel_circuits_open 1.0" in text
    assert "nudge_channel_circuit_opens_total 1.0" in text
    # /healthz names the refusing channel, and keeps this instance in service (200).
    async with running_bot.http.get(running_bot.url.replace("/api/messages", "/healthz")) as response:
        assert response.status == 200
        health = await response.json()
    assert [c["channel"] for c in health["channels_refusing"]] == [channel.url + "/"]

    # It probes while refused (one send at a time) and stays open; still nobody deactivated.
    refused = sum(channel.refused.values())
    await eventually(lambda: sum(channel.refused.values()) >= refused + 2, timeout=30)
    assert breaker.status()["open"] == 1 and breaker.opened_total == 1
    assert all((await active(running_bot)).values())

    # The channel recovers: every message arrives, once, and in order in each conversation.
    channel.fail_with = None
    await eventually(lambda: len(channel.received) >= 300, timeout=60)
    got: dict[str, list[str]] = {}
    for received in channel.received:
        got.setdefault(received.conversation_id, []).append(received.text)
    assert got == {name: ["first", "second"] for name in names}

    async def all_sent():
        rows = await occurrence_rows(running_bot)
        return all(status == "sent" for _, status, _, _ in rows) and len(rows) == 300

    await eventually(all_sent, timeout=30)
    assert len(channel.received) == 300
    assert breaker.status()["open"] == 0
    assert all((await active(running_bot)).values())
    assert "nudge_channel_circuits_open 0.0" in await metrics_text(running_bot)


@pytest.mark.parametrize("status", [403, 404])
async def test_a_refusal_specific_to_one_conversation_deactivates_only_it(running_bot, status):
    channel = running_bot.channel
    breaker = quick_breaker(running_bot)
    names = [f"conv-{n:02d}" for n in range(12)]
    await seed(running_bot, names)
    channel.fail_conversations["conv-05"] = status  # blocked (403) or gone (404); the rest work
    await broadcast(running_bot, "hello")

    async def deactivated():
        states = await active(running_bot)
        return not states["conv-05"] and states

    states = await eventually(deactivated, timeout=20)
    assert {name for name, is_active in states.items() if not is_active} == {"conv-05"}
    await eventually(lambda: len(channel.received) >= 11, timeout=10)
    assert sorted(r.conversation_id for r in channel.received) == [n for n in names if n != "conv-05"]
    rows = await occurrence_rows(running_bot)
    assert [(s, h) for name, s, _, h in rows if name == "conv-05"] == [("failed", status)]
    assert all(s == "sent" for name, s, _, _ in rows if name != "conv-05")
    # A 404 is believed at once; a 403 on its second refusal, once others went through.
    assert channel.refused["conv-05"] == (2 if status == 403 else 1)
    assert breaker.opened_total == 0
    async with running_bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Occurrence)) == 12
