"""A real provider polled over HTTP: one JSON document per symbol, price found by a path.

A provider's trouble stays here. Every fault (HTTP error, timeout, refused connection,
a body that is not JSON or too big, a missing or unusable price) becomes a logged error
in ``health()`` and an exponential, jittered backoff for that symbol alone; ``poll()``
returns the ticks it did get and never raises for them. A price whose provider timestamp
is older than ``max_age_seconds`` is dropped, so alerts never fire on stale data.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from scheduler.feeds.base import (
    Clock,
    PriceTick,
    normalise_symbol,
    positive_seconds,
    require_aware,
    system_clock,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Provider clocks drift; a timestamp this far ahead of ours is wrong, not early.
FUTURE_TOLERANCE = timedelta(minutes=5)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

SessionFactory = Callable[[], aiohttp.ClientSession]


class ProviderError(Exception):
    """The provider's answer for one symbol is unusable; the symbol backs off."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StaleTick(Exception):
    """The provider answered, but with a price older than ``max_age_seconds``."""


def check_url_template(template: str) -> str:
    """Validate a URL template: http(s), a host, and a ``{symbol}`` placeholder."""
    if not isinstance(template, str) or "{symbol}" not in template:
        raise ValueError(f"URL template must contain {{symbol}}, got {template!r}")
    parts = urlsplit(template.replace("{symbol}", "X"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"URL template must be an http(s) URL with a host, got {template!r}")
    return template


def parse_json_path(path: str) -> tuple[str, ...]:
    """Split a dotted path ("data.0.price") into its segments; digits index lists."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"JSON path must be a non-empty dotted path, got {path!r}")
    segments = tuple(path.strip().split("."))
    if any(not segment for segment in segments):
        raise ValueError(f"JSON path has an empty segment: {path!r}")
    return segments


def _lookup(document: Any, segments: tuple[str, ...], label: str) -> Any:
    node = document
    for segment in segments:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            raise ProviderError(f"missing {label} {'.'.join(segments)!r} in response")
    return node


def _number(value: Any) -> float | None:
    # Many providers send prices as decimal strings ("68000.12"), so those count as numbers.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _price(value: Any) -> float:
    price = _number(value)
    if price is None:
        if isinstance(value, str) and value.strip().lower() in ("nan", "inf", "-inf", "infinity"):
            raise ProviderError(f"price is not finite: {value!r}")
        raise ProviderError(f"price is not a number: {str(value)[:40]!r}")
    if not math.isfinite(price):
        raise ProviderError(f"price is not finite: {value!r}")
    if price <= 0:
        raise ProviderError(f"price must be > 0, got {price!r}")
    return price


def _timestamp(value: Any) -> datetime:
    seconds = _number(value)
    try:
        if seconds is not None:
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            # A zone-less timestamp from a provider is taken as UTC, the usual convention.
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise ProviderError(f"timestamp is neither ISO-8601 nor epoch seconds: {str(value)[:40]!r}")


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    number = _number(response.headers.get("Retry-After", ""))
    return number if number is not None and math.isfinite(number) and number > 0 else None


@dataclass
class _SymbolState:
    failures: int = 0
    last_ok: datetime | None = None
    last_error: str | None = None
    next_try: datetime | None = None


class HttpJsonFeed:
    """Polls one URL per symbol and reads the price from the JSON response.

    Args:
        url_template: e.g. "https://host/price?symbol={symbol}"; the symbol is URL-quoted
            completely, so "EUR/USD" arrives as one value.
        json_path: dotted path to the price, digits index lists ("data.0.price").
        symbols: the symbols to poll.
        interval_seconds: how often the scheduler should poll; also the first backoff step.
        timeout_seconds: limit for one request, connecting to reading the body.
        max_backoff_seconds: the longest a failing symbol waits between attempts.
        max_age_seconds: a price whose timestamp is older than this is dropped.
        time_path: dotted path to an ISO-8601 or epoch-seconds timestamp; without it the
            price is taken as observed when the response arrived.
        session_factory: creates the ``aiohttp.ClientSession`` (once, on the first poll).
        clock: returns the current aware UTC time.
    """

    def __init__(
        self,
        *,
        url_template: str,
        json_path: str,
        symbols: tuple[str, ...],
        interval_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        max_backoff_seconds: float = 300.0,
        max_age_seconds: float | None = None,
        time_path: str | None = None,
        session_factory: SessionFactory | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.url_template = check_url_template(url_template)
        self.json_path = json_path
        self.time_path = time_path
        self._path = parse_json_path(json_path)
        self._time_path = parse_json_path(time_path) if time_path is not None else None
        canonical: list[str] = []
        for raw in symbols:
            symbol = normalise_symbol(raw)
            if symbol is None:
                raise ValueError(f"invalid symbol {raw!r}")
            if symbol not in canonical:
                canonical.append(symbol)
        if not canonical:
            raise ValueError("symbols must not be empty")
        self.symbols: tuple[str, ...] = tuple(canonical)
        self.interval_seconds = positive_seconds(interval_seconds, "interval_seconds")
        self.timeout_seconds = positive_seconds(timeout_seconds, "timeout_seconds")
        self.max_backoff_seconds = positive_seconds(max_backoff_seconds, "max_backoff_seconds")
        self.max_age_seconds = (
            None if max_age_seconds is None else positive_seconds(max_age_seconds, "max_age_seconds")
        )
        self.name = f"http:{urlsplit(url_template.replace('{symbol}', 'X')).hostname}"
        self._session_factory = session_factory or _default_session
        self._clock = clock or system_clock
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._state = {symbol: _SymbolState() for symbol in self.symbols}
        # Jitter spreads retries of many symbols (and many bot instances) apart.
        self._jitter = random.Random()

    def health(self) -> dict[str, dict[str, Any]]:
        """Per symbol: when it last succeeded, its latest error, and when it is tried next.

        ``last_error`` is cleared by a success; ``next_try`` is None when not backing off.
        """
        return {
            symbol: {"last_ok": state.last_ok, "last_error": state.last_error, "next_try": state.next_try}
            for symbol, state in self._state.items()
        }

    async def poll(self, now: datetime) -> list[PriceTick]:
        """Fetch every symbol that is not backing off, concurrently.

        Args:
            now: aware time of this poll; a symbol is skipped while its ``next_try`` is later.

        Returns:
            The fresh, valid ticks, in the order of ``symbols``; [] when nothing succeeded.
        """
        now = require_aware(now)
        if self._closed:
            logger.warning("price feed %s polled after close; ignored", self.name)
            return []
        due = [
            symbol
            for symbol, state in self._state.items()
            if state.next_try is None or state.next_try <= now
        ]
        if not due:
            return []
        if self._session is None:
            self._session = self._session_factory()
        results = await asyncio.gather(*(self._poll_symbol(self._session, symbol) for symbol in due))
        return [tick for tick in results if tick is not None]

    async def close(self) -> None:
        """Close the HTTP session; later polls return []."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def _poll_symbol(self, session: aiohttp.ClientSession, symbol: str) -> PriceTick | None:
        state = self._state[symbol]
        try:
            tick = await self._fetch(session, symbol)
        except StaleTick as exc:
            # The provider is up, so no backoff; the next regular poll may bring a fresh price.
            state.last_error = str(exc)
            logger.warning("price feed %s: %s skipped: %s", self.name, symbol, exc)
            return None
        except ProviderError as exc:
            self._failed(symbol, str(exc), retry_after=exc.retry_after)
        except TimeoutError:
            self._failed(symbol, f"timed out after {self.timeout_seconds:g}s")
        except aiohttp.ClientError as exc:
            # Only the type and status: the text of some aiohttp errors holds the full URL,
            # and a provider's API key may be in its query string.
            status = getattr(exc, "status", None)
            self._failed(symbol, f"request failed: {type(exc).__name__}" + (f" {status}" if status else ""))
        except Exception as exc:  # a provider must never break the poll loop
            logger.error("price feed %s: unexpected %s for %s", self.name, type(exc).__name__, symbol)
            self._failed(symbol, f"unexpected {type(exc).__name__}")
        else:
            state.failures = 0
            state.last_ok = self._clock()
            state.last_error = None
            state.next_try = None
            return tick
        return None

    async def _fetch(self, session: aiohttp.ClientSession, symbol: str) -> PriceTick:
        url = self.url_template.replace("{symbol}", quote(symbol, safe=""))
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        async with session.get(url, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise ProviderError(f"HTTP {response.status}", retry_after=_retry_after(response))
            if response.content_length is not None and response.content_length > MAX_BODY_BYTES:
                raise ProviderError(f"response body over {MAX_BODY_BYTES} bytes")
            body = bytearray()
            async for chunk in response.content.iter_any():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ProviderError(f"response body over {MAX_BODY_BYTES} bytes")
        received = self._clock()
        try:
            document = json.loads(bytes(body))
        except (ValueError, RecursionError):
            raise ProviderError(f"invalid JSON: {bytes(body[:40])!r}") from None
        price = _price(_lookup(document, self._path, "price"))
        at = received
        if self._time_path is not None:
            at = _timestamp(_lookup(document, self._time_path, "timestamp"))
            if at > received + FUTURE_TOLERANCE:
                raise ProviderError(f"timestamp {at.isoformat()} is in the future")
            at = min(at, received)
        age = (received - at).total_seconds()
        if self.max_age_seconds is not None and age > self.max_age_seconds:
            raise StaleTick(f"stale price: {age:.0f}s old (max {self.max_age_seconds:g}s)")
        return PriceTick(symbol=symbol, price=price, at=at, source=self.name)

    def _failed(self, symbol: str, error: str, *, retry_after: float | None = None) -> None:
        state = self._state[symbol]
        state.failures += 1
        nominal = min(self.max_backoff_seconds, self.interval_seconds * 2 ** min(state.failures - 1, 30))
        delay = nominal * self._jitter.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_backoff_seconds))
        state.last_error = error
        state.next_try = self._clock() + timedelta(seconds=delay)
        logger.warning(
            "price feed %s: %s failed (%d in a row): %s; next try in %.1fs",
            self.name, symbol, state.failures, error, delay,
        )


def _default_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        headers={"Accept": "application/json", "User-Agent": "Nudge price feed"}
    )
