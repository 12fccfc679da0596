"""The per-channel circuit breaker: when it opens, how it probes, and what the outbox does with
a 403 (hold it, or blame the conversation only while other sends to the channel succeed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import make_sessionmaker, open_engine
from models.tables import Conversation, Occurrence, Reminder
from scheduler.breaker import OK, OTHER, REFUSED, BreakerPolicy, ChannelBreaker, channel_label
from scheduler.delivery import DeliveryResult
from scheduler.engine import ReminderScheduler
from scheduler.outbox import ConversationPacer
from tests.support.factories import RecordingDeliverer, make_conversation, make_reminder

URL = "https://smba.example.net/emea/"


def breaker(now: list[float], **policy) -> ChannelBreaker:
    defaults = dict(window=10, min_refusals=3, share=0.5, window_seconds=60, cooldown_seconds=10,
                    max_cooldown_seconds=35)
    return ChannelBreaker(BreakerPolicy(**(defaults | policy)), clock=lambda: now[0])


def test_opens_when_enough_of_the_recent_answers_are_refusals():
    now = [1000.0]
    b = breaker(now)
    assert [b.record(URL, REFUSED) for _ in range(2)] == [None, None]  # fewer than min_refusals
    assert not b.is_open(URL)
    assert b.record(URL, REFUSED) == "opened"
    assert b.is_open(URL) and b.opened_total == 1
    assert b.allow(URL, 1) == pytest.approx(10)  # nothing goes until the cool-down ends
    # Another channel is not affected.
    assert b.allow("https://other.example.net/", 2) == 0.0


def test_refusals_among_many_successes_leave_it_closed():
    now = [1000.0]
    b = breaker(now)
    for _ in range(6):
        b.record(URL, OK)
    assert [b.record(URL, REFUSED) for _ in range(4)] == [None] * 4  # 4 of 10: below the share
    assert not b.is_open(URL) and b.others_succeed(URL)
    # Timeouts and 5xx say nothing about refusals.
    assert b.record(URL, OTHER) is None and not b.is_open(URL)


def test_old_answers_are_forgotten():
    now = [1000.0]
    b = breaker(now)
    for _ in range(9):
        b.record(URL, OK)
    now[0] += 61
    assert not b.others_succeed(URL)  # the successes are too old to vouch for the channel
    assert [b.record(URL, REFUSED) for _ in range(3)] == [None, None, "opened"]


def test_half_open_lets_one_probe_through_and_backs_off_while_refused():
    now = [1000.0]
    b = breaker(now)
    for _ in range(3):
        b.record(URL, REFUSED)
    now[0] += 10
    assert b.allow(URL, 7) == 0.0  # the probe
    assert b.allow(URL, 8) > 0  # only one
    assert b.open_circuits()[0]["state"] == "half-open"
    assert b.record(URL, REFUSED, 8) is None  # not the probe: changes nothing
    assert b.record(URL, REFUSED, 7) == "reopened"
    assert b.retry_in(URL) == pytest.approx(20)  # doubled
    now[0] += 20
    assert b.allow(URL, 8) == 0.0
    assert b.record(URL, REFUSED, 8) == "reopened"
    assert b.retry_in(URL) == pytest.approx(35)  # capped
    b.hold(URL, [12, 3, 9])
    now[0] += 35
    assert b.allow(URL, 3) == 0.0
    assert b.record(URL, OK, 3) == "closed"
    assert not b.is_open(URL) and b.allow(URL, 4) == 0.0
    assert b.take_held(URL) == [3, 9, 12] and b.take_held(URL) == []
    assert b.status() == {"open": 0, "held": 0, "opened_total": 1, "circuits": []}


def test_a_probe_put_back_unsent_lets_another_one_go():
    now = [1000.0]
    b = breaker(now)
    for _ in range(3):
        b.record(URL, REFUSED)
    now[0] += 10
    assert b.allow(URL, 7) == 0.0
    b.hold(URL, [7])  # the probe was deferred instead of sent (say, by its pace)
    assert b.allow(URL, 8) == 0.0


def test_status_names_the_channel_without_secrets():
    now = [1000.0]
    b = breaker(now)
    url = "https://user:secret@smba.example.net:8443/emea/?token=abc#x"
    for _ in range(3):
        b.record(url, REFUSED)
    b.hold(url, [1, 2])
    now[0] += 4
    status = b.status()
    assert status["open"] == 1 and status["held"] == 2 and status["opened_total"] == 1
    [circuit] = status["circuits"]
    assert circuit == {"channel": "https://smba.example.net:8443/emea/", "state": "open", "open_for_s": 4.0,
                       "probe_in_s": 6.0, "held": 2, "opened": 1}
    assert "secret" not in str(status) and "token" not in str(status)
    assert channel_label("not a url") == "not a url"


def test_policy_is_checked():
    with pytest.raises(ValueError):
        BreakerPolicy(min_refusals=30, window=20)
    with pytest.raises(ValueError):
        BreakerPolicy(share=0)


# -- the outbox acting on it ------------------------------------------------------------------


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


class PerConversation(RecordingDeliverer):
    """Answers ``statuses[conversation id]`` (default: accepted)."""

    def __init__(self, statuses: dict[str, int]) -> None:
        super().__init__()
        self.statuses = statuses

    async def send(self, reference, activity):
        await super().send(reference, activity)
        status = self.statuses.get(reference["conversation"]["id"])
        return DeliveryResult(ok=True) if status is None else DeliveryResult(ok=False, status=status, error=f"HTTP {status}")


async def add_conversations(sessionmaker, now: datetime, names: list[str]) -> dict[str, int]:
    pks = {}
    async with sessionmaker.begin() as session:
        for name in names:
            user_pk, pks[name] = await make_conversation(session, user_id=f"u-{name}", conversation_id=name)
            session.add(make_reminder(user_pk=user_pk, conversation_pk=pks[name], number=1, text=f"for {name}",
                                      schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
    return pks


def make_scheduler(sessionmaker, deliverer, clock: list[datetime], concurrency: int = 32,
                   **policy) -> ReminderScheduler:
    scheduler = ReminderScheduler(sessionmaker=sessionmaker, deliverer=deliverer, clock=lambda: clock[0],
                                  pacer=ConversationPacer(rate=0), concurrency=concurrency)
    defaults = dict(window=20, min_refusals=5, share=0.5, cooldown_seconds=30, suspect_seconds=10)
    scheduler.outbox.breaker = ChannelBreaker(BreakerPolicy(**(defaults | policy)), clock=lambda: clock[0].timestamp())
    return scheduler


async def settle(scheduler: ReminderScheduler, clock: list[datetime], seconds: float = 0) -> None:
    clock[0] += timedelta(seconds=seconds)
    await scheduler.run_due()
    await scheduler.outbox.idle(10)


async def by_conversation(sessionmaker) -> dict[str, list[tuple[str, int, int | None]]]:
    async with sessionmaker() as session:
        rows = (await session.execute(
            select(Conversation.conversation_id, Occurrence.status, Occurrence.attempts, Occurrence.http_status)
            .join(Conversation, Conversation.id == Occurrence.conversation_pk).order_by(Occurrence.id)
        )).tuples().all()
        found: dict[str, list] = {}
        for name, status, attempts, http_status in rows:
            found.setdefault(name, []).append((status, attempts, http_status))
    return found


async def active(sessionmaker) -> dict[str, bool]:
    async with sessionmaker() as session:
        return dict((await session.execute(select(Conversation.conversation_id, Conversation.active))).tuples().all())


async def test_a_403_among_successes_deactivates_its_conversation_on_its_second_refusal(sessionmaker):
    clock = [datetime.now(UTC)]
    await add_conversations(sessionmaker, clock[0], ["blocked", "a", "b", "c"])
    deliverer = PerConversation({"blocked": 403})
    scheduler = make_scheduler(sessionmaker, deliverer, clock)
    await settle(scheduler, clock)
    # First refusal: kept, nobody blamed yet (an attempt all the same).
    rows = await by_conversation(sessionmaker)
    assert rows["blocked"] == [("pending", 1, 403)]
    assert all(rows[name] == [("sent", 1, None)] for name in "abc")
    assert (await active(sessionmaker))["blocked"] is True
    # Tried again after the suspect delay, refused again while the others went through.
    await settle(scheduler, clock, 11)
    assert (await by_conversation(sessionmaker))["blocked"] == [("failed", 2, 403)]
    assert await active(sessionmaker) == {"blocked": False, "a": True, "b": True, "c": True}
    async with sessionmaker() as session:
        states = dict((await session.execute(select(Reminder.text, Reminder.state))).tuples().all())
    assert states["for blocked"] == "done"  # a one-off already claimed; nothing left to suspend
    assert not scheduler.outbox.breaker.is_open("http://127.0.0.1:9/")
    assert [ref["conversation"]["id"] for ref, _ in deliverer.sent].count("blocked") == 2


async def test_a_channel_refusing_everyone_opens_the_circuit_and_keeps_every_message(sessionmaker):
    clock = [datetime.now(UTC)]
    names = [f"c{n:02d}" for n in range(30)]
    await add_conversations(sessionmaker, clock[0], names)
    deliverer = RecordingDeliverer(DeliveryResult(ok=False, status=403, error="HTTP 403"))
    scheduler = make_scheduler(sessionmaker, deliverer, clock, concurrency=2)  # few sends under way when it opens
    await settle(scheduler, clock)
    status = scheduler.outbox.breaker.status()
    assert status["open"] == 1 and status["opened_total"] == 1
    refused = len(deliverer.sent)
    assert 5 <= refused < 30, "the circuit did not stop the sends"
    rows = await by_conversation(sessionmaker)
    assert sorted(rows) == names
    # Kept: the refusals before it opened count one attempt each, the held ones none.
    assert all(row == [("pending", row[0][1], row[0][2])] and row[0][1] <= 1 for row in rows.values()), rows
    assert sum(row[0][1] for row in rows.values()) < 30
    assert all((await active(sessionmaker)).values())
    assert scheduler.outbox.metrics.outcomes.labels("reminder", "held")._value.get() == 30
    # Still refusing at the probe: one send, open again.
    await settle(scheduler, clock, 31)
    assert len(deliverer.sent) == refused + 1
    assert scheduler.outbox.breaker.status()["open"] == 1
    # The channel recovers: the next probe closes the circuit and every message goes, once.
    deliverer.result = DeliveryResult(ok=True)
    await settle(scheduler, clock, 61)
    await settle(scheduler, clock)
    rows = await by_conversation(sessionmaker)
    assert all(row[0][0] == "sent" and len(row) == 1 for row in rows.values()), rows
    delivered = [ref["conversation"]["id"] for ref, _ in deliverer.sent[refused + 1:]]
    assert sorted(delivered) == names
    assert scheduler.outbox.breaker.status()["open"] == 0
    assert all((await active(sessionmaker)).values())


async def test_a_lone_blocked_user_is_deactivated_after_the_attempts_not_tried_forever(sessionmaker):
    # The only conversation on its channel: no other send can show the 403 is about it, and
    # its retries are one conversation refused, not a channel refusing everyone.
    clock = [datetime.now(UTC)]
    await add_conversations(sessionmaker, clock[0], ["alone"])
    deliverer = PerConversation({"alone": 403})
    scheduler = make_scheduler(sessionmaker, deliverer, clock)
    max_attempts = scheduler.outbox._retry.max_attempts
    await settle(scheduler, clock)
    for _ in range(max_attempts - 1):
        assert (await active(sessionmaker))["alone"] is True
        await settle(scheduler, clock, 11)
    assert not scheduler.outbox.breaker.is_open("http://127.0.0.1:9/")
    assert (await by_conversation(sessionmaker))["alone"] == [("failed", max_attempts, 403)]
    assert await active(sessionmaker) == {"alone": False}
    assert len(deliverer.sent) == max_attempts
    # Nothing more is tried.
    await settle(scheduler, clock, 600)
    assert len(deliverer.sent) == max_attempts


def test_one_conversation_refused_again_and_again_does_not_open_the_circuit():
    now = [1000.0]
    b = breaker(now)
    assert [b.record(URL, REFUSED, occurrence_id=7, source="alone") for _ in range(10)] == [None] * 10
    assert not b.is_open(URL)
    # A second and a third conversation refused as well: that is the channel.
    assert [b.record(URL, REFUSED, occurrence_id=n, source=f"c{n}") for n in range(2)] == [None, "opened"]
