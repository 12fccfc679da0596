"""Notifications at the service and scheduler level: races with cancel, big target lists,
failures while expanding, and retries of an accepted request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import models.notifications as notifications_module
import scheduler.outbox as outbox_module
from models.db import make_sessionmaker, open_engine
from models.notifications import AlreadyDelivered, Notifications, expand_due_notification
from models.notify_request import parse_notify_request, replay_identity
from models.tables import Conversation, Notification, Occurrence, User
from scheduler.engine import ReminderScheduler
from scheduler.outbox import Outbox
from tests.support.factories import RecordingDeliverer, make_conversation, make_reminder
from tests.support.locks import blocked_or_done


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def request(body: dict, key: str | None = None):
    return parse_notify_request(body, now=datetime.now(UTC), max_targets=100_000, idempotency_key=key)


async def users(sessionmaker, count: int) -> None:
    async with sessionmaker.begin() as session:
        for i in range(count):
            await make_conversation(session, user_id=f"u{i}", conversation_id=f"c{i}")


async def statuses(sessionmaker, notification_id: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Occurrence.status).where(Occurrence.notification_id == notification_id)
        )
        return sorted(rows.scalars())


async def test_cancel_during_expansion_waits_and_then_cancels_everything(sessionmaker, monkeypatch):
    await users(sessionmaker, 2)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(
        request({"users": [{"channelId": "emulator", "id": "u0"}, {"channelId": "emulator", "id": "u1"}], "text": "hi"}),
        source="api", sender="api",
    )
    resolve = notifications_module._resolve
    cancel: dict = {}

    async def resolve_then_cancel(session, targets):
        found = await resolve(session, targets)
        # A DELETE arrives between the expansion's read and its writes.
        cancel["task"] = asyncio.create_task(service.cancel(accepted.body["id"]))
        await blocked_or_done(cancel["task"], sessionmaker)
        cancel["finished_inside"] = cancel["task"].done()
        return found

    monkeypatch.setattr(notifications_module, "_resolve", resolve_then_cancel)
    async with sessionmaker.begin() as session:
        assert (await expand_due_notification(session, now=datetime.now(UTC))).written == 2
    result = await asyncio.wait_for(cancel["task"], 15)
    assert cancel["finished_inside"] is False  # it waited for the expansion's transaction
    assert result["status"] == "cancelled" and result["cancelled"] == 2
    assert await statuses(sessionmaker, accepted.body["id"]) == ["cancelled", "cancelled"]
    async with sessionmaker() as session:
        assert (await session.get(Notification, accepted.body["id"])).status == "cancelled"


async def test_cancel_during_a_claim_never_reports_cancelled_for_a_message_that_is_sent(sessionmaker, monkeypatch):
    await users(sessionmaker, 1)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(
        request({"user": {"channelId": "emulator", "id": "u0"}, "text": "hi"}), source="api", sender="api"
    )
    async with sessionmaker.begin() as session:
        await expand_due_notification(session, now=datetime.now(UTC))
    deliverer = RecordingDeliverer()
    outbox = Outbox(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: datetime.now(UTC))
    lock = outbox_module.lock_occurrences_to_send
    cancel: dict = {}

    async def lock_then_cancel(session, **kwargs):
        rows = await lock(session, **kwargs)
        cancel["task"] = asyncio.create_task(service.cancel(accepted.body["id"]))
        # The cancel reaches the database while the claim's transaction is open.
        await blocked_or_done(cancel["task"], sessionmaker)
        return rows

    monkeypatch.setattr(outbox_module, "lock_occurrences_to_send", lock_then_cancel)
    sends = await outbox.claim_resends(datetime.now(UTC), 10)
    outbox.dispatch(sends)
    await outbox.idle(5)
    # The claim came first: the message goes out, and the cancel says it was too late.
    with pytest.raises(AlreadyDelivered):
        await asyncio.wait_for(cancel["task"], 15)
    assert len(deliverer.sent) == 1
    assert await statuses(sessionmaker, accepted.body["id"]) == ["sent"]


async def test_a_target_list_bigger_than_one_insert_is_expanded(sessionmaker):
    # 1,000 users with 4 conversations each: 4,000 rows, more than one statement's parameters.
    async with sessionmaker.begin() as session:
        for i in range(1000):
            user = User(channel_id="msteams", user_id=f"t{i}")
            session.add(user)
            await session.flush()
            session.add_all(
                Conversation(user_pk=user.id, channel_id="msteams", conversation_id=f"t{i}-{j}",
                             service_url="http://127.0.0.1:9/", reference={"conversation": {"id": f"t{i}-{j}"}})
                for j in range(4)
            )
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(
        request({"users": [{"channelId": "msteams", "id": f"t{i}"} for i in range(1000)], "text": "hi"}),
        source="api", sender="api",
    )
    async with sessionmaker.begin() as session:
        assert (await expand_due_notification(session, now=datetime.now(UTC))).written == 4000
    assert len(await statuses(sessionmaker, accepted.body["id"])) == 4000


async def test_a_failing_expansion_does_not_hold_back_reminders(sessionmaker, monkeypatch):
    async with sessionmaker.begin() as session:
        user_pk, conversation_pk = await make_conversation(session)
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="drink water",
                                  schedule={"type": "once"}, next_run_at=datetime.now(UTC) - timedelta(seconds=1)))
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    await service.submit(request({"user": {"channelId": "emulator", "id": "u1"}, "text": "hi"}), source="api", sender="api")

    async def broken(session, **kwargs):
        raise RuntimeError("expansion keeps failing")

    monkeypatch.setattr("scheduler.engine.expand_due_notification", broken)
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await asyncio.wait_for(scheduler.run_due(), 10)  # returns: no endless loop on the stuck one
    await scheduler.outbox.idle(5)
    assert any("drink water" in text for text in deliverer.texts)
    # It looks again soon, not immediately and not only at the next resync.
    assert scheduler.wake_at is not None and scheduler.wake_at > datetime.now(UTC) - timedelta(seconds=1)


async def test_a_retry_after_the_requested_time_gets_the_first_answer(sessionmaker):
    await users(sessionmaker, 1)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    at = datetime.now(UTC) + timedelta(minutes=1)
    body = {"user": {"channelId": "emulator", "id": "u0"}, "text": "hi", "at": at.isoformat()}
    accepted = await service.submit(request(body, key="k1"), source="api", sender="api")
    # An hour later the body no longer validates ("at" is in the past); the key still answers.
    with pytest.raises(Exception, match="at"):
        parse_notify_request(body, now=at + timedelta(hours=1), max_targets=10, idempotency_key="k1")
    replayed = await service.replay(*replay_identity(body, "k1"))
    assert replayed is not None and replayed.replayed and replayed.body == accepted.body


async def test_an_expansion_claims_what_the_caller_can_send_and_leaves_the_rest_pending(sessionmaker):
    await users(sessionmaker, 5)
    async with sessionmaker.begin() as session:
        gone = (await session.execute(select(Conversation).where(Conversation.conversation_id == "c2"))).scalar_one()
        gone.active = False
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(
        request({"users": [{"channelId": "emulator", "id": f"u{i}"} for i in range(5)], "text": "hi"}),
        source="api", sender="api",
    )
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        page = await expand_due_notification(session, now=now, claim=2)
    assert page.written == 5 and page.pending == 2
    assert page.activity["text"] == "hi"
    claimed = {conversation_pk: (oid, reference["conversation"]["id"]) for oid, conversation_pk, reference in page.claimed}
    assert len(claimed) == 2
    async with sessionmaker() as session:
        rows = (
            await session.execute(select(Occurrence).where(Occurrence.notification_id == accepted.body["id"]))
        ).scalars().all()
    by_status = {row.status: [] for row in rows}
    for row in rows:
        by_status[row.status].append(row)
    assert sorted(by_status) == ["pending", "sending", "skipped"]
    assert {row.conversation_pk: row.id for row in by_status["sending"]} == {pk: oid for pk, (oid, _) in claimed.items()}
    assert all(row.claimed_at is not None and row.next_attempt_at is None for row in by_status["sending"])
    assert len(by_status["pending"]) == 2 and all(row.next_attempt_at is not None for row in by_status["pending"])
    # Each claimed row carries its own conversation's reference.
    async with sessionmaker() as session:
        for pk, (_, conversation_id) in claimed.items():
            assert (await session.get(Conversation, pk)).conversation_id == conversation_id


async def test_a_broadcast_page_goes_out_from_its_expansion_without_a_second_claim(sessionmaker, monkeypatch):
    await users(sessionmaker, 20)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(request({"broadcast": True, "text": "all hands"}), source="api", sender="api")
    lock = outbox_module.lock_occurrences_to_send
    claimed_again: list[int] = []

    async def counting(session, **kwargs):
        rows = await lock(session, **kwargs)
        claimed_again.extend(row.id for row in rows)
        return rows

    monkeypatch.setattr(outbox_module, "lock_occurrences_to_send", counting)
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, concurrency=8)
    await asyncio.wait_for(scheduler.run_due(), 10)
    await scheduler.outbox.idle(5)
    assert sorted(reference["conversation"]["id"] for reference, _ in deliverer.sent) == sorted(f"c{i}" for i in range(20))
    assert claimed_again == []  # every page was sent as its expansion claimed it
    assert await statuses(sessionmaker, accepted.body["id"]) == ["sent"] * 20


async def test_a_page_claimed_by_an_expansion_whose_process_died_is_taken_over_after_the_lease(sessionmaker):
    await users(sessionmaker, 3)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(request({"broadcast": True, "text": "hi"}), source="api", sender="api")
    died_at = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        page = await expand_due_notification(session, now=died_at, claim=10)
    assert len(page.claimed) == 3  # ...and the process dies before sending them
    deliverer = RecordingDeliverer()
    later = died_at + timedelta(seconds=121)
    outbox = Outbox(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: later, lease_seconds=120)
    assert await outbox.claim_resends(died_at + timedelta(seconds=60), 10) == []  # still leased
    sends = await outbox.claim_resends(later, 10)
    assert sorted(send.occurrence_id for send in sends) == sorted(oid for oid, _, _ in page.claimed)
    assert all(send.attempts == 1 for send in sends)  # it may have gone out: counted
    outbox.dispatch(sends)
    await outbox.idle(5)
    assert len(deliverer.sent) == 3
    assert await statuses(sessionmaker, accepted.body["id"]) == ["sent"] * 3


async def test_a_conflicting_row_neither_ends_a_broadcast_early_nor_stalls_it(sessionmaker):
    await users(sessionmaker, 6)
    service = Notifications(sessionmaker=sessionmaker, on_due=lambda _: None)
    accepted = await service.submit(request({"broadcast": True, "text": "hi"}), source="api", sender="api")
    async with sessionmaker.begin() as session:
        first_two = (await session.execute(select(Conversation.id).order_by(Conversation.id).limit(2))).scalars().all()
        # Already written for this notification (as by an earlier, interrupted expansion).
        session.add(Occurrence(kind="notify", notification_id=accepted.body["id"], conversation_pk=first_two[1],
                               due_at=datetime.now(UTC), status="sent", attempts=1))
    pages = []
    for _ in range(10):
        async with sessionmaker.begin() as session:
            page = await expand_due_notification(session, now=datetime.now(UTC), page=2, claim=2)
        if page is None:
            break
        pages.append(page.written)
    assert pages == [1, 2, 2, 0]  # the first page's conflict is skipped, not taken for the end
    assert sorted(await statuses(sessionmaker, accepted.body["id"])) == ["sending"] * 5 + ["sent"]
    async with sessionmaker() as session:
        assert (await session.get(Notification, accepted.body["id"])).status == "dispatched"
