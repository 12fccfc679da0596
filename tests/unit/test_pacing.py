"""The per-conversation rate limit: a burst to one user is spread out, nobody else waits."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.db import make_sessionmaker, open_engine
from models.tables import Occurrence
import scheduler.outbox as outbox_module
from scheduler.engine import ReminderScheduler
from scheduler.outbox import ConversationPacer
from tests.support.factories import RecordingDeliverer, make_conversation, make_reminder
from tests.support.waiting import eventually


def test_token_bucket_allows_a_burst_then_the_rate():
    now = [100.0]
    pacer = ConversationPacer(rate=2.0, burst=3, clock=lambda: now[0])
    assert [pacer.reserve("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [pacer.reserve("a") for _ in range(2)] == [0.5, 1.0]  # booked behind each other
    assert pacer.reserve("b") == 0.0  # another conversation has its own bucket
    pacer.release("a")  # the last booking was given back
    now[0] += 1.0
    assert pacer.reserve("a") == 0.0  # two tokens refilled, one owed: one available
    assert ConversationPacer(rate=0).reserve("a") == 0.0


def test_sends_that_start_late_together_are_still_spaced():
    # Booked 0.5 s apart, but the first two were held up (a stalled loop) and all three
    # reach the channel at once: the third must still wait for the pace.
    now = [100.0]
    pacer = ConversationPacer(rate=2.0, burst=2, clock=lambda: now[0])
    assert [pacer.reserve("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] += 0.5
    assert [pacer.admit("a") for _ in range(2)] == [0.0, 0.0]
    assert pacer.admit("a") == 0.5  # not admitted: it waits and asks again
    now[0] += 0.5
    assert pacer.admit("a") == 0.0
    assert ConversationPacer(rate=0).admit("a") == 0.0


class TimedDeliverer(RecordingDeliverer):
    def __init__(self) -> None:
        super().__init__()
        self.times: dict[str, list[float]] = {}

    async def send(self, reference, activity):
        self.times.setdefault(reference["conversation"]["id"], []).append(time.monotonic())
        return await super().send(reference, activity)


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_burst_to_one_conversation_is_paced_and_deferred_sends_all_arrive_once(sessionmaker, monkeypatch):
    # Sends that would wait over 0.2 s go back to the database and are claimed again later
    # (one conversation's sends go one at a time, so each waits 0.25 s for the pace).
    monkeypatch.setattr(outbox_module, "DEFER_AFTER_SECONDS", 0.2)
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        busy_user, busy = await make_conversation(session, user_id="busy", conversation_id="busy")
        calm_user, calm = await make_conversation(session, user_id="calm", conversation_id="calm")
        session.add_all(
            make_reminder(user_pk=busy_user, conversation_pk=busy, number=n, text=f"b{n}",
                          schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now)
            for n in range(1, 9)
        )
        session.add(make_reminder(user_pk=calm_user, conversation_pk=calm, number=1, text="calm",
                                  schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
    deliverer = TimedDeliverer()
    # 2 at once, then 4 a second: the 8th would wait 1.5 s.
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer,
                                  pacer=ConversationPacer(rate=4.0, burst=2))
    await scheduler.start()
    try:
        await eventually(lambda: _all_sent(sessionmaker, 9), timeout=15)
    finally:
        await scheduler.shutdown()
    busy_times = sorted(deliverer.times["busy"])
    assert len(busy_times) == 8 and len(deliverer.times["calm"]) == 1
    # No more than the burst plus the rate allows in any window.
    span = busy_times[-1] - busy_times[0]
    assert span >= (8 - 2) / 4.0 - 0.1, busy_times
    # The other user was not held behind the burst.
    assert deliverer.times["calm"][0] - busy_times[0] < 0.5
    assert sorted(deliverer.texts) == sorted([f"⏰ Reminder #{n}: b{n}" for n in range(1, 9)] + ["⏰ Reminder #1: calm"])
    deferred = scheduler.outbox.metrics.outcomes.labels("reminder", "deferred")._value.get()
    assert deferred >= 1


async def _all_sent(sessionmaker, count: int) -> bool:
    async with sessionmaker() as session:
        statuses = list((await session.execute(select(Occurrence.status))).scalars())
    return len(statuses) == count and set(statuses) == {"sent"}
