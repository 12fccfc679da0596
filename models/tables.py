"""The tables: users, their conversations (with the stored conversation reference),
reminders, price alerts and notifications from external systems, the occurrences (outgoing
messages) they produced, the latest prices, and the bot's dialog state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    """A person as one channel knows them (channel id + the channel's user id)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str | None] = mapped_column(String(256))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Where the zone came from: "channel" (localTimezone), "offset" (localTimestamp), "user".
    timezone_source: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Conversation(Base):
    """One conversation a user reached the bot through, with the reference to message it again.

    A group conversation (a group chat, a Teams channel) has one row per member who wrote in
    it, all with the same (channel id, conversation id): that pair is the conversation a
    notification is sent to once, through one member's row (``models.notifications``).
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("user_pk", "conversation_id"),
        # The rows of one conversation: its members (targets by conversation id, and the
        # once-per-conversation check of a broadcast page).
        Index("ix_conversations_conversation", "conversation_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(1024))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="raise")


class Reminder(Base):
    """A reminder; ``next_run_at`` is what the scheduler waits for."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("user_pk", "number"),
        # The scheduler's one hot query: the earliest active reminder that is due.
        Index("ix_reminders_due", "state", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short per-user id shown in chat ("cancel 3").
    number: Mapped[int] = mapped_column(Integer)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    conversation_pk: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(256))
    timezone: Mapped[str] = mapped_column(String(64))
    # active | paused | done | cancelled | suspended (its conversation is unreachable; resumed
    # when the user writes again)
    state: Mapped[str] = mapped_column(String(16), default="active")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Occurrence(Base):
    """One message due to go out (a reminder's occurrence, an alert's firing, a notification
    to one conversation) and the record of its delivery: the outbox row.

    The unique (source, due time or conversation) pairs make a second claim of the same
    occurrence fail, so an occurrence is recorded, and sent, once. ``payload`` is the
    serialised activity, so a retry or a take-over after a crash sends exactly what was
    claimed; a notification's occurrences leave it empty and share the notification's.
    """

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("reminder_id", "due_at"),
        # An alert fires at most once per tick (the tick's time is the due time).
        UniqueConstraint("alert_id", "due_at"),
        # A notification goes to each conversation once, however its targets overlap.
        UniqueConstraint("notification_id", "conversation_pk"),
        Index("ix_occurrences_status", "status", "next_attempt_at"),
        # GET /api/notify/{id} pages through a notification's occurrences in id order.
        Index("ix_occurrences_notification", "notification_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # reminder | alert | notify
    kind: Mapped[str] = mapped_column(String(16), default="reminder")
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    notification_id: Mapped[str | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE")
    )
    conversation_pk: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending (waiting for next_attempt_at) | sending | sent | failed
    # | skipped (conversation inactive) | cancelled (its notification was cancelled first)
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    http_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Base):
    """A message an external system asked for (``POST /api/notify`` or a Direct Line event).

    It is stored first and expanded into one occurrence per target conversation by the
    scheduler when ``deliver_at`` comes (at once, or at the requested ``at``), so a restart
    loses nothing and a broadcast never holds up the request that asked for it.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "deliver_at"),)

    # Public id (32 hex digits), the one callers use in GET/DELETE /api/notify/{id}.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # api | directline
    source: Mapped[str] = mapped_column(String(16))
    # Who asked: "api" or the trusted Direct Line sender ("directline:order-service").
    sender: Mapped[str] = mapped_column(String(330))
    # Unique while remembered (24 h); cleared afterwards so the key can be used again.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # {"broadcast": bool, "users": [[channel, id], ...], "conversations": [[channel|null, id], ...]}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    activity: Mapped[dict[str, Any]] = mapped_column(JSON)
    deliver_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # scheduled (not yet expanded) | dispatched (occurrences written) | cancelled
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # Broadcasts are expanded in pages: the last conversation id written so far.
    cursor: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    # Targets that matched no known conversation when it was expanded.
    unknown: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Which listed targets each send answers for, written when it was expanded:
    # {conversation pk of the send (as a string): [target, ...]}; null for a broadcast.
    matched: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The 202 body, returned again for a repeated Idempotency-Key.
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Alert(Base):
    """A price condition on one symbol, and its evaluation state (persisted on every change)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("user_pk", "number"),
        # Start-up loads every active alert into the in-memory index.
        Index("ix_alerts_state_symbol", "state", "symbol"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short per-user id shown in chat ("cancel alert 2").
    number: Mapped[int] = mapped_column(Integer)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    conversation_pk: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(16))
    # above | below | cross | move | window
    condition: Mapped[str] = mapped_column(String(8))
    # A price for above/below/cross, a percentage for move/window.
    threshold: Mapped[float] = mapped_column(Float)
    # up | down | any (move and window)
    direction: Mapped[str] = mapped_column(String(4), default="any")
    base_price: Mapped[float | None] = mapped_column(Float)
    window_seconds: Mapped[int | None] = mapped_column(Integer)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=0)
    band_pct: Mapped[float] = mapped_column(Float, default=0.5)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # active | paused | done | cancelled | expired | suspended (as for reminders)
    state: Mapped[str] = mapped_column(String(16), default="active")
    # "Snooze 1 h": paused until then, resumed by the alert engine's housekeeping job.
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Evaluation state, written in the same transaction that records a firing.
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    side: Mapped[str | None] = mapped_column(String(8))
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fire_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Price(Base):
    """The latest price of a symbol, from whichever feed saw it last."""

    __tablename__ = "prices"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    price: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64))
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BotState(Base):
    """Dialog and user state of the Bot Framework ``Storage`` interface, one row a key."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    # jsonpickle text: dialog state holds SDK objects (DialogState) that plain JSON can't.
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
