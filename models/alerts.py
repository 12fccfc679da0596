"""Price-alert operations used by the dialogs: each is one unit of work.

Like reminders, alerts tell the engine about changes through a callback (``on_change``,
the alert engine's ``refresh``), so this module does not import the scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.store import is_postgres, lock_user, next_number
from models.tables import Alert

CONDITIONS = ("above", "below", "cross", "move", "window")
DIRECTIONS = ("up", "down", "any")
LIVE_STATES = ("active", "paused")
MAX_PERCENT = 1000.0
MAX_WINDOW = timedelta(days=7)
MAX_EXPIRY = timedelta(days=366)
MAX_SNOOZE = timedelta(days=7)


class AlertError(ValueError):
    """A request about alerts that cannot be done; the message is for the user."""


class Quote(Protocol):
    """The latest price of a symbol as the alert engine knows it."""

    symbol: str
    price: float
    at: datetime
    source: str
    simulated: bool


@dataclass(frozen=True)
class AlertRequest:
    """A new alert as the chat understood it."""

    symbol: str
    condition: str
    threshold: float
    direction: str = "any"
    window_seconds: int | None = None
    repeat: bool = False
    cooldown_seconds: int = 0
    band_pct: float = 0.5
    expires_in_seconds: int | None = None


@dataclass(frozen=True)
class AlertView:
    """What the chat shows of an alert, detached from any session."""

    id: int
    number: int
    symbol: str
    condition: str
    threshold: float
    direction: str
    base_price: float | None
    window_seconds: int | None
    repeat: bool
    cooldown_seconds: int
    state: str
    armed: bool
    expires_at: datetime | None
    snoozed_until: datetime | None
    fire_count: int

    @classmethod
    def of(cls, alert: Alert) -> AlertView:
        return cls(
            id=alert.id,
            number=alert.number,
            symbol=alert.symbol,
            condition=alert.condition,
            threshold=alert.threshold,
            direction=alert.direction,
            base_price=alert.base_price,
            window_seconds=alert.window_seconds,
            repeat=alert.repeat,
            cooldown_seconds=alert.cooldown_seconds,
            state=alert.state,
            armed=alert.armed,
            expires_at=alert.expires_at,
            snoozed_until=alert.snoozed_until,
            fire_count=alert.fire_count,
        )

    def condition_text(self) -> str:
        """The condition in words: "BTC goes above 70,000", "ETH moves 5% (up or down)"."""
        return describe_condition(
            symbol=self.symbol,
            condition=self.condition,
            threshold=self.threshold,
            direction=self.direction,
            base_price=self.base_price,
            window_seconds=self.window_seconds,
        )

    def mode_text(self) -> str:
        if not self.repeat:
            return "once"
        if self.cooldown_seconds:
            return f"every time, at most once {per_duration_text(self.cooldown_seconds)}"
        return "every time"


def describe_source(source: str, simulated: bool) -> str:
    """Where a price came from, in words a user understands (not "push" or "http:host")."""
    if simulated:
        return "simulated — not real market data"
    if source == "push":
        return "live feed"
    return source.removeprefix("http:")


def format_price(value: float) -> str:
    """A price with sensible precision: 70,000 / 68,120.50 / 182.35 / 1.0843 / 0.000123."""
    if value >= 10:
        text = f"{value:,.2f}"
        return text[:-3] if text.endswith(".00") else text
    if value >= 1:
        # Up to 4 decimals for FX-like prices, at least 2: 1.0843, 1.08, 1.00.
        whole, decimals = f"{value:.4f}".split(".")
        return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.3e}"


def duration_text(seconds: int) -> str:
    """ "1 hour", "30 minutes", "7 days", "90 s"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s"


def per_duration_text(seconds: int) -> str:
    """ "an hour", "30 minutes", "a day": for "at most once ..."."""
    text = duration_text(seconds)
    if text.startswith("1 "):
        unit = text[2:]
        return ("an " if unit == "hour" else "a ") + unit
    return "every " + text


def describe_condition(
    *,
    symbol: str,
    condition: str,
    threshold: float,
    direction: str,
    base_price: float | None,
    window_seconds: int | None,
) -> str:
    way = {"up": " up", "down": " down", "any": ""}[direction]
    if condition == "above":
        return f"{symbol} goes above {format_price(threshold)}"
    if condition == "below":
        return f"{symbol} drops below {format_price(threshold)}"
    if condition == "cross":
        return f"{symbol} crosses {format_price(threshold)}"
    if condition == "move":
        base = f" from {format_price(base_price)}" if base_price else ""
        return f"{symbol} moves{way} {threshold:g}%{base}"
    return f"{symbol} changes{way} {threshold:g}% within {duration_text(window_seconds or 0)}"


def validate_request(request: AlertRequest, *, known_symbols: tuple[str, ...]) -> None:
    """Raise AlertError with a user-facing reason when the request can't be an alert."""
    if request.symbol not in known_symbols:
        raise AlertError(
            f"I don't know the symbol {request.symbol}. I know: {', '.join(known_symbols)}."
        )
    if request.condition not in CONDITIONS:
        raise AlertError(f"Unknown condition {request.condition!r}.")
    if request.direction not in DIRECTIONS:
        raise AlertError(f"Unknown direction {request.direction!r}.")
    if not math.isfinite(request.threshold) or request.threshold <= 0:
        raise AlertError("The threshold must be a positive number.")
    if request.condition in ("move", "window"):
        if request.threshold > MAX_PERCENT:
            raise AlertError(f"A percentage change can be at most {MAX_PERCENT:g}%.")
        if request.direction != "up" and request.threshold >= 100:
            raise AlertError("A price can't fall by 100% or more; pick a smaller drop.")
    if request.condition == "window":
        if not request.window_seconds or not 60 <= request.window_seconds <= MAX_WINDOW.total_seconds():
            raise AlertError("The time window must be between 1 minute and 7 days.")
    if request.cooldown_seconds < 0 or request.cooldown_seconds > MAX_EXPIRY.total_seconds():
        raise AlertError("The cooldown must be between 0 and a year.")
    if not 0 <= request.band_pct <= 50:
        raise AlertError("The re-arm band must be between 0% and 50%.")
    if request.expires_in_seconds is not None and not (
        60 <= request.expires_in_seconds <= MAX_EXPIRY.total_seconds()
    ):
        raise AlertError("An alert can last between 1 minute and a year.")


class Alerts:
    """Create, list and change a user's price alerts.

    Args:
        sessionmaker: opens one session per operation.
        quote: the latest price of a symbol, or None when none has been seen.
        known_symbols: the symbols alerts may watch.
        on_change: awaited with an alert's id after it was created or changed.
        clock: the current aware UTC time.
        max_live: the most active or paused alerts one user may have.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        quote: Callable[[str], Quote | None],
        known_symbols: Callable[[], tuple[str, ...]],
        on_change: Callable[[int], Awaitable[None]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_live: int = 100,
        max_quote_age_seconds: float = 300.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.quote = quote
        self.known_symbols = known_symbols
        self._on_change = on_change
        self._clock = clock
        self.max_live = max_live
        self._max_quote_age = timedelta(seconds=max_quote_age_seconds)

    def now(self) -> datetime:
        return self._clock()

    async def create(
        self, *, user_pk: int, conversation_pk: int, request: AlertRequest
    ) -> tuple[AlertView, Quote]:
        """Store a new alert. Returns it with the current price it was set against.

        Raises:
            AlertError: bad request, no price known yet, or the user's limit reached.
        """
        validate_request(request, known_symbols=self.known_symbols())
        quote = self.quote(request.symbol)
        if quote is None:
            raise AlertError(f"I have no price for {request.symbol} yet; try again in a minute.")
        now = self._clock()
        if now - quote.at > self._max_quote_age:
            # A move's base and a cross's side must come from a price that is current.
            raise AlertError(
                f"My latest {request.symbol} price is too old to set an alert against; "
                "try again when the price feed is back."
            )
        side = None
        if request.condition == "cross":
            if quote.price == request.threshold:
                raise AlertError(
                    f"{request.symbol} is at {format_price(quote.price)} right now; pick a level "
                    "above or below the current price."
                )
            side = "below" if quote.price < request.threshold else "above"
        async with self._sessionmaker.begin() as session:
            await lock_user(session, user_pk=user_pk)
            live = (
                await session.execute(
                    select(func.count())
                    .select_from(Alert)
                    .where(Alert.user_pk == user_pk, Alert.state.in_(LIVE_STATES))
                )
            ).scalar_one()
            if live >= self.max_live:
                raise AlertError(
                    f"You already have {self.max_live} alerts, which is the limit. "
                    'Cancel some first ("my alerts" lists them).'
                )
            number = await next_number(session, table=Alert, user_pk=user_pk)
            alert = Alert(
                number=number,
                user_pk=user_pk,
                conversation_pk=conversation_pk,
                symbol=request.symbol,
                condition=request.condition,
                threshold=request.threshold,
                direction=request.direction,
                base_price=quote.price if request.condition == "move" else None,
                window_seconds=request.window_seconds,
                repeat=request.repeat,
                cooldown_seconds=request.cooldown_seconds,
                band_pct=request.band_pct,
                expires_at=(
                    now + timedelta(seconds=request.expires_in_seconds)
                    if request.expires_in_seconds
                    else None
                ),
                state="active",
                armed=True,
                side=side,
                fire_count=0,
            )
            session.add(alert)
            await session.flush()
            view = AlertView.of(alert)
        await self._on_change(view.id)
        return view, quote

    async def list(self, *, user_pk: int) -> list[AlertView]:
        async with self._sessionmaker() as session:
            rows = await session.execute(
                select(Alert)
                .where(Alert.user_pk == user_pk, Alert.state.in_(LIVE_STATES))
                .order_by(Alert.number)
            )
            return [AlertView.of(alert) for alert in rows.scalars()]

    async def _change(
        self, *, user_pk: int, number: int, change: Callable[[Alert, datetime], None]
    ) -> AlertView:
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            stmt = select(Alert).where(Alert.user_pk == user_pk, Alert.number == number)
            if is_postgres(session):
                stmt = stmt.with_for_update()
            alert = (await session.execute(stmt)).scalar_one_or_none()
            if alert is None or alert.state == "cancelled":
                raise AlertError(f'You have no alert #{number}. Say "my alerts" to see them.')
            change(alert, now)
            view = AlertView.of(alert)
        await self._on_change(view.id)
        return view

    async def cancel(self, *, user_pk: int, number: int) -> AlertView:
        def cancel(alert: Alert, _now: datetime) -> None:
            alert.state = "cancelled"

        return await self._change(user_pk=user_pk, number=number, change=cancel)

    async def pause(self, *, user_pk: int, number: int) -> AlertView:
        def pause(alert: Alert, _now: datetime) -> None:
            if alert.state != "active":
                raise AlertError(f"Alert #{number} is {alert.state}, so it can't be paused.")
            alert.state = "paused"

        return await self._change(user_pk=user_pk, number=number, change=pause)

    async def resume(self, *, user_pk: int, number: int) -> AlertView:
        def resume(alert: Alert, _now: datetime) -> None:
            if alert.state != "paused":
                raise AlertError(f"Alert #{number} is {alert.state}, not paused.")
            alert.state = "active"
            alert.snoozed_until = None

        return await self._change(user_pk=user_pk, number=number, change=resume)

    async def snooze(self, *, user_pk: int, number: int, minutes: int) -> AlertView:
        """Silence an alert for ``minutes``; it watches again afterwards."""
        if not 1 <= minutes <= MAX_SNOOZE // timedelta(minutes=1):
            raise AlertError("You can snooze an alert for between 1 minute and 7 days.")

        def snooze(alert: Alert, now: datetime) -> None:
            if alert.state not in LIVE_STATES:
                raise AlertError(f"Alert #{number} is {alert.state}, so it can't be snoozed.")
            alert.state = "paused"
            alert.snoozed_until = now + timedelta(minutes=minutes)

        return await self._change(user_pk=user_pk, number=number, change=snooze)

    async def rearm(self, *, user_pk: int, number: int) -> AlertView:
        """Make a fired (or disarmed) alert watch again from the current price."""
        quote_for = self.quote

        def rearm(alert: Alert, now: datetime) -> None:
            quote = quote_for(alert.symbol)
            alert.state = "active"
            alert.armed = True
            alert.snoozed_until = None
            alert.last_fired_at = None
            # A fresh start: a re-armed cross fires at its level again, not past the band.
            alert.fire_count = 0
            if alert.condition == "move" and quote is not None:
                alert.base_price = quote.price
            if alert.condition == "cross" and quote is not None:
                alert.side = "below" if quote.price < alert.threshold else "above"

        return await self._change(user_pk=user_pk, number=number, change=rearm)


    async def set_threshold(self, *, user_pk: int, number: int, threshold: float) -> tuple[AlertView, float]:
        """Give a live alert a new level (a price, or a percentage for move/window alerts) and
        arm it again. Returns the changed alert and its old level (for "undo").

        Raises:
            AlertError: no such alert, or the level is not usable.
        """
        if not math.isfinite(threshold) or threshold <= 0:
            raise AlertError("The new level must be a positive number.")
        quote_for = self.quote
        old: list[float] = []

        def change(alert: Alert, _now: datetime) -> None:
            if alert.condition in ("move", "window") and threshold > MAX_PERCENT:
                raise AlertError(f"A change must be at most {MAX_PERCENT:g}%.")
            old.append(alert.threshold)
            alert.threshold = threshold
            alert.armed = True
            alert.fire_count = 0
            if alert.condition == "cross":
                quote = quote_for(alert.symbol)
                if quote is not None:
                    alert.side = "below" if quote.price < threshold else "above"

        view = await self._change(user_pk=user_pk, number=number, change=change)
        return view, old[0]

    async def restore(self, *, user_pk: int, number: int, state: str | None = None, threshold: float | None = None) -> AlertView:
        """Undo a cancel (``state``) or a level change (``threshold``) of an alert."""
        async with self._sessionmaker.begin() as session:
            alert = (
                await session.execute(select(Alert).where(Alert.user_pk == user_pk, Alert.number == number))
            ).scalar_one_or_none()
            if alert is None:
                raise AlertError(f"You have no alert #{number}.")
            if state is not None:
                alert.state = state
            if threshold is not None:
                alert.threshold = threshold
            view = AlertView.of(alert)
        await self._on_change(view.id)
        return view
