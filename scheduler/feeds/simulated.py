"""The default feed: a seeded random walk, embedded and offline, clearly labelled simulated."""

from __future__ import annotations

import math
import random
from datetime import datetime

from scheduler.feeds.base import (
    DEFAULT_SYMBOLS,
    PriceTick,
    normalise_symbol,
    positive_seconds,
    require_aware,
)

# Standard deviation of the log return over one interval (5 s by default): roughly the
# feel of each market, so BTC wanders and EUR/USD barely moves.
DEFAULT_VOLATILITY: dict[str, float] = {
    "BTC": 0.002,
    "ETH": 0.0025,
    "AAPL": 0.0008,
    "MSFT": 0.0007,
    "EUR/USD": 0.0002,
}
_OTHER_VOLATILITY = 0.001
_MAX_VOLATILITY = 1.0
# A geometric walk never reaches zero, but with a large volatility over a long run the
# product could underflow to 0.0 or overflow to inf. Keeping each price within a factor
# of a million of its start keeps it finite and > 0 without changing normal behaviour.
_RANGE = 1e6


class SimulatedFeed:
    """Geometric random walk per symbol, driven by ``random.Random(seed)``.

    The first poll returns the start prices; each later poll moves every price by a
    normally distributed log return scaled by the time since the previous poll, so a poll
    after a pause moves further and a repeated ``now`` does not move at all. The random
    draws depend only on the seed and the number of polls, so two feeds with the same seed
    give identical ticks for identical ``now`` sequences.

    Args:
        seed: seed of the feed's own random generator.
        symbols: symbol -> start price; defaults to BTC, ETH, AAPL, MSFT, EUR/USD.
        interval_seconds: how often the scheduler should poll.
        volatility: symbol -> standard deviation of the log return per interval.
    """

    name = "simulated"

    def __init__(
        self,
        *,
        seed: int = 42,
        symbols: dict[str, float] | None = None,
        interval_seconds: float = 5.0,
        volatility: dict[str, float] | None = None,
    ) -> None:
        self.interval_seconds = positive_seconds(interval_seconds, "interval_seconds")
        starts: dict[str, float] = {}
        for raw, price in (DEFAULT_SYMBOLS if symbols is None else symbols).items():
            symbol = normalise_symbol(raw)
            if symbol is None:
                raise ValueError(f"invalid symbol {raw!r}")
            if isinstance(price, bool) or not isinstance(price, (int, float)) or not (
                math.isfinite(price) and price > 0
            ):
                raise ValueError(f"start price of {symbol} must be finite and > 0, got {price!r}")
            starts[symbol] = float(price)
        if not starts:
            raise ValueError("symbols must not be empty")
        sigmas = {symbol: DEFAULT_VOLATILITY.get(symbol, _OTHER_VOLATILITY) for symbol in starts}
        for raw, sigma in (volatility or {}).items():
            symbol = normalise_symbol(raw)
            if symbol not in starts:
                raise ValueError(f"volatility given for unknown symbol {raw!r}")
            if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not (
                0 <= sigma <= _MAX_VOLATILITY
            ):
                raise ValueError(
                    f"volatility of {symbol} must be in [0, {_MAX_VOLATILITY}], got {sigma!r}"
                )
            sigmas[symbol] = float(sigma)
        self.symbols: tuple[str, ...] = tuple(starts)
        self._start = starts
        self._price = dict(starts)
        self._sigma = sigmas
        self._rng = random.Random(seed)
        self._last: datetime | None = None

    async def poll(self, now: datetime) -> list[PriceTick]:
        """Advance the walk to ``now`` and return one tick per symbol.

        Args:
            now: aware time of this poll; becomes the ticks' ``at``.

        Returns:
            One simulated tick per symbol, in the order of ``symbols``.
        """
        now = require_aware(now)
        if self._last is not None:
            steps = max(0.0, (now - self._last).total_seconds()) / self.interval_seconds
            scale = math.sqrt(steps)
            for symbol in self.symbols:
                # Always draw, so the sequence of draws depends only on the number of polls.
                shock = self._rng.gauss(0.0, 1.0)
                start = self._start[symbol]
                moved = self._price[symbol] * math.exp(self._sigma[symbol] * scale * shock)
                self._price[symbol] = min(start * _RANGE, max(start / _RANGE, moved))
        self._last = now
        return [
            PriceTick(
                symbol=symbol,
                price=self._price[symbol],
                at=now,
                source="simulated",
                simulated=True,
            )
            for symbol in self.symbols
        ]

    def resume(self, prices: dict[str, float]) -> None:
        """Continue the walk from stored prices (after a restart), not from the start prices.

        Without this a restart would jump every symbol back to its start price: a fake move
        that could fire alerts.
        """
        for symbol, price in prices.items():
            start = self._start.get(symbol)
            if start is not None and math.isfinite(price) and price > 0:
                self._price[symbol] = min(start * _RANGE, max(start / _RANGE, price))

    async def close(self) -> None:
        """Nothing to release."""
