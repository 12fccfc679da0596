"""Notifications from external systems: accept, expand into per-conversation sends, report.

A request is stored as one ``notifications`` row and answered at once (202). The scheduler
expands it when it is due, in bounded pages, into one outbox occurrence per target
conversation, which is also the per-target delivery record ``GET /api/notify/{id}`` reports.
A page is written already claimed for the scheduler to send at once, as far as its outbox
has room; the rest is ``pending`` for the outbox to claim (with the same concurrency,
retries and leases) as slots free up.

The scheduler is told about new due times through ``on_due`` (its ``poke``); this module
imports nothing from the scheduler.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.notify_request import NotifyRequest, Targets, parse_notify_request, replay_identity
from models.store import _CONVERSATIONS, _OCCURRENCES, dialect_insert, is_postgres, lock_for_write
from models.base import UTCDateTime
from models.tables import Conversation, Notification, Occurrence, User

IDEMPOTENCY_WINDOW = timedelta(hours=24)
EXPAND_PAGE = 500
# Rows per INSERT: 10 parameters each stays far below the drivers' 32,767 parameter limit.
INSERT_CHUNK = 1000
MAX_STATUS_PAGE = 1000
# Occurrence statuses that are final; the rest (pending, sending) are still on their way.
FINAL = ("sent", "failed", "skipped", "cancelled")


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used, within the window, for a different request."""


class NotificationNotFound(Exception):
    """No notification has that id."""


class AlreadyDelivered(Exception):
    """A cancel came after every message of the notification had gone out (or failed)."""


@dataclass(frozen=True)
class Accepted:
    """The answer to an accepted request; ``replayed`` when it repeats an earlier one's."""

    body: dict[str, Any]
    replayed: bool = False


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_notification_id() -> str:
    return uuid.uuid4().hex


def is_notification_id(value: str) -> bool:
    return len(value) == 32 and all(ch in "0123456789abcdef" for ch in value)


def _describe_user(channel: str, user_id: str) -> dict[str, str]:
    return {"user": {"channelId": channel, "id": user_id}}


def _describe_conversation(channel: str | None, conversation_id: str) -> dict[str, Any]:
    conversation: dict[str, str] = {"id": conversation_id}
    if channel is not None:
        conversation["channelId"] = channel
    return {"conversation": conversation}


# On SQLite listed targets are looked up this many at a time (an IN list each).
LOOKUP_CHUNK = 500


async def _rows_matching(session: AsyncSession, query: Select, column, values: list[str]) -> list[tuple]:
    """The rows of ``query`` whose ``column`` is one of ``values`` (any number of them).

    PostgreSQL joins the values as one array (``unnest``): a long IN list of row values
    exceeds its parser stack ("stack depth limit exceeded"), and a long IN list or
    ``= ANY`` in a prepared statement's generic plan is a linear search of the list for
    every row the index range yields (seconds for 10,000 targets on a table without
    statistics). SQLite takes IN lists of ``LOOKUP_CHUNK`` values, each an index probe.
    """
    if is_postgres(session):
        wanted = func.unnest(bindparam("wanted", type_=ARRAY(String))).table_valued("value").render_derived("wanted")
        result = await session.execute(query.join(wanted, column == wanted.c.value), {"wanted": values})
        return list(result.tuples())
    rows: list[tuple] = []
    for start in range(0, len(values), LOOKUP_CHUNK):
        rows += (await session.execute(query.where(column.in_(values[start : start + LOOKUP_CHUNK])))).tuples()
    return rows


@dataclass(frozen=True)
class Resolved:
    """One conversation listed targets reach, sent to once.

    Attributes:
        conversation_pk: the member's row the send goes through.
        active: whether the conversation can be reached (any member's row is active).
        matched: the listed targets that name this conversation: the users, then the
            conversations, each in the order listed.
    """

    conversation_pk: int
    active: bool
    matched: list[dict[str, Any]]


async def _resolve(session: AsyncSession, targets: Targets) -> tuple[list[Resolved], list[dict[str, Any]]]:
    """The conversations listed targets reach, once each, and the targets that reach none.

    A conversation is a (channel id, conversation id): a group chat has a row per member
    who wrote in it, and it gets one send whichever and however many of its members or its
    id are listed. The send goes through the row of the first listed user in it that is
    active, else through the most recently refreshed active row (its reference is the
    newest), else (nobody's row is active: ``skipped``) through the most recent one.
    """
    conversation = tuple[str, str]  # (channel id, conversation id)
    matched: dict[conversation, list[dict[str, Any]]] = {}
    preferred: dict[conversation, list[int]] = {}  # listed users' rows, in request order
    unknown: list[dict[str, Any]] = []
    if targets.users:
        by_user: dict[tuple[str, str], list[tuple[conversation, int]]] = {}
        # Per channel, a plain IN on the user id: the (channel id, user id) index serves it,
        # where a row-value IN is a scan of every user on PostgreSQL.
        ids_by_channel: dict[str, list[str]] = {}
        for user_channel, user_id in targets.users:
            ids_by_channel.setdefault(user_channel, []).append(user_id)
        for user_channel, user_ids in sorted(ids_by_channel.items()):
            query = (
                select(User.user_id, Conversation.channel_id, Conversation.conversation_id, Conversation.id)
                .join(Conversation, Conversation.user_pk == User.id)
                .where(User.channel_id == user_channel)
            )
            for user_id, channel, conversation_id, conversation_pk in await _rows_matching(
                session, query, User.user_id, user_ids
            ):
                by_user.setdefault((user_channel, user_id), []).append(((channel, conversation_id), conversation_pk))
        for user in targets.users:
            found = by_user.get(user)
            if not found:
                unknown.append(_describe_user(*user))
                continue
            for key, conversation_pk in found:
                matched.setdefault(key, []).append(_describe_user(*user))
                preferred.setdefault(key, []).append(conversation_pk)
    members: dict[conversation, list[tuple[int, bool, datetime]]] = {}
    ids = sorted({conversation_id for _, conversation_id in matched} | {cid for _, cid in targets.conversations})
    query = select(
        Conversation.channel_id, Conversation.conversation_id, Conversation.id, Conversation.active,
        Conversation.updated_at,
    )
    for channel, conversation_id, conversation_pk, active, updated_at in (
        await _rows_matching(session, query, Conversation.conversation_id, ids) if ids else []
    ):
        members.setdefault((channel, conversation_id), []).append((conversation_pk, active, updated_at))
    if targets.conversations:
        channels_of: dict[str, list[str]] = {}
        for channel, conversation_id in members:
            channels_of.setdefault(conversation_id, []).append(channel)
        for channel, conversation_id in targets.conversations:
            keys = [
                (row_channel, conversation_id)
                for row_channel in sorted(channels_of.get(conversation_id, []))
                if channel is None or row_channel == channel
            ]
            if not keys:
                unknown.append(_describe_conversation(channel, conversation_id))
            for key in keys:
                matched.setdefault(key, []).append(_describe_conversation(channel, conversation_id))
    resolved: list[Resolved] = []
    for key, named_by in matched.items():
        rows = members.get(key)
        if not rows:
            continue  # its rows went away between the two reads (a user deleted meanwhile)
        active_pks = {pk for pk, active, _ in rows if active}
        chosen = next((pk for pk in preferred.get(key, []) if pk in active_pks), None)
        if chosen is None:
            candidates = [row for row in rows if row[1]] or rows
            chosen = max(candidates, key=lambda row: (row[2], row[0]))[0]
        resolved.append(Resolved(conversation_pk=chosen, active=bool(active_pks), matched=named_by))
    resolved.sort(key=lambda r: r.conversation_pk)
    return resolved, unknown


@dataclass(frozen=True)
class ExpandedPage:
    """A page of a due notification, written as occurrences.

    Attributes:
        written: occurrences written (0 is possible: a broadcast's last, empty page).
        activity: the notification's activity, shared by all its occurrences.
        due_at: when the notification was due.
        claimed: (occurrence id, conversation pk, conversation reference) of the
            occurrences written already claimed (``sending``) for the caller to send now.
        pending: occurrences written ``pending`` (beyond ``claim``), for the outbox to claim.
    """

    written: int
    activity: dict[str, Any]
    due_at: datetime
    claimed: list[tuple[int, int, dict[str, Any]]]
    pending: int


def _broadcast_page_query():
    """A broadcast page's conversations: one row per conversation, not per member.

    A conversation (channel id, conversation id) is taken at its anchor, the lowest row id
    among its members' rows, active or not. The anchor never moves (rows are not deleted
    while a broadcast runs), so paging by the anchor's id reaches every conversation once,
    whoever joins or is suspended between pages. The send goes through the most recently
    refreshed active member's row (its reference is the newest); a conversation with none
    is left out, as an inactive one always was. Three index probes a row
    (``ix_conversations_conversation``).

    Returns the query of (anchor id, row to send through) after ``:cursor``, anchor order,
    at most ``:page`` rows.
    """
    anchor = _CONVERSATIONS.alias("anchor")
    member = _CONVERSATIONS.alias("member")
    same = (member.c.conversation_id == anchor.c.conversation_id) & (member.c.channel_id == anchor.c.channel_id)
    through = (
        select(member.c.id)
        .where(same, member.c.active.is_(True))
        .order_by(member.c.updated_at.desc(), member.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(anchor.c.id, through)
        .where(
            anchor.c.id > bindparam("cursor"),
            ~select(member.c.id).where(same, member.c.id < anchor.c.id).exists(),
            select(member.c.id).where(same, member.c.active.is_(True)).exists(),
        )
        .order_by(anchor.c.id)
        .limit(bindparam("page"))
    )


# Built once: its cache key is computed per execution, its SQL compiled once.
_BROADCAST_PAGE = _broadcast_page_query()


async def _expand_broadcast_page(
    session: AsyncSession, notification: Notification, now: datetime, page: int, claim: int
) -> tuple[int, dict[int, int], bool]:
    """Write the next page of a broadcast: one occurrence per active conversation whose
    anchor (see :func:`_broadcast_page_query`) is after the notification's cursor, all
    claimed (``sending``) when ``claim`` is set (the page is then no bigger than ``claim``),
    else all ``pending``.

    Returns (rows written, conversation pk -> occurrence id of the claimed ones, whether it
    was the last page). The rows are built by the database (``INSERT ... SELECT`` of the
    rows to send through): one id a row goes in, no parameter set per row.
    """
    if claim > 0:
        page = min(page, claim)
    status = "sending" if claim > 0 else "pending"
    # The page's anchors first: the cursor and the end come from the conversations, not from
    # the rows the insert wrote (a row skipped as a conflict must not end the broadcast early).
    found = list((await session.execute(_BROADCAST_PAGE, {"cursor": notification.cursor, "page": page})).tuples())
    if not found:
        return 0, {}, True
    conversations = _CONVERSATIONS.c
    rows = (
        select(
            literal("notify", String),
            literal(notification.id, String),
            conversations.id,
            literal(notification.deliver_at, UTCDateTime()),
            literal(status, String),
            literal(0, Integer),
            literal(now if status == "sending" else None, UTCDateTime()),
            literal(now if status == "pending" else None, UTCDateTime()),
        )
        .where(conversations.id.in_([through for _, through in found if through is not None]))
    )
    stmt = (
        dialect_insert(session, _OCCURRENCES)
        .from_select(
            ["kind", "notification_id", "conversation_pk", "due_at", "status", "attempts", "claimed_at",
             "next_attempt_at"],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["notification_id", "conversation_pk"])
        .returning(_OCCURRENCES.c.id, _OCCURRENCES.c.conversation_pk)
    )
    written = list((await session.execute(stmt)).tuples())
    notification.cursor = found[-1][0]
    sending = {pk: oid for oid, pk in written} if status == "sending" else {}
    return len(written), sending, len(found) < page


async def expand_due_notification(
    session: AsyncSession, *, now: datetime, page: int = EXPAND_PAGE, claim: int = 0
) -> ExpandedPage | None:
    """Expand (a page of) the earliest due notification into occurrences.

    Up to ``claim`` of them are written already claimed (``sending``, claimed ``now``), so
    the caller sends them straight away instead of writing, claiming and marking each; the
    rest are ``pending``, due now, for the outbox to claim as slots free up. A claimed
    occurrence is leased like any other: if the caller dies, another process sends it.

    Returns None when nothing is due. Safe to run in several processes at once: the
    notification row is locked (``SKIP LOCKED`` on PostgreSQL) and each conversation gets
    at most one occurrence per notification.
    """
    stmt = (
        select(Notification)
        .where(Notification.status == "scheduled", Notification.deliver_at <= now)
        .order_by(Notification.deliver_at)
        .limit(1)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    else:
        await lock_for_write(session)  # a cancel must not slip between this read and the writes
    notification = (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if notification is None:
        return None
    targets = Targets.from_json(notification.targets)
    sending: dict[int, int] = {}  # conversation pk -> occurrence id, written claimed
    pending = 0
    if targets.broadcast:
        written, sending, finished = await _expand_broadcast_page(session, notification, now, page, claim)
        pending = 0 if sending else written
        unknown: list[dict[str, Any]] = []
    else:
        conversations, unknown = await _resolve(session, targets)
        written = len(conversations)
        finished = True
        notification.matched = {str(target.conversation_pk): target.matched for target in conversations}
        if conversations:
            values = []
            for target in conversations:
                conversation_pk = target.conversation_pk
                status = "skipped"
                if target.active:
                    status = "sending" if claim > 0 else "pending"
                    claim -= 1
                    pending += status == "pending"
                values.append({
                    "kind": "notify",
                    "notification_id": notification.id,
                    "conversation_pk": conversation_pk,
                    "due_at": notification.deliver_at,
                    "payload": None,
                    "status": status,
                    "attempts": 0,
                    "claimed_at": now if status == "sending" else None,
                    "next_attempt_at": now if status == "pending" else None,
                    "last_error": "conversation is inactive" if status == "skipped" else None,
                })
            # One cached statement, executemany (the driver batches the rows); a statement with
            # the rows inlined as VALUES would be compiled anew for every page.
            stmt = (
                dialect_insert(session, _OCCURRENCES)
                .on_conflict_do_nothing(index_elements=["notification_id", "conversation_pk"])
                .returning(_OCCURRENCES.c.id, _OCCURRENCES.c.conversation_pk, _OCCURRENCES.c.status)
            )
            for start in range(0, len(values), INSERT_CHUNK):
                result = await session.execute(stmt, values[start : start + INSERT_CHUNK])
                sending.update((pk, oid) for oid, pk, status in result.tuples() if status == "sending")
    claimed: list[tuple[int, int, dict[str, Any]]] = []
    if sending:
        references = await session.execute(
            select(Conversation.id, Conversation.reference).where(Conversation.id.in_(list(sending)))
        )
        claimed = [(sending[pk], pk, reference) for pk, reference in references.tuples()]
    if finished:
        notification.status = "dispatched"
        notification.unknown = unknown
    return ExpandedPage(
        written=written,
        activity=notification.activity,
        due_at=notification.deliver_at,
        claimed=claimed,
        pending=pending,
    )


async def _status_counts(session: AsyncSession, notification_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(Occurrence.status, func.count())
        .where(Occurrence.notification_id == notification_id)
        .group_by(Occurrence.status)
    )
    return {status: count for status, count in rows.tuples()}


class Notifications:
    """Accept, report on and cancel notifications.

    Args:
        sessionmaker: opens one session per operation.
        on_due: told the delivery time of each accepted notification (the scheduler's poke).
        clock: the current aware UTC time.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        on_due: Callable[[datetime], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._on_due = on_due
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def accept(
        self, body: Any, *, idempotency_key: str | None, max_targets: int, source: str, sender: str
    ) -> Accepted:
        """Both routes' entry: replay a known idempotency key (before validation, so a retry
        whose ``at`` has passed still gets its first answer), else validate and submit.

        Raises:
            NotifyError: the body is not a valid request.
            IdempotencyConflict: the key was used for a different request.
        """
        identity = replay_identity(body, idempotency_key)
        accepted = await self.replay(*identity) if identity else None
        if accepted is not None:
            return accepted
        request = parse_notify_request(
            body, now=self._clock(), max_targets=max_targets, idempotency_key=idempotency_key
        )
        return await self.submit(request, source=source, sender=sender)

    async def replay(self, key: str, request_hash: str) -> Accepted | None:
        """The first answer for ``key`` if it was used in the last 24 h for this request.

        Raises:
            IdempotencyConflict: the key was used for a different request.
        """
        async with self._sessionmaker() as session:
            earlier = (
                await session.execute(
                    select(Notification).where(
                        Notification.idempotency_key == key,
                        Notification.created_at >= self._clock() - IDEMPOTENCY_WINDOW,
                    )
                )
            ).scalar_one_or_none()
        if earlier is None:
            return None
        if earlier.request_hash != request_hash:
            raise IdempotencyConflict(key)
        return Accepted(body=earlier.response, replayed=True)

    async def submit(self, request: NotifyRequest, *, source: str, sender: str) -> Accepted:
        """Store a request and wake the scheduler for it.

        With an idempotency key seen in the last 24 h, returns the first request's answer
        and stores nothing.

        Raises:
            IdempotencyConflict: the key was used for a different request.
        """
        for _ in range(3):  # a concurrent twin may win the key between our look and insert
            try:
                return await self._submit_once(request, source=source, sender=sender)
            except IntegrityError:
                if request.idempotency_key is None:
                    raise
        raise IdempotencyConflict("the key is being used by concurrent requests")

    async def _submit_once(self, request: NotifyRequest, *, source: str, sender: str) -> Accepted:
        now = self._clock()
        deliver_at = request.at or now
        async with self._sessionmaker.begin() as session:
            key = request.idempotency_key
            if key is not None:
                # An expired key is forgotten, so it may be used again.
                await session.execute(
                    update(Notification)
                    .where(
                        Notification.idempotency_key == key,
                        Notification.created_at < now - IDEMPOTENCY_WINDOW,
                    )
                    .values(idempotency_key=None)
                )
                earlier = (
                    await session.execute(select(Notification).where(Notification.idempotency_key == key))
                ).scalar_one_or_none()
                if earlier is not None:
                    if earlier.request_hash != request.request_hash:
                        raise IdempotencyConflict(key)
                    return Accepted(body=earlier.response, replayed=True)
            _, unknown = await _resolve(session, request.targets)
            notification_id = new_notification_id()
            body = {
                "id": notification_id,
                "status": "scheduled" if request.at else "queued",
                "at": iso(deliver_at),
                "targets": {
                    "broadcast": request.targets.broadcast,
                    "requested": request.targets.count(),
                    "unknown": unknown,
                },
                "links": {"self": f"/api/notify/{notification_id}"},
            }
            session.add(
                Notification(
                    id=notification_id,
                    source=source,
                    sender=sender[:330],
                    idempotency_key=key,
                    request_hash=request.request_hash,
                    targets=request.targets.to_json(),
                    activity=request.activity,
                    deliver_at=deliver_at,
                    status="scheduled",
                    cursor=0,
                    unknown=[],
                    response=body,
                    created_at=now,
                    updated_at=now,
                )
            )
        self._on_due(deliver_at)
        return Accepted(body=body)

    async def status(self, notification_id: str, *, limit: int = 100, after: int = 0) -> dict[str, Any]:
        """Overall and per-target status; targets are paged by ``after`` (the last ``cursor``).

        Raises:
            NotificationNotFound: no such id.
        """
        limit = max(1, min(limit, MAX_STATUS_PAGE))
        async with self._sessionmaker() as session:
            notification = await session.get(Notification, notification_id)
            if notification is None:
                raise NotificationNotFound(notification_id)
            counts = await _status_counts(session, notification_id)
            rows = await session.execute(
                select(Occurrence, Conversation.channel_id, Conversation.conversation_id, User.user_id)
                .join(Conversation, Conversation.id == Occurrence.conversation_pk)
                .join(User, User.id == Conversation.user_pk)
                .where(Occurrence.notification_id == notification_id, Occurrence.id > after)
                .order_by(Occurrence.id)
                .limit(limit + 1)
            )
            page = list(rows.tuples())
        more = len(page) > limit
        page = page[:limit]
        matched = notification.matched or {}
        targets = [
            {
                "channelId": channel,
                # The member whose stored reference the send went through (in a group, one of many).
                "userId": user_id,
                "conversationId": conversation_id,
                # The listed targets this one send answers for (none for a broadcast).
                "matched": matched.get(str(occurrence.conversation_pk), []),
                "status": occurrence.status,
                "attempts": occurrence.attempts,
                "httpStatus": occurrence.http_status,
                "reason": occurrence.last_error,
                "sentAt": iso(occurrence.sent_at),
            }
            for occurrence, channel, conversation_id, user_id in page
        ]
        in_progress = counts.get("pending", 0) + counts.get("sending", 0)
        now = self._clock()
        if notification.status == "cancelled":
            overall = "cancelled"
        elif notification.status == "scheduled":
            overall = "scheduled" if notification.deliver_at > now else "sending"
        else:
            overall = "sending" if in_progress else "done"
        return {
            "id": notification.id,
            "source": notification.source,
            "status": overall,
            "createdAt": iso(notification.created_at),
            "at": iso(notification.deliver_at),
            "broadcast": bool(notification.targets.get("broadcast")),
            "counts": {
                "targets": sum(counts.values()),
                "sent": counts.get("sent", 0),
                "failed": counts.get("failed", 0),
                "skipped": counts.get("skipped", 0),
                "pending": in_progress,
                "cancelled": counts.get("cancelled", 0),
                "unknown": len(notification.unknown or []),
            },
            "targets": targets,
            "unknown": notification.unknown or [],
            "next": page[-1][0].id if more else None,
        }

    async def cancel(self, notification_id: str) -> dict[str, Any]:
        """Cancel what has not gone out yet: the whole notification if it isn't due.

        Raises:
            NotificationNotFound: no such id.
            AlreadyDelivered: nothing is left to cancel.
        """
        async with self._sessionmaker.begin() as session:
            stmt = select(Notification).where(Notification.id == notification_id)
            if is_postgres(session):
                stmt = stmt.with_for_update()  # waits for an expansion page under way
            else:
                await lock_for_write(session)
            notification = (
                await session.execute(stmt.execution_options(populate_existing=True))
            ).scalar_one_or_none()
            if notification is None:
                raise NotificationNotFound(notification_id)
            if notification.status != "cancelled":
                stopped = await session.execute(
                    update(Occurrence)
                    .where(Occurrence.notification_id == notification_id, Occurrence.status == "pending")
                    .values(status="cancelled", next_attempt_at=None, last_error="cancelled")
                )
                cancelled = stopped.rowcount or 0
                if notification.status == "dispatched" and not cancelled:
                    raise AlreadyDelivered(notification_id)
                notification.status = "cancelled"
            counts = await _status_counts(session, notification_id)
        return {
            "id": notification_id,
            "status": "cancelled",
            "cancelled": counts.get("cancelled", 0),
            "sent": counts.get("sent", 0),
            # Sends already under way can't be called back.
            "sending": counts.get("sending", 0),
        }
