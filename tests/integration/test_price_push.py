"""POST /api/prices: authentication, validation, size caps, and what a good push stores."""

from __future__ import annotations

import asyncio
import json

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import Settings
from models.tables import Price

KEY = "k" * 32
OLD_KEY = "o" * 32


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(database_url=database_url, price_api_keys=(KEY, OLD_KEY))


def prices_url(running_bot) -> str:
    return running_bot.url.replace("/api/messages", "/api/prices")


def tick(symbol="BTC", price=70100.5, at: datetime | None = None) -> dict:
    return {"symbol": symbol, "price": price, "time": (at or datetime.now(UTC)).isoformat()}


async def post(running_bot, body=None, *, headers=None, data=None):
    headers = {"Authorization": f"Bearer {KEY}"} if headers is None else headers
    kwargs = {"data": data} if data is not None else {"json": body}
    async with running_bot.http.post(prices_url(running_bot), headers=headers, **kwargs) as response:
        return response.status, await response.json()


async def stored(running_bot) -> dict[str, float]:
    """Latest prices that came from a push (the simulated feed stores its own too)."""
    async with running_bot.sessionmaker() as session:
        rows = await session.execute(select(Price).where(Price.source == "push"))
        return {p.symbol: p.price for p in rows.scalars()}


async def test_good_push_is_accepted_and_becomes_the_latest_price(running_bot):
    status, body = await post(running_bot, [tick("BTC", 70100.5), tick("eur/usd", 1.0842)])
    assert (status, body["accepted"], body["stale"]) == (202, 2, 0)
    prices = await stored(running_bot)
    assert prices["BTC"] == 70100.5 and prices["EUR/USD"] == 1.0842


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key-wrong-key-wrong"},
        {"Authorization": f"Basic {KEY}"},
        {"X-Api-Key": KEY[:-1]},
        {"X-Api-Key": ""},
    ],
)
async def test_missing_or_wrong_key_is_401_and_stores_nothing(running_bot, headers):
    status, body = await post(running_bot, [tick()], headers=headers)
    assert status == 401 and "API key" in body["error"]
    assert await stored(running_bot) == {}


@pytest.mark.parametrize("headers", [{"X-Api-Key": KEY}, {"Authorization": f"Bearer {OLD_KEY}"}])
async def test_either_header_and_every_configured_key_work(running_bot, headers):
    status, _ = await post(running_bot, [tick("ETH", 3600.0)], headers=headers)
    assert status == 202
    assert (await stored(running_bot))["ETH"] == 3600.0


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"symbol": "BTC", "price": 1, "time": "2026-11-24T12:00:00Z"}, "list"),
        ([], "at least one"),
        (["BTC"], "[0] must be an object"),
        ([{"symbol": "BTC", "price": 1}], "[0].time"),
        ([{"symbol": "B TC", "price": 1, "time": "2026-11-24T12:00:00Z"}], "[0].symbol"),
        ([{"symbol": "BTC", "price": -1, "time": "2026-11-24T12:00:00Z"}], "[0].price"),
        ([{"symbol": "BTC", "price": "70000", "time": "2026-11-24T12:00:00Z"}], "[0].price"),
        ([{"symbol": "BTC", "price": True, "time": "2026-11-24T12:00:00Z"}], "[0].price"),
        ([{"symbol": "BTC", "price": 1, "time": "yesterday"}], "[0].time"),
        ([{"symbol": "BTC", "price": 1, "time": "2026-11-24T12:00:00"}], "UTC offset"),
        ([{"symbol": "BTC", "price": 1, "time": "2026-11-24T12:00:00Z", "extra": 1}], "unknown fields"),
    ],
)
async def test_bad_bodies_get_400_with_the_reason_and_store_nothing(running_bot, body, reason):
    status, answer = await post(running_bot, body)
    assert status == 400 and reason in answer["error"]
    assert await stored(running_bot) == {}


async def test_one_bad_tick_rejects_the_whole_push(running_bot):
    status, answer = await post(running_bot, [tick("BTC"), {"symbol": "ETH", "price": 0, "time": tick()["time"]}])
    assert status == 400 and "[1].price" in answer["error"]
    assert await stored(running_bot) == {}


async def test_future_time_is_refused(running_bot):
    status, answer = await post(running_bot, [tick(at=datetime.now(UTC) + timedelta(hours=1))])
    assert status == 400 and "future" in answer["error"]


async def test_stale_ticks_are_counted_and_not_stored(running_bot):
    status, body = await post(running_bot, [tick("MSFT", 400.0, at=datetime.now(UTC) - timedelta(hours=2))])
    assert (status, body["accepted"], body["stale"]) == (202, 0, 1)
    assert "MSFT" not in await stored(running_bot)


async def test_malformed_json_wrong_type_and_oversize(running_bot):
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    status, body = await post(running_bot, headers=headers, data=b"[{not json")
    assert status == 400 and "JSON" in body["error"]
    status, body = await post(running_bot, headers={"Authorization": f"Bearer {KEY}", "Content-Type": "text/plain"}, data=b"[]")
    assert status == 415
    big = b"[" + b",".join([b'{"symbol":"BTC","price":1,"time":"2026-11-24T12:00:00Z"}'] * 2000) + b"]"
    status, body = await post(running_bot, headers=headers, data=big)
    assert status == 413


class TestTickLimit:
    @pytest.fixture
    def bot_settings(self, database_url) -> Settings:
        return Settings(database_url=database_url, price_api_keys=(KEY,), price_push_max_ticks=5)

    async def test_too_many_ticks_is_400(self, running_bot):
        status, body = await post(running_bot, [tick("BTC", 1.0 + i) for i in range(6)])
        assert status == 400 and "at most 5" in body["error"]


class TestDisabled:
    @pytest.fixture
    def bot_settings(self, database_url) -> Settings:
        return Settings(database_url=database_url)

    async def test_no_keys_configured_means_disabled(self, running_bot):
        status, body = await post(running_bot, [tick()])
        assert status == 404 and "disabled" in body["error"]


@pytest.mark.parametrize(
    "item, reason",
    [
        ({"symbol": "BTC", "price": int("9" * 400), "time": "2026-11-24T12:00:00Z"}, "[0].price"),
        ({"symbol": "BTC", "price": 1, "time": "0001-01-01T00:30:00+01:00"}, "[0].time"),
    ],
)
async def test_extreme_values_are_400_not_500(running_bot, item, reason):
    status, answer = await post(running_bot, [item])
    assert status == 400 and reason in answer["error"]


async def test_undecodable_key_header_is_401_not_500(running_bot):
    async with running_bot.http.post(
        prices_url(running_bot),
        data=b"[]",
        headers={"Content-Type": "application/json", "X-Api-Key": "caf\udce9".encode("utf-8", "surrogateescape").decode("latin-1")},
    ) as response:
        assert response.status == 401


async def test_a_body_sent_in_pieces_is_read_whole(running_bot):
    body = json.dumps([tick("BTC", 70000 + i) for i in range(300)]).encode()

    async def pieces():
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]
            await asyncio.sleep(0)

    status, answer = await post(
        running_bot,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        data=pieces(),
    )
    assert status == 202, answer


async def test_a_clock_running_ahead_does_not_freeze_the_symbol(running_bot):
    ahead = datetime.now(UTC) + timedelta(minutes=3)
    status, _ = await post(running_bot, [tick("AAPL", 190.0, at=ahead)])
    assert status == 202
    status, answer = await post(running_bot, [tick("AAPL", 191.0)])
    assert (status, answer["accepted"], answer["ignored"]) == (202, 1, 0)
    assert (await stored(running_bot))["AAPL"] == 191.0


async def test_repeated_ticks_are_reported_as_ignored(running_bot):
    at = datetime.now(UTC)
    await post(running_bot, [tick("ETH", 3500.0, at=at)])
    status, answer = await post(running_bot, [tick("ETH", 3501.0, at=at - timedelta(seconds=1))])
    assert (status, answer["accepted"], answer["ignored"]) == (202, 0, 1)


class TestSymbolCap:
    @pytest.fixture
    def bot_settings(self, database_url) -> Settings:
        return Settings(database_url=database_url, price_api_keys=(KEY,), price_max_symbols=7)

    async def test_new_symbols_beyond_the_cap_are_refused(self, running_bot):
        # The simulated feed knows 5; two more fit, a third does not.
        status, _ = await post(running_bot, [tick("SOL", 150.0), tick("ADA", 0.5)])
        assert status == 202
        status, answer = await post(running_bot, [tick("DOGE", 0.1)])
        assert status == 400 and "at most 7 symbols" in answer["error"] and "DOGE" in answer["error"]
        assert "DOGE" not in await stored(running_bot)
