"""A group conversation gets one message, however it is targeted (issue 14.1).

A group chat reaches the bot as the Bot Framework sends one: every member's activities carry
the same ``conversation.id`` (``conversationType: groupChat``, ``isGroup: true``), so the bot
stores a conversation row per member who wrote. A notification to the conversation, to its
members, or to everyone is still one post into the group, and the status report says which
listed targets that one send answered for. Real HTTP, the fake channel counting what arrives.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app import Settings
from models.tables import Conversation, Notification, Occurrence, Reminder, User
from tests.support.emulator import EmulatorUser
from tests.support.waiting import eventually

KEY = "g" * 32
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(database_url=database_url, notify_api_keys=(KEY,))


class GroupMember(EmulatorUser):
    """A member of a group chat: the conversation is marked as a group, as Teams marks it."""

    def _base(self, kind: str) -> dict[str, Any]:
        activity = super()._base(kind)
        activity["conversation"] = {"id": self.conversation_id, "conversationType": "groupChat", "isGroup": True}
        return activity


async def group_of(running_bot, *names: str, conversation_id: str | None = None) -> list[GroupMember]:
    """Members who each wrote in one group chat (so the bot has a row for each)."""
    conversation_id = conversation_id or f"19:group-{uuid.uuid4().hex[:10]}@thread.v2"
    members = []
    for name in names:
        member = GroupMember(
            bot_url=running_bot.url, service_url=running_bot.channel.url, user_id=name,
            conversation_id=conversation_id,
        )
        before = len(running_bot.channel.received)
        assert await member.say(running_bot.http, "hi") == 201
        await running_bot.channel.wait_for(
            lambda r: r.conversation_id == conversation_id and running_bot.channel.received.index(r) >= before
        )
        members.append(member)
    return members


async def one_to_one(running_bot, name: str) -> EmulatorUser:
    user = running_bot.user(user_id=name)
    assert await user.join(running_bot.http) == 201
    await running_bot.channel.wait_for(lambda r: r.conversation_id == user.conversation_id)
    return user


async def notify(running_bot, body: dict) -> dict:
    async with running_bot.http.post(
        running_bot.url.replace("/api/messages", "/api/notify"), json=body, headers=AUTH
    ) as response:
        answer = await response.json()
        assert response.status == 202, answer
        return answer


async def report_of(running_bot, notification_id: str) -> dict:
    async with running_bot.http.get(
        running_bot.url.replace("/api/messages", f"/api/notify/{notification_id}?limit=1000"), headers=AUTH
    ) as response:
        assert response.status == 200
        return await response.json()


async def settled(running_bot, notification_id: str, timeout: float = 15.0) -> dict:
    async def done():
        report = await report_of(running_bot, notification_id)
        return report if report["status"] == "done" else None

    return await eventually(done, timeout=timeout)


def arrived(channel, conversation_id: str, text: str) -> int:
    return sum(1 for r in channel.received if r.conversation_id == conversation_id and r.text == text)


async def occurrence_rows(running_bot, notification_id: str) -> list[tuple[str, str, str]]:
    """(conversation id, user id of the row sent through, status) of each stored send."""
    async with running_bot.sessionmaker() as session:
        rows = await session.execute(
            select(Conversation.conversation_id, User.user_id, Occurrence.status)
            .join(Conversation, Conversation.id == Occurrence.conversation_pk)
            .join(User, User.id == Conversation.user_pk)
            .where(Occurrence.notification_id == notification_id)
        )
        return sorted(rows.tuples())


def user(name: str) -> dict:
    return {"user": {"channelId": "emulator", "id": name}}


GROUP = "<group>"  # stands for the group's conversation id in the parameters below


def conversation() -> dict:
    return {"conversation": {"channelId": "emulator", "id": GROUP}}


def filled(value, group_id: str):
    """``value`` with GROUP replaced by the real conversation id."""
    if isinstance(value, dict):
        return {key: filled(item, group_id) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, group_id) for item in value]
    return group_id if value == GROUP else value


@pytest.mark.parametrize(
    ("targets", "matched", "through"),
    [
        pytest.param(conversation(), [conversation()], None, id="conversation"),
        pytest.param(
            {"users": [{"channelId": "emulator", "id": n} for n in ("ann", "ben", "cat")]},
            [user("ann"), user("ben"), user("cat")],
            "ann",
            id="users",
        ),
        pytest.param({"broadcast": True}, [], None, id="broadcast"),
        pytest.param(
            {"user": {"channelId": "emulator", "id": "ben"}, "conversation": {"channelId": "emulator", "id": GROUP}},
            [user("ben"), conversation()],
            "ben",
            id="member-and-conversation",
        ),
    ],
)
async def test_a_group_chat_gets_one_message_however_it_is_targeted(running_bot, targets, matched, through):
    members = await group_of(running_bot, "ann", "ben", "cat")
    group_id = members[0].conversation_id
    text = f"Stand-up moved to 10:00 ({uuid.uuid4().hex[:6]})"

    accepted = await notify(running_bot, {**filled(targets, group_id), "text": text})
    assert accepted["targets"]["unknown"] == []
    report = await settled(running_bot, accepted["id"])

    assert arrived(running_bot.channel, group_id, text) == 1
    assert report["counts"] == {
        "targets": 1, "sent": 1, "failed": 0, "skipped": 0, "pending": 0, "cancelled": 0, "unknown": 0,
    }
    [target] = report["targets"]
    assert (target["conversationId"], target["status"], target["attempts"]) == (group_id, "sent", 1)
    assert target["matched"] == filled(matched, group_id)
    # A listed member's own row carries the send; otherwise any member's.
    assert target["userId"] == (through or target["userId"]) and target["userId"] in ("ann", "ben", "cat")
    rows = await occurrence_rows(running_bot, accepted["id"])
    assert rows == [(group_id, target["userId"], "sent")]


async def test_broadcast_sends_once_to_each_distinct_conversation_across_pages(running_bot, monkeypatch):
    import models.notifications as notifications_module

    # Pages of two conversation rows, and the group's rows spread over them: the group must
    # still be reached once, on the page of its first row.
    monkeypatch.setattr(notifications_module, "EXPAND_PAGE", 2)
    group_id = f"19:group-{uuid.uuid4().hex[:10]}@thread.v2"
    [ann] = await group_of(running_bot, "ann", conversation_id=group_id)
    dan = await one_to_one(running_bot, "dan")
    await group_of(running_bot, "ben", conversation_id=group_id)
    ann_alone = await one_to_one(running_bot, "ann")  # ann also talks to the bot one to one
    await group_of(running_bot, "cat", conversation_id=group_id)

    accepted = await notify(running_bot, {"broadcast": True, "text": "Maintenance at 22:00"})
    report = await settled(running_bot, accepted["id"])

    for conversation_id in (group_id, dan.conversation_id, ann_alone.conversation_id):
        assert arrived(running_bot.channel, conversation_id, "Maintenance at 22:00") == 1, conversation_id
    assert sum(r.text == "Maintenance at 22:00" for r in running_bot.channel.received) == 3
    assert report["counts"]["targets"] == 3 and report["counts"]["sent"] == 3
    assert sorted(t["conversationId"] for t in report["targets"]) == sorted(
        [group_id, dan.conversation_id, ann_alone.conversation_id]
    )
    rows = await occurrence_rows(running_bot, accepted["id"])
    assert sorted(conversation_id for conversation_id, _, _ in rows) == sorted(
        [group_id, dan.conversation_id, ann_alone.conversation_id]
    )
    assert {status for _, _, status in rows} == {"sent"}


async def test_a_member_listed_with_a_one_to_one_chat_gets_both_conversations_once(running_bot):
    members = await group_of(running_bot, "ann", "ben")
    group_id = members[0].conversation_id
    ann_alone = await one_to_one(running_bot, "ann")

    accepted = await notify(
        running_bot, {"users": [{"channelId": "emulator", "id": "ann"}, {"channelId": "emulator", "id": "ben"}],
                      "text": "Lunch is here"},
    )
    report = await settled(running_bot, accepted["id"])

    assert arrived(running_bot.channel, group_id, "Lunch is here") == 1
    assert arrived(running_bot.channel, ann_alone.conversation_id, "Lunch is here") == 1
    by_conversation = {t["conversationId"]: t for t in report["targets"]}
    assert set(by_conversation) == {group_id, ann_alone.conversation_id}
    assert by_conversation[group_id]["matched"] == [user("ann"), user("ben")]
    assert by_conversation[ann_alone.conversation_id]["matched"] == [user("ann")]
    async with running_bot.sessionmaker() as session:
        stored = await session.get(Notification, accepted["id"])
        assert sorted(len(targets) for targets in stored.matched.values()) == [1, 2]


async def test_a_group_whose_every_member_row_is_inactive_is_skipped_once(running_bot):
    members = await group_of(running_bot, "ann", "ben", "cat")
    group_id = members[0].conversation_id
    async with running_bot.sessionmaker.begin() as session:
        await session.execute(Conversation.__table__.update().values(active=False))

    accepted = await notify(running_bot, {"conversation": group_id, "text": "Anyone there?"})
    report = await settled(running_bot, accepted["id"])

    assert arrived(running_bot.channel, group_id, "Anyone there?") == 0
    assert report["counts"]["targets"] == 1 and report["counts"]["skipped"] == 1
    assert report["targets"][0]["reason"] == "conversation is inactive"


async def test_a_reminder_set_in_a_group_fires_once_into_it(running_bot):
    members = await group_of(running_bot, "ann", "ben", "cat")
    group_id = members[0].conversation_id
    before = len(running_bot.channel.received)
    assert await members[1].say(running_bot.http, "remind me to water the plants in 10 minutes") == 201
    await running_bot.channel.wait_for_text("Reminder #1 set", after=before)
    # Another member writes after it was set: the group now has three rows, all active.
    assert await members[2].say(running_bot.http, "hi") == 201

    async with running_bot.sessionmaker.begin() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
        reminder.next_run_at = running_bot.scheduler.outbox._clock() - timedelta(seconds=1)
    running_bot.scheduler.poke(reminder.next_run_at)

    async def delivered():
        async with running_bot.sessionmaker() as session:
            statuses = list((await session.execute(select(Occurrence.status).where(Occurrence.kind == "reminder"))).scalars())
        return statuses if statuses == ["sent"] else None

    await eventually(delivered, timeout=10)
    fired = [r for r in running_bot.channel.received if "water the plants" in r.text and "Reminder #1 set" not in r.text]
    assert [r.conversation_id for r in fired] == [group_id]


async def test_a_group_the_bot_was_removed_from_is_suspended_for_every_member_and_back_when_anyone_writes(running_bot):
    members = await group_of(running_bot, "ann", "ben", "cat")
    group_id = members[0].conversation_id
    for member, text in ((members[0], "remind me to book the room in 2 hours"), (members[1], "remind me to order pizza in 3 hours")):
        before = len(running_bot.channel.received)
        assert await member.say(running_bot.http, text) == 201
        await running_bot.channel.wait_for_text("set", after=before)

    # The group is gone for the bot (removed from it): its channel answers 404.
    running_bot.channel.fail_conversations[group_id] = 404
    accepted = await notify(running_bot, {"conversation": group_id, "text": "Standup in 5"})
    await settled(running_bot, accepted["id"])

    async def states():
        async with running_bot.sessionmaker() as session:
            active = sorted((await session.execute(select(Conversation.active))).scalars())
            reminders = sorted((await session.execute(select(Reminder.state))).scalars())
        return active, reminders

    # Every member's row, not only the one the send went through: no later send tries the
    # group through another member, and neither member's reminder fires into it.
    assert await states() == ([False, False, False], ["suspended", "suspended"])

    # The bot is back in the group: whoever writes first brings the whole group back.
    del running_bot.channel.fail_conversations[group_id]
    before = len(running_bot.channel.received)
    assert await members[2].say(running_bot.http, "hi") == 201
    await running_bot.channel.wait_for(lambda r: running_bot.channel.received.index(r) >= before)
    assert await states() == ([True, True, True], ["active", "active"])


class TestTenThousandTargets:
    """10,000 listed users on PostgreSQL: accepted and sent (no "stack depth limit exceeded")."""

    @pytest.fixture
    def bot_settings(self, postgres_url) -> Settings:
        return Settings(
            database_url=postgres_url, notify_api_keys=(KEY,), notify_max_targets=10_000,
            notify_max_body_bytes=2 * 1024 * 1024,
        )

    async def test_ten_thousand_members_of_a_hundred_groups(self, running_bot):
        # One real member, whose stored reference the others' rows copy.
        [first] = await group_of(running_bot, "member-0", conversation_id="19:big-0@thread.v2")
        async with running_bot.sessionmaker.begin() as session:
            template = (await session.execute(select(Conversation))).scalar_one()
            users = [{"channel_id": "emulator", "user_id": f"member-{i}"} for i in range(1, 10_000)]
            pks = (await session.execute(insert(User).returning(User.id), users)).scalars().all()
            conversations = []
            for i, pk in zip(range(1, 10_000), pks):
                conversation_id = f"19:big-{i % 100}@thread.v2"
                reference = dict(template.reference, conversation={"id": conversation_id, "isGroup": True})
                conversations.append({
                    "user_pk": pk, "channel_id": "emulator", "conversation_id": conversation_id,
                    "service_url": template.service_url, "reference": reference, "active": True,
                })
            await session.execute(insert(Conversation), conversations)
        # Tables filled this fast have no statistics yet: the look-ups must be quick anyway.

        started = time.monotonic()
        accepted = await notify(
            running_bot,
            {"users": [{"channelId": "emulator", "id": f"member-{i}"} for i in range(10_000)], "text": "All hands"},
        )
        assert accepted["targets"] == {"broadcast": False, "requested": 10_000, "unknown": []}
        report = await settled(running_bot, accepted["id"], timeout=60)
        assert time.monotonic() - started < 30  # about 3 s on 2 busy cores
        assert report["counts"]["targets"] == 100 and report["counts"]["sent"] == 100
        for i in range(100):
            assert arrived(running_bot.channel, f"19:big-{i}@thread.v2", "All hands") == 1
        assert sum(len(t["matched"]) for t in report["targets"]) == 10_000
        async with running_bot.sessionmaker() as session:
            count = (
                await session.execute(
                    select(func.count()).select_from(Occurrence).where(Occurrence.notification_id == accepted["id"])
                )
            ).scalar_one()
        assert count == 100


class TestAlertInAGroup:
    PRICES_KEY = "price-key-" + "x" * 22

    @pytest.fixture
    def bot_settings(self, database_url) -> Settings:
        # The simulated feed polls once at start, then not again during the test.
        return Settings(
            database_url=database_url, notify_api_keys=(KEY,), price_api_keys=(self.PRICES_KEY,),
            price_feed_env={"PRICE_FEED_INTERVAL_SECONDS": "3600"},
        )

    async def push(self, running_bot, price: float, at) -> None:
        async with running_bot.http.post(
            running_bot.url.replace("/api/messages", "/api/prices"),
            json=[{"symbol": "BTC", "price": price, "time": at.isoformat()}],
            headers={"X-Api-Key": self.PRICES_KEY},
        ) as response:
            assert response.status == 202, await response.text()

    async def test_an_alert_set_in_a_group_fires_once_into_it(self, running_bot):
        clock = running_bot.scheduler.outbox._clock()
        await self.push(running_bot, 68000, clock)
        members = await group_of(running_bot, "ann", "ben", "cat")
        group_id = members[0].conversation_id
        before = len(running_bot.channel.received)
        assert await members[0].say(running_bot.http, "alert me when BTC goes above 70000") == 201
        await running_bot.channel.wait_for_text("Alert #1 set", after=before)
        assert await members[1].say(running_bot.http, "hi") == 201

        await self.push(running_bot, 70500, clock + timedelta(seconds=1))
        await running_bot.channel.wait_for_text("🔔 Alert #1: BTC goes above 70,000", after=before)

        async def delivered():
            async with running_bot.sessionmaker() as session:
                statuses = list((await session.execute(select(Occurrence.status).where(Occurrence.kind == "alert"))).scalars())
            return statuses if statuses == ["sent"] else None

        await eventually(delivered, timeout=10)
        fired = [r for r in running_bot.channel.received if r.text.startswith("🔔 Alert #1: ")]
        assert [r.conversation_id for r in fired] == [group_id]
