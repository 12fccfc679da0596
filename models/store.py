"""Data access: small functions with keyword-only arguments, one unit of work each caller.

Callers own the transaction (``async with sessionmaker.begin() as session``); nothing here
commits, so a caller's steps land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, bindparam, false, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.tables import (
    Alert,
    BotState,
    Conversation,
    Notification,
    Occurrence,
    Reminder,
    User,
    utcnow,
)

LIVE_STATES = ("active", "paused")
# The delivery hot path uses the tables directly (Core), without the ORM's per-row work.
_OCCURRENCES = Occurrence.__table__
_CONVERSATIONS = Conversation.__table__
_NOTIFICATIONS = Notification.__table__


def clean_text(value: str | None, limit: int) -> str | None:
    """Channel-supplied text made storable: no NUL (PostgreSQL refuses it), at most ``limit`` chars."""
    if value is None:
        return None
    return value.replace("\x00", "")[:limit]


class ReminderLimitReached(Exception):
    """The user already has the allowed number of live reminders."""


def dialect_insert(session: AsyncSession, table):
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


# Built once: a statement built per call costs a cache-key computation every time.
_TAKE_WRITE_LOCK = update(BotState.__table__).where(false()).values(key=BotState.__table__.c.key)


async def lock_for_write(session: AsyncSession) -> None:
    """On SQLite, take the database's write lock now, before reading rows that will change.

    The SQLite driver begins a transaction only at the first write, so rows read before it
    could be changed by another connection in between (a cancel racing a claim), and the
    later write would undo that change. An UPDATE that matches nothing takes the lock up
    front. On PostgreSQL the callers lock the rows themselves (``FOR UPDATE``).
    """
    if not is_postgres(session):
        await session.execute(_TAKE_WRITE_LOCK)


# --- users and conversation references -------------------------------------------------


async def upsert_user(
    session: AsyncSession,
    *,
    channel_id: str,
    user_id: str,
    name: str | None,
    aad_object_id: str | None,
) -> User:
    """Insert or refresh the user known by (channel id, user id) and return it."""
    now = utcnow()
    values: dict[str, Any] = {"channel_id": channel_id, "user_id": user_id, "updated_at": now}
    refresh: dict[str, Any] = {"updated_at": now}
    if name:
        values["name"] = refresh["name"] = clean_text(name, 256)
    if aad_object_id:
        values["aad_object_id"] = refresh["aad_object_id"] = clean_text(aad_object_id, 64)
    stmt = dialect_insert(session, User).values(created_at=now, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["channel_id", "user_id"], set_=refresh)
    await session.execute(stmt)
    return (
        await session.execute(
            select(User)
            .where(User.channel_id == channel_id, User.user_id == user_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def upsert_conversation(
    session: AsyncSession,
    *,
    user_pk: int,
    channel_id: str,
    conversation_id: str,
    service_url: str,
    reference: dict[str, Any],
) -> Conversation:
    """Store the latest conversation reference of a user's conversation; mark it active."""
    now = utcnow()
    stmt = dialect_insert(session, Conversation).values(
        user_pk=user_pk,
        channel_id=channel_id,
        conversation_id=conversation_id,
        service_url=service_url,
        reference=reference,
        active=True,
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_pk", "conversation_id"],
        set_={"service_url": service_url, "reference": reference, "active": True, "updated_at": now},
    )
    await session.execute(stmt)
    return (
        await session.execute(
            select(Conversation)
            .where(Conversation.user_pk == user_pk, Conversation.conversation_id == conversation_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


def _same_conversation(conversation_pk: int):
    """The ids of every row of the conversation row ``conversation_pk`` belongs to: a group
    chat or channel has one per member who wrote in it (same channel id and conversation id)."""
    this = aliased(Conversation)
    return (
        select(Conversation.id)
        .join(this, (this.conversation_id == Conversation.conversation_id) & (this.channel_id == Conversation.channel_id))
        .where(this.id == conversation_pk)
    )


async def suspend_conversation(session: AsyncSession, *, conversation_pk: int, now: datetime) -> list[int]:
    """The channel said the bot can't reach this conversation (403/404: blocked, removed,
    gone): mark it inactive, suspend its active reminders and alerts, and skip its pending
    messages. In a group that is every member's row: the bot can't reach the group through
    any of them. Returns the suspended alerts' ids (the alert engine must drop them).
    """
    rows = list((await session.execute(_same_conversation(conversation_pk))).scalars())
    if not rows:
        return []
    await session.execute(update(Conversation).where(Conversation.id.in_(rows)).values(active=False, updated_at=now))
    await session.execute(
        update(Reminder)
        .where(Reminder.conversation_pk.in_(rows), Reminder.state == "active")
        .values(state="suspended", updated_at=now)
    )
    alert_ids = await _move_alerts(session, rows, "active", "suspended", now)
    await session.execute(
        update(Occurrence)
        .where(Occurrence.conversation_pk.in_(rows), Occurrence.status == "pending")
        .values(status="skipped", next_attempt_at=None, last_error="conversation is inactive")
    )
    return alert_ids


async def resume_conversation(
    session: AsyncSession, *, conversation_pk: int
) -> tuple[datetime | None, list[int]]:
    """Someone wrote in the conversation again: resume what :func:`suspend_conversation`
    suspended, for every member's row of a group (the bot can reach the group again).

    Returns the earliest due time among the resumed reminders (the scheduler must look then)
    and the resumed alerts' ids (the alert engine must load them). Index lookups that match
    nothing on almost every turn.
    """
    rows = _same_conversation(conversation_pk)
    now = utcnow()
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(rows), Conversation.active.is_(False))
        .values(active=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    due = (
        await session.execute(
            select(func.min(Reminder.next_run_at)).where(
                Reminder.conversation_pk.in_(rows), Reminder.state == "suspended"
            )
        )
    ).scalar_one()
    resumed = await session.execute(
        update(Reminder)
        .where(Reminder.conversation_pk.in_(rows), Reminder.state == "suspended")
        .values(state="active", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    alert_ids = await _move_alerts(session, rows, "suspended", "active", now)
    return (due if resumed.rowcount else None), alert_ids


async def _move_alerts(session: AsyncSession, rows, from_state: str, to_state: str, now: datetime) -> list[int]:
    """Move the alerts of conversation rows ``rows`` (ids, or a subquery of them) from one
    state to another; return their ids."""
    alert_ids = list(
        (
            await session.execute(select(Alert.id).where(Alert.conversation_pk.in_(rows), Alert.state == from_state))
        ).scalars()
    )
    if alert_ids:
        await session.execute(update(Alert).where(Alert.id.in_(alert_ids)).values(state=to_state, updated_at=now))
    return alert_ids


async def set_user_timezone(
    session: AsyncSession, *, user_pk: int, timezone: str, source: str
) -> None:
    """Record a user's IANA time zone and where it came from."""
    await session.execute(
        update(User)
        .where(User.id == user_pk)
        .values(timezone=timezone, timezone_source=source, updated_at=utcnow())
    )


async def get_user(session: AsyncSession, *, user_pk: int) -> User | None:
    return await session.get(User, user_pk, populate_existing=True)


# --- reminders -------------------------------------------------------------------------


async def lock_user(session: AsyncSession, *, user_pk: int) -> None:
    """Serialise one user's creations, so per-user limits and short numbers hold under races.

    PostgreSQL locks the user's row; SQLite serialises writers anyway.
    """
    if is_postgres(session):
        await session.execute(select(User.id).where(User.id == user_pk).with_for_update())


async def next_number(session: AsyncSession, *, table, user_pk: int) -> int:
    """The next short per-user number ("#3") in ``table`` (reminders or alerts)."""
    highest = await session.execute(
        select(func.coalesce(func.max(table.number), 0)).where(table.user_pk == user_pk)
    )
    return highest.scalar_one() + 1


async def count_live_reminders(session: AsyncSession, *, user_pk: int) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.user_pk == user_pk, Reminder.state.in_(LIVE_STATES))
        )
    ).scalar_one()


async def create_reminder(
    session: AsyncSession,
    *,
    user_pk: int,
    conversation_pk: int,
    text: str,
    schedule: dict[str, Any],
    description: str,
    timezone: str,
    next_run_at: datetime,
    max_live: int,
) -> Reminder:
    """Add a reminder with the user's next short number.

    Raises:
        ReminderLimitReached: the user has ``max_live`` active or paused reminders already.
    """
    await lock_user(session, user_pk=user_pk)
    if await count_live_reminders(session, user_pk=user_pk) >= max_live:
        raise ReminderLimitReached(max_live)
    number = await next_number(session, table=Reminder, user_pk=user_pk)
    reminder = Reminder(
        number=number,
        user_pk=user_pk,
        conversation_pk=conversation_pk,
        text=text,
        schedule=schedule,
        description=description,
        timezone=timezone,
        state="active",
        next_run_at=next_run_at,
    )
    session.add(reminder)
    await session.flush()
    return reminder


async def list_reminders(session: AsyncSession, *, user_pk: int) -> list[Reminder]:
    """The user's active and paused reminders, soonest first."""
    rows = await session.execute(
        select(Reminder)
        .where(Reminder.user_pk == user_pk, Reminder.state.in_(LIVE_STATES))
        .order_by(Reminder.next_run_at.is_(None), Reminder.next_run_at, Reminder.number)
    )
    return list(rows.scalars())


async def get_reminder(session: AsyncSession, *, user_pk: int, number: int) -> Reminder | None:
    """The user's reminder with short number ``number`` (any state), locked on PostgreSQL."""
    stmt = select(Reminder).where(Reminder.user_pk == user_pk, Reminder.number == number)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def cancel_all_reminders(session: AsyncSession, *, user_pk: int) -> int:
    """Cancel every live reminder of a user; return how many."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.user_pk == user_pk, Reminder.state.in_(LIVE_STATES))
        .values(state="cancelled", next_run_at=None, updated_at=utcnow())
    )
    return result.rowcount or 0


async def acknowledge_latest_occurrence(
    session: AsyncSession, *, reminder_id: int, now: datetime
) -> bool:
    """Mark the latest delivered occurrence of a reminder as acknowledged ("Done")."""
    occurrence = (
        await session.execute(
            select(Occurrence)
            .where(Occurrence.reminder_id == reminder_id)
            .order_by(Occurrence.due_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if occurrence is None:
        return False
    occurrence.acknowledged_at = now
    return True


async def latest_delivered_reminder(session: AsyncSession, *, user_pk: int) -> Reminder | None:
    """The user's reminder (not cancelled) whose occurrence was sent most recently."""
    return (
        await session.execute(
            select(Reminder)
            .join(Occurrence, Occurrence.reminder_id == Reminder.id)
            .where(Reminder.user_pk == user_pk, Reminder.state != "cancelled", Occurrence.status == "sent")
            .order_by(Occurrence.due_at.desc(), Occurrence.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


# --- the scheduler's queries -----------------------------------------------------------


async def earliest_due_time(session: AsyncSession) -> datetime | None:
    """When the scheduler must next look: the earliest active reminder, pending send, or
    stored notification.

    Three index lookups (``ix_reminders_due``, ``ix_occurrences_status``,
    ``ix_notifications_due``), however many rows.
    """
    reminder = (
        await session.execute(
            select(func.min(Reminder.next_run_at)).where(
                Reminder.state == "active", Reminder.next_run_at.is_not(None)
            )
        )
    ).scalar_one()
    retry = (
        await session.execute(
            select(func.min(Occurrence.next_attempt_at)).where(Occurrence.status == "pending")
        )
    ).scalar_one()
    notification = (
        await session.execute(
            select(func.min(Notification.deliver_at)).where(Notification.status == "scheduled")
        )
    ).scalar_one()
    candidates = [moment for moment in (reminder, retry, notification) if moment is not None]
    return min(candidates) if candidates else None


async def lock_due_reminders(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[tuple[Reminder, Conversation]]:
    """Lock up to ``limit`` due active reminders with their conversations.

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` so concurrent claimers
    never take the same reminder; SQLite serialises writers anyway.
    """
    stmt = (
        select(Reminder, Conversation)
        .join(Conversation, Conversation.id == Reminder.conversation_pk)
        .where(
            Reminder.state == "active",
            Reminder.next_run_at.is_not(None),
            Reminder.next_run_at <= now,
        )
        .order_by(Reminder.next_run_at)
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Reminder)
    else:
        await lock_for_write(session)
    rows = await session.execute(stmt.execution_options(populate_existing=True))
    return [(reminder, conversation) for reminder, conversation in rows.tuples()]


@dataclass(frozen=True)
class Claimable:
    """An occurrence locked for a (new) send attempt: plain values, no ORM object per row."""

    id: int
    kind: str
    status: str
    attempts: int
    http_status: int | None
    due_at: datetime
    conversation_pk: int
    reference: dict[str, Any]
    active: bool
    payload: dict[str, Any]


async def lock_occurrences_to_send(
    session: AsyncSession,
    *,
    now: datetime,
    abandoned_before: datetime,
    exclude: set[int],
    limit: int,
) -> list[Claimable]:
    """Lock occurrences that need a (new) send attempt, with their conversation's reference
    and the activity to send.

    Those are sends abandoned by a process that died mid-delivery (``sending`` and claimed
    before ``abandoned_before``) first, then pending ones (retries, a notification's sends)
    whose ``next_attempt_at`` has come, oldest first, read along ``ix_occurrences_status``
    so the cost doesn't grow with the table. Ids in ``exclude`` are in flight in this
    process and are left alone. A notification's occurrences share its activity, read once.
    Callers change the rows with :func:`mark_claimed`.
    """
    if limit <= 0:
        return []
    await lock_for_write(session)
    # Table columns, not ORM attributes: a Core statement skips the ORM's per-row work.
    occ, conv = _OCCURRENCES.c, _CONVERSATIONS.c
    columns = (
        occ.id, occ.kind, occ.status, occ.attempts, occ.http_status, occ.due_at, occ.conversation_pk,
        occ.notification_id, occ.payload, conv.reference, conv.active,
    )
    rows: list = []
    for condition, order in (
        ((occ.status == "sending", occ.claimed_at < abandoned_before), occ.claimed_at),
        ((occ.status == "pending", occ.next_attempt_at <= now), occ.next_attempt_at),
    ):
        stmt = (
            select(*columns)
            .join(_CONVERSATIONS, conv.id == occ.conversation_pk)
            .where(*condition)
            .order_by(order, occ.id)
            .limit(limit - len(rows))
        )
        if exclude:
            stmt = stmt.where(occ.id.not_in(exclude))
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True, of=_OCCURRENCES)
        rows += (await session.execute(stmt)).all()
        if len(rows) >= limit:
            break
    shared_ids = {row.notification_id for row in rows if row.payload is None and row.notification_id}
    shared: dict[str, dict[str, Any]] = {}
    if shared_ids:
        notes = _NOTIFICATIONS.c
        found = await session.execute(select(notes.id, notes.activity).where(notes.id.in_(shared_ids)))
        shared = dict(list(found.tuples()))
    return [
        Claimable(
            id=row.id, kind=row.kind, status=row.status, attempts=row.attempts, http_status=row.http_status,
            due_at=row.due_at, conversation_pk=row.conversation_pk, reference=row.reference,
            active=row.active, payload=row.payload or shared[row.notification_id],
        )
        for row in rows
    ]


async def mark_claimed(
    session: AsyncSession,
    *,
    now: datetime,
    sending: list[int],
    abandoned: list[int],
    skipped: list[int],
    failed: list[int],
) -> None:
    """Apply a claim's decisions, a statement per kind rather than per row."""
    occ = _OCCURRENCES.c
    if abandoned:  # it may have gone out: counted, so a send that kills the process stops
        await session.execute(
            update(_OCCURRENCES).where(occ.id.in_(abandoned)).values(attempts=occ.attempts + 1)
        )
    if sending:
        await session.execute(
            update(_OCCURRENCES)
            .where(occ.id.in_(sending))
            .values(status="sending", claimed_at=now, next_attempt_at=None)
        )
    if skipped:
        await session.execute(
            update(_OCCURRENCES)
            .where(occ.id.in_(skipped))
            .values(status="skipped", next_attempt_at=None, last_error="conversation is inactive")
        )
    if failed:
        await session.execute(
            update(_OCCURRENCES)
            .where(occ.id.in_(failed))
            .values(status="failed", next_attempt_at=None, last_error=func.coalesce(occ.last_error, "gave up"))
        )


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt ended: ``sent``, ``failed``, or ``pending`` a retry."""

    occurrence_id: int
    status: str
    now: datetime
    attempts: int
    next_attempt_at: datetime | None
    http_status: int | None
    error: str | None


_RECORD = (
    update(_OCCURRENCES)
    .where(_OCCURRENCES.c.id == bindparam("b_id"), _OCCURRENCES.c.status == "sending")
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        http_status=bindparam("b_http_status"),
        last_error=bindparam("b_last_error"),
        sent_at=bindparam("b_sent_at"),
    )
)


# On PostgreSQL the batch goes as one array per column and one set-based UPDATE: no
# parameter set per row for SQLAlchemy to process, and in a fan-out the database work runs
# on the event loop's thread.
_RECORD_PG = text(
    """
    UPDATE occurrences AS o SET
        status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
        http_status = v.http_status, last_error = v.last_error, sent_at = v.sent_at
    FROM unnest(
        CAST(:ids AS bigint[]), CAST(:statuses AS varchar[]), CAST(:attempts AS integer[]),
        CAST(:next_attempt_at AS timestamptz[]), CAST(:http_status AS integer[]),
        CAST(:last_error AS text[]), CAST(:sent_at AS timestamptz[])
    ) AS v(id, status, attempts, next_attempt_at, http_status, last_error, sent_at)
    WHERE o.id = v.id AND o.status = 'sending'
    """
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("statuses", type_=ARRAY(String)),
    bindparam("attempts", type_=ARRAY(Integer)),
    bindparam("next_attempt_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("http_status", type_=ARRAY(Integer)),
    bindparam("last_error", type_=ARRAY(Text)),
    bindparam("sent_at", type_=ARRAY(DateTime(timezone=True))),
)


async def record_outcomes(session: AsyncSession, *, outcomes: list[Outcome]) -> None:
    """Record several attempts' outcomes in one statement (executemany on SQLite, arrays
    on PostgreSQL).

    Only rows still ``sending`` change: a row another process took over after its lease
    keeps the newer claim's state.
    """
    if not outcomes:
        return
    errors = [outcome.error[:2000] if outcome.error else None for outcome in outcomes]
    sent_at = [outcome.now if outcome.status == "sent" else None for outcome in outcomes]
    if is_postgres(session):
        await session.execute(
            _RECORD_PG,
            {
                "ids": [outcome.occurrence_id for outcome in outcomes],
                "statuses": [outcome.status for outcome in outcomes],
                "attempts": [outcome.attempts for outcome in outcomes],
                "next_attempt_at": [outcome.next_attempt_at for outcome in outcomes],
                "http_status": [outcome.http_status for outcome in outcomes],
                "last_error": errors,
                "sent_at": sent_at,
            },
        )
        return
    await session.execute(
        _RECORD,
        [
            {
                "b_id": outcome.occurrence_id,
                "b_status": outcome.status,
                "b_attempts": outcome.attempts,
                "b_next_attempt_at": outcome.next_attempt_at,
                "b_http_status": outcome.http_status,
                "b_last_error": error,
                "b_sent_at": sent,
            }
            for outcome, error, sent in zip(outcomes, errors, sent_at)
        ],
    )


async def requeue(
    session: AsyncSession, *, occurrence_ids: list[int], now: datetime, error: str | None = None
) -> None:
    """Put claimed occurrences that were never sent back to ``pending``, due ``now`` (with
    ``error`` as their last error when given: why they wait)."""
    values: dict[str, Any] = {"status": "pending", "next_attempt_at": now}
    if error is not None:
        values["last_error"] = error
    await session.execute(
        update(Occurrence)
        .where(Occurrence.id.in_(occurrence_ids), Occurrence.status == "sending")
        .values(**values)
    )


async def release_held(session: AsyncSession, *, occurrence_ids: list[int], now: datetime) -> None:
    """Make pending occurrences due ``now`` (they were held for a channel that refused
    everyone, and it accepts sends again); they are claimed in their order."""
    for start in range(0, len(occurrence_ids), 1000):
        await session.execute(
            update(Occurrence)
            .where(
                Occurrence.id.in_(occurrence_ids[start : start + 1000]),
                Occurrence.status == "pending",
                Occurrence.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )
