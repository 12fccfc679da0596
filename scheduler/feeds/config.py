"""Choose and configure the price feed from environment variables."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from scheduler.feeds.base import DEFAULT_SYMBOLS, NoFeed, PriceFeed, normalise_symbol
from scheduler.feeds.http_json import HttpJsonFeed, check_url_template, parse_json_path
from scheduler.feeds.simulated import SimulatedFeed

T = TypeVar("T")


def _value(env: Mapping[str, str], name: str) -> str | None:
    # An empty value ("PRICE_FEED_TIME_PATH=" in a .env file) means "not set".
    raw = env.get(name)
    return raw.strip() if raw is not None and raw.strip() else None


def _parsed(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = _value(env, name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _seconds(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number of seconds > 0, got {raw!r}")
    return value


def _symbol(raw: str) -> str:
    symbol = normalise_symbol(raw)
    if symbol is None:
        raise ValueError(f"invalid symbol {raw!r} (1-15 of A-Z 0-9 . / -)")
    return symbol


def _simulated_symbols(raw: str) -> dict[str, float]:
    # "BTC,ETH,DOGE=0.15": known symbols start at their default price, others need one.
    symbols: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, price = item.partition("=")
        symbol = _symbol(name)
        if price:
            start = float(price)
            if not math.isfinite(start) or start <= 0:
                raise ValueError(f"start price of {symbol} must be > 0, got {price!r}")
            symbols[symbol] = start
        elif symbol in DEFAULT_SYMBOLS:
            symbols[symbol] = DEFAULT_SYMBOLS[symbol]
        else:
            raise ValueError(f"no start price for {symbol}; write {symbol}=<price>")
    if not symbols:
        raise ValueError("no symbols listed")
    return symbols


def _json_path(raw: str) -> str:
    parse_json_path(raw)
    return raw


def _http_symbols(raw: str) -> tuple[str, ...]:
    symbols = tuple(_symbol(item) for item in filter(None, (part.strip() for part in raw.split(","))))
    if not symbols:
        raise ValueError("no symbols listed")
    return symbols


def feed_from_env(env: Mapping[str, str]) -> PriceFeed:
    """Build the feed the environment asks for.

    ``PRICE_FEED`` is ``simulated`` (the default), ``http``, or ``none`` (prices arrive
    only through ``POST /api/prices``). Both read
    ``PRICE_FEED_INTERVAL_SECONDS`` and ``PRICE_FEED_SYMBOLS`` (comma list; the simulated
    feed also takes ``SYM=start_price`` for symbols it does not know). The simulated feed
    reads ``PRICE_FEED_SEED``; the HTTP feed ``PRICE_FEED_URL`` (required),
    ``PRICE_FEED_JSON_PATH`` (default ``price``), ``PRICE_FEED_TIME_PATH``,
    ``PRICE_FEED_TIMEOUT_SECONDS``, ``PRICE_FEED_MAX_BACKOFF_SECONDS`` and
    ``PRICE_FEED_MAX_AGE_SECONDS``. Empty values count as unset.

    Args:
        env: the environment, e.g. ``os.environ``.

    Returns:
        An unstarted feed; it opens no connection until polled.

    Raises:
        ValueError: a variable has a bad value; the message starts with its name.
    """
    kind = (_value(env, "PRICE_FEED") or "simulated").lower()
    if kind == "none":
        return NoFeed()
    if kind == "simulated":
        return SimulatedFeed(
            seed=_parsed(env, "PRICE_FEED_SEED", int, 42),
            symbols=_parsed(env, "PRICE_FEED_SYMBOLS", _simulated_symbols, dict(DEFAULT_SYMBOLS)),
            interval_seconds=_parsed(env, "PRICE_FEED_INTERVAL_SECONDS", _seconds, 5.0),
        )
    if kind == "http":
        url = _parsed(env, "PRICE_FEED_URL", check_url_template, None)
        if url is None:
            raise ValueError("PRICE_FEED_URL: required when PRICE_FEED=http")
        json_path = _parsed(env, "PRICE_FEED_JSON_PATH", _json_path, "price")
        time_path = _parsed(env, "PRICE_FEED_TIME_PATH", _json_path, None)
        return HttpJsonFeed(
            url_template=url,
            json_path=json_path,
            time_path=time_path,
            symbols=_parsed(env, "PRICE_FEED_SYMBOLS", _http_symbols, tuple(DEFAULT_SYMBOLS)),
            interval_seconds=_parsed(env, "PRICE_FEED_INTERVAL_SECONDS", _seconds, 30.0),
            timeout_seconds=_parsed(env, "PRICE_FEED_TIMEOUT_SECONDS", _seconds, 5.0),
            max_backoff_seconds=_parsed(env, "PRICE_FEED_MAX_BACKOFF_SECONDS", _seconds, 300.0),
            max_age_seconds=_parsed(env, "PRICE_FEED_MAX_AGE_SECONDS", _seconds, None),
        )
    raise ValueError(
        f"PRICE_FEED: must be 'simulated', 'http' or 'none', got {env.get('PRICE_FEED')!r}"
    )
