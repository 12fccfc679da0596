"""The outbox: sends claimed occurrences, records each outcome, and retries what may succeed later.

Every proactive message goes through here, whatever produced it (reminders, price alerts,
notifications from external systems). The rules:

* Sends run as tasks of their own, at most ``concurrency`` at once, each bounded by
  ``send_timeout``.
* An outcome is recorded as ``sent``; ``pending`` with a ``next_attempt_at`` after a transient
  failure (429 honouring ``Retry-After``, 5xx, 401, timeout, connection error: exponential
  backoff with jitter, up to ``max_attempts``); or ``failed`` with the status and error.
* Recording retries through a database blip, because the send's outcome is already known and
  forgetting it would mean sending the message again.
* An occurrence left ``sending`` longer than the lease by a process that died is taken over
  and sent again. That, and retrying a send that timed out but did reach the channel, are
  the cases where a message may arrive twice: its outcome was unknown.
* Sends are bounded per channel (``serviceUrl``) too: a channel that stops answering must not
  hold every send slot (nor, with the SDK's sender, every worker thread).
* A 404 means the conversation is gone, and a 403 while other sends to the same channel
  succeed that the bot was blocked or removed: the conversation is marked inactive and its
  reminders and alerts suspended until the user writes again. A 403 with no such evidence
  is kept pending (no attempt counted) and tried again after a short while. A 401 is the
  bot's own credentials: kept and retried until they are fixed.
* When many of a channel's recent sends are refused (401/403), its circuit opens
  (:mod:`scheduler.breaker`): nothing more is sent to it, its messages stay pending (no
  attempt counted, no conversation deactivated), and after a cool-down one probe send
  decides whether it closes (the held messages are released in order) or stays open.
* Messages to one conversation go out one at a time, in the order they became due (then by
  id): each conversation has a lane. A send that must wait (its conversation's pace, a
  retry, a held refusal) holds back the ones behind it in its conversation, never others.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.store import (
    Outcome,
    lock_occurrences_to_send,
    mark_claimed,
    record_outcomes,
    release_held,
    requeue,
    suspend_conversation,
)
from models.tables import Occurrence
from scheduler.breaker import OK, OTHER, REFUSAL_STATUSES, REFUSED, ChannelBreaker, channel_label
from scheduler.delivery import Deliverer, DeliveryResult
from scheduler.metrics import DeliveryMetrics

logger = logging.getLogger(__name__)

# Statuses worth another try: throttling, server trouble, and 401 (credentials being fixed).
RETRYABLE_STATUSES = frozenset({401, 408, 425, 429, 500, 502, 503, 504})
# The channel can't reach the conversation (bot blocked or removed, conversation gone).
UNREACHABLE_STATUSES = frozenset({403, 404})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed send.

    Attributes:
        max_attempts: attempts in all, the first included.
        base_seconds: the first retry's delay; it doubles with each attempt.
        max_seconds: the longest delay (also caps a channel's ``Retry-After``).
    """

    max_attempts: int = 8
    base_seconds: float = 5.0
    max_seconds: float = 600.0

    def delay(self, attempts: int, result: DeliveryResult, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up.

        Args:
            attempts: attempts made so far, the one that just failed included.
            result: how that attempt failed.
        """
        if result.status is not None and result.status not in RETRYABLE_STATUSES:
            return None  # 400, 403, 404...: trying again cannot help
        if attempts >= self.max_attempts and result.status != 401:
            # 401 is the bot's own credentials: kept (at the longest delay) until they're fixed.
            return None
        backoff = min(self.max_seconds, self.base_seconds * 2 ** min(attempts - 1, 30))
        if result.retry_after is not None:
            # Never sooner than the channel asked; spread over a backoff after it, so a
            # throttled burst doesn't come back as one wave.
            return min(result.retry_after, self.max_seconds) + rng.uniform(0, backoff)
        return backoff * rng.uniform(0.5, 1.0)  # jitter, for the same reason


class ConversationPacer:
    """A token bucket per conversation: at most ``rate`` sends a second after a ``burst``,
    so a burst to one user doesn't trip the channel's per-conversation throttling.

    Args:
        rate: sends per second per conversation (0 turns pacing off).
        burst: sends that may go at once before the rate applies.
    """

    MAX_TRACKED = 10_000

    def __init__(self, rate: float = 1.0, burst: int = 5, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[object, tuple[float, float]] = {}  # bookings
        self._sent: dict[object, tuple[float, float]] = {}  # sends actually started

    def reserve(self, key: object) -> float:
        """Book a send to ``key``; return how many seconds it must wait first."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens = self._refilled(self._buckets, key, now) - 1.0
        if len(self._buckets) >= self.MAX_TRACKED:
            self._forget_idle(now)
        self._buckets[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / self.rate

    def admit(self, key: object) -> float:
        """At the moment of sending: 0 if the send may go now, else how long to wait.

        Bookings space sends out, but a send delayed after its booking (a stall of the
        loop, a slow slot) can then start together with the next one. This second bucket
        counts the sends that actually start, so the channel never sees more than the pace.
        """
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens = self._refilled(self._sent, key, now)
        if tokens >= 1.0:
            self._sent[key] = (tokens - 1.0, now)
            return 0.0
        return (1.0 - tokens) / self.rate

    def _refilled(self, buckets: dict[object, tuple[float, float]], key: object, now: float) -> float:
        """The tokens ``key`` has in ``buckets`` at ``now`` (a new key starts with a full burst)."""
        tokens, last = buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def release(self, key: object) -> None:
        """Give back a booking that will not be used now (the send was deferred)."""
        if key in self._buckets:
            tokens, last = self._buckets[key]
            self._buckets[key] = (tokens + 1.0, last)

    def _forget_idle(self, now: float) -> None:
        for buckets in (self._buckets, self._sent):
            full = [key for key in buckets if self._refilled(buckets, key, now) >= self.burst]
            for key in full:
                del buckets[key]


# A send that would wait longer than this for its conversation's pace goes back to the
# database (pending, due then) instead of holding a claim slot meanwhile.
DEFER_AFTER_SECONDS = 2.0


@dataclass(frozen=True)
class Send:
    """One claimed occurrence on its way out."""

    occurrence_id: int
    attempts: int
    reference: dict[str, Any]
    payload: dict[str, Any]
    label: str
    conversation_pk: int | None = None
    kind: str = "reminder"
    due_at: datetime | None = None
    # The HTTP status of this occurrence's previous answer (a second 403 may be blamed on
    # the conversation, a first one never).
    previous_status: int | None = None

    @property
    def service_url(self) -> str:
        return str(self.reference.get("serviceUrl", ""))

    @property
    def lane_key(self) -> object:
        """The conversation this send goes to (its lane and its pace)."""
        return self.conversation_pk or str(self.reference.get("conversation"))

    @property
    def order(self) -> tuple[float, int]:
        """FIFO within a conversation: by due time, then id."""
        return (self.due_at.timestamp() if self.due_at is not None else 0.0, self.occurrence_id)


# A message whose conversation has an earlier message out (put back in the database) past
# that one's due time, not yet claimed again, looks again this much later.
HOLD_RECHECK_SECONDS = 0.5


@dataclass(frozen=True)
class _Out:
    """A message this process put back in the database (its pace, a retry, an open circuit),
    due ``until``; nothing later in its conversation goes before it comes back. ``circuit``
    is the serviceUrl when an open circuit holds it (its closing makes it due at once)."""

    until: datetime
    circuit: str | None = None


@dataclass
class _Lane:
    """One conversation's sends waiting in this process, sent one at a time in order."""

    queue: list[tuple[tuple[float, int], Send]]
    task: asyncio.Task | None = None
    current: Send | None = None

    def take_all(self) -> list[Send]:
        sends = [send for _, send in sorted(self.queue)]
        self.queue.clear()
        return sends


class NewOccurrences:
    """Occurrences written in one claiming transaction, and the sends they become.

    Add them inside the transaction; after ``session.flush()`` (which gives them ids),
    :meth:`sends` lists the ones to dispatch. An occurrence for an inactive conversation is
    recorded as skipped straight away and not sent.
    """

    def __init__(self) -> None:
        self._claimed: list[tuple[Occurrence, dict[str, Any], str]] = []

    def add(
        self,
        session,
        *,
        kind: str,
        conversation,
        due_at: datetime,
        activity: Activity | dict[str, Any],
        now: datetime,
        label: str,
        **source: int,
    ) -> None:
        occurrence = Occurrence(
            kind=kind,
            conversation_pk=conversation.id,
            due_at=due_at,
            payload=activity if isinstance(activity, dict) else activity.serialize(),
            status="sending",
            claimed_at=now,
            **source,
        )
        if not conversation.active:
            occurrence.status = "skipped"
            occurrence.last_error = "conversation is inactive"
        session.add(occurrence)
        if conversation.active:
            self._claimed.append((occurrence, conversation.reference, label))

    def sends(self) -> list[Send]:
        return [
            Send(
                occurrence_id=occurrence.id,
                attempts=0,
                reference=reference,
                payload=occurrence.payload,
                label=label,
                conversation_pk=occurrence.conversation_pk,
                kind=occurrence.kind,
                due_at=occurrence.due_at,
            )
            for occurrence, reference, label in self._claimed
        ]


class OutcomeWriter:
    """Writes send outcomes in batches: every outcome that arrived while the previous batch
    was being written goes into the next transaction.

    One transaction per send made recording the bottleneck under load: answers the channel
    had already given piled up unrecorded, and a crash then meant sending all of them again.
    A batch is retried through database errors for ``give_up_after`` seconds (the outcome is
    known; forgetting it would mean sending the message again once the lease runs out).
    """

    BATCH = 500

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        give_up_after: float,
        on_written: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._give_up_after = give_up_after
        self._on_written = on_written
        self._queue: list[tuple[Outcome, int | None, asyncio.Future]] = []
        self._writing = 0
        self._task: asyncio.Task | None = None

    @property
    def backlog(self) -> int:
        """Outcomes known but not yet committed (a crash now means sending them again)."""
        return len(self._queue) + self._writing

    async def write(self, outcome: Outcome, *, suspend: int | None = None) -> list[int]:
        """Record ``outcome`` (and mark conversation ``suspend`` unreachable); returns the
        ids of alerts suspended with it. Raises if the database stayed unavailable."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, suspend, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="outcome-writer")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.BATCH], self._queue[self.BATCH :]
            self._writing = len(batch)
            deadline = time.monotonic() + self._give_up_after
            pause = 0.2
            while True:
                try:
                    suspended: list[list[int]] = []
                    async with self._sessionmaker.begin() as session:
                        await record_outcomes(session, outcomes=[outcome for outcome, _, _ in batch])
                        for outcome, conversation_pk, _ in batch:
                            suspended.append(
                                await suspend_conversation(session, conversation_pk=conversation_pk, now=outcome.now)
                                if conversation_pk is not None
                                else []
                            )
                    for (_, _, future), alert_ids in zip(batch, suspended):
                        if not future.done():
                            future.set_result(alert_ids)
                    break
                except Exception as exc:  # SQLAlchemy, OS and driver errors alike
                    if time.monotonic() + pause > deadline:
                        for _, _, future in batch:
                            if not future.done():
                                future.set_exception(exc)
                        break
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 5.0)
            self._writing = 0
            self._on_written()


class Outbox:
    """Sends occurrences and records their outcomes.

    Args:
        sessionmaker: opens one session per unit of work.
        deliverer: sends one activity into a conversation.
        clock: the current aware UTC time.
        on_retry: told the time of each scheduled retry (the scheduler's ``poke``).
        on_inactive: awaited with the ids of the alerts suspended because their conversation
            became unreachable (the alert engine drops them from its index).
        concurrency: sends in flight at once.
        send_timeout: seconds one send may take before it counts as failed.
        lease_seconds: how long an occurrence may stay ``sending`` before another process
            (or this one after a restart) takes it over.
        retry: the retry policy.
        per_channel: sends in flight at once to one channel (serviceUrl).
        pacer: the per-conversation rate limit.
        metrics: where outcomes, durations and lateness are counted.
        breaker: the per-channel circuit breaker for channel-wide refusals (its state is
            :meth:`ChannelBreaker.status`, also exported to ``metrics``).
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        deliverer: Deliverer,
        clock: Callable[[], datetime],
        on_retry: Callable[[datetime], None] = lambda _when: None,
        on_inactive: Callable[[list[int]], Awaitable[None]] | None = None,
        concurrency: int = 32,
        send_timeout: float = 20.0,
        lease_seconds: float = 120.0,
        retry: RetryPolicy | None = None,
        per_channel: int = 4,
        pacer: ConversationPacer | None = None,
        metrics: DeliveryMetrics | None = None,
        breaker: ChannelBreaker | None = None,
    ) -> None:
        if lease_seconds < 2 * send_timeout:
            raise ValueError("the delivery lease must be at least twice the send timeout")
        self._sessionmaker = sessionmaker
        # Set whenever claim slots may have freed up (a send answered or ended, outcomes written).
        self._room = asyncio.Event()
        self._writer = OutcomeWriter(sessionmaker, give_up_after=lease_seconds / 2, on_written=self._room.set)
        self._deliverer = deliverer
        self._clock = clock
        self.on_retry = on_retry
        self.on_inactive = on_inactive
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._send_timeout = send_timeout
        self._lease = timedelta(seconds=lease_seconds)
        self._retry = retry or RetryPolicy()
        self._rng = random.Random()
        self._per_channel = per_channel
        self._pacer = pacer or ConversationPacer()
        self.metrics = metrics or DeliveryMetrics()
        self.metrics.watch_in_flight(lambda: len(self.in_flight))
        self.breaker = breaker or ChannelBreaker()
        self.metrics.watch_breaker(lambda: self.breaker.status())
        # The SDK's sender runs in a worker thread that can't be stopped; the connector
        # sender's coroutine can, and is, when it runs past the timeout.
        self._cancellable = getattr(deliverer, "cancellable", False)
        # One semaphore per serviceUrl: a channel that stops answering holds at most
        # ``per_channel`` sends (and the SDK's worker threads behind them), never all of them.
        self._channels: dict[str, asyncio.Semaphore] = {}
        # SQLite has no SKIP LOCKED: the pass and the resync job must not claim together.
        self._claim_lock = asyncio.Lock()
        self._stopping = False
        self._tasks: dict[int, asyncio.Task] = {}
        self._started: set[int] = set()
        self._unsent: set[int] = set()
        # Claimed and not yet recorded; the subset whose send has not been answered yet.
        self.in_flight: set[int] = set()
        self._unanswered: set[int] = set()
        # One lane per conversation with sends in this process; a lane held until a time
        # (a retry or a held refusal of its head) defers what comes behind it until then.
        self._lanes: dict[object, _Lane] = {}
        self._out: dict[object, dict[tuple[float, int], _Out]] = {}

    def free_slots(self) -> int:
        """How many more occurrences may be claimed now.

        Back-pressure: at most twice the send slots of sends not yet answered. A send's
        slot frees when the channel answers, not when its outcome is committed, so the next
        claim overlaps the outcome writes instead of waiting for them. Answers known but
        not yet committed, which would be sent again if the process died, count against a
        second bound: together with the unanswered sends, at most four times the send slots.
        """
        unanswered = len(self._unanswered)
        return max(
            0,
            min(2 * self._concurrency - unanswered, 4 * self._concurrency - unanswered - self._writer.backlog),
        )

    async def wait_for_room(self) -> None:
        """Wait until a quarter of the claim slots is free (or nothing is under way).

        Not a single one: claiming a row at a time, as each send ends, costs a claim
        transaction per message. With a quarter free, every send slot is still busy.
        """
        want = max(1, self._concurrency // 2)
        while self.free_slots() < want and self.in_flight:
            self._room.clear()
            await self._room.wait()

    def dispatch(self, sends: list[Send]) -> None:
        """Start sending; returns at once. Each send joins its conversation's lane, in due
        order; a lane sends one message at a time."""
        if len(self._out) > ConversationPacer.MAX_TRACKED:
            now = self._clock()
            for key in list(self._out):
                self._wait_behind(key, None, now)
        for send in sends:
            self.in_flight.add(send.occurrence_id)
            self._unanswered.add(send.occurrence_id)
            key = send.lane_key
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(queue=[])
            heapq.heappush(lane.queue, (send.order, send))
            if lane.task is None:
                lane.task = asyncio.create_task(self._run_lane(key, lane))
            self._tasks[send.occurrence_id] = lane.task

    def _put_out(self, key: object, sends: list[Send], until: datetime, circuit: str | None = None) -> None:
        out = self._out.setdefault(key, {})
        for send in sends:
            out[send.order] = _Out(until, circuit)

    def _wait_behind(self, key: object, send: Send | None, now: datetime) -> _Out | None:
        """Whether ``send`` must wait for an earlier message of its conversation that is
        out in the database: until when (and whether a circuit holds it), or None.

        The wait lasts until that message comes back, not merely until its due time: a
        message claimed a moment before it must still not overtake it. One out for longer
        than the lease past its time went elsewhere (another instance, failed) and is dropped.
        """
        out = self._out.get(key)
        if not out:
            return None
        if send is not None:
            out.pop(send.order, None)  # it is back
        lease = self._lease.total_seconds()
        for order in [order for order, entry in out.items() if (now - entry.until).total_seconds() > lease]:
            del out[order]
        if not out:
            del self._out[key]
            return None
        if send is None:
            return None
        earlier = [entry for order, entry in out.items() if order < send.order]
        if not earlier:
            return None
        first = min(earlier, key=lambda entry: entry.until)
        if first.until > now:
            return first
        return _Out(now + timedelta(seconds=HOLD_RECHECK_SECONDS), first.circuit)

    async def _run_lane(self, key: object, lane: _Lane) -> None:
        """Send a conversation's messages one after the other, oldest first."""
        try:
            while lane.queue and not self._stopping:
                _, send = heapq.heappop(lane.queue)
                lane.current = send
                behind = self._wait_behind(key, send, self._clock())
                if behind is not None:
                    # An earlier message of this conversation waits (a retry, its pace, an
                    # open circuit): so do these.
                    sends = [send, *lane.take_all()]
                    self._put_out(key, sends, behind.until, behind.circuit)
                    if await self._defer(sends, behind.until, "held" if behind.circuit else "deferred"):
                        if behind.circuit:
                            await self._keep_held(behind.circuit, [s.occurrence_id for s in sends])
                    continue
                try:
                    await self._deliver(send, key, lane)
                except Exception:  # a bug must not strand the conversation's other sends
                    logger.exception("sending %s failed unexpectedly", send.label)
                lane.current = None
        finally:
            lane.current = None
            lane.task = None
            if self._lanes.get(key) is lane and not lane.queue:
                del self._lanes[key]

    async def claim_resends(self, now: datetime, limit: int) -> list[Send]:
        """Claim due retries and abandoned sends (marking them ``sending`` now)."""
        sends: list[Send] = []
        async with self._claim_lock, self._sessionmaker.begin() as session:
            rows = await lock_occurrences_to_send(
                session,
                now=now,
                abandoned_before=now - self._lease,
                exclude=self.in_flight,
                limit=limit,
            )
            sending: list[int] = []
            abandoned: list[int] = []
            skipped: list[int] = []
            failed: list[int] = []
            for row in rows:
                attempts = row.attempts
                if row.status == "sending":
                    logger.warning("occurrence %s was abandoned mid-send; sending it again", row.id)
                    abandoned.append(row.id)
                    attempts += 1
                if not row.active or (attempts >= self._retry.max_attempts and row.http_status != 401):
                    (failed if row.active else skipped).append(row.id)
                    # It won't come back: later messages of its conversation need not wait for it.
                    order = (row.due_at.timestamp() if row.due_at is not None else 0.0, row.id)
                    self._out.get(row.conversation_pk, {}).pop(order, None)
                else:
                    sending.append(row.id)
                    sends.append(
                        Send(
                            occurrence_id=row.id,
                            attempts=attempts,
                            reference=row.reference,
                            payload=row.payload,
                            label=f"{row.kind} occurrence {row.id}",
                            conversation_pk=row.conversation_pk,
                            kind=row.kind,
                            due_at=row.due_at,
                            previous_status=row.http_status,
                        )
                    )
            await mark_claimed(
                session, now=now, sending=sending, abandoned=abandoned, skipped=skipped, failed=failed
            )
        return sends

    def stop(self) -> None:
        """Start no more sends (those waiting for a slot are put back by :meth:`drain`)."""
        self._stopping = True

    async def idle(self, timeout: float) -> None:
        """Wait up to ``timeout`` s until every send started so far has been recorded."""
        if self._tasks:
            await asyncio.wait(set(self._tasks.values()), timeout=timeout)

    async def drain(self, timeout: float) -> None:
        """Stop starting sends; wait up to ``timeout`` s for those under way to be recorded.

        Occurrences still waiting for a send slot go back to ``pending``, due now, so the
        next start sends them at once instead of after the lease.
        """
        self._stopping = True
        started = [self._tasks[oid] for oid in self._started if oid in self._tasks]
        if started:
            _, pending = await asyncio.wait(started, timeout=timeout)
            if pending:
                logger.warning("%d sends still under way at shutdown", len(pending))
        for lane in list(self._lanes.values()):
            current = lane.current
            if lane.task is not None and (current is None or current.occurrence_id not in self._started):
                lane.task.cancel()  # waiting for its pace or a slot: nothing went out
        queued = sorted((self.in_flight - self._started) | self._unsent)
        if queued:
            try:
                async with self._sessionmaker.begin() as session:
                    await requeue(session, occurrence_ids=queued, now=self._clock())
            except Exception as exc:  # they are taken over after the lease instead
                logger.error("could not requeue %d unsent occurrences: %r", len(queued), exc)

    async def _deliver(self, send: Send, key: object, lane: _Lane) -> None:
        oid = send.occurrence_id
        service_url = send.service_url
        channel = self._channels.setdefault(service_url, asyncio.Semaphore(self._per_channel))
        try:
            wait = self._pacer.reserve(key)
            if wait > DEFER_AFTER_SECONDS:
                self._pacer.release(key)
                until = self._clock() + timedelta(seconds=wait)
                sends = [send, *lane.take_all()]
                self._put_out(key, sends, until)
                await self._defer(sends, until, "deferred")
                return
            if wait:
                await asyncio.sleep(wait)
            await channel.acquire()
            held = True
            circuit_wait = 0.0
            try:
                async with self._semaphore:
                    if self._stopping:
                        self._unsent.add(oid)  # drain() puts it back to pending
                        return
                    circuit_wait = self.breaker.allow(service_url, oid)
                    if not circuit_wait:
                        self._started.add(oid)
                        while (lag := self._pacer.admit(key)) > 0:
                            await asyncio.sleep(lag)
                        started = time.monotonic()
                        # The stored JSON goes to the deliverer as it is: no model objects per send.
                        if self._cancellable:
                            result = await self._send_cancellable(send)
                        else:
                            result, held = await self._send_in_thread(send, channel)
                        seconds = time.monotonic() - started
                        self.metrics.duration.labels(send.kind).observe(seconds)
            finally:
                if held:
                    channel.release()
                self._answered(oid)
            if circuit_wait:
                # The channel's circuit is open: keep this conversation's messages pending
                # until the next probe, unsent and with no attempt counted.
                # What comes later for this conversation waits too, until the circuit closes.
                self._pacer.release(key)
                until = self._clock() + timedelta(seconds=circuit_wait)
                sends = [send, *lane.take_all()]
                self._put_out(key, sends, until, service_url)
                if await self._defer(sends, until, "held", error="held: the channel refuses the bot (circuit open)"):
                    await self._keep_held(service_url, [s.occurrence_id for s in sends])
                return
            await self._record(send, result, seconds)
        finally:
            self._answered(oid)
            self.in_flight.discard(oid)
            self._started.discard(oid)
            self._tasks.pop(oid, None)
            self._room.set()

    def _answered(self, oid: int) -> None:
        if oid in self._unanswered:
            self._unanswered.discard(oid)
            self._room.set()

    async def _send_cancellable(self, send: Send) -> DeliveryResult:
        """A coroutine sender: cancelled if it runs past the timeout (no extra task per send)."""
        try:
            async with asyncio.timeout(self._send_timeout):
                return await self._deliverer.send(send.reference, send.payload)
        except TimeoutError:
            return DeliveryResult(ok=False, error=f"no answer within {self._send_timeout:g} s")
        except Exception as exc:  # Deliverer.send reports failures, but be sure
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])

    async def _send_in_thread(self, send: Send, channel: asyncio.Semaphore) -> tuple[DeliveryResult, bool]:
        """The SDK's sender, whose worker thread can't be stopped; returns (result, whether
        the channel slot is still held by this send)."""
        inner = asyncio.ensure_future(self._deliverer.send(send.reference, send.payload))
        done, _ = await asyncio.wait({inner}, timeout=self._send_timeout)
        if done:
            try:
                return inner.result(), True
            except Exception as exc:  # Deliverer.send reports failures, but be sure
                return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500]), True
        # The worker thread may run on: the channel keeps this slot until it ends, so a
        # dead channel can't take every thread.
        inner.add_done_callback(lambda _: channel.release())
        return DeliveryResult(ok=False, error=f"no answer within {self._send_timeout:g} s"), False

    async def _defer(self, sends: list[Send], until: datetime, outcome: str, error: str | None = None) -> bool:
        """Put claimed sends back, due ``until`` (no attempt counted): their conversation's
        pace, an earlier message's retry, or an open circuit makes them wait. Returns
        whether they were put back."""
        ids = [send.occurrence_id for send in sends]
        try:
            try:
                async with self._sessionmaker.begin() as session:
                    await requeue(session, occurrence_ids=ids, now=until, error=error)
            except Exception as exc:  # taken over after the lease instead
                logger.error("could not put back %d sends (%s): %r", len(ids), sends[0].label, exc)
                return False
            for send in sends:
                self.metrics.outcomes.labels(send.kind, outcome).inc()
            logger.debug(
                "%s and %d more of its conversation %s until %s", sends[0].label, len(sends) - 1, outcome,
                until.isoformat(),
            )
            self.on_retry(until)
            return True
        finally:
            for oid in ids:
                self._answered(oid)
                self.in_flight.discard(oid)
                self._tasks.pop(oid, None)
            self._room.set()

    def _judge_channel(self, send: Send, result: DeliveryResult) -> tuple[bool, float | None, str | None]:
        """Tell the breaker how the channel answered; return whether this answer is held
        (kept pending with no attempt counted), if so in how many seconds to try again, and
        how the circuit changed (:meth:`ChannelBreaker.record`).

        Held: any refusal (401/403/404) while the channel's circuit is open, and a 403 that
        is not known to be about its conversation (no other send to the channel succeeded
        recently, or it is this occurrence's first 403).
        """
        service_url = send.service_url
        refused = not result.ok and result.status in REFUSAL_STATUSES
        answer = OK if result.ok else REFUSED if refused else OTHER
        change = self.breaker.record(service_url, answer, send.occurrence_id, source=send.lane_key)
        label = channel_label(service_url)
        if change == "opened":
            self.metrics.circuit_opens.inc()
            logger.error(
                "channel %s refuses the bot (HTTP %s on many of its recent sends): circuit open, "
                "its messages are kept pending and no conversation is deactivated; a probe goes in "
                "%.0f s. Check MicrosoftAppId/MicrosoftAppPassword and the channel's or tenant's policy",
                label, result.status, self.breaker.retry_in(service_url),
            )
        elif change == "reopened":
            logger.warning(
                "channel %s still refuses the bot (the probe got HTTP %s); next probe in %.0f s",
                label, result.status, self.breaker.retry_in(service_url),
            )
        elif change == "closed":
            logger.warning("channel %s accepts sends again (probe answered %s): circuit closed",
                           label, result.status or "OK")
        if result.ok:
            return False, None, change
        if self.breaker.is_open(service_url) and result.status in REFUSAL_STATUSES | UNREACHABLE_STATUSES:
            return True, self.breaker.retry_in(service_url), change
        if result.status == 403 and not (send.previous_status == 403 and self.breaker.others_succeed(service_url)):
            return True, self.breaker.policy.suspect_seconds, change
        return False, None, change

    async def _keep_held(self, service_url: str, occurrence_ids: list[int]) -> None:
        """Pending messages kept for an open circuit: remembered, to be released when it
        closes (at once if it closed while they were being written)."""
        self.breaker.hold(service_url, occurrence_ids)
        if not self.breaker.is_open(service_url):
            await self._release_held(service_url)

    async def _release_held(self, service_url: str) -> None:
        """The circuit closed: make the messages it held due now (oldest first)."""
        now = self._clock()
        for out in self._out.values():
            for order, entry in out.items():
                if entry.circuit == service_url:  # due now, still in order
                    out[order] = _Out(now)
        held = self.breaker.take_held(service_url)
        if not held:
            return
        try:
            async with self._sessionmaker.begin() as session:
                await release_held(session, occurrence_ids=held, now=now)
        except Exception as exc:  # they come due at the probe time they were given
            logger.error("could not release %d held messages: %r", len(held), exc)
            return
        logger.info("%d messages held for channel %s released", len(held), channel_label(service_url))
        self.on_retry(now)

    async def _record(self, send: Send, result: DeliveryResult, seconds: float) -> None:
        now = self._clock()
        held, held_for, change = self._judge_channel(send, result)
        # A 403 kept only because nothing shows it is about its conversation (the circuit is
        # closed) is an attempt all the same: after the retry policy's attempts it is taken as
        # the conversation's own (one user who blocked the bot, alone on the channel), so it
        # is not tried forever. Held for an open circuit, no attempt is counted.
        suspect = held and not self.breaker.is_open(send.service_url)
        attempts = send.attempts if held and not suspect else send.attempts + 1
        if suspect and attempts >= self._retry.max_attempts:
            held = False
        next_attempt_at = None
        late = None
        if send.due_at is not None:
            late = max(0.0, (now - send.due_at).total_seconds())
        unreachable = (
            not held and not result.ok and result.status in UNREACHABLE_STATUSES
            and send.conversation_pk is not None
        )
        # One line per delivery attempt, with the conversation and the outcome.
        fields = {
            "event": "delivery",
            "kind": send.kind,
            "occurrence": send.occurrence_id,
            "conversation": (send.reference.get("conversation") or {}).get("id"),
            "attempt": send.attempts + 1,
            "status": result.status,
            "ms": round(seconds * 1000, 1),
            "late_ms": round(late * 1000) if late is not None else None,
            "error": (result.error or "")[:300] or None,
        }
        if held:
            delay = held_for
        else:
            delay = None if result.ok else self._retry.delay(attempts, result, self._rng)
        if result.ok:
            status = "sent"
        elif delay is None:
            status = "failed"
        else:
            status = "pending"
            next_attempt_at = now + timedelta(seconds=delay)
            fields["retry_in_s"] = round(delay, 1)
        outcome = (
            "held" if held else "unreachable" if unreachable
            else {"sent": "sent", "pending": "retry"}.get(status, "failed")
        )
        fields["outcome"] = outcome
        if result.ok:
            logger.info("%s delivered", send.label, extra={"fields": fields})
            if late is not None:
                self.metrics.lateness.labels(send.kind).observe(late)
        elif held:
            if self.breaker.is_open(send.service_url):
                logger.info("%s kept pending: its channel's circuit is open", send.label, extra={"fields": fields})
            else:
                logger.warning(
                    "%s refused (HTTP %s) while no other send to its channel is known to succeed: kept "
                    "pending, the conversation stays active", send.label, result.status, extra={"fields": fields},
                )
        elif delay is None:
            logger.warning(
                "%s NOT delivered, giving up after %d attempts", send.label, attempts, extra={"fields": fields}
            )
        elif result.status == 401:
            logger.error(
                "%s: the channel refused the bot's credentials (401); check "
                "MicrosoftAppId/MicrosoftAppPassword. Kept for a retry",
                send.label, extra={"fields": fields},
            )
        else:
            logger.warning("%s not delivered; will retry", send.label, extra={"fields": fields})
        self.metrics.outcomes.labels(send.kind, outcome).inc()
        circuit_hold = held and self.breaker.is_open(send.service_url)
        if next_attempt_at is not None:
            # What comes behind it in its conversation waits for it (until the circuit
            # closes, when that is what holds it).
            self._put_out(send.lane_key, [send], next_attempt_at, send.service_url if circuit_hold else None)
        outcome_row = Outcome(
            occurrence_id=send.occurrence_id,
            status=status,
            now=now,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            http_status=result.status,
            error=result.error,
        )
        try:
            suspended_alerts = await self._writer.write(
                outcome_row, suspend=send.conversation_pk if unreachable else None
            )
        except Exception as exc:  # SQLAlchemy, OS and driver errors alike, for half the lease
            # The row stays "sending"; after the lease it is sent again (a duplicate).
            logger.error("could not record the outcome of %s: %r", send.label, exc)
            return
        if change == "closed":
            await self._release_held(send.service_url)
        elif circuit_hold:
            await self._keep_held(send.service_url, [send.occurrence_id])
        if unreachable:
            logger.warning(
                "conversation %s marked inactive after HTTP %s; its reminders and alerts are "
                "suspended until the user writes again", send.conversation_pk, result.status,
            )
            if suspended_alerts and self.on_inactive is not None:
                await self.on_inactive(suspended_alerts)
        if next_attempt_at is not None:
            self.on_retry(next_attempt_at)
