"""Sending and recording: slow channels, shutdown mid-send, retries, leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import make_sessionmaker, open_engine
from models.tables import Occurrence, Reminder
from scheduler.delivery import DeliveryResult
from scheduler.engine import ReminderScheduler
from scheduler.outbox import RetryPolicy
from tests.support.factories import (
    GatedDeliverer,
    RecordingDeliverer,
    ScriptedDeliverer,
    make_conversation,
    make_reminder,
)
from tests.support.waiting import eventually

OK = DeliveryResult(ok=True)


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def add_due(sessionmaker, *, conversation_id: str = "c1", at: datetime | None = None, number: int = 1):
    at = at or datetime.now(UTC)
    async with sessionmaker.begin() as session:
        user_pk, conversation_pk = await make_conversation(session, user_id=f"u-{conversation_id}",
                                                           conversation_id=conversation_id)
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=number,
                                  text=f"for {conversation_id}", schedule={"type": "date", "run_at": at.isoformat()},
                                  next_run_at=at))


async def rows(sessionmaker) -> list[Occurrence]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Occurrence).order_by(Occurrence.id))).scalars())


async def test_shutdown_waits_for_a_send_in_flight_and_records_it(sessionmaker):
    await add_due(sessionmaker)
    deliverer = GatedDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await scheduler.start()
    await asyncio.wait_for(deliverer.started.wait(), 5)
    stopping = asyncio.create_task(scheduler.shutdown(timeout=5))
    await asyncio.sleep(0)  # shutdown has begun while the channel still holds the send
    deliverer.release.set()
    await stopping
    assert [(o.status, o.attempts) for o in await rows(sessionmaker)] == [("sent", 1)]


async def test_a_slow_channel_does_not_delay_other_users(sessionmaker):
    now = datetime.now(UTC)
    await add_due(sessionmaker, conversation_id="slow", at=now)
    await add_due(sessionmaker, conversation_id="fast", at=now + timedelta(seconds=1))
    deliverer = GatedDeliverer(slow_conversations={"slow"})
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await scheduler.start()
    try:
        await eventually(lambda: _value(any(r["conversation"]["id"] == "fast" for r, _ in deliverer.sent[1:] or deliverer.sent)), timeout=3)
        late = datetime.now(UTC) - (now + timedelta(seconds=1))
        assert late < timedelta(seconds=1)
    finally:
        deliverer.release.set()
        await scheduler.shutdown()


async def _value(value):
    return value


async def test_transient_failure_is_retried_then_sent(sessionmaker):
    await add_due(sessionmaker)
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=503, error="busy"), OK)
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer,
                                  retry=RetryPolicy(base_seconds=0.2, max_seconds=1))
    await scheduler.start()
    try:
        done = await eventually(lambda: _sent(sessionmaker), timeout=5)
    finally:
        await scheduler.shutdown()
    assert [(o.status, o.attempts, o.last_error) for o in done] == [("sent", 2, None)]
    assert len(deliverer.sent) == 2


async def _sent(sessionmaker):
    found = await rows(sessionmaker)
    return found if found and found[0].status == "sent" else None


async def test_retry_after_is_honoured(sessionmaker):
    await add_due(sessionmaker)
    before = datetime.now(UTC)
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=429, error="throttled", retry_after=30))
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer,
                                  retry=RetryPolicy(base_seconds=0.1))
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    [row] = await rows(sessionmaker)
    assert (row.status, row.http_status, row.attempts) == ("pending", 429, 1)
    assert row.next_attempt_at >= before + timedelta(seconds=30)


# A lone 403 is not permanent: see tests/unit/test_breaker.py (kept until others succeed).
@pytest.mark.parametrize("status", [400, 404])
async def test_permanent_failure_is_not_retried(sessionmaker, status):
    await add_due(sessionmaker)
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=status, error="no"))
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    [row] = await rows(sessionmaker)
    assert (row.status, row.http_status, row.next_attempt_at) == ("failed", status, None)


async def test_gives_up_after_max_attempts(sessionmaker):
    await add_due(sessionmaker)
    clock = [datetime.now(UTC)]
    deliverer = ScriptedDeliverer(DeliveryResult(ok=False, status=500, error="boom"))
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: clock[0],
                                  retry=RetryPolicy(max_attempts=3, base_seconds=1))
    for _ in range(5):
        await scheduler.run_due()
        await scheduler.outbox.idle(5)
        clock[0] += timedelta(minutes=10)
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("failed", 3)
    assert len(deliverer.sent) == 3


async def test_a_send_in_flight_is_not_taken_over_by_its_own_process(sessionmaker):
    await add_due(sessionmaker)
    clock = [datetime.now(UTC)]
    deliverer = GatedDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: clock[0],
                                  lease_seconds=40, send_timeout=20)
    await scheduler.run_due()
    await asyncio.wait_for(deliverer.started.wait(), 5)
    clock[0] += timedelta(minutes=5)  # far past the lease
    await scheduler.resync()
    deliverer.release.set()
    await scheduler.outbox.idle(5)
    assert len(deliverer.sent) == 1
    assert [o.status for o in await rows(sessionmaker)] == ["sent"]


async def test_a_send_that_never_answers_times_out_and_is_retried(sessionmaker):
    await add_due(sessionmaker)
    deliverer = GatedDeliverer()  # never released
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer,
                                  send_timeout=0.2, lease_seconds=0.4)
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "no answer within 0.2 s" in row.last_error


async def test_a_coroutine_sender_past_the_timeout_is_cancelled_and_retried(sessionmaker):
    await add_due(sessionmaker)

    class Hanging:
        cancellable = True  # like the connector sender
        cancelled = False

        async def send(self, reference, payload):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                Hanging.cancelled = True
                raise

    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=Hanging(),
                                  send_timeout=0.2, lease_seconds=0.4)
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "no answer within 0.2 s" in row.last_error
    assert Hanging.cancelled  # the request was abandoned, not left running


async def test_snoozed_one_off_fires_once(sessionmaker):
    # Set for 10:00, snoozed to fire at 09:10 (next_run_at moved); it must not fire again at 10:00.
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        user_pk, conversation_pk = await make_conversation(session)
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="tea",
                                  schedule={"type": "date", "run_at": (now + timedelta(hours=1)).isoformat()},
                                  next_run_at=now))
    deliverer = ScriptedDeliverer(OK)
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await scheduler.run_due()
    await scheduler.outbox.idle(5)
    async with sessionmaker() as session:
        reminder = (await session.execute(select(Reminder))).scalar_one()
    assert (reminder.state, reminder.next_run_at) == ("done", None)
    assert len(deliverer.sent) == 1


async def test_a_dead_channel_cannot_take_every_send_slot(sessionmaker):
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        for n in range(6):
            user_pk, conversation_pk = await make_conversation(
                session, user_id=f"d{n}", conversation_id=f"dead-{n}", service_url="http://127.0.0.1:9/dead/")
            session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="x",
                                      schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
        user_pk, conversation_pk = await make_conversation(
            session, user_id="ok", conversation_id="healthy", service_url="http://127.0.0.1:9/ok/")
        session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="fine",
                                  schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
    deliverer = GatedDeliverer(slow_conversations={f"dead-{n}" for n in range(6)})
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, concurrency=4,
                                  send_timeout=20, lease_seconds=60)
    scheduler.outbox._per_channel = 2
    try:
        await scheduler.run_due()
        await eventually(lambda: _value([t for t in deliverer.texts if "fine" in t]), timeout=2)
    finally:
        deliverer.release.set()
        await scheduler.outbox.idle(5)


async def test_shutdown_puts_unstarted_sends_back_to_pending(sessionmaker):
    now = datetime.now(UTC)
    for n in range(10):
        await add_due(sessionmaker, conversation_id=f"c{n}", at=now)
    deliverer = GatedDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, concurrency=2)
    # Back-pressure: the pass claims 4 (twice the send slots), then waits for room.
    claiming = asyncio.create_task(scheduler.run_due())
    await asyncio.wait_for(deliverer.started.wait(), 5)
    stopping = asyncio.create_task(scheduler.shutdown(timeout=5))
    # Released before shutdown began, the answered sends would free slots for more claims.
    await eventually(lambda: scheduler._stopping and scheduler.outbox._stopping)
    deliverer.release.set()  # the two sends under way finish and are recorded
    await asyncio.wait_for(stopping, 10)
    await asyncio.wait_for(claiming, 1)
    # Sent: the two under way. Pending, due now: the two claimed but never started, so the
    # next start sends them at once. The other six were never claimed: still plain reminders.
    assert sorted(o.status for o in await rows(sessionmaker)) == ["pending", "pending", "sent", "sent"]
    assert all(o.next_attempt_at is not None for o in await rows(sessionmaker) if o.status == "pending")
    async with sessionmaker() as session:
        states = (await session.execute(select(Reminder.state))).scalars().all()
    assert sorted(states) == ["active"] * 6 + ["done"] * 4
    assert len(deliverer.sent) == 2


async def test_recording_survives_driver_errors(sessionmaker, monkeypatch):
    await add_due(sessionmaker)
    import scheduler.outbox as outbox_module

    real = outbox_module.record_outcomes
    failures = [RuntimeError("cannot perform operation: another operation is in progress")] * 2

    async def flaky(session, **kwargs):
        if failures:
            raise failures.pop()
        await real(session, **kwargs)

    monkeypatch.setattr(outbox_module, "record_outcomes", flaky)
    deliverer = ScriptedDeliverer(OK)
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer)
    await scheduler.run_due()
    await scheduler.outbox.idle(10)
    assert [o.status for o in await rows(sessionmaker)] == ["sent"]
    assert len(deliverer.sent) == 1


def test_retry_after_is_a_floor_with_jitter_after_it():
    import random

    policy = RetryPolicy(base_seconds=5)
    rng = random.Random(7)
    throttled = DeliveryResult(ok=False, status=429, retry_after=42)
    delays = [policy.delay(1, throttled, rng) for _ in range(50)]
    assert all(42 <= d <= 47 for d in delays)
    assert len({round(d, 3) for d in delays}) > 40  # not one synchronised wave
    assert policy.delay(policy.max_attempts, throttled, rng) is None


async def test_claim_slots_free_when_the_channel_answers_and_unrecorded_outcomes_are_bounded(
    sessionmaker, monkeypatch
):
    # Two send slots: four claims at most unanswered, and eight at most unanswered or
    # answered but not yet committed.
    for n in range(12):
        await add_due(sessionmaker, conversation_id=f"c{n}", number=1)
    import scheduler.outbox as outbox_module

    real = outbox_module.record_outcomes
    commit = asyncio.Event()

    async def held(session, **kwargs):
        await commit.wait()  # the database is slow to commit outcomes
        await real(session, **kwargs)

    monkeypatch.setattr(outbox_module, "record_outcomes", held)
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, concurrency=2)
    passing = asyncio.create_task(scheduler.run_due())
    # More than the four claim slots went out with nothing committed: answered sends free them.
    async def eight_sent():
        return len(deliverer.sent) == 8

    await eventually(eight_sent, timeout=10)
    # A bounded wait: the check is that nothing more is claimed, so there is no event to wait for.
    await asyncio.sleep(0.3)
    assert len(deliverer.sent) == 8, "claimed more while eight answers were still uncommitted"
    assert [o.status for o in await rows(sessionmaker)] == ["sending"] * 8  # none committed yet
    commit.set()
    await asyncio.wait_for(passing, 10)
    await scheduler.outbox.idle(10)
    assert [o.status for o in await rows(sessionmaker)] == ["sent"] * 12
    assert sorted(ref["conversation"]["id"] for ref, _ in deliverer.sent) == sorted(f"c{n}" for n in range(12))


async def test_a_reminder_due_while_a_long_stream_goes_out_is_not_held_back(sessionmaker):
    # 200 pending sends stream out slowly (one slot, 5 ms each: a second in all); a reminder
    # that comes due during the stream is looked for within the scan interval, not after it.
    async with sessionmaker.begin() as session:
        for n in range(200):
            user_pk, conversation_pk = await make_conversation(session, user_id=f"s{n}", conversation_id=f"s{n}")
            session.add(Occurrence(kind="notification", conversation_pk=conversation_pk, status="pending",
                                   due_at=datetime.now(UTC), next_attempt_at=datetime.now(UTC),
                                   payload={"type": "message", "text": f"stream {n}"}))
    due = datetime.now(UTC) + timedelta(seconds=0.3)
    await add_due(sessionmaker, conversation_id="r1", at=due)

    class Slow(RecordingDeliverer):
        async def send(self, reference, activity):
            await asyncio.sleep(0.005)
            return await super().send(reference, activity)

    deliverer = Slow()
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, concurrency=1, per_channel=1)
    await scheduler.start()
    try:
        async def reminder_sent():
            return any(ref["conversation"]["id"] == "r1" for ref, _ in deliverer.sent)

        await eventually(reminder_sent, timeout=10, interval=0.01)
        arrived = datetime.now(UTC)
        position = [ref["conversation"]["id"] for ref, _ in deliverer.sent].index("r1")
    finally:
        await scheduler.shutdown(timeout=5)
    assert position < 150, f"the reminder went out as send {position} of 201, behind the stream"
    assert (arrived - due).total_seconds() < 0.5
