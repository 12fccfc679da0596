"""A channel that says 403/404 (bot blocked, removed, conversation gone) and one that says 401
(the bot's credentials): what is marked, suspended, kept and resumed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import make_sessionmaker, open_engine
from models.store import resume_conversation
from models.tables import Alert, Conversation, Occurrence, Reminder
from scheduler.delivery import DeliveryResult
from scheduler.engine import ReminderScheduler
from scheduler.outbox import RetryPolicy
from tests.support.factories import ScriptedDeliverer, make_conversation, make_reminder


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def setup(sessionmaker, now: datetime) -> int:
    """A conversation with a due recurring reminder, a later one-off, an alert and a pending
    notification send; returns the conversation's id."""
    async with sessionmaker.begin() as session:
        user_pk, conversation_pk = await make_conversation(session)
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="stand up",
                                  schedule={"type": "interval", "seconds": 3600, "start": now.isoformat()},
                                  next_run_at=now))
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=2, text="later",
                                  schedule={"type": "date", "run_at": (now + timedelta(days=1)).isoformat()},
                                  next_run_at=now + timedelta(days=1)))
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=3, text="paused by the user",
                                  schedule={"type": "date", "run_at": (now + timedelta(days=1)).isoformat()},
                                  next_run_at=now + timedelta(days=1), state="paused"))
        session.add(Alert(number=1, user_pk=user_pk, conversation_pk=conversation_pk, symbol="BTC",
                          condition="above", threshold=1e9, state="active"))
        session.add(Occurrence(kind="reminder", conversation_pk=conversation_pk, due_at=now - timedelta(hours=1),
                               payload={"type": "message", "text": "older retry"}, status="pending", attempts=1,
                               next_attempt_at=now + timedelta(hours=1)))
    return conversation_pk


async def states(sessionmaker, conversation_pk: int):
    async with sessionmaker() as session:
        conversation = await session.get(Conversation, conversation_pk, populate_existing=True)
        reminders = dict((await session.execute(select(Reminder.number, Reminder.state))).tuples().all())
        alerts = list((await session.execute(select(Alert.state))).scalars())
        occurrences = list((await session.execute(select(Occurrence.status).order_by(Occurrence.id))).scalars())
    return conversation.active, reminders, alerts, occurrences


# 403, which deactivates only while other sends to the channel succeed: tests/unit/test_breaker.py.
@pytest.mark.parametrize("status", [404])
async def test_unreachable_conversation_is_marked_inactive_and_its_jobs_suspended(sessionmaker, status):
    now = datetime.now(UTC)
    conversation_pk = await setup(sessionmaker, now)
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=status, error=f"HTTP {status}"))
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    dropped: list[list[int]] = []

    async def on_inactive(alert_ids):
        dropped.append(alert_ids)

    scheduler.outbox.on_inactive = on_inactive
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    active, reminders, alerts, occurrences = await states(sessionmaker, conversation_pk)
    assert active is False
    # Its active reminders wait; the user's own pause is left as it was.
    assert reminders == {1: "suspended", 2: "suspended", 3: "paused"}
    assert alerts == ["suspended"] and len(dropped) == 1
    # The failed send is recorded with its status; the other pending message is skipped.
    assert occurrences == ["skipped", "failed"]
    assert len(deliverer.sent) == 1
    # Nothing more is sent to it.
    await scheduler.run_due()
    assert len(deliverer.sent) == 1

    # The user writes again: everything suspended is resumed, the paused one stays paused.
    async with sessionmaker.begin() as session:
        due, alert_ids = await resume_conversation(session, conversation_pk=conversation_pk)
    assert due is not None and alert_ids == dropped[0]
    _, reminders, alerts, _ = await states(sessionmaker, conversation_pk)
    assert reminders == {1: "active", 2: "active", 3: "paused"} and alerts == ["active"]


async def test_401_is_kept_for_retry_past_the_attempt_limit(sessionmaker):
    now = datetime.now(UTC)
    await setup(sessionmaker, now)
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=401, error="HTTP 401"))
    clock = [now]
    scheduler = ReminderScheduler(
        sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: clock[0],
        retry=RetryPolicy(max_attempts=2, base_seconds=1, max_seconds=60),
    )
    for _ in range(4):
        await scheduler.run_due()
        await scheduler.outbox.idle(5)
        clock[0] += timedelta(seconds=120)
    assert len([r for r, _ in deliverer.sent if r["conversation"]["id"] == "c1"]) >= 4
    async with sessionmaker() as session:
        statuses = list((await session.execute(
            select(Occurrence.status, Occurrence.attempts, Occurrence.http_status).where(Occurrence.reminder_id.is_not(None))
        )).tuples())
    # Still waiting for the credentials to be fixed, never "failed".
    assert [(s, h) for s, _, h in statuses] == [("pending", 401)]
    assert statuses[0][1] >= 4
    # And the conversation is not blamed for it.
    async with sessionmaker() as session:
        assert all((await session.execute(select(Conversation.active))).scalars())


async def test_resuming_a_conversation_that_was_never_suspended_changes_nothing(sessionmaker):
    # resume_conversation runs in every turn; it must not touch what the user paused.
    conversation_pk = await setup(sessionmaker, datetime.now(UTC))
    async with sessionmaker.begin() as session:
        assert await resume_conversation(session, conversation_pk=conversation_pk) == (None, [])
    active, reminders, alerts, _ = await states(sessionmaker, conversation_pk)
    assert active and reminders == {1: "active", 2: "active", 3: "paused"} and alerts == ["active"]
