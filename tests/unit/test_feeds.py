"""Price feeds: the simulated walk, the HTTP JSON poller against a local fake provider, and
configuration from the environment."""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web

from scheduler.feeds import (
    DEFAULT_SYMBOLS,
    MAX_BODY_BYTES,
    HttpJsonFeed,
    PriceFeed,
    PriceTick,
    SimulatedFeed,
    feed_from_env,
    normalise_symbol,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance_to(self, when: datetime) -> None:
        self.now = when


Answer = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


class Provider:
    """Plays the price provider: ``GET /price?symbol=X`` and ``GET /path/{symbol}``.

    ``answer`` decides the response; every symbol asked for is recorded in ``requests``.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.answer: Answer = self.price_answer({"price": 100.0})
        self.app = web.Application()
        self.app.router.add_get("/price", self._by_query)
        self.app.router.add_get("/path/{symbol}", self._by_path)
        self.url = ""
        self.path_url = ""

    @staticmethod
    def price_answer(document: object) -> Answer:
        async def answer(request: web.Request, symbol: str) -> web.StreamResponse:
            return web.json_response(document)

        return answer

    @staticmethod
    def raw_answer(body: bytes, *, status: int = 200, content_type: str = "application/json", headers=None) -> Answer:
        async def answer(request: web.Request, symbol: str) -> web.StreamResponse:
            return web.Response(body=body, status=status, content_type=content_type, headers=headers)

        return answer

    async def _by_query(self, request: web.Request) -> web.StreamResponse:
        symbol = request.query.get("symbol", "")
        self.requests.append(symbol)
        return await self.answer(request, symbol)

    async def _by_path(self, request: web.Request) -> web.StreamResponse:
        symbol = request.match_info["symbol"]
        self.requests.append(symbol)
        return await self.answer(request, symbol)


@pytest.fixture
async def provider(aiohttp_server) -> Provider:
    fake = Provider()
    server = await aiohttp_server(fake.app, host="127.0.0.1")
    fake.url = str(server.make_url("/price")) + "?symbol={symbol}"
    fake.path_url = str(server.make_url("/path/")) + "{symbol}"
    return fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_feed(provider: Provider, clock: FakeClock):
    """Build an HttpJsonFeed pointed at the provider; every feed is closed afterwards."""
    created: list[HttpJsonFeed] = []

    def make(**kwargs) -> HttpJsonFeed:
        kwargs.setdefault("url_template", provider.url)
        kwargs.setdefault("json_path", "price")
        kwargs.setdefault("symbols", ("BTC",))
        kwargs.setdefault("clock", clock)
        feed = HttpJsonFeed(**kwargs)
        created.append(feed)
        return feed

    yield make
    for feed in created:
        await feed.close()


# --- symbols and ticks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" btc ", "BTC"),
        ("eur/usd", "EUR/USD"),
        ("BRK.B", "BRK.B"),
        ("x" * 15, "X" * 15),
        ("x" * 16, None),
        ("", None),
        ("   ", None),
        ("BTC USD", None),
        ("BTC=1", None),
        ("$BTC", None),
        ("/", None),
        ("..", None),
        ("ÄPFEL", None),
    ],
)
def test_normalise_symbol(raw: str, expected: str | None) -> None:
    assert normalise_symbol(raw) == expected


def test_tick_is_validated_and_converted_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    tick = PriceTick(symbol="BTC", price=5, at=datetime(2026, 3, 1, 13, 0, tzinfo=cet), source="push")
    assert tick.at == T0 and tick.at.tzinfo is UTC
    assert tick.price == 5.0 and isinstance(tick.price, float)
    for bad in (
        {"price": math.nan},
        {"price": math.inf},
        {"price": 0.0},
        {"price": -1.0},
        {"price": True},
        {"symbol": "btc"},
        {"at": datetime(2026, 3, 1, 12, 0)},
    ):
        fields = {"symbol": "BTC", "price": 1.0, "at": T0, "source": "push", **bad}
        with pytest.raises(ValueError):
            PriceTick(**fields)


# --- simulated feed --------------------------------------------------------------------


async def run(feed: PriceFeed, polls: int, *, step_seconds: float = 5.0) -> list[PriceTick]:
    ticks: list[PriceTick] = []
    for i in range(polls):
        ticks.extend(await feed.poll(T0 + timedelta(seconds=step_seconds * i)))
    return ticks


async def test_simulated_starts_at_the_default_prices_and_is_labelled() -> None:
    feed = SimulatedFeed()
    assert isinstance(feed, PriceFeed)
    assert feed.symbols == ("BTC", "ETH", "AAPL", "MSFT", "EUR/USD")
    first = await feed.poll(T0)
    assert {tick.symbol: tick.price for tick in first} == DEFAULT_SYMBOLS
    later = await feed.poll(T0 + timedelta(seconds=5))
    for tick in first + later:
        assert tick.source == "simulated" and tick.simulated is True
    assert {tick.at for tick in later} == {T0 + timedelta(seconds=5)}


async def test_simulated_same_seed_gives_the_same_ticks() -> None:
    one = await run(SimulatedFeed(seed=7), 200)
    two = await run(SimulatedFeed(seed=7), 200)
    assert one == two
    btc = [tick.price for tick in one if tick.symbol == "BTC"]
    # It really walks: otherwise equality above would prove nothing.
    assert len(set(btc)) > 150


async def test_simulated_different_seed_gives_different_ticks() -> None:
    one = await run(SimulatedFeed(seed=1), 50)
    two = await run(SimulatedFeed(seed=2), 50)
    assert [t.price for t in one[5:]] != [t.price for t in two[5:]]
    assert all(a.price != b.price for a, b in zip(one[5:], two[5:], strict=True))


async def test_simulated_moves_with_elapsed_time_only() -> None:
    feed = SimulatedFeed(seed=3)
    first = await feed.poll(T0)
    again = await feed.poll(T0)
    assert [t.price for t in again] == [t.price for t in first]
    moved = await feed.poll(T0 + timedelta(seconds=5))
    assert all(a.price != b.price for a, b in zip(first, moved, strict=True))


@pytest.mark.parametrize("volatility", [None, 1.0])
async def test_simulated_prices_stay_positive_and_finite_over_10000_steps(volatility: float | None) -> None:
    sigmas = None if volatility is None else {symbol: volatility for symbol in DEFAULT_SYMBOLS}
    feed = SimulatedFeed(seed=11, volatility=sigmas)
    ticks = await run(feed, 10_000)
    assert len(ticks) == 10_000 * len(DEFAULT_SYMBOLS)
    for tick in ticks:
        assert math.isfinite(tick.price) and tick.price > 0
        start = DEFAULT_SYMBOLS[tick.symbol]
        assert start / 1e6 <= tick.price <= start * 1e6


async def test_simulated_custom_symbols_and_bad_arguments() -> None:
    feed = SimulatedFeed(symbols={"doge": 0.15}, volatility={"DOGE": 0.0})
    ticks = await run(feed, 3)
    assert [(t.symbol, t.price) for t in ticks] == [("DOGE", 0.15)] * 3
    with pytest.raises(ValueError):
        await feed.poll(datetime(2026, 3, 1, 12, 0))
    for kwargs in (
        {"symbols": {}},
        {"symbols": {"BTC": 0}},
        {"symbols": {"BTC": math.nan}},
        {"symbols": {"B C": 1.0}},
        {"volatility": {"DOGE": 0.1}},
        {"volatility": {"BTC": -0.1}},
        {"interval_seconds": 0},
    ):
        with pytest.raises(ValueError):
            SimulatedFeed(**kwargs)


# --- HTTP JSON feed: good answers -----------------------------------------------------


async def test_http_good_price(provider: Provider, make_feed, clock: FakeClock) -> None:
    provider.answer = provider.price_answer({"price": 68000.5})
    feed = make_feed()
    assert isinstance(feed, PriceFeed)
    ticks = await feed.poll(clock())
    assert ticks == [PriceTick(symbol="BTC", price=68000.5, at=T0, source="http:127.0.0.1")]
    assert provider.requests == ["BTC"]
    assert feed.health() == {"BTC": {"last_ok": T0, "last_error": None, "next_try": None}}


async def test_http_decimal_string_price_is_accepted(provider: Provider, make_feed, clock: FakeClock) -> None:
    # Providers such as Binance and Coinbase quote prices as decimal strings.
    provider.answer = provider.price_answer({"price": " 68000.12 "})
    ticks = await make_feed().poll(clock())
    assert [t.price for t in ticks] == [68000.12]


async def test_http_nested_path_with_list_index(provider: Provider, make_feed, clock: FakeClock) -> None:
    provider.answer = provider.price_answer({"data": [{"price": 1.5}, {"price": 2}], "price": 99})
    second = await make_feed(json_path="data.1.price").poll(clock())
    first = await make_feed(json_path="data.0.price").poll(clock())
    assert [t.price for t in second] == [2.0]
    assert [t.price for t in first] == [1.5]


@pytest.mark.parametrize("template", ["query", "path"])
async def test_http_symbol_is_url_quoted(provider: Provider, make_feed, clock: FakeClock, template: str) -> None:
    async def echo(request: web.Request, symbol: str) -> web.StreamResponse:
        return web.json_response({"price": {"EUR/USD": 1.09, "BTC": 68000}.get(symbol, 0)})

    provider.answer = echo
    url = provider.url if template == "query" else provider.path_url
    feed = make_feed(url_template=url, symbols=("eur/usd", "BTC"))
    ticks = await feed.poll(clock())
    assert sorted(provider.requests) == ["BTC", "EUR/USD"]
    assert [(t.symbol, t.price) for t in ticks] == [("EUR/USD", 1.09), ("BTC", 68000.0)]


async def test_http_fetches_symbols_concurrently(provider: Provider, make_feed, clock: FakeClock) -> None:
    both_waiting = asyncio.Event()

    async def barrier(request: web.Request, symbol: str) -> web.StreamResponse:
        # Each request waits for the other; fetched one after another, both would fail.
        if len(provider.requests) == 2:
            both_waiting.set()
        try:
            await asyncio.wait_for(both_waiting.wait(), timeout=2.0)
        except TimeoutError:
            return web.Response(status=503)
        return web.json_response({"price": 10})

    provider.answer = barrier
    ticks = await asyncio.wait_for(make_feed(symbols=("BTC", "ETH")).poll(clock()), timeout=10)
    assert [t.symbol for t in ticks] == ["BTC", "ETH"]


# --- HTTP JSON feed: provider faults --------------------------------------------------


def backoff_delay(feed: HttpJsonFeed, clock: FakeClock, symbol: str = "BTC") -> float:
    next_try = feed.health()[symbol]["next_try"]
    assert next_try is not None, feed.health()
    return (next_try - clock()).total_seconds()


async def test_http_500_backs_off_exponentially_and_success_resets(
    provider: Provider, make_feed, clock: FakeClock
) -> None:
    provider.answer = provider.raw_answer(b"oops", status=500, content_type="text/plain")
    feed = make_feed(interval_seconds=10, max_backoff_seconds=1000)
    delays = []
    for attempt in range(5):
        assert await feed.poll(clock()) == []
        assert len(provider.requests) == attempt + 1
        assert feed.health()["BTC"]["last_error"] == "HTTP 500"
        delay = backoff_delay(feed, clock)
        nominal = 10 * 2**attempt
        assert nominal / 2 <= delay <= nominal, (attempt, delay)
        delays.append(delay)
        # Still backing off: the poll makes no request.
        clock.advance_to(clock() + timedelta(seconds=delay / 2))
        assert await feed.poll(clock()) == []
        assert len(provider.requests) == attempt + 1
        clock.advance_to(feed.health()["BTC"]["next_try"])
    assert delays == sorted(delays) and delays[-1] >= 4 * delays[0]

    provider.answer = provider.price_answer({"price": 5})
    assert [t.price for t in await feed.poll(clock())] == [5.0]
    assert feed.health()["BTC"] == {"last_ok": clock(), "last_error": None, "next_try": None}

    provider.answer = provider.raw_answer(b"oops", status=502, content_type="text/plain")
    assert await feed.poll(clock()) == []
    assert 5 <= backoff_delay(feed, clock) <= 10  # back to the first step


async def test_http_backoff_is_capped(provider: Provider, make_feed, clock: FakeClock) -> None:
    provider.answer = provider.raw_answer(b"", status=503)
    feed = make_feed(interval_seconds=10, max_backoff_seconds=25)
    delays = []
    for _ in range(8):
        assert await feed.poll(clock()) == []
        delays.append(backoff_delay(feed, clock))
        clock.advance_to(feed.health()["BTC"]["next_try"])
    # Nominal steps 10, 20, then 25 (the cap) from the third failure on; jitter takes up to half.
    assert all(delay <= 25 for delay in delays), delays
    assert all(delay >= 12.5 for delay in delays[2:]), delays


async def test_http_retry_after_is_honoured(provider: Provider, make_feed, clock: FakeClock) -> None:
    provider.answer = provider.raw_answer(b"slow down", status=429, headers={"Retry-After": "120"})
    feed = make_feed(interval_seconds=10)
    assert await feed.poll(clock()) == []
    assert feed.health()["BTC"]["last_error"] == "HTTP 429"
    assert 120 <= backoff_delay(feed, clock) <= 300


async def test_http_one_failing_symbol_does_not_affect_others(
    provider: Provider, make_feed, clock: FakeClock
) -> None:
    async def answer(request: web.Request, symbol: str) -> web.StreamResponse:
        if symbol == "BTC":
            return web.Response(status=500)
        return web.json_response({"price": 3500})

    provider.answer = answer
    feed = make_feed(symbols=("BTC", "ETH"))
    assert [(t.symbol, t.price) for t in await feed.poll(clock())] == [("ETH", 3500.0)]
    health = feed.health()
    assert health["BTC"]["last_error"] == "HTTP 500" and health["BTC"]["next_try"] is not None
    assert health["ETH"] == {"last_ok": T0, "last_error": None, "next_try": None}


async def test_http_timeout_gives_no_tick_and_does_not_stall(
    provider: Provider, make_feed, clock: FakeClock
) -> None:
    never = asyncio.Event()

    async def hang(request: web.Request, symbol: str) -> web.StreamResponse:
        if symbol == "BTC":
            await never.wait()
        return web.json_response({"price": 3500})

    provider.answer = hang
    feed = make_feed(symbols=("BTC", "ETH"), timeout_seconds=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        ticks = await asyncio.wait_for(feed.poll(clock()), timeout=5)
        elapsed = loop.time() - started
    finally:
        never.set()  # lets the provider's handler finish so the server shuts down promptly
    assert [t.symbol for t in ticks] == ["ETH"]
    assert 0.15 <= elapsed < 1.5, elapsed
    assert feed.health()["BTC"]["last_error"] == "timed out after 0.2s"
    assert feed.health()["BTC"]["next_try"] is not None


async def test_http_connection_refused(make_feed, clock: FakeClock) -> None:
    # A socket bound but not listening: the port is ours, and connecting to it is refused.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        feed = make_feed(url_template=f"http://127.0.0.1:{port}/price?symbol={{symbol}}")
        ticks = await asyncio.wait_for(feed.poll(clock()), timeout=5)
    assert ticks == []
    error = feed.health()["BTC"]["last_error"]
    assert error is not None and error.startswith("request failed: ClientConnectorError"), error
    assert feed.health()["BTC"]["next_try"] is not None


@pytest.mark.parametrize(
    ("answer", "json_path", "error"),
    [
        (Provider.raw_answer(b"{not json"), "price", "invalid JSON"),
        (Provider.raw_answer(b"", content_type="application/json"), "price", "invalid JSON"),
        (
            Provider.raw_answer(b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
            "price",
            "invalid JSON",
        ),
        (Provider.raw_answer(b"[" * 20000 + b"]" * 20000), "price", "invalid JSON"),
        (Provider.price_answer({"data": {"amount": 5}}), "price", "missing price 'price'"),
        (Provider.price_answer({"data": [{"price": 5}]}), "data.1.price", "missing price 'data.1.price'"),
        (Provider.price_answer({"data": {"0": 5}}), "data.x", "missing price 'data.x'"),
        (Provider.price_answer({"price": "NaN"}), "price", "price is not finite"),
        (Provider.raw_answer(b'{"price": NaN}'), "price", "price is not finite"),
        (Provider.raw_answer(b'{"price": Infinity}'), "price", "price is not finite"),
        (Provider.raw_answer(b'{"price": 1e400}'), "price", "price is not finite"),
        (Provider.price_answer({"price": -5}), "price", "price must be > 0"),
        (Provider.price_answer({"price": 0}), "price", "price must be > 0"),
        (Provider.price_answer({"price": "sixty thousand"}), "price", "price is not a number"),
        (Provider.price_answer({"price": "1_000"}), "price", "price is not a number"),
        (Provider.price_answer({"price": True}), "price", "price is not a number"),
        (Provider.price_answer({"price": None}), "price", "price is not a number"),
        (Provider.price_answer({"price": {"value": 5}}), "price", "price is not a number"),
        (Provider.price_answer([1, 2]), "price", "missing price"),
        (Provider.raw_answer(b'{"price": 5}', status=404), "price", "HTTP 404"),
    ],
)
async def test_http_bad_answer_gives_no_tick_and_shows_in_health(
    provider: Provider, make_feed, clock: FakeClock, answer: Answer, json_path: str, error: str
) -> None:
    provider.answer = answer
    feed = make_feed(json_path=json_path)
    assert await feed.poll(clock()) == []
    health = feed.health()["BTC"]
    assert health["last_error"] is not None and health["last_error"].startswith(error), health
    assert health["last_ok"] is None and health["next_try"] is not None


async def test_http_timestamps_and_stale_prices(provider: Provider, make_feed, clock: FakeClock) -> None:
    feed = make_feed(time_path="data.ts", json_path="data.price", max_age_seconds=60)

    async def poll_with(ts: object) -> list[PriceTick]:
        provider.answer = provider.price_answer({"data": {"price": 7, "ts": ts}})
        clock.advance_to(clock() + timedelta(seconds=1))
        return await feed.poll(clock())

    observed = clock() + timedelta(seconds=1) - timedelta(seconds=10)
    assert [t.at for t in await poll_with(observed.isoformat().replace("+00:00", "Z"))] == [observed]
    observed = clock() + timedelta(seconds=1) - timedelta(seconds=30)
    assert [t.at for t in await poll_with(observed.timestamp())] == [observed]
    assert [t.at for t in await poll_with(str(int(observed.timestamp())))] == [observed]
    naive = (clock() + timedelta(seconds=1) - timedelta(seconds=5)).replace(tzinfo=None)
    assert [t.at for t in await poll_with(naive.isoformat())] == [naive.replace(tzinfo=UTC)]
    # Slightly ahead of our clock: accepted, but never dated in the future.
    assert [t.at for t in await poll_with((clock() + timedelta(seconds=31)).isoformat())] == [clock()]

    stale = clock() - timedelta(seconds=120)
    assert await poll_with(stale.isoformat()) == []
    health = feed.health()["BTC"]
    assert health["last_error"].startswith("stale price"), health
    # The provider answered: no backoff for a stale price.
    assert health["next_try"] is None

    assert await poll_with("yesterday") == []
    assert feed.health()["BTC"]["last_error"].startswith("timestamp is neither")
    clock.advance_to(feed.health()["BTC"]["next_try"])
    assert await poll_with((clock() + timedelta(hours=1)).isoformat()) == []
    assert "in the future" in feed.health()["BTC"]["last_error"]
    clock.advance_to(feed.health()["BTC"]["next_try"])
    assert await poll_with(1e20) == []  # epoch milliseconds or nonsense: out of range


async def test_http_without_time_path_is_never_stale(provider: Provider, make_feed, clock: FakeClock) -> None:
    provider.answer = provider.price_answer({"price": 7, "ts": "2001-01-01T00:00:00Z"})
    ticks = await make_feed(max_age_seconds=1).poll(clock())
    assert [t.at for t in ticks] == [T0]


def padded(size: int) -> bytes:
    head = b'{"price": 5, "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def test_http_oversize_body_is_an_error(provider: Provider, make_feed, clock: FakeClock) -> None:
    feed = make_feed()
    provider.answer = provider.raw_answer(padded(MAX_BODY_BYTES))
    assert [t.price for t in await feed.poll(clock())] == [5.0]

    provider.answer = provider.raw_answer(padded(MAX_BODY_BYTES + 1))
    assert await feed.poll(clock()) == []
    assert feed.health()["BTC"]["last_error"] == f"response body over {MAX_BODY_BYTES} bytes"


async def test_http_oversize_chunked_body_is_an_error(provider: Provider, make_feed, clock: FakeClock) -> None:
    sent = {"bytes": 0}

    async def endless(request: web.Request, symbol: str) -> web.StreamResponse:
        # No Content-Length, so only counting while reading can catch it.
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            await response.write(b'{"price": 5, "pad": "')
            for _ in range(1000):  # up to 8 MB, far past the cap
                await response.write(b"x" * 8192)
                sent["bytes"] += 8192
            await response.write(b'"}')
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass  # the feed hung up, as it should
        return response

    provider.answer = endless
    feed = make_feed(timeout_seconds=5)
    assert await asyncio.wait_for(feed.poll(clock()), timeout=10) == []
    assert feed.health()["BTC"]["last_error"] == f"response body over {MAX_BODY_BYTES} bytes"


# --- HTTP JSON feed: session lifecycle ------------------------------------------------


async def test_http_session_is_lazy_reused_and_closed(provider: Provider, clock: FakeClock) -> None:
    sessions: list[aiohttp.ClientSession] = []

    def factory() -> aiohttp.ClientSession:
        sessions.append(aiohttp.ClientSession())
        return sessions[-1]

    feed = HttpJsonFeed(
        url_template=provider.url, json_path="price", symbols=("BTC", "ETH"), session_factory=factory, clock=clock
    )
    try:
        assert sessions == []  # nothing opened at construction
        await feed.poll(clock())
        await feed.poll(clock())
        assert len(sessions) == 1 and len(provider.requests) == 4
        assert not sessions[0].closed
    finally:
        await feed.close()
    assert sessions[0].closed
    assert await feed.poll(clock()) == []
    assert len(sessions) == 1 and len(provider.requests) == 4
    await feed.close()  # closing twice is harmless


def test_http_constructor_rejects_bad_arguments(provider: Provider) -> None:
    good = {"url_template": provider.url, "json_path": "price", "symbols": ("BTC",)}
    for bad in (
        {"url_template": "http://127.0.0.1/price"},
        {"url_template": "ftp://127.0.0.1/{symbol}"},
        {"url_template": "/price?symbol={symbol}"},
        {"json_path": ""},
        {"json_path": "data..price"},
        {"time_path": "."},
        {"symbols": ()},
        {"symbols": ("B C",)},
        {"interval_seconds": 0},
        {"timeout_seconds": -1},
        {"max_backoff_seconds": math.inf},
        {"max_age_seconds": 0},
    ):
        with pytest.raises(ValueError):
            HttpJsonFeed(**{**good, **bad})
    feed = HttpJsonFeed(**{**good, "symbols": ("btc", "BTC", " eth ")})
    assert feed.symbols == ("BTC", "ETH") and feed.name == "http:127.0.0.1"


# --- configuration from the environment -----------------------------------------------


async def test_env_defaults_to_the_simulated_feed() -> None:
    feed = feed_from_env({})
    assert isinstance(feed, SimulatedFeed)
    assert feed.symbols == tuple(DEFAULT_SYMBOLS) and feed.interval_seconds == 5.0
    assert await run(feed, 20) == await run(SimulatedFeed(seed=42), 20)
    assert isinstance(feed_from_env({"PRICE_FEED": "", "PRICE_FEED_SEED": ""}), SimulatedFeed)


async def test_env_configures_the_simulated_feed() -> None:
    env = {
        "PRICE_FEED": " Simulated ",
        "PRICE_FEED_SEED": "7",
        "PRICE_FEED_SYMBOLS": "btc, doge=0.15,",
        "PRICE_FEED_INTERVAL_SECONDS": "2.5",
    }
    feed = feed_from_env(env)
    assert isinstance(feed, SimulatedFeed)
    assert feed.symbols == ("BTC", "DOGE") and feed.interval_seconds == 2.5
    expected = SimulatedFeed(seed=7, symbols={"BTC": 68000.0, "DOGE": 0.15}, interval_seconds=2.5)
    assert await run(feed, 20) == await run(expected, 20)
    assert await run(feed_from_env({**env, "PRICE_FEED_SEED": "8"}), 20) != await run(expected, 20)


async def test_env_configures_the_http_feed(provider: Provider) -> None:
    provider.answer = provider.price_answer({"data": [{"p": "1.25", "t": "2001-01-01T00:00:00Z"}]})
    feed = feed_from_env(
        {
            "PRICE_FEED": "http",
            "PRICE_FEED_URL": provider.url,
            "PRICE_FEED_SYMBOLS": "eur/usd",
            "PRICE_FEED_JSON_PATH": "data.0.p",
            "PRICE_FEED_TIME_PATH": "data.0.t",
            "PRICE_FEED_INTERVAL_SECONDS": "15",
            "PRICE_FEED_TIMEOUT_SECONDS": "2",
            "PRICE_FEED_MAX_BACKOFF_SECONDS": "120",
            "PRICE_FEED_MAX_AGE_SECONDS": "90",
        }
    )
    try:
        assert isinstance(feed, HttpJsonFeed)
        assert (feed.symbols, feed.interval_seconds, feed.timeout_seconds) == (("EUR/USD",), 15.0, 2.0)
        assert (feed.max_backoff_seconds, feed.max_age_seconds) == (120.0, 90.0)
        assert (feed.json_path, feed.time_path) == ("data.0.p", "data.0.t")
        ticks = await feed.poll(T0 + timedelta(seconds=30))
    finally:
        await feed.close()
    # The feed uses the real clock here, by which a 2001 timestamp is stale: max age is applied.
    assert ticks == [] and feed.health()["EUR/USD"]["last_error"].startswith("stale price")
    assert provider.requests == ["EUR/USD"]

    defaults = feed_from_env({"PRICE_FEED": "http", "PRICE_FEED_URL": provider.url})
    assert isinstance(defaults, HttpJsonFeed)
    assert defaults.symbols == tuple(DEFAULT_SYMBOLS) and defaults.json_path == "price"
    assert (defaults.interval_seconds, defaults.timeout_seconds, defaults.max_backoff_seconds) == (30.0, 5.0, 300.0)
    assert defaults.max_age_seconds is None and defaults.time_path is None
    await defaults.close()


HTTP = {"PRICE_FEED": "http", "PRICE_FEED_URL": "http://127.0.0.1:9/price?symbol={symbol}"}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PRICE_FEED": "ftp"}, "PRICE_FEED"),
        ({"PRICE_FEED_SEED": "abc"}, "PRICE_FEED_SEED"),
        ({"PRICE_FEED_SEED": "1.5"}, "PRICE_FEED_SEED"),
        ({"PRICE_FEED_INTERVAL_SECONDS": "0"}, "PRICE_FEED_INTERVAL_SECONDS"),
        ({"PRICE_FEED_INTERVAL_SECONDS": "-5"}, "PRICE_FEED_INTERVAL_SECONDS"),
        ({"PRICE_FEED_INTERVAL_SECONDS": "nan"}, "PRICE_FEED_INTERVAL_SECONDS"),
        ({"PRICE_FEED_INTERVAL_SECONDS": "soon"}, "PRICE_FEED_INTERVAL_SECONDS"),
        ({"PRICE_FEED_SYMBOLS": "BTC,$$$"}, "PRICE_FEED_SYMBOLS"),
        ({"PRICE_FEED_SYMBOLS": "DOGE"}, "PRICE_FEED_SYMBOLS"),
        ({"PRICE_FEED_SYMBOLS": "DOGE=-1"}, "PRICE_FEED_SYMBOLS"),
        ({"PRICE_FEED_SYMBOLS": " , ,"}, "PRICE_FEED_SYMBOLS"),
        ({"PRICE_FEED": "http"}, "PRICE_FEED_URL"),
        ({**HTTP, "PRICE_FEED_URL": "http://127.0.0.1/price"}, "PRICE_FEED_URL"),
        ({**HTTP, "PRICE_FEED_URL": "file:///etc/{symbol}"}, "PRICE_FEED_URL"),
        ({**HTTP, "PRICE_FEED_SYMBOLS": "DOGE=1"}, "PRICE_FEED_SYMBOLS"),
        ({**HTTP, "PRICE_FEED_JSON_PATH": "data..price"}, "PRICE_FEED_JSON_PATH"),
        ({**HTTP, "PRICE_FEED_TIME_PATH": "."}, "PRICE_FEED_TIME_PATH"),
        ({**HTTP, "PRICE_FEED_TIMEOUT_SECONDS": "0"}, "PRICE_FEED_TIMEOUT_SECONDS"),
        ({**HTTP, "PRICE_FEED_MAX_BACKOFF_SECONDS": "x"}, "PRICE_FEED_MAX_BACKOFF_SECONDS"),
        ({**HTTP, "PRICE_FEED_MAX_AGE_SECONDS": "-5"}, "PRICE_FEED_MAX_AGE_SECONDS"),
        ({**HTTP, "PRICE_FEED_INTERVAL_SECONDS": "inf"}, "PRICE_FEED_INTERVAL_SECONDS"),
    ],
)
def test_env_bad_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ValueError, match=f"^{variable}: "):
        feed_from_env(env)

