"""Price alerts end to end over real HTTP: set in chat, ticks pushed, the alert arrives."""

from __future__ import annotations

import re

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import Settings
from models.schedule import format_local
from models.tables import Alert, Occurrence
from tests.support.chat import Chat
from tests.support.waiting import eventually

KEY = "test-price-key-0123456789"


@pytest.fixture
def bot_settings(database_url) -> Settings:
    # The simulated feed polls once at start, then not again during the test.
    return Settings(
        database_url=database_url,
        price_api_keys=(KEY,),
        price_feed_env={"PRICE_FEED_INTERVAL_SECONDS": "3600"},
    )


class Prices:
    def __init__(self, running_bot) -> None:
        self.bot = running_bot
        self.clock = datetime.now(UTC)

    async def push(self, symbol: str, *prices: float) -> list[dict]:
        answers = []
        for price in prices:
            self.clock += timedelta(milliseconds=10)
            async with self.bot.http.post(
                self.bot.url.replace("/api/messages", "/api/prices"),
                json=[{"symbol": symbol, "price": price, "time": self.clock.isoformat()}],
                headers={"X-Api-Key": KEY},
            ) as response:
                assert response.status == 202, await response.text()
                answers.append(await response.json())
        return answers


def alert_texts(channel) -> list[str]:
    """The proactive alert messages (not the "Alert #1 set" confirmations)."""
    return [t for t in channel.texts() if re.match(r"🔔 Alert #\d+: ", t)]


def card_buttons(channel) -> list[list[str]]:
    return [
        [action["title"] for action in r.activity["attachments"][0]["content"]["actions"]]
        for r in channel.received
        if re.match(r"🔔 Alert #\d+: ", r.text)
    ]


async def test_alert_set_in_chat_fires_once_when_a_pushed_tick_crosses(running_bot):
    prices = Prices(running_bot)
    await prices.push("BTC", 68000)
    chat = Chat(running_bot)
    turn = await chat.say("alert me when BTC goes above 70000")
    assert turn.replies[0].startswith("🔔 Alert #1 set: BTC goes above 70,000 (once). BTC is now 68,000")

    answers = await prices.push("BTC", 69990, 70500, 70600)
    assert [a["fired"] for a in answers] == [0, 1, 0]
    await running_bot.channel.wait_for_text("🔔 Alert #1: BTC goes above 70,000")
    [message] = alert_texts(running_bot.channel)
    assert "BTC is at 70,500 (+0.71% vs 70,000)" in message and "Source: live feed" in message
    assert card_buttons(running_bot.channel) == [["Re-arm"]]  # a once alert is done: re-arm it

    async def recorded():
        async with running_bot.sessionmaker() as session:
            rows = (await session.execute(select(Occurrence).where(Occurrence.kind == "alert"))).scalars().all()
            return rows if rows and rows[0].status == "sent" else None

    [occurrence] = await eventually(recorded)
    async with running_bot.sessionmaker() as session:
        alert = (await session.execute(select(Alert))).scalar_one()
    assert (alert.state, alert.fire_count, occurrence.alert_id) == ("done", 1, alert.id)
    # The crossing tick's time, in the user's zone (CET or CEST, depending on today).
    assert f" at {format_local(alert.last_fired_at, 'Europe/Prague')}. " in message, message


async def test_repeating_alert_does_not_spam_while_the_price_hovers(running_bot):
    prices = Prices(running_bot)
    await prices.push("ETH", 3900)
    chat = Chat(running_bot)
    turn = await chat.say("alert me when ETH goes above 4000 every time")
    assert "(every time)" in turn.replies[0]
    # Fires at 4010; hovering around 4000 inside the 0.5% band does nothing; back under
    # 3980 re-arms; 4005 fires again.
    answers = await prices.push("ETH", 4010, 3995, 4020, 3999, 4001, 3970, 4005)
    assert [a["fired"] for a in answers] == [1, 0, 0, 0, 0, 0, 1]
    await eventually(lambda: _value(len(alert_texts(running_bot.channel)) == 2))
    assert card_buttons(running_bot.channel) == [["Snooze 1 h", "Disable"]] * 2
    async with running_bot.sessionmaker() as session:
        alert = (await session.execute(select(Alert))).scalar_one()
    assert (alert.state, alert.fire_count, alert.armed) == ("active", 2, False)


async def _value(value):
    return value


async def test_price_command_and_alert_list(running_bot):
    prices = Prices(running_bot)
    await prices.push("MSFT", 421.5)
    chat = Chat(running_bot)
    assert (await chat.say("price MSFT")).replies[0].startswith("MSFT: 421.50")
    await chat.say("tell me if MSFT drops below 400")
    listing = (await chat.say("my alerts")).replies[0]
    assert "#1 MSFT drops below 400" in listing
    await chat.say("cancel alert 1")
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(Alert.state))).scalar_one() == "cancelled"
    # A cancelled alert leaves the index: a crossing now sends nothing.
    [answer] = await prices.push("MSFT", 390)
    assert answer["fired"] == 0


async def test_unknown_symbol_lists_the_known_ones(running_bot):
    chat = Chat(running_bot)
    turn = await chat.say("alert me when DOGE goes above 1")
    assert "DOGE" in turn.text and "BTC" in turn.text and "EUR/USD" in turn.text


async def test_a_fall_of_100_percent_is_refused(running_bot):
    prices = Prices(running_bot)
    await prices.push("ETH", 3500)
    turn = await Chat(running_bot).say("alert me when ETH moves down 150%")
    assert "can't fall by 100% or more" in turn.text
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(Alert))).first() is None
