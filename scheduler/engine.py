"""The reminder scheduler: one class owns the APScheduler loop inside the bot process.

The database is the source of truth; the scheduler only decides *when* to look. It never
holds one in-memory job per reminder. Instead it keeps a single "wake" job, a
``DateTrigger`` at the earliest ``next_run_at`` of any active reminder, plus a periodic
"resync" job that re-reads that time (other instances may have added reminders) and
re-sends occurrences whose sender died mid-delivery. Because the wake job is set to the
exact due time, reminders fire on time rather than on a polling tick.

A pass claims due reminders in batches. Claiming records an ``Occurrence`` (status
"sending") and advances the reminder to its next occurrence in one transaction, so a
restart never sends the same occurrence twice and never skips one; the send's outcome is
recorded afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.schedule import ScheduleError, is_recurring, next_fire_time
from models.store import (
    earliest_due_time,
    lease_cutoff,
    lock_due_reminders,
    record_outcome,
    stale_sending_occurrences,
)
from models.tables import Occurrence
from scheduler.delivery import Deliverer
from scheduler.messages import reminder_activity

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Send:
    occurrence_id: int
    reminder_id: int
    conversation_id: str
    reference: dict[str, Any]
    activity: Activity


class ReminderScheduler:
    """Owns the ``AsyncIOScheduler`` that fires due reminders.

    Args:
        sessionmaker: opens one session per unit of work.
        deliverer: sends proactive messages.
        clock: returns the current aware UTC time (injectable for tests).
        batch_size: reminders claimed per transaction.
        concurrency: sends in flight at once.
        resync_seconds: how often the earliest due time is re-read from the database.
        lease_seconds: after this long an occurrence still "sending" is taken as abandoned
            by a dead process and sent again.
    """

    WAKE_JOB = "nudge-wake"
    RESYNC_JOB = "nudge-resync"

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        deliverer: Deliverer,
        clock: Clock = system_clock,
        batch_size: int = 200,
        concurrency: int = 32,
        resync_seconds: float = 30.0,
        lease_seconds: float = 120.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._deliverer = deliverer
        self._clock = clock
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._resync_seconds = resync_seconds
        self._lease_seconds = lease_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._wake_at: datetime | None = None
        self._pass_running = False
        self._repass = False
        self._stopping = False
        # Passes and sends in flight, so that shutdown can wait for them to be recorded.
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def wake_at(self) -> datetime | None:
        """When the scheduler next looks for due reminders."""
        return self._wake_at

    async def start(self) -> None:
        """Start the loop; must be called from inside the running event loop."""
        self._scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        self._scheduler.add_listener(self._on_job_error, EVENT_JOB_ERROR)
        self._scheduler.start()
        # The first resync runs at once: it re-sends abandoned occurrences and sets the
        # wake job to the earliest due reminder, which catches up on anything missed.
        self._scheduler.add_job(
            self._resync,
            IntervalTrigger(seconds=self._resync_seconds, timezone=UTC),
            id=self.RESYNC_JOB,
            next_run_time=self._clock(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        logger.info("reminder scheduler started")

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop firing and wait up to ``timeout`` seconds for sends in flight to be recorded."""
        self._stopping = True
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        current = asyncio.current_task()
        busy = {task for task in self._tasks if task is not current}
        if busy:
            _, pending = await asyncio.wait(busy, timeout=timeout)
            if pending:
                logger.warning("%d scheduler tasks still running at shutdown", len(pending))
        logger.info("reminder scheduler stopped")

    def poke(self, due_at: datetime) -> None:
        """Tell the scheduler a reminder is now due at ``due_at`` (new, resumed, snoozed)."""
        if self._scheduler is None or not self._scheduler.running:
            return
        if self._pass_running:
            # The pass re-reads the earliest due time before it sleeps.
            self._repass = True
            return
        if (
            self._wake_at is None
            or due_at < self._wake_at
            or self._scheduler.get_job(self.WAKE_JOB) is None
        ):
            self._set_wake(due_at)

    def job_ids(self) -> list[str]:
        """The ids of the jobs APScheduler holds (two, however many reminders are stored)."""
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler else []

    def _set_wake(self, when: datetime | None) -> None:
        self._wake_at = when
        if self._scheduler is None or not self._scheduler.running:
            return  # not started (a pass run by hand); start() re-reads the due time
        if when is None:
            if self._scheduler.get_job(self.WAKE_JOB) is not None:
                self._scheduler.remove_job(self.WAKE_JOB)
            return
        self._scheduler.add_job(
            self.run_due,
            DateTrigger(run_date=when, timezone=UTC),
            id=self.WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=2,
        )

    def _on_job_error(self, event: JobExecutionEvent) -> None:
        # A failing pass (database away, say) must not stop the loop: the resync job
        # re-arms the wake job on its next run.
        logger.error("scheduler job %s failed: %r", event.job_id, event.exception)
        if event.job_id == self.WAKE_JOB:
            self._wake_at = None

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _resync(self) -> None:
        if self._stopping:
            return
        self._track()
        await self._resend_abandoned()
        async with self._sessionmaker() as session:
            earliest = await earliest_due_time(session)
        if earliest is not None:
            self.poke(earliest)

    async def run_due(self) -> None:
        """Claim and send every due reminder, then sleep until the next one is due."""
        if self._stopping:
            return
        if self._pass_running:
            self._repass = True
            return
        self._track()
        self._pass_running = True
        try:
            while not self._stopping:
                self._repass = False
                batch = await self._claim_batch(self._clock())
                if batch:
                    await asyncio.gather(*(self._spawn(send) for send in batch))
                    if len(batch) == self._batch_size:
                        continue
                async with self._sessionmaker() as session:
                    earliest = await earliest_due_time(session)
                if self._repass or (earliest is not None and earliest <= self._clock()):
                    continue
                # No await between this check and the return: a poke cannot slip between.
                self._set_wake(earliest)
                return
        finally:
            self._pass_running = False

    async def _claim_batch(self, now: datetime) -> list[_Send]:
        sends: list[tuple[Occurrence, Any, Any]] = []
        async with self._sessionmaker.begin() as session:
            for reminder, conversation in await lock_due_reminders(
                session, now=now, limit=self._batch_size
            ):
                due_at = reminder.next_run_at
                occurrence = Occurrence(
                    reminder_id=reminder.id, due_at=due_at, status="sending", claimed_at=now
                )
                session.add(occurrence)
                try:
                    following = next_fire_time(reminder.schedule, reminder.timezone, after=now)
                except ScheduleError:
                    logger.exception("reminder %s has a broken schedule; stopping it", reminder.id)
                    following = None
                reminder.last_run_at = due_at
                reminder.next_run_at = following
                if following is None:
                    reminder.state = "done"
                if not conversation.active:
                    occurrence.status = "failed"
                    occurrence.last_error = "conversation is inactive"
                    continue
                activity = reminder_activity(
                    number=reminder.number,
                    text=reminder.text,
                    recurring=is_recurring(reminder.schedule),
                    due_at=due_at,
                    now=now,
                )
                sends.append((occurrence, reminder, conversation, activity))
            await session.flush()
            return [
                _Send(
                    occurrence_id=occurrence.id,
                    reminder_id=reminder.id,
                    conversation_id=conversation.conversation_id,
                    reference=conversation.reference,
                    activity=activity,
                )
                for occurrence, reminder, conversation, activity in sends
            ]

    async def _resend_abandoned(self) -> None:
        now = self._clock()
        resend: list[_Send] = []
        async with self._sessionmaker.begin() as session:
            rows = await stale_sending_occurrences(
                session, older_than=lease_cutoff(now, self._lease_seconds), limit=self._batch_size
            )
            for occurrence, reminder, conversation in rows:
                # Take the lease over, so no other instance re-sends it as well.
                occurrence.claimed_at = now
                resend.append(
                    _Send(
                        occurrence_id=occurrence.id,
                        reminder_id=reminder.id,
                        conversation_id=conversation.conversation_id,
                        reference=conversation.reference,
                        activity=reminder_activity(
                            number=reminder.number,
                            text=reminder.text,
                            recurring=is_recurring(reminder.schedule),
                            due_at=occurrence.due_at,
                            now=now,
                        ),
                    )
                )
        if resend:
            logger.warning("re-sending %d occurrences abandoned mid-delivery", len(resend))
            await asyncio.gather(*(self._spawn(send) for send in resend))

    async def _spawn(self, send: _Send) -> None:
        task = asyncio.create_task(self._deliver(send))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await task

    async def _deliver(self, send: _Send) -> None:
        async with self._semaphore:
            result = await self._deliverer.send(send.reference, send.activity)
        async with self._sessionmaker.begin() as session:
            await record_outcome(
                session,
                occurrence_id=send.occurrence_id,
                sent=result.ok,
                now=self._clock(),
                http_status=result.status,
                error=result.error,
            )
        if result.ok:
            logger.info("reminder %s delivered (occurrence %s)", send.reminder_id, send.occurrence_id)
        else:
            logger.warning(
                "reminder %s NOT delivered (occurrence %s): status=%s error=%s",
                send.reminder_id,
                send.occurrence_id,
                result.status,
                result.error,
            )
