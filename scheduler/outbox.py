"""The outbox: sends claimed occurrences, records each outcome, and retries what may succeed later.

Every proactive message goes through here, whatever produced it (a reminder today; alerts and
the notify API use the same rows). The rules:

* Sends run as tasks of their own, at most ``concurrency`` at once, each bounded by
  ``send_timeout``: one slow or dead channel never holds up anybody else's message.
* An outcome is recorded as ``sent``; ``pending`` with a ``next_attempt_at`` after a transient
  failure (429 honouring ``Retry-After``, 5xx, 401, timeout, connection error: exponential
  backoff with jitter, up to ``max_attempts``); or ``failed`` with the status and error.
* Recording retries through a database blip, because the send's outcome is already known and
  forgetting it would mean sending the message again.
* An occurrence left ``sending`` longer than the lease by a process that died is taken over
  and sent again: the only case where a message may arrive twice (its outcome was unknown).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.schema import Activity
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.store import lock_occurrences_to_send, record_outcome
from models.tables import Occurrence
from scheduler.delivery import Deliverer, DeliveryResult

logger = logging.getLogger(__name__)

# Statuses worth another try: throttling, server trouble, and 401 (credentials being fixed).
RETRYABLE_STATUSES = frozenset({401, 408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed send.

    Attributes:
        max_attempts: attempts in all, the first included.
        base_seconds: the first retry's delay; it doubles with each attempt.
        max_seconds: the longest delay (also caps a channel's ``Retry-After``).
    """

    max_attempts: int = 5
    base_seconds: float = 5.0
    max_seconds: float = 600.0

    def delay(self, attempts: int, result: DeliveryResult, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up.

        Args:
            attempts: attempts made so far, the one that just failed included.
            result: how that attempt failed.
        """
        if attempts >= self.max_attempts:
            return None
        if result.status is not None and result.status not in RETRYABLE_STATUSES:
            return None  # 400, 403, 404...: trying again cannot help
        backoff = min(self.max_seconds, self.base_seconds * 2 ** (attempts - 1))
        backoff *= rng.uniform(0.5, 1.0)  # jitter, so a burst of failures doesn't retry in step
        if result.retry_after is not None:
            backoff = max(backoff, min(result.retry_after, self.max_seconds))
        return backoff


@dataclass(frozen=True)
class Send:
    """One claimed occurrence on its way out."""

    occurrence_id: int
    attempts: int
    reference: dict[str, Any]
    payload: dict[str, Any]
    label: str


class NewOccurrences:
    """Occurrences written in one claiming transaction, and the sends they become.

    Add them inside the transaction; after ``session.flush()`` (which gives them ids),
    :meth:`sends` lists the ones to dispatch. An occurrence for an inactive conversation is
    recorded as failed straight away and not sent.
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
        activity: Activity,
        now: datetime,
        label: str,
        **source: int,
    ) -> None:
        occurrence = Occurrence(
            kind=kind,
            conversation_pk=conversation.id,
            due_at=due_at,
            payload=activity.serialize(),
            status="sending",
            claimed_at=now,
            **source,
        )
        if not conversation.active:
            occurrence.status = "failed"
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
            )
            for occurrence, reference, label in self._claimed
        ]


class Outbox:
    """Sends occurrences and records their outcomes.

    Args:
        sessionmaker: opens one session per unit of work.
        deliverer: sends one activity into a conversation.
        clock: the current aware UTC time.
        on_retry: told the time of each scheduled retry (the scheduler's ``poke``).
        concurrency: sends in flight at once.
        send_timeout: seconds one send may take before it counts as failed.
        lease_seconds: how long an occurrence may stay ``sending`` before another process
            (or this one after a restart) takes it over.
        retry: the retry policy.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        deliverer: Deliverer,
        clock: Callable[[], datetime],
        on_retry: Callable[[datetime], None] = lambda _when: None,
        concurrency: int = 32,
        send_timeout: float = 20.0,
        lease_seconds: float = 120.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if lease_seconds < 2 * send_timeout:
            raise ValueError("the delivery lease must be at least twice the send timeout")
        self._sessionmaker = sessionmaker
        self._deliverer = deliverer
        self._clock = clock
        self.on_retry = on_retry
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._send_timeout = send_timeout
        self._lease = timedelta(seconds=lease_seconds)
        self._retry = retry or RetryPolicy()
        self._rng = random.Random()
        self._tasks: set[asyncio.Task] = set()
        self.in_flight: set[int] = set()

    @property
    def busy(self) -> bool:
        """True when claiming more would only queue them: every send slot is taken twice over."""
        return len(self.in_flight) >= 2 * self._concurrency

    async def wait_for_room(self) -> None:
        """Wait until a send finishes if the outbox is busy (the claimer's back-pressure)."""
        while self.busy and self._tasks:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    def dispatch(self, sends: list[Send]) -> None:
        """Start sending; returns at once."""
        for send in sends:
            self.in_flight.add(send.occurrence_id)
            task = asyncio.create_task(self._deliver(send), name=f"send-{send.occurrence_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def claim_resends(self, now: datetime, limit: int) -> list[Send]:
        """Claim due retries and abandoned sends (marking them ``sending`` now)."""
        sends: list[Send] = []
        async with self._sessionmaker.begin() as session:
            rows = await lock_occurrences_to_send(
                session,
                now=now,
                abandoned_before=now - self._lease,
                exclude=self.in_flight,
                limit=limit,
            )
            for occurrence, conversation in rows:
                if occurrence.status == "sending":
                    logger.warning(
                        "occurrence %s was abandoned mid-send; sending it again", occurrence.id
                    )
                    # It may have gone out: count it, so a send that kills the process stops.
                    occurrence.attempts += 1
                if occurrence.attempts >= self._retry.max_attempts or not conversation.active:
                    occurrence.status = "failed"
                    occurrence.last_error = occurrence.last_error or "gave up"
                    continue
                occurrence.status = "sending"
                occurrence.claimed_at = now
                occurrence.next_attempt_at = None
                sends.append(
                    Send(
                        occurrence_id=occurrence.id,
                        attempts=occurrence.attempts,
                        reference=conversation.reference,
                        payload=occurrence.payload,
                        label=f"{occurrence.kind} occurrence {occurrence.id}",
                    )
                )
        return sends

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for sends in flight to finish and be recorded."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                logger.warning("%d sends still in flight at shutdown", len(pending))

    async def _deliver(self, send: Send) -> None:
        try:
            async with self._semaphore:
                activity = Activity().deserialize(send.payload)
                try:
                    result = await asyncio.wait_for(
                        self._deliverer.send(send.reference, activity), self._send_timeout
                    )
                except TimeoutError:
                    result = DeliveryResult(ok=False, error=f"no answer within {self._send_timeout:g} s")
            await self._record(send, result)
        finally:
            self.in_flight.discard(send.occurrence_id)

    async def _record(self, send: Send, result: DeliveryResult) -> None:
        now = self._clock()
        attempts = send.attempts + 1
        next_attempt_at = None
        if result.ok:
            status = "sent"
            logger.info("%s delivered", send.label)
        else:
            delay = self._retry.delay(attempts, result, self._rng)
            if delay is None:
                status = "failed"
                logger.warning(
                    "%s NOT delivered, giving up after %d attempts: status=%s error=%s",
                    send.label, attempts, result.status, result.error,
                )
            else:
                status = "pending"
                next_attempt_at = now + timedelta(seconds=delay)
                logger.warning(
                    "%s not delivered (status=%s error=%s); retry %d in %.0f s",
                    send.label, result.status, result.error, attempts + 1, delay,
                )
        for pause in (0.2, 0.5, 1, 2, 4, 8, None):
            try:
                async with self._sessionmaker.begin() as session:
                    await record_outcome(
                        session,
                        occurrence_id=send.occurrence_id,
                        status=status,
                        now=now,
                        attempts=attempts,
                        next_attempt_at=next_attempt_at,
                        http_status=result.status,
                        error=result.error,
                    )
                break
            except (SQLAlchemyError, OSError) as exc:
                if pause is None:
                    # The row stays "sending"; after the lease it is sent again (a duplicate).
                    logger.error("could not record the outcome of %s: %r", send.label, exc)
                    return
                await asyncio.sleep(pause)
        if next_attempt_at is not None:
            self.on_retry(next_attempt_at)
