"""The alert engine: turns price ticks into alert firings, persisted and delivered once.

Ticks arrive from the configured feed (polled by an APScheduler job) and from
``POST /api/prices``. Each tick goes through the in-memory :class:`AlertIndex`, which costs
O(log n + fired) however many alerts exist. A firing is written (the alert's new state and
an outbox occurrence, unique per alert and tick time) in one transaction before anything is
sent, so a restart neither loses nor repeats it; the outbox then delivers it.

Ticks older than ``max_age_seconds`` are stale: they update nothing and fire nothing, so a
provider outage can't make alerts fire on old prices.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.alerts import AlertView
from models.schedule import format_local
from models.store import dialect_insert, is_postgres
from models.tables import Alert, Conversation, Price, User
from scheduler.alert_index import AlertIndex, AlertRule, AlertState, Firing
from scheduler.feeds import PriceFeed, PriceTick
from scheduler.messages import alert_activity
from scheduler.outbox import NewOccurrences, Outbox, Send

logger = logging.getLogger(__name__)

LOAD_CHUNK = 5000


class IngestFailed(Exception):
    """Ticks could not be recorded (the database is unavailable); nothing was sent."""


@dataclass(frozen=True)
class IngestResult:
    """What became of a batch of ticks: evaluated, too old, alerts fired."""

    accepted: int
    stale: int
    fired: int


def rule_of(alert: Alert) -> AlertRule:
    return AlertRule(
        alert_id=alert.id,
        symbol=alert.symbol,
        condition=alert.condition,
        threshold=alert.threshold,
        direction=alert.direction,
        base_price=alert.base_price,
        window_seconds=alert.window_seconds,
        repeat=alert.repeat,
        cooldown_seconds=alert.cooldown_seconds,
        band_pct=alert.band_pct,
        expires_at=alert.expires_at,
    )


def state_of(alert: Alert) -> AlertState:
    return AlertState(
        armed=alert.armed,
        side=alert.side,
        last_fired_at=alert.last_fired_at,
        fire_count=alert.fire_count,
        done=alert.state == "done",
    )


class AlertEngine:
    """Owns the alert index, the latest prices, and the feed.

    Args:
        sessionmaker: opens one session per unit of work.
        outbox: delivers the alert messages.
        feed: the configured price feed (polled by :meth:`poll`).
        clock: the current aware UTC time.
        max_age_seconds: ticks older than this are stale and ignored.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        outbox: Outbox,
        feed: PriceFeed,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_age_seconds: float = 300.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self.feed = feed
        self._clock = clock
        self._max_age = timedelta(seconds=max_age_seconds)
        self.index = AlertIndex()
        self._latest: dict[str, PriceTick] = {}
        # Alerts whose row changed but could not be re-read yet (database away).
        self._dirty: set[int] = set()
        self._expired_pending: set[int] = set()
        # Ticks are evaluated one batch at a time: the index and the rows must move together.
        self._lock = asyncio.Lock()

    # --- what the chat asks -------------------------------------------------------------

    def known_symbols(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.feed.symbols) | set(self._latest)))

    def new_symbols(self, symbols: Iterable[str]) -> set[str]:
        """The symbols in ``symbols`` this engine has never seen."""
        return set(symbols) - set(self.feed.symbols) - set(self._latest)

    def quote(self, symbol: str) -> PriceTick | None:
        """The latest price of ``symbol`` seen from any source, or None."""
        return self._latest.get(symbol)

    def is_stale(self, tick: PriceTick) -> bool:
        return self._clock() - tick.at > self._max_age

    # --- start-up and housekeeping ------------------------------------------------------

    async def start(self) -> None:
        """Load the latest stored prices and every active alert into memory."""
        async with self._sessionmaker() as session:
            for price in (await session.execute(select(Price))).scalars():
                self._latest[price.symbol] = PriceTick(
                    symbol=price.symbol,
                    price=price.price,
                    at=price.observed_at,
                    source=price.source,
                    simulated=price.simulated,
                )
            last_id = 0
            while True:
                rows = (
                    await session.execute(
                        select(Alert)
                        .where(Alert.state == "active", Alert.id > last_id)
                        .order_by(Alert.id)
                        .limit(LOAD_CHUNK)
                    )
                ).scalars().all()
                if not rows:
                    break
                for alert in rows:
                    self._add(alert)
                last_id = rows[-1].id
                session.expunge_all()
        resume = getattr(self.feed, "resume", None)
        if resume is not None:
            # Continue a simulated walk where it was, so a restart is not a fake price jump.
            resume({s: t.price for s, t in self._latest.items() if t.simulated})
        logger.info("alert engine loaded %d active alerts", len(self.index))

    def _add(self, alert: Alert) -> None:
        latest = self._latest.get(alert.symbol)
        self.index.add(
            rule_of(alert), state_of(alert), current_price=latest.price if latest else None
        )

    async def refresh(self, alert_id: int) -> None:
        """Re-read one alert after the chat changed it (created, paused, re-armed...).

        Never raises: an alert that can't be re-read now (database away) is retried by
        :meth:`housekeeping`, so the index can't stay behind its row.
        """
        async with self._lock:
            await self._reload(alert_id)

    async def _reload(self, alert_id: int) -> None:
        # Called with the lock held.
        self.index.remove(alert_id)
        try:
            async with self._sessionmaker() as session:
                alert = await session.get(Alert, alert_id)
        except Exception as exc:  # SQLAlchemy, OS and driver errors alike
            logger.warning("alert %s: re-read failed (%s); retrying later", alert_id, type(exc).__name__)
            self._dirty.add(alert_id)
            return
        self._dirty.discard(alert_id)
        if alert is not None and alert.state == "active":
            self._add(alert)

    async def housekeeping(self) -> None:
        """Expire alerts past their end, wake snoozed ones, and re-read any the index missed
        (a periodic job)."""
        now = self._clock()
        async with self._lock:
            for alert_id in list(self._dirty):
                await self._reload(alert_id)
            expired = sorted(set(self.index.expire(now)) | self._expired_pending)
            try:
                async with self._sessionmaker.begin() as session:
                    if expired:
                        await session.execute(
                            update(Alert)
                            .where(Alert.id.in_(expired), Alert.state == "active")
                            .values(state="expired")
                        )
                    woken = (
                        await session.execute(
                            update(Alert)
                            .where(Alert.state == "paused", Alert.snoozed_until <= now)
                            .values(state="active", snoozed_until=None)
                            .returning(Alert.id)
                        )
                    ).scalars().all()
            except Exception:
                # They are out of the index already (they can't fire); mark the rows next run.
                self._expired_pending.update(expired)
                raise
            self._expired_pending.clear()
            for alert_id in woken:
                await self._reload(alert_id)
        if expired:
            logger.info("%d alerts expired", len(expired))

    async def poll(self) -> None:
        """Poll the feed once and evaluate what it returned (a periodic job)."""
        ticks = await self.feed.poll(self._clock())
        if ticks:
            await self.ingest(ticks)

    # --- evaluation ---------------------------------------------------------------------

    async def ingest(self, ticks: Iterable[PriceTick]) -> IngestResult:
        """Evaluate ticks; persist the prices and any firings; start sending.

        Raises:
            IngestFailed: the database could not record them; nothing was sent, and the
                alerts involved were re-read so that the next tick can fire them.
        """
        now = self._clock()
        ticks = sorted(ticks, key=lambda t: t.at)
        async with self._lock:
            fresh: list[PriceTick] = []
            stale = 0
            for tick in ticks:
                if now - tick.at > self._max_age:
                    stale += 1
                    logger.info("ignoring a stale %s tick from %s", tick.symbol, tick.at.isoformat())
                    continue
                latest = self._latest.get(tick.symbol)
                if latest is not None and tick.at <= latest.at:
                    continue  # out of order or repeated
                if (
                    latest is not None
                    and tick.source != "push"
                    and latest.source == "push"
                    and now - latest.at <= self._max_age
                ):
                    # A symbol someone pushes belongs to the pusher while its prices are
                    # fresh: interleaving two sources would make the price jump between them.
                    continue
                self._latest[tick.symbol] = tick
                fresh.append(tick)
            if not fresh:
                return IngestResult(accepted=0, stale=stale, fired=0)
            firings: list[tuple[Firing, PriceTick]] = []
            for tick in fresh:
                firings.extend(
                    (firing, tick) for firing in self.index.on_tick(tick.symbol, tick.price, tick.at)
                )
            # Re-arms and learnt sides: persisted too, so a restart doesn't undo them.
            changes = self.index.pop_state_changes()
            try:
                sends = await self._persist(fresh, firings, changes, now)
            except Exception as exc:  # SQLAlchemy, OS and driver errors alike
                # The index moved on but the rows did not: re-read every alert involved.
                logger.error("could not record %d alert firings: %s", len(firings), type(exc).__name__)
                for alert_id in {firing.alert_id for firing, _ in firings} | set(changes):
                    await self._reload(alert_id)
                raise IngestFailed(str(type(exc).__name__)) from exc
        self._outbox.dispatch(sends)
        return IngestResult(accepted=len(fresh), stale=stale, fired=len(sends))

    async def _persist(
        self,
        ticks: list[PriceTick],
        firings: list[tuple[Firing, PriceTick]],
        changes: dict[int, AlertState],
        now: datetime,
    ) -> list[Send]:
        claimed = NewOccurrences()
        async with self._sessionmaker.begin() as session:
            latest: dict[str, PriceTick] = {tick.symbol: tick for tick in ticks}
            for tick in latest.values():
                values = {
                    "symbol": tick.symbol,
                    "price": tick.price,
                    "source": tick.source[:64],
                    "simulated": tick.simulated,
                    "observed_at": tick.at,
                    "updated_at": now,
                }
                stmt = dialect_insert(session, Price).values(**values)
                await session.execute(
                    stmt.on_conflict_do_update(index_elements=["symbol"], set_=values)
                )
            for firing, tick in firings:
                stmt = (
                    select(Alert, Conversation, User.timezone)
                    .join(Conversation, Conversation.id == Alert.conversation_pk)
                    .join(User, User.id == Alert.user_pk)
                    .where(Alert.id == firing.alert_id)
                )
                if is_postgres(session):
                    stmt = stmt.with_for_update(of=Alert)
                row = (await session.execute(stmt)).first()
                if row is None:
                    continue
                alert, conversation, zone = row
                if alert.state != "active" or alert.fire_count != firing.state.fire_count - 1:
                    # Changed or fired elsewhere since the index learned of it.
                    logger.info("alert %s firing skipped: it changed meanwhile", alert.id)
                    continue
                alert.armed = firing.state.armed
                alert.side = firing.state.side
                alert.last_fired_at = firing.state.last_fired_at
                alert.fire_count = firing.state.fire_count
                if firing.state.done:
                    alert.state = "done"
                view = AlertView.of(alert)
                activity = alert_activity(
                    number=alert.number,
                    condition_text=view.condition_text(),
                    symbol=alert.symbol,
                    price=firing.price,
                    reference_price=firing.reference_price,
                    change_pct=firing.change_pct,
                    at_local=format_local(firing.at, zone or "UTC"),
                    source=tick.source,
                    simulated=tick.simulated,
                    repeat=alert.repeat,
                )
                claimed.add(
                    session,
                    kind="alert",
                    alert_id=alert.id,
                    conversation=conversation,
                    due_at=firing.at,
                    activity=activity,
                    now=now,
                    label=f"alert {alert.id}",
                )
            await session.flush()
            # After the firings: a re-arm later in the same batch is the newer state.
            for alert_id, state in changes.items():
                await session.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, Alert.state == "active")
                    .values(armed=state.armed, side=state.side)
                )
            return claimed.sends()
