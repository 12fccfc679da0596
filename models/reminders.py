"""Reminder operations used by the dialogs: each is one unit of work.

The scheduler is told about new due times through ``on_due`` (its ``poke``), so this
module needs no import of the scheduler: dialogs depend on it, it depends on the tables.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker

from models.schedule import first_fire_time, is_recurring, next_fire_time
from models.store import (
    latest_delivered_reminder,
    ReminderLimitReached,
    acknowledge_latest_occurrence,
    cancel_all_reminders,
    count_live_reminders,
    create_reminder,
    get_reminder,
    list_reminders,
)
from models.tables import Reminder

MAX_TEXT_LENGTH = 500
MAX_SNOOZE = timedelta(days=7)

__all__ = ["MAX_TEXT_LENGTH", "ReminderError", "ReminderLimitReached", "ReminderView", "Reminders", "Snoozed"]


class ReminderError(ValueError):
    """A request about reminders that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class ReminderView:
    """What the chat shows of a reminder, detached from any session."""

    number: int
    text: str
    description: str
    timezone: str
    state: str
    next_run_at: datetime | None
    recurring: bool
    schedule: dict[str, Any] | None = None
    last_run_at: datetime | None = None

    @classmethod
    def of(cls, reminder: Reminder) -> ReminderView:
        return cls(
            number=reminder.number,
            text=reminder.text,
            description=reminder.description,
            timezone=reminder.timezone,
            state=reminder.state,
            next_run_at=reminder.next_run_at,
            recurring=is_recurring(reminder.schedule),
            schedule=dict(reminder.schedule),
            last_run_at=reminder.last_run_at,
        )

    def snapshot(self) -> dict[str, Any]:
        """What ``Reminders.restore`` needs to put this reminder back as it is (plain JSON)."""
        return {
            "number": self.number,
            "text": self.text,
            "description": self.description,
            "timezone": self.timezone,
            "state": self.state,
            "schedule": self.schedule,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
        }


@dataclass(frozen=True)
class Snoozed:
    """The outcome of a snooze: the reminder, and whether its time stayed where it was
    because it was due later than the snooze anyway."""

    view: ReminderView
    kept: bool


def _reanchored(spec: dict[str, Any], old_zone: ZoneInfo, new_zone: ZoneInfo) -> dict[str, Any]:
    """An interval spec whose start keeps its wall-clock time, moved from ``old_zone`` to
    ``new_zone``; other kinds are read in the reminder's zone and need no change."""
    if spec.get("type") == "interval" and spec.get("start"):
        start = datetime.fromisoformat(spec["start"]).astimezone(old_zone)
        spec["start"] = start.replace(tzinfo=new_zone).astimezone(UTC).isoformat()
    return spec


def validate_text(text: str) -> str:
    """Clean reminder text, or raise ReminderError saying what is wrong with it."""
    # Control characters are junk in a chat message, and PostgreSQL refuses NUL in text.
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ReminderError("A reminder needs some text: what should I remind you about?")
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise ReminderError(
            f"That reminder is {len(cleaned)} characters long; the limit is {MAX_TEXT_LENGTH}. "
            "Please shorten it."
        )
    return cleaned


class Reminders:
    """Create, list and change a user's reminders.

    Args:
        sessionmaker: opens one session per operation.
        on_due: called with a reminder's due time after it is created or rescheduled.
        clock: the current aware UTC time.
        max_live: the most active or paused reminders one user may have.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        on_due: Callable[[datetime], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_live: int = 100,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._on_due = on_due
        self._clock = clock
        self.max_live = max_live

    def now(self) -> datetime:
        return self._clock()

    def wake(self, due_at: datetime) -> None:
        """Tell the scheduler something is due at ``due_at`` (reminders resumed elsewhere)."""
        self._on_due(due_at)

    async def create(
        self,
        *,
        user_pk: int,
        conversation_pk: int,
        text: str,
        schedule: dict[str, Any],
        description: str,
        timezone: str,
    ) -> ReminderView:
        """Store a new reminder and wake the scheduler for it.

        Raises:
            ReminderError: the text is empty or too long, or the time is already past.
            ReminderLimitReached: the user is at the limit of live reminders.
        """
        text = validate_text(text)
        now = self._clock()
        first = first_fire_time(schedule, timezone, now=now)
        if first is None or first <= now:
            raise ReminderError("That time is in the past. Please pick a time in the future.")
        async with self._sessionmaker.begin() as session:
            reminder = await create_reminder(
                session,
                user_pk=user_pk,
                conversation_pk=conversation_pk,
                text=text,
                schedule=schedule,
                description=description[:256],
                timezone=timezone,
                next_run_at=first,
                max_live=self.max_live,
            )
            view = ReminderView.of(reminder)
        self._on_due(first)
        return view

    async def list(self, *, user_pk: int) -> list[ReminderView]:
        async with self._sessionmaker() as session:
            return [ReminderView.of(r) for r in await list_reminders(session, user_pk=user_pk)]

    async def _change(
        self, *, user_pk: int, number: int, change: Callable[[Reminder, datetime], None]
    ) -> ReminderView:
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            reminder = await get_reminder(session, user_pk=user_pk, number=number)
            if reminder is None or reminder.state == "cancelled":
                raise ReminderError(
                    f"You have no reminder #{number}. Say \"my reminders\" to see them."
                )
            change(reminder, now)
            view = ReminderView.of(reminder)
        if view.state == "active" and view.next_run_at is not None:
            self._on_due(view.next_run_at)
        return view

    async def cancel(self, *, user_pk: int, number: int) -> ReminderView:
        def cancel(reminder: Reminder, _now: datetime) -> None:
            if reminder.state == "done":
                raise ReminderError(f"Reminder #{number} has already fired; nothing to cancel.")
            reminder.state = "cancelled"
            reminder.next_run_at = None

        return await self._change(user_pk=user_pk, number=number, change=cancel)

    async def cancel_all(self, *, user_pk: int) -> int:
        async with self._sessionmaker.begin() as session:
            return await cancel_all_reminders(session, user_pk=user_pk)

    async def pause(self, *, user_pk: int, number: int) -> ReminderView:
        def pause(reminder: Reminder, _now: datetime) -> None:
            if reminder.state != "active":
                raise ReminderError(f"Reminder #{number} is {reminder.state}, so it can't be paused.")
            reminder.state = "paused"

        return await self._change(user_pk=user_pk, number=number, change=pause)

    async def resume(self, *, user_pk: int, number: int) -> ReminderView:
        def resume(reminder: Reminder, now: datetime) -> None:
            if reminder.state != "paused":
                raise ReminderError(f"Reminder #{number} is {reminder.state}, not paused.")
            reminder.state = "active"
            if reminder.next_run_at is not None and reminder.next_run_at <= now and is_recurring(
                reminder.schedule
            ):
                # Occurrences that fell in the pause are skipped, not sent in a burst.
                reminder.next_run_at = next_fire_time(
                    reminder.schedule, reminder.timezone, after=now
                )
            # A one-off whose time passed during the pause fires now, marked late.

        return await self._change(user_pk=user_pk, number=number, change=resume)

    async def snooze(self, *, user_pk: int, number: int, minutes: int) -> Snoozed:
        """Bring the reminder back in ``minutes``, never earlier than it is due anyway.

        A reminder that has not gone off yet moves to the later of its next run and now +
        ``minutes``: a snooze can't make it fire sooner (``Snoozed.kept`` says it stayed). A
        one-off that went off comes back at now + ``minutes``. A recurring reminder that went
        off brings that delivery back at now + ``minutes`` unless its next regular occurrence
        comes first (then it stays, ``kept``); its schedule carries on afterwards.
        """
        # Compared as integers: a card's payload can carry a number too big for a timedelta.
        if not 1 <= minutes <= MAX_SNOOZE // timedelta(minutes=1):
            raise ReminderError("You can snooze for between 1 minute and 7 days.")
        kept = False

        def snooze(reminder: Reminder, now: datetime) -> None:
            nonlocal kept
            if reminder.state in ("cancelled", "paused"):
                raise ReminderError(f"Reminder #{number} is {reminder.state}, so it can't be snoozed.")
            at = now + timedelta(minutes=minutes)
            due = reminder.next_run_at if reminder.state == "active" else None
            reminder.state = "active"
            if due is not None and is_recurring(reminder.schedule) and reminder.last_run_at is not None:
                # The occurrence just delivered comes back at ``at``, unless the next regular
                # one comes first anyway; the schedule carries on after it either way.
                if at < due:
                    reminder.next_run_at = at
                else:
                    kept = True
                return
            if due is not None and due >= at:
                kept = True  # not due yet, and due later than the snooze: never earlier
                return
            reminder.next_run_at = at

        view = await self._change(user_pk=user_pk, number=number, change=snooze)
        return Snoozed(view, kept)

    async def last_delivered(self, *, user_pk: int) -> ReminderView | None:
        """The user's reminder delivered most recently (what a bare "snooze" means), if any."""
        async with self._sessionmaker() as session:
            reminder = await latest_delivered_reminder(session, user_pk=user_pk)
            return ReminderView.of(reminder) if reminder is not None else None

    async def last_created(self, *, user_pk: int) -> ReminderView | None:
        """The user's live reminder with the highest number ("the last one")."""
        views = await self.list(user_pk=user_pk)
        return max(views, key=lambda view: view.number) if views else None

    async def find(self, *, user_pk: int, words: str) -> list[ReminderView]:
        """The user's live reminders whose text contains every word of ``words`` (any case)."""
        wanted = [w for w in words.casefold().split() if w]
        if not wanted:
            return []
        return [
            view for view in await self.list(user_pk=user_pk)
            if all(w in view.text.casefold() for w in wanted)
        ]

    async def reschedule(
        self, *, user_pk: int, number: int, schedule: dict[str, Any], description: str, timezone: str
    ) -> ReminderView:
        """Give a live reminder a new schedule (and the zone it is meant in).

        Raises:
            ReminderError: no such reminder, or its new first time is already past.
        """
        now = self._clock()
        first = first_fire_time(schedule, timezone, now=now)
        if first is None or first <= now:
            raise ReminderError("That time is in the past. Please pick a time in the future.")

        def change(reminder: Reminder, _now: datetime) -> None:
            if reminder.state not in ("active", "paused", "done"):
                raise ReminderError(f"Reminder #{number} is {reminder.state}, so it can't be changed.")
            reminder.schedule = schedule
            reminder.description = description[:256]
            reminder.timezone = timezone
            reminder.next_run_at = first
            if reminder.state == "done":
                reminder.state = "active"

        return await self._change(user_pk=user_pk, number=number, change=change)

    async def rename(self, *, user_pk: int, number: int, text: str) -> ReminderView:
        """Give a live reminder new text."""
        text = validate_text(text)

        def change(reminder: Reminder, _now: datetime) -> None:
            if reminder.state not in ("active", "paused"):
                raise ReminderError(f"Reminder #{number} is {reminder.state}, so it can't be changed.")
            reminder.text = text

        return await self._change(user_pk=user_pk, number=number, change=change)

    async def restore(self, *, user_pk: int, snapshot: dict[str, Any]) -> ReminderView:
        """Put a reminder back as ``ReminderView.snapshot`` recorded it (what "undo" does).

        A one-off whose time passed meanwhile comes back due now rather than never.
        """
        number = int(snapshot["number"])
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            reminder = await get_reminder(session, user_pk=user_pk, number=number)
            if reminder is None:
                raise ReminderError(f"You have no reminder #{number}.")
            reminder.text = snapshot["text"]
            reminder.description = snapshot["description"]
            reminder.timezone = snapshot["timezone"]
            reminder.schedule = snapshot["schedule"]
            reminder.state = snapshot["state"]
            due = datetime.fromisoformat(snapshot["next_run_at"]) if snapshot["next_run_at"] else None
            if due is not None and due <= now and is_recurring(reminder.schedule):
                due = next_fire_time(reminder.schedule, reminder.timezone, after=now)
            elif due is not None and due <= now:
                due = now
            reminder.next_run_at = due
            view = ReminderView.of(reminder)
        if view.state == "active" and view.next_run_at is not None:
            self._on_due(view.next_run_at)
        return view

    async def reanchor(self, *, user_pk: int, timezone: str) -> int:
        """Move the user's live recurring reminders to ``timezone``, keeping their wall clock.

        "every day at 21:00" stays at 21:00 in the new zone: calendar (cron) rules are
        evaluated in the reminder's zone, so only the zone changes and the next run is
        recomputed; an interval's start keeps its local wall-clock time. Returns how many
        reminders were re-anchored.
        """
        now = self._clock()
        zone = ZoneInfo(timezone)
        count = 0
        earliest: datetime | None = None
        async with self._sessionmaker.begin() as session:
            for reminder in await list_reminders(session, user_pk=user_pk):
                if not is_recurring(reminder.schedule) or reminder.timezone == timezone:
                    continue
                if reminder.schedule.get("tz"):
                    continue  # its times are meant in a zone the user named ("9am London time")
                old_zone = ZoneInfo(reminder.timezone)
                spec = _reanchored(dict(reminder.schedule), old_zone, zone)
                if spec.get("type") == "multi":
                    spec["parts"] = [_reanchored(dict(part), old_zone, zone) for part in spec["parts"]]
                reminder.schedule = spec
                reminder.timezone = timezone
                if reminder.state == "active":
                    reminder.next_run_at = next_fire_time(spec, timezone, after=now)
                    if reminder.next_run_at is not None and (earliest is None or reminder.next_run_at < earliest):
                        earliest = reminder.next_run_at
                count += 1
        if earliest is not None:
            self._on_due(earliest)
        return count

    async def done(self, *, user_pk: int, number: int) -> ReminderView:
        """Acknowledge the latest delivery of a reminder, and drop a snooze of it.

        A snoozed one-off is over (it would otherwise come back at the snooze time); a
        snoozed recurring reminder goes back to its schedule's next occurrence.
        """
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            reminder = await get_reminder(session, user_pk=user_pk, number=number)
            if reminder is None or reminder.state == "cancelled":
                raise ReminderError(f"You have no reminder #{number}.")
            if not await acknowledge_latest_occurrence(session, reminder_id=reminder.id, now=now):
                raise ReminderError(f"Reminder #{number} hasn't gone off yet, so there is nothing to mark done.")
            if reminder.state == "active" and not is_recurring(reminder.schedule):
                reminder.state = "done"
                reminder.next_run_at = None
            elif reminder.state == "active" and reminder.next_run_at is not None:
                regular = next_fire_time(
                    reminder.schedule, reminder.timezone, after=now, previous=reminder.last_run_at
                )
                if regular is not None and reminder.next_run_at < regular:
                    reminder.next_run_at = regular
            return ReminderView.of(reminder)

    async def at_limit(self, *, user_pk: int) -> bool:
        """True when the user can't add another reminder (checked before asking questions)."""
        async with self._sessionmaker() as session:
            return await count_live_reminders(session, user_pk=user_pk) >= self.max_live
