"""The reminder scheduler against a real database (SQLite and PostgreSQL) and a recording channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models.db import make_sessionmaker, open_engine
from models.reminders import Reminders
from models.tables import Occurrence, Reminder
from scheduler.delivery import DeliveryResult
from scheduler.outbox import ConversationPacer
from scheduler.engine import ReminderScheduler
from tests.support.factories import RecordingDeliverer, make_conversation, make_reminder
from tests.support.waiting import eventually

EVERY_DAY_9 = {"type": "cron", "minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "*"}


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def conversation(sessionmaker):
    async with sessionmaker.begin() as session:
        return await make_conversation(session)


async def settle(scheduler: ReminderScheduler, step) -> None:
    """Run one pass (or resync) by hand and wait for the sends it started to be recorded."""
    await step()
    await scheduler.outbox.idle(5)


def once(at: datetime) -> dict:
    return {"type": "date", "run_at": at.isoformat()}


async def add(sessionmaker, conversation, **kwargs) -> None:
    user_pk, conversation_pk = conversation
    async with sessionmaker.begin() as session:
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, **kwargs))


async def occurrences(sessionmaker) -> list[Occurrence]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Occurrence).order_by(Occurrence.id))).scalars())


async def test_one_wake_job_however_many_reminders(sessionmaker, conversation):
    now = datetime.now(UTC)
    user_pk, conversation_pk = conversation
    async with sessionmaker.begin() as session:
        session.add_all(
            make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=n, text=f"r{n}",
                          schedule=once(now + timedelta(hours=1, minutes=n)),
                          next_run_at=now + timedelta(hours=1, minutes=n))
            for n in range(1, 1001)
        )
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=RecordingDeliverer())
    await scheduler.start()
    try:
        await eventually(lambda: _async(scheduler.wake_at is not None))
        assert sorted(scheduler.job_ids()) == sorted([ReminderScheduler.WAKE_JOB, ReminderScheduler.RESYNC_JOB])
        assert scheduler.wake_at == now + timedelta(hours=1, minutes=1)
    finally:
        await scheduler.shutdown()


async def _async(value):
    return value


async def test_new_reminder_fires_at_its_time_not_on_a_tick(sessionmaker, conversation):
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, resync_seconds=3600)
    await scheduler.start()
    reminders = Reminders(sessionmaker=sessionmaker, on_due=scheduler.poke)
    try:
        await eventually(lambda: _async(scheduler.job_ids() != []))
        due = datetime.now(UTC) + timedelta(seconds=1.5)
        await reminders.create(user_pk=conversation[0], conversation_pk=conversation[1], text="stretch",
                               schedule=once(due), description="soon", timezone="Europe/Prague")
        await eventually(lambda: _async(deliverer.sent), timeout=4)
        arrived = datetime.now(UTC)
        assert deliverer.texts == ["⏰ Reminder #1: stretch"]
        assert timedelta(0) <= arrived - due < timedelta(seconds=1)
    finally:
        await scheduler.shutdown()


async def test_missed_one_off_is_sent_once_with_late_note(sessionmaker, conversation):
    now = datetime.now(UTC)
    await add(sessionmaker, conversation, number=1, text="call Anna",
              schedule=once(now - timedelta(minutes=30)), next_run_at=now - timedelta(minutes=30))
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await settle(scheduler, scheduler.run_due)
    await settle(scheduler, scheduler.run_due)  # a second pass finds nothing more to send
    assert deliverer.texts == ["⏰ Reminder #1: call Anna (late by 30 min)"]
    [occurrence] = await occurrences(sessionmaker)
    assert occurrence.status == "sent"
    async with sessionmaker() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
    assert (reminder.state, reminder.next_run_at) == ("done", None)


async def test_missed_recurring_sends_one_catch_up_and_skips_forward(sessionmaker, conversation):
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    three_days_ago = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 09:00 in Prague
    await add(sessionmaker, conversation, number=1, text="stand up", schedule=EVERY_DAY_9,
              next_run_at=three_days_ago)
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: now)
    await settle(scheduler, scheduler.run_due)
    assert deliverer.texts == ["⏰ Reminder #1: stand up (late by 76 h 0 min)"]
    async with sessionmaker() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
    assert reminder.state == "active"
    assert reminder.next_run_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def test_recurring_keeps_local_time_across_dst(sessionmaker, conversation):
    # Europe/Prague springs forward on 2026-03-29: 09:00 is 08:00 UTC before, 07:00 UTC after.
    day_before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    await add(sessionmaker, conversation, number=1, text="vitamins", schedule=EVERY_DAY_9, next_run_at=day_before)
    clock = [day_before]
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: clock[0])
    fired_at = []
    for _ in range(3):
        async with sessionmaker() as session:
            due = (await session.execute(select(Reminder.next_run_at))).scalar_one()
        clock[0] = due
        await settle(scheduler, scheduler.run_due)
        fired_at.append(due)
    assert fired_at == [
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    ]
    assert len(deliverer.sent) == 3 and not any("late" in t for t in deliverer.texts)


async def test_restart_does_not_send_again(sessionmaker, conversation):
    now = datetime.now(UTC)
    await add(sessionmaker, conversation, number=1, text="once", schedule=once(now - timedelta(seconds=1)),
              next_run_at=now - timedelta(seconds=1))
    first = RecordingDeliverer()
    original = ReminderScheduler(sessionmaker=sessionmaker, deliverer=first)
    await settle(original, original.run_due)
    second = RecordingDeliverer()
    restarted = ReminderScheduler(sessionmaker=sessionmaker, deliverer=second, lease_seconds=0.2, send_timeout=0.1)
    await settle(restarted, restarted.run_due)
    await settle(restarted, restarted.resync)
    assert (len(first.sent), len(second.sent)) == (1, 0)


async def test_occurrence_abandoned_mid_send_is_sent_again_after_the_lease(sessionmaker, conversation):
    now = datetime.now(UTC)
    await add(sessionmaker, conversation, number=1, text="pills", schedule=once(now - timedelta(minutes=5)),
              next_run_at=None, state="done")
    async with sessionmaker.begin() as session:
        reminder_id = (await session.execute(select(Reminder.id))).scalar_one()
        # The process that claimed this died during the HTTP call: the outcome is unknown.
        session.add(Occurrence(reminder_id=reminder_id, conversation_pk=conversation[1],
                               due_at=now - timedelta(minutes=5), status="sending",
                               payload={"type": "message", "text": "⏰ Reminder #1: pills"},
                               claimed_at=now - timedelta(minutes=4)))
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, lease_seconds=120)
    await settle(scheduler, scheduler.resync)
    await settle(scheduler, scheduler.resync)
    assert len(deliverer.sent) == 1 and "pills" in deliverer.texts[0]
    [occurrence] = await occurrences(sessionmaker)
    assert occurrence.status == "sent"


async def test_channel_failure_is_recorded_not_taken_for_success(sessionmaker, conversation):
    now = datetime.now(UTC)
    await add(sessionmaker, conversation, number=1, text="x", schedule=once(now), next_run_at=now)
    deliverer = RecordingDeliverer(DeliveryResult(ok=False, status=403, error="ErrorResponseException: Forbidden"))
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await settle(scheduler, scheduler.run_due)
    [occurrence] = await occurrences(sessionmaker)
    # A 403 with no other send to the channel succeeding is not blamed on the conversation
    # yet: kept pending for another attempt (tests/unit/test_breaker.py).
    assert (occurrence.status, occurrence.http_status, occurrence.sent_at) == ("pending", 403, None)
    assert occurrence.attempts == 1
    assert "Forbidden" in occurrence.last_error


async def test_a_batch_larger_than_the_claim_size_is_all_sent_once(sessionmaker, conversation):
    now = datetime.now(UTC)
    user_pk, conversation_pk = conversation
    async with sessionmaker.begin() as session:
        session.add_all(
            make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=n, text=f"r{n}",
                          schedule=once(now), next_run_at=now)
            for n in range(1, 26)
        )
    deliverer = RecordingDeliverer()
    # All 25 go to one conversation: pacing off, this is about batching.
    scheduler = ReminderScheduler(
        sessionmaker=sessionmaker, deliverer=deliverer, batch_size=7, pacer=ConversationPacer(rate=0)
    )
    await settle(scheduler, scheduler.run_due)
    assert sorted(deliverer.texts) == sorted(f"⏰ Reminder #{n}: r{n}" for n in range(1, 26))
    async with sessionmaker() as session:
        sent = (await session.execute(select(func.count()).where(Occurrence.status == "sent"))).scalar_one()
    assert sent == 25
