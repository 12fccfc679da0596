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

from sqlalchemy.ext.asyncio import async_sessionmaker

from models.schedule import first_fire_time, is_recurring, next_fire_time
from models.store import (
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

__all__ = ["MAX_TEXT_LENGTH", "ReminderError", "ReminderLimitReached", "ReminderView", "Reminders"]


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
        )


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

    async def snooze(self, *, user_pk: int, number: int, minutes: int) -> ReminderView:
        """Bring the reminder back in ``minutes``; a recurring one keeps its later occurrences."""
        # Compared as integers: a card's payload can carry a number too big for a timedelta.
        if not 1 <= minutes <= MAX_SNOOZE // timedelta(minutes=1):
            raise ReminderError("You can snooze for between 1 minute and 7 days.")

        def snooze(reminder: Reminder, now: datetime) -> None:
            if reminder.state in ("cancelled", "paused"):
                raise ReminderError(f"Reminder #{number} is {reminder.state}, so it can't be snoozed.")
            at = now + timedelta(minutes=minutes)
            reminder.state = "active"
            # A one-off moves to the snooze time; a recurring one keeps an earlier occurrence.
            if not is_recurring(reminder.schedule) or reminder.next_run_at is None or at < reminder.next_run_at:
                reminder.next_run_at = at

        return await self._change(user_pk=user_pk, number=number, change=snooze)

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
