"""What every price feed shares: the tick, the feed protocol, symbols and the clock."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

Clock = Callable[[], datetime]

# The symbols the simulated feed knows, with their starting prices; also the default
# symbol list of the HTTP feed.
DEFAULT_SYMBOLS: dict[str, float] = {
    "BTC": 68000.0,
    "ETH": 3500.0,
    "AAPL": 190.0,
    "MSFT": 420.0,
    "EUR/USD": 1.08,
}

# The first character must be a letter or digit so that "/", "." and ".." (never symbols,
# and path traversal when substituted into a URL path) are refused.
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9./-]{0,14}")


def system_clock() -> datetime:
    return datetime.now(UTC)


def normalise_symbol(raw: str) -> str | None:
    """Return the canonical form of a symbol (" eur/usd " -> "EUR/USD"), or None if invalid.

    Args:
        raw: a symbol as typed by a user or written in configuration.

    Returns:
        The stripped, upper-cased symbol when it is 1-15 characters of ``A-Z 0-9 . / -``
        starting with a letter or digit; otherwise None.
    """
    if not isinstance(raw, str):
        return None
    candidate = raw.strip().upper()
    return candidate if _SYMBOL.fullmatch(candidate) else None


def require_aware(now: datetime, name: str = "now") -> datetime:
    """Return ``now`` in UTC; a naive datetime is a programming error."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {now!r}")
    return now.astimezone(UTC)


@dataclass(frozen=True)
class PriceTick:
    """One observed price.

    Construction validates the fields, so a tick that exists is always usable: the symbol
    is canonical, the price finite and positive, and ``at`` aware (converted to UTC).

    Attributes:
        symbol: canonical upper-case symbol, e.g. "BTC" or "EUR/USD".
        price: finite, > 0.
        at: aware UTC time the price was observed.
        source: "simulated", "http:<host>" or "push".
        simulated: True for made-up prices, so messages can say so.
    """

    symbol: str
    price: float
    at: datetime
    source: str
    simulated: bool = False

    def __post_init__(self) -> None:
        if normalise_symbol(self.symbol) != self.symbol:
            raise ValueError(f"symbol must be canonical, got {self.symbol!r}")
        if isinstance(self.price, bool) or not isinstance(self.price, (int, float)):
            raise ValueError(f"price must be a number, got {self.price!r}")
        if not math.isfinite(self.price) or self.price <= 0:
            raise ValueError(f"price must be finite and > 0, got {self.price!r}")
        # Frozen: the normalised values are written the way dataclasses do it themselves.
        object.__setattr__(self, "price", float(self.price))
        object.__setattr__(self, "at", require_aware(self.at, "at"))


@runtime_checkable
class PriceFeed(Protocol):
    """A source of ticks, polled by the scheduler every ``interval_seconds``."""

    name: str
    symbols: tuple[str, ...]
    interval_seconds: float

    async def poll(self, now: datetime) -> list[PriceTick]:
        """Return the ticks observed now; never raises for provider trouble (returns [])."""
        ...

    async def close(self) -> None:
        """Release connections; the feed is not polled again."""
        ...


def positive_seconds(value: float, name: str) -> float:
    """Validate a duration in seconds: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


class NoFeed:
    """No polled feed: prices arrive only through ``POST /api/prices``."""

    name = "none"
    symbols: tuple[str, ...] = ()
    interval_seconds = 3600.0

    async def poll(self, now: datetime) -> list[PriceTick]:
        return []

    async def close(self) -> None:
        pass
