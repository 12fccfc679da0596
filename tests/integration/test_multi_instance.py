"""Several bot processes on one PostgreSQL database deliver each due reminder exactly once.

Three real ``python app.py`` processes (as behind a load balancer) share a fresh database
holding 2,000 one-off reminders that all come due at the same moment. Without a crash each
arrives at the fake channel exactly once. With one process killed (SIGKILL) mid-run,
nothing is lost: what it had claimed is taken over by the survivors once the delivery lease
runs out. A reminder may then arrive twice only when its occurrence was taken over, i.e.
when the dead process may have sent it already without recording the outcome; those are
counted and printed (``duplicates=K takeovers=T``), split into sends the channel had not
answered when the process died and sends it had answered before (outcome known to the
process, not yet recorded).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, insert, select

from models.db import open_engine, upgrade_database
from models.tables import Conversation, Occurrence, Reminder, User
from tests.integration.test_restart import BotProcess
from tests.support.fake_channel import FakeChannel, Received
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REMINDERS = 2000
# All reminders come due this long after they are stored: longer than one resync
# (SCHEDULER_RESYNC_SECONDS) so that every process has armed its wake job for that moment.
DUE_IN = timedelta(seconds=3)
# The smallest lease the bot accepts, with the send timeout it allows (half the lease):
# the victim's claims are taken over this long after the kill.
LEASE_SECONDS = 10
BOT_ENV = {
    "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
    "SEND_TIMEOUT_SECONDS": str(LEASE_SECONDS // 2),
    "SCHEDULER_RESYNC_SECONDS": "2",
    "PRICE_FEED": "none",
    "LOG_LEVEL": "INFO",
}
# The channel holds each answer this long after recording the message, so that a process
# killed mid-run dies during some HTTP calls: the message arrived, the answer did not.
CHANNEL_DELAY_SECONDS = 0.02
TEXT = re.compile(r"multi-(\d{4})")
# The outbox's log line for each recorded delivery: "reminder 12 delivered" for a first
# attempt, "reminder occurrence 34 delivered" for a take-over or retry.
DELIVERED = re.compile(r"\breminder (?:occurrence )?\d+ delivered\b")
ABANDONED = re.compile(r"occurrence \d+ was abandoned mid-send")


@dataclass
class Post(Received):
    """A post and when the channel answered it (None while the answer is held back)."""

    answered_at: float | None = None


class SlowChannel(FakeChannel):
    """The fake channel, answering each post ``delay`` seconds after it has recorded it."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def _post(self, request: web.Request) -> web.Response:
        post = Post(request.match_info["cid"], request.match_info.get("aid"), await request.json())
        # Appended without FakeChannel's condition: nothing here waits on single activities.
        self.received.append(post)
        await asyncio.sleep(self.delay)
        post.answered_at = time.time()
        return web.json_response({"id": f"fake-{len(self.received)}"})

    def first_copies(self) -> dict[int, Post]:
        """The first post of each reminder that arrived."""
        first: dict[int, Post] = {}
        for post in self.received:
            match = TEXT.search(post.text)
            if match:
                first.setdefault(int(match.group(1)), post)
        return first

    def arrivals(self) -> Counter[int]:
        """How many times each reminder (by its index in the test) arrived."""
        counts: Counter[int] = Counter()
        for received in self.received:
            match = TEXT.search(received.text)
            if match:
                counts[int(match.group(1))] += 1
        return counts


@pytest.fixture
async def slow_channel(aiohttp_server) -> SlowChannel:
    channel = SlowChannel(CHANNEL_DELAY_SECONDS)
    channel.server = await aiohttp_server(channel.app, host="127.0.0.1")
    channel.url = str(channel.server.make_url("")).rstrip("/")
    return channel


@pytest.fixture
def bots(postgres_url: str, tmp_path: Path) -> Iterator[list[BotProcess]]:
    """Three unstarted bot processes on the test's database; all killed in teardown."""
    processes = [
        BotProcess(postgres_url, tmp_path / f"bot{n}.log", dict(BOT_ENV)) for n in range(3)
    ]
    yield processes
    # Before postgres_url's teardown drops the database under them.
    for bot in processes:
        if bot.process is not None and bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait()


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator:
    await upgrade_database(postgres_url)
    engine = open_engine(postgres_url)
    yield engine
    await engine.dispose()


def _reference(user_id: str, conversation_id: str, service_url: str) -> dict:
    # The shape the bot stores each turn (as tests.support.factories.make_conversation does).
    return {
        "activityId": "a1",
        "user": {"id": user_id, "name": "User"},
        "bot": {"id": "bot", "name": "Bot"},
        "conversation": {"id": conversation_id},
        "channelId": "emulator",
        "serviceUrl": service_url,
    }


async def store_due_reminders(engine, *, service_url: str, count: int, due_at: datetime) -> None:
    """Insert ``count`` users, each with a conversation and one one-off reminder due at ``due_at``.

    Reminder ``i`` says ``multi-{i:04d}`` in conversation ``c{i}``. Bulk inserts: one
    statement per table.
    """
    schedule = {"type": "date", "run_at": due_at.isoformat()}
    async with engine.begin() as connection:
        user_pks = (
            await connection.execute(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [{"channel_id": "emulator", "user_id": f"u{i}", "name": "User"} for i in range(count)],
            )
        ).scalars().all()
        conversation_pks = (
            await connection.execute(
                insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
                [
                    {
                        "user_pk": user_pks[i],
                        "channel_id": "emulator",
                        "conversation_id": f"c{i}",
                        "service_url": service_url,
                        "reference": _reference(f"u{i}", f"c{i}", service_url),
                        "active": True,
                    }
                    for i in range(count)
                ],
            )
        ).scalars().all()
        await connection.execute(
            insert(Reminder),
            [
                {
                    "number": 1,
                    "user_pk": user_pks[i],
                    "conversation_pk": conversation_pks[i],
                    "text": f"multi-{i:04d}",
                    "schedule": schedule,
                    "description": "once",
                    "timezone": "UTC",
                    "state": "active",
                    "next_run_at": due_at,
                }
                for i in range(count)
            ],
        )


async def start_all(bots: list[BotProcess], http: aiohttp.ClientSession) -> None:
    await asyncio.gather(*(bot.start(http) for bot in bots))


async def occurrence_summary(engine) -> dict[str, int]:
    """Counts over the occurrences table that the assertions need."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    func.count(),
                    func.count(func.distinct(Occurrence.reminder_id)),
                    func.count().filter(Occurrence.status == "sent"),
                    func.count().filter(Occurrence.status == "sent", Occurrence.attempts >= 2),
                )
            )
        ).one()
    rows, reminders, sent, taken_over = row
    return {"rows": rows, "reminders": reminders, "sent": sent, "taken_over": taken_over}


async def taken_over_reminders(engine) -> set[int]:
    """Indexes (as in ``multi-NNNN``) of the reminders whose occurrence was sent again."""
    async with engine.connect() as connection:
        texts = (
            await connection.execute(
                select(Reminder.text)
                .join(Occurrence, Occurrence.reminder_id == Reminder.id)
                .where(Occurrence.attempts >= 2)
            )
        ).scalars()
        return {int(TEXT.search(text).group(1)) for text in texts}


def log_counts(bot: BotProcess) -> tuple[int, int]:
    """(deliveries recorded, abandoned sends taken over) according to a process's log."""
    text = bot.log_path.read_text(errors="replace")
    return len(DELIVERED.findall(text)), len(ABANDONED.findall(text))


async def all_sent(engine, *, timeout: float) -> dict[str, int]:
    """Wait until every reminder's occurrence is recorded as sent; return the summary."""
    last: dict[str, int] = {}

    async def done() -> dict[str, int] | None:
        nonlocal last
        last = await occurrence_summary(engine)
        return last if last["sent"] == REMINDERS else None

    try:
        return await eventually(done, timeout=timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"not all sent within {timeout} s: {last}") from None


async def test_three_processes_deliver_each_reminder_exactly_once(engine, bots, slow_channel):
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        await start_all(bots, http)
        await store_due_reminders(
            engine, service_url=slow_channel.url, count=REMINDERS, due_at=datetime.now(UTC) + DUE_IN
        )

        # "sent" is recorded after the channel's answer: then everything has arrived.
        summary = await all_sent(engine, timeout=60)

    arrivals = slow_channel.arrivals()
    duplicates = sorted(i for i, n in arrivals.items() if n > 1)
    per_process = [log_counts(bot)[0] for bot in bots]
    print(
        f"\nno kill: duplicates={len(duplicates)} takeovers={summary['taken_over']} "
        f"per-process deliveries={per_process} in {time.monotonic() - started:.1f} s"
    )
    assert set(arrivals) == set(range(REMINDERS))
    assert duplicates == [], f"arrived more than once: {duplicates[:20]}"
    conversations = Counter(post.conversation_id for post in slow_channel.received)
    assert set(conversations.values()) == {1}, conversations.most_common(5)
    # One occurrence row per reminder (the unique (reminder_id, due_at)), all sent first time.
    assert summary == {"rows": REMINDERS, "reminders": REMINDERS, "sent": REMINDERS, "taken_over": 0}
    assert sum(per_process) == REMINDERS, per_process
    assert all(per_process), f"every process should have claimed some: {per_process}"


async def test_killing_a_process_mid_run_loses_nothing(engine, bots, slow_channel):
    started = time.monotonic()
    victim, survivors = bots[0], bots[1:]
    async with aiohttp.ClientSession() as http:
        await start_all(bots, http)
        await store_due_reminders(
            engine, service_url=slow_channel.url, count=REMINDERS, due_at=datetime.now(UTC) + DUE_IN
        )

        async def a_third_arrived() -> int:
            arrived = len(slow_channel.received)
            return arrived if arrived >= REMINDERS // 3 else 0

        await eventually(a_third_arrived, timeout=30, interval=0.01)
        kill_wall = time.time()
        victim.process.kill()
        victim.process.wait()
        killed_after = len(slow_channel.received)
        killed_at = time.monotonic()
        assert killed_after < REMINDERS, "the run ended before the kill: slow the channel down"

        # What the victim had claimed (sent or not) waits for its lease to run out, then for
        # a survivor's resync. Everything may have arrived well before: the victim's copies.
        summary = await all_sent(engine, timeout=LEASE_SECONDS + 30)
        finished_at = time.monotonic()

    arrivals = slow_channel.arrivals()
    duplicates = {i for i, n in arrivals.items() if n > 1}
    taken_over = await taken_over_reminders(engine)
    # Whether the dead process could have known the outcome of what it sent: the channel had
    # not answered yet (it died during the HTTP call), or had answered this long before.
    first_copies = slow_channel.first_copies()
    answered_ago = sorted(
        kill_wall - first_copies[i].answered_at
        for i in duplicates
        if first_copies[i].answered_at is not None and first_copies[i].answered_at < kill_wall
    )
    unanswered = len(duplicates) - len(answered_ago)
    victim_sent, _ = log_counts(victim)
    survivor_counts = [log_counts(bot) for bot in survivors]
    abandoned_in_logs = sum(abandoned for _, abandoned in survivor_counts)
    report = (
        f"duplicates={len(duplicates)} takeovers={summary['taken_over']} "
        f"(abandoned warnings {abandoned_in_logs}); of the duplicates {unanswered} were in their "
        f"HTTP call at the kill, {len(answered_ago)} answered before it (up to "
        f"{max(answered_ago, default=0):.2f} s) but not recorded; killed after {killed_after} arrivals; "
        f"deliveries victim={victim_sent} survivors={[sent for sent, _ in survivor_counts]}; "
        f"all sent {finished_at - killed_at:.1f} s after the kill, {finished_at - started:.1f} s in all"
    )
    print("\nkill -9: " + report)

    assert set(arrivals) == set(range(REMINDERS)), report  # none lost
    # One occurrence row per reminder, however often it was sent.
    assert summary["rows"] == summary["reminders"] == summary["sent"] == REMINDERS, (summary, report)
    # The kill must have left sends in flight, or the take-over was not exercised.
    assert summary["taken_over"] > 0, report
    assert abandoned_in_logs == summary["taken_over"], report
    # A second copy only of what was taken over: the dead process may have sent it.
    assert duplicates <= taken_over, (sorted(duplicates - taken_over)[:20], report)
    assert len(duplicates) <= summary["taken_over"], report
    assert all(n <= 2 for n in arrivals.values()), report
    assert victim_sent > 0 and all(sent for sent, _ in survivor_counts), report
