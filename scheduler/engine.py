"""The reminder scheduler: one class owns the APScheduler loop inside the bot process.

The database is the source of truth; the scheduler only decides *when* to look. It never
holds one in-memory job per reminder. Instead it keeps a single "wake" job, a
``DateTrigger`` at the earliest time anything is due (an active reminder's ``next_run_at``
or a retry's ``next_attempt_at``), plus a periodic "resync" job that re-reads that time
(other instances may have added reminders; a failed pass needs re-arming) and takes over
sends abandoned by a dead process. Because the wake job is set to the exact due time,
reminders fire on time rather than on a polling tick.

A pass claims due reminders in batches, expands due notifications (from external systems)
into one occurrence per target conversation (claimed at once, as far as the outbox has
room), and claims pending sends. Claiming records an ``Occurrence`` (status
"sending", with the message as its payload) and advances the reminder to its next
occurrence in one transaction, so a restart never sends the same occurrence twice and
never skips one. The :class:`~scheduler.outbox.Outbox` then sends it and records the
outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.notifications import EXPAND_PAGE, expand_due_notification
from models.schedule import ScheduleError, is_recurring, next_fire_time
from models.store import earliest_due_time, lock_due_reminders
from scheduler.delivery import Deliverer
from scheduler.messages import reminder_activity
from scheduler.metrics import DeliveryMetrics
from scheduler.outbox import ConversationPacer, NewOccurrences, Outbox, RetryPolicy, Send

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# How soon to look again when something is due but could not be taken (locked elsewhere).
BUSY_RETRY = timedelta(seconds=1)
# While the outbox streams sends, how often the claim loop looks for due reminders and pages.
SCAN_INTERVAL = 0.05
# After a pass failed or was abandoned, how soon the next one starts.
RETRY_AFTER_FAILURE = timedelta(seconds=5)


def system_clock() -> datetime:
    return datetime.now(UTC)


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
        send_timeout: seconds one send may take.
        retry: how failed sends are retried.
        per_channel: sends in flight at once to one channel (serviceUrl).
        pacer: the per-conversation rate limit.
        metrics: delivery counters and histograms.
        stall_seconds: the longest one step of a pass (a claim, an expansion, a look-up), a
            resync or a periodic job may take; a longer one is abandoned (the database
            calls under it are cancelled) and tried again. Also the bound after which
            :meth:`stalled` reports a scheduler that completes no pass while work is due.
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
        send_timeout: float = 20.0,
        retry: RetryPolicy | None = None,
        per_channel: int = 4,
        pacer: ConversationPacer | None = None,
        metrics: DeliveryMetrics | None = None,
        stall_seconds: float = 30.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._stall_seconds = stall_seconds
        self._clock = clock
        self._batch_size = batch_size
        self._resync_seconds = resync_seconds
        self.outbox = Outbox(
            sessionmaker=sessionmaker,
            deliverer=deliverer,
            clock=clock,
            on_retry=self.poke,
            concurrency=concurrency,
            send_timeout=send_timeout,
            lease_seconds=lease_seconds,
            retry=retry,
            per_channel=per_channel,
            pacer=pacer,
            metrics=metrics,
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._wake_at: datetime | None = None
        self._pass_running = False
        # Monotonic times: the last round of a pass that did its database work, and since
        # when passes have been running without one ending normally (None: the last ended).
        self._progress_at = time.monotonic()
        self._due_since: float | None = None
        self._resynced_at = time.monotonic()  # the last resync that read the due time
        self._repass = False
        self._stopping = False
        # Passes and resyncs in flight, so that shutdown can let them finish.
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running and not self._stopping

    @property
    def wake_at(self) -> datetime | None:
        """When the scheduler next looks for due reminders."""
        return self._wake_at

    def stalled(self) -> str | None:
        """Why the scheduler is not getting work done, or None: work has been due (or a
        pass running) for ``stall_seconds`` without a pass round completing, or no resync
        (which reads the next due time) has completed for a resync period and then
        ``stall_seconds``."""
        if not self.running:
            return None
        now = time.monotonic()
        unread_for = now - self._resynced_at
        if unread_for > self._resync_seconds + self._stall_seconds:
            # It can't even learn what is due: every resync fails or is abandoned.
            return f"no resync completed for {unread_for:.0f} s: the due times can't be read"
        idle_for = now - self._progress_at
        if self._due_since is not None:  # a pass runs, or the last one failed or was abandoned
            waited = now - max(self._due_since, self._progress_at)
        elif self._wake_at is not None:  # due, and the wake job has not started a pass
            waited = min(idle_for, (self._clock() - self._wake_at).total_seconds())
        else:
            return None
        if waited <= self._stall_seconds:
            return None
        return f"no scheduler pass completed for {idle_for:.0f} s while work is due"

    def _progressed(self) -> None:
        self._progress_at = time.monotonic()

    def job_ids(self) -> list[str]:
        """The ids of the jobs APScheduler holds (two, however many reminders are stored)."""
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler else []

    async def start(self) -> None:
        """Start the loop; must be called from inside the running event loop."""
        self._scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        self._scheduler.add_listener(self._on_job_error, EVENT_JOB_ERROR)
        self._scheduler.start()
        # The first resync runs at once: it takes over abandoned sends and sets the wake
        # job to the earliest due reminder, which catches up on anything missed.
        self._scheduler.add_job(
            self.resync,
            IntervalTrigger(seconds=self._resync_seconds, timezone=UTC),
            id=self.RESYNC_JOB,
            next_run_time=self._clock(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        logger.info("reminder scheduler started")

    def add_periodic(self, job_id: str, func, seconds: float) -> None:
        """Run ``func`` (a coroutine function) every ``seconds`` on this scheduler's loop.

        Used for the price feed's polling and alert housekeeping; a run still going when the
        next is due is skipped, and a failing run is logged without stopping the loop.
        """
        assert self._scheduler is not None, "start() first"

        async def tracked() -> None:
            if self._stopping:
                return
            self._track()
            # Bounded, so that a run wedged on the database does not make APScheduler skip
            # every later run ("maximum number of running instances reached") for ever.
            async with asyncio.timeout(self._stall_seconds):
                await func()

        self._scheduler.add_job(
            tracked,
            IntervalTrigger(seconds=seconds, timezone=UTC),
            id=job_id,
            replace_existing=True,
            next_run_time=self._clock(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop claiming, let passes and sends in flight finish (up to ``timeout`` s), then stop.

        APScheduler's shutdown cancels the job tasks still running, so it comes last: a
        cancelled send would leave its row "sending" and be sent again after a restart.
        """
        self._stopping = True
        self.outbox.stop()
        deadline = asyncio.get_running_loop().time() + timeout
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
        current = asyncio.current_task()
        busy = {task for task in self._tasks if task is not current}
        if busy:
            await asyncio.wait(busy, timeout=timeout)
        await self.outbox.drain(max(0.5, deadline - asyncio.get_running_loop().time()))
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        logger.info("reminder scheduler stopped")

    def poke(self, due_at: datetime) -> None:
        """Tell the scheduler something is now due at ``due_at`` (new, resumed, snoozed, retry)."""
        if self._scheduler is None or not self._scheduler.running or self._stopping:
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
        if event.job_id == self.WAKE_JOB and not self._stopping:
            # Try again soon rather than waiting for the next resync.
            self._set_wake(self._clock() + timedelta(seconds=5))

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def resync(self) -> None:
        """Take over abandoned sends and re-arm the wake job from the database.

        Bounded by ``stall_seconds``: APScheduler runs one resync at a time and skips the
        next while one is still going, so a resync wedged on the database would stop them
        all.
        """
        if self._stopping:
            return
        self._track()
        async with asyncio.timeout(self._stall_seconds):
            limit = min(self._batch_size, self.outbox.free_slots())
            if limit:
                self.outbox.dispatch(await self.outbox.claim_resends(self._clock(), limit))
            async with self._sessionmaker() as session:
                earliest = await earliest_due_time(session)
        self._resynced_at = time.monotonic()
        if earliest is not None:
            self.poke(earliest)

    async def run_due(self) -> None:
        """Claim and start sending everything due, then sleep until the next due time.

        Each round's database work is bounded by ``stall_seconds``: a round wedged on a
        connection that stopped answering is abandoned, with the pass, and a new pass starts
        shortly (nothing claimed is lost: what was committed is sent, what was not is still
        due).
        """
        if self._stopping:
            return
        if self._pass_running:
            self._repass = True
            return
        self._track()
        self._pass_running = True
        if self._due_since is None:
            self._due_since = time.monotonic()
        stuck_at: datetime | None = None
        scanned_at = 0.0  # monotonic time of the last look for everything
        more_reminders = expanded = more_resends = False
        step = asyncio.timeout(None)
        try:
            while not self._stopping:
                self._repass = False
                await self.outbox.wait_for_room()
                if self._stopping:
                    break  # SIGTERM came while waiting: claim nothing more
                step = asyncio.timeout(self._stall_seconds)
                async with step:
                    now = self._clock()
                    # While sends stream out, this loop comes round every few milliseconds. Each
                    # kind of work (due reminders, notification pages, retries and take-overs)
                    # costs a transaction to look for, so it is looked for at most every
                    # SCAN_INTERVAL then, unless its last look found more than it could take.
                    scan = time.monotonic() - scanned_at >= SCAN_INTERVAL
                    if scan:
                        scanned_at = time.monotonic()
                    claimed: list[Send] = []
                    # Claim no more than can start soon, so nothing waits long enough in this
                    # process for another instance's lease take-over to send it too. Each limit
                    # is read right before its claim: slots free up meanwhile.
                    if scan or more_reminders:
                        limit = min(self._batch_size, self.outbox.free_slots())
                        reminders = await self._claim_reminders(now, limit)
                        self.outbox.dispatch(reminders)  # before anything else can fail
                        claimed += reminders
                        more_reminders = limit > 0 and len(reminders) >= limit
                    if scan or expanded:
                        limit = min(self._batch_size, self.outbox.free_slots())
                        if limit > 0:
                            expanded, sends, pending = await self._expand_notification(now, limit)
                            self.outbox.dispatch(sends)
                            claimed += sends
                            more_resends = more_resends or pending > 0
                    if scan or more_resends:
                        limit = min(self._batch_size, self.outbox.free_slots())
                        resends = await self.outbox.claim_resends(now, limit)
                        self.outbox.dispatch(resends)
                        claimed += resends
                        more_resends = len(resends) >= limit
                    self._progressed()
                    if more_reminders or expanded or more_resends:
                        continue
                    if not scan:
                        scanned_at = 0.0  # the stream ran dry: look at everything before sleeping
                        continue
                    async with self._sessionmaker() as session:
                        earliest = await earliest_due_time(session)
                    if self._repass:
                        continue
                    if earliest is not None and earliest <= self._clock():
                        if claimed or earliest != stuck_at:
                            stuck_at = earliest
                            continue  # came due during this round, or there may be more
                        # Twice the same past due time and nothing taken: another instance
                        # holds it, or it keeps failing. Look again shortly, don't spin.
                        earliest = self._clock() + BUSY_RETRY
                    # No await between this check and the return: a poke cannot slip between.
                    self._progressed()
                    self._due_since = None
                    self._set_wake(earliest)
                    return
        except TimeoutError:
            if not step.expired():
                raise  # a driver's own timeout: the job's error listener re-arms the wake
            logger.error(
                "scheduler pass abandoned: a database step took over %g s; trying again in %g s",
                self._stall_seconds,
                RETRY_AFTER_FAILURE.total_seconds(),
            )
            if not self._stopping:
                self._set_wake(self._clock() + RETRY_AFTER_FAILURE)
        finally:
            self._pass_running = False

    async def _expand_notification(self, now: datetime, limit: int) -> tuple[bool, list[Send], int]:
        """Write a page of a due notification's sends, up to ``limit`` of them already
        claimed; returns (whether a notification was due, the claimed sends, how many were
        written pending for the outbox to claim).

        Sending a page straight from its expansion saves claiming and marking each row. A
        failure is logged and tried again on a later pass; it doesn't stop reminders and
        retries.
        """
        try:
            async with self._sessionmaker.begin() as session:
                page = await expand_due_notification(session, now=now, page=min(limit, EXPAND_PAGE), claim=limit)
        except Exception:
            logger.exception("could not expand a due notification; trying again later")
            return False, [], 0
        if page is None:
            return False, [], 0
        logger.debug("notification expanded into %d occurrences", page.written)
        sends = [
            Send(
                occurrence_id=occurrence_id,
                attempts=0,
                reference=reference,
                payload=page.activity,
                label=f"notify occurrence {occurrence_id}",
                conversation_pk=conversation_pk,
                kind="notify",
                due_at=page.due_at,
            )
            for occurrence_id, conversation_pk, reference in page.claimed
        ]
        return True, sends, page.pending

    async def _claim_reminders(self, now: datetime, limit: int) -> list[Send]:
        if limit <= 0:
            return []
        claimed = NewOccurrences()
        async with self._sessionmaker.begin() as session:
            for reminder, conversation in await lock_due_reminders(
                session, now=now, limit=limit
            ):
                due_at = reminder.next_run_at
                following = None
                if is_recurring(reminder.schedule):
                    try:
                        following = next_fire_time(
                            reminder.schedule, reminder.timezone, after=now, previous=due_at
                        )
                    except ScheduleError:
                        logger.exception("reminder %s has a broken schedule; stopping it", reminder.id)
                reminder.last_run_at = due_at
                reminder.next_run_at = following
                if following is None:
                    reminder.state = "done"
                claimed.add(
                    session,
                    kind="reminder",
                    reminder_id=reminder.id,
                    conversation=conversation,
                    due_at=due_at,
                    activity=reminder_activity(
                        number=reminder.number,
                        text=reminder.text,
                        recurring=following is not None,
                        due_at=due_at,
                        now=now,
                    ),
                    now=now,
                    label=f"reminder {reminder.id}",
                )
            await session.flush()
            return claimed.sends()
