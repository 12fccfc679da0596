"""CreateAlertDialog and the alert commands under botbuilder's TestAdapter.

The dialog and the commands run against a migrated SQLite file through the real ``Alerts``
service; only the price source (a dict of fake quotes), the clock and the channel are fakes,
so every reply is compared to the exact string and every alert row to the exact fields.
The turn callback routes the way NudgeBot does: an active dialog first, then an alert
command, else a new alert dialog. Dialog state goes through the project's SqlStorage, so
whatever the dialog keeps between turns must survive JSON serialisation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy import select

from dialogs.alert_commands import alert_command_from_card, parse_alert_command, run_alert_command
from dialogs.context import TurnUser, set_turn_user
from dialogs.create_alert import HELP_TEXT, CreateAlertDialog
from models.alerts import Alerts, describe_condition, format_price
from models.bot_storage import SqlStorage
from models.db import make_sessionmaker, open_engine, upgrade_database
from models.store import upsert_conversation, upsert_user
from models.tables import Alert
from tests.support.cards import buttons, card_of, suggestions
from tests.support.fake_channel import shown_text

# Tuesday 24 November 2026, 13:00 in Prague (CET, UTC+1).
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
AT = "Tue 24 Nov 2026 13:00 CET"
KNOWN = ("AAPL", "BTC", "ETH", "EUR/USD", "MSFT")

WHICH = "Which symbol? I know: AAPL, BTC, ETH, EUR/USD, MSFT."
WATCH_BTC = (
    'What should I watch BTC for? For example "above 70000", "below 180", "crosses 65000", '
    '"moves 5%" or "changes 1% within 1 hour".'
)
CONDITION_RETRY = (
    'Sorry, I didn\'t get that. Tell me the condition, like "above 70000", "below 180", '
    '"crosses 65000", "moves 5%" or "changes 1% within 1 hour".'
)
PRICE_BTC = "At what price? BTC is now 68,120.50. For example 70000 or 70k."
PRICE_RETRY = "Please give the price as a positive number, like 70000, 70k or 180.50."
PERCENT_ETH = "By how many percent should ETH change? For example 5%."
PERCENT_RETRY = "Please give a percentage above 0 and at most 1000, like 5%."
SIMULATED = "(simulated prices, not real market data)"
CANCELLED = "OK, cancelled. Nothing was changed."
# Two phrases come from models.alerts as they are today ("1.08", "within hour"); built with
# its functions so these tests pin the dialog's wording, not that module's formatting.
EURUSD = format_price(1.0843)
WITHIN_HOUR = describe_condition(
    symbol="EUR/USD", condition="window", threshold=1.0, direction="any", base_price=None,
    window_seconds=3600,
).removeprefix("EUR/USD changes 1% ")


@dataclass(frozen=True)
class FakeQuote:
    symbol: str
    price: float
    at: datetime
    source: str = "simulated"
    simulated: bool = True


class Harness:
    """A DialogSet with CreateAlertDialog behind a TestAdapter, for one stored user."""

    def __init__(self, sessionmaker, user_pk: int, conversation_pk: int) -> None:
        self.sessionmaker = sessionmaker
        self.now = NOW
        self.quotes = {
            "BTC": FakeQuote("BTC", 68120.5, NOW),
            "ETH": FakeQuote("ETH", 3500.0, NOW),
            "EUR/USD": FakeQuote("EUR/USD", 1.0843, NOW),
            "MSFT": FakeQuote("MSFT", 420.0, NOW, source="push", simulated=False),
        }  # no AAPL price yet
        self.changes: list[int] = []
        self.alerts = Alerts(
            sessionmaker=sessionmaker,
            quote=self.quotes.get,
            known_symbols=lambda: KNOWN,
            on_change=self._changed,
            clock=lambda: self.now,
            max_live=5,
        )
        self.user = TurnUser(user_pk, conversation_pk, "Europe/Prague")
        self.state = ConversationState(SqlStorage(sessionmaker))
        self.dialogs = DialogSet(self.state.create_property("DialogState"))
        self.dialogs.add(CreateAlertDialog(self.alerts))
        self.adapter = TestAdapter(self._turn)

    async def _changed(self, alert_id: int) -> None:
        self.changes.append(alert_id)

    async def _turn(self, turn_context: TurnContext) -> None:
        set_turn_user(turn_context, self.user)
        dialog_context = await self.dialogs.create_context(turn_context)
        activity = turn_context.activity
        if isinstance(activity.value, dict):
            command = alert_command_from_card(activity.value)
            await turn_context.send_activity(
                await run_alert_command(command, alerts=self.alerts, user=self.user, now=self.now)
            )
        elif (await dialog_context.continue_dialog()).status == DialogTurnStatus.Empty:
            command = parse_alert_command(activity.text)
            if command is not None:
                await turn_context.send_activity(
                    await run_alert_command(command, alerts=self.alerts, user=self.user, now=self.now)
                )
            else:
                await dialog_context.begin_dialog(CreateAlertDialog.__name__, activity.text)
        await self.state.save_changes(turn_context)

    async def say(self, text: str) -> list[str]:
        """Run one turn; return the texts the bot sent in it."""
        return await self._send(Activity(type=ActivityTypes.message, text=text))

    async def press(self, value: dict) -> list[str]:
        return await self._send(Activity(type=ActivityTypes.message, value=value))

    async def _send(self, activity: Activity) -> list[str]:
        return [shown_text(a.serialize()) for a in await self.send(activity)]

    async def send(self, activity: Activity) -> list[Activity]:
        """Run one turn; return every activity the bot sent in it."""
        await self.adapter.receive_activity(activity)
        replies = list(self.adapter.activity_buffer)
        self.adapter.activity_buffer.clear()
        return replies

    async def rows(self) -> list[Alert]:
        async with self.sessionmaker() as session:
            return list((await session.execute(select(Alert).order_by(Alert.number))).scalars())

    async def row(self, number: int) -> Alert:
        return next(r for r in await self.rows() if r.number == number)


@pytest.fixture
async def sessionmaker(tmp_path) -> AsyncIterator:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"
    await upgrade_database(url)
    engine = open_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def bot(sessionmaker) -> Harness:
    async with sessionmaker.begin() as session:
        user = await upsert_user(session, channel_id="test", user_id="ann", name="Ann", aad_object_id=None)
        conversation = await upsert_conversation(
            session,
            user_pk=user.id,
            channel_id="test",
            conversation_id="conv-1",
            service_url="https://channel.invalid",
            reference={"conversation": {"id": "conv-1"}},
        )
    return Harness(sessionmaker, user.id, conversation.id)


def fields(row: Alert) -> dict:
    return {
        "symbol": row.symbol,
        "condition": row.condition,
        "threshold": row.threshold,
        "direction": row.direction,
        "base_price": row.base_price,
        "window_seconds": row.window_seconds,
        "repeat": row.repeat,
        "cooldown_seconds": row.cooldown_seconds,
        "expires_at": row.expires_at,
        "state": row.state,
        "armed": row.armed,
        "side": row.side,
        "fire_count": row.fire_count,
    }


ROW = {
    "direction": "any",
    "base_price": None,
    "window_seconds": None,
    "repeat": False,
    "cooldown_seconds": 0,
    "expires_at": None,
    "state": "active",
    "armed": True,
    "side": None,
    "fire_count": 0,
}


# --- one message ---------------------------------------------------------------------------


async def test_one_message_creates_the_alert_and_confirms_with_the_current_price(bot):
    assert await bot.say("alert me when BTC goes above 70000") == [
        f"🔔 Alert #1 set: BTC goes above 70,000 (once). BTC is now 68,120.50 {SIMULATED}, as of {AT}."
    ]
    [row] = await bot.rows()
    assert fields(row) == {**ROW, "symbol": "BTC", "condition": "above", "threshold": 70000.0}
    assert (row.number, row.user_pk, row.conversation_pk) == (1, bot.user.user_pk, bot.user.conversation_pk)
    assert bot.changes == [row.id]  # the engine is told at once


@pytest.mark.parametrize(
    ("text", "reply", "expected"),
    [
        (
            "ETH moves up 5% for 7 days",
            f"🔔 Alert #1 set: ETH moves up 5% from 3,500 (once). ETH is now 3,500 {SIMULATED}, "
            f"as of {AT}. The alert ends Tue 1 Dec 2026 13:00 CET.",
            {"symbol": "ETH", "condition": "move", "threshold": 5.0, "direction": "up",
             "base_price": 3500.0, "expires_at": NOW + timedelta(days=7)},
        ),
        (
            "BTC crosses 65,000 every time, at most once an hour",
            f"🔔 Alert #1 set: BTC crosses 65,000 (every time, at most once an hour). "
            f"BTC is now 68,120.50 {SIMULATED}, as of {AT}.",
            {"symbol": "BTC", "condition": "cross", "threshold": 65000.0, "side": "above",
             "repeat": True, "cooldown_seconds": 3600},
        ),
        (
            "tell me if eurusd drops 1% within 1 hour",
            f"🔔 Alert #1 set: EUR/USD changes down 1% {WITHIN_HOUR} (once). "
            f"EUR/USD is now {EURUSD} {SIMULATED}, as of {AT}.",
            {"symbol": "EUR/USD", "condition": "window", "threshold": 1.0, "direction": "down",
             "window_seconds": 3600},
        ),
        (
            "MSFT below 400 repeatedly",
            f"🔔 Alert #1 set: MSFT drops below 400 (every time). MSFT is now 420 (source: live feed), as of {AT}.",
            {"symbol": "MSFT", "condition": "below", "threshold": 400.0, "repeat": True},
        ),
    ],
    ids=["move-up-expiry", "cross-repeat-cooldown", "window-down", "below-real-source"],
)
async def test_each_condition_and_mode_is_stored_as_said(bot, text, reply, expected):
    assert await bot.say(text) == [reply]
    [row] = await bot.rows()
    assert fields(row) == {**ROW, **expected}
    assert bot.changes == [row.id]


async def test_a_condition_already_true_says_it_fires_with_the_next_update(bot):
    [reply] = await bot.say("BTC above 60000")
    assert reply == (
        f"🔔 Alert #1 set: BTC goes above 60,000 (once). BTC is now 68,120.50 {SIMULATED}, as of {AT}. "
        "It is already above 60,000, so the alert will go off with the next price update."
    )
    [reply] = await bot.say("BTC below 60000")
    assert "already" not in reply


async def test_a_bad_value_in_one_message_sets_nothing(bot):
    assert await bot.say("BTC above 0") == [
        "The price must be a positive number, like 70000 or 70k. Nothing was set."
    ]
    assert await bot.say("EUR/USD changes 1% within 5 seconds") == [
        "The time window must be between 1 minute and 7 days. Nothing was set."
    ]
    assert await bot.rows() == []
    assert bot.changes == []


async def test_a_service_refusal_is_said_and_nothing_stored(bot):
    assert await bot.say("AAPL below 180") == ["I have no price for AAPL yet; try again in a minute."]
    assert await bot.say("BTC crosses 68120.5") == [
        "BTC is at 68,120.50 right now; pick a level above or below the current price."
    ]
    assert await bot.rows() == []
    # And the dialog ended: the next message is a new request, not an answer.
    assert (await bot.say("ETH below 3000"))[0].startswith("🔔 Alert #1 set: ETH drops below 3,000")


# --- step by step --------------------------------------------------------------------------


async def test_step_by_step_symbol_condition_threshold(bot):
    assert await bot.say("alert me") == [WHICH]
    assert await bot.say("btc") == [WATCH_BTC]
    assert await bot.say("above") == [PRICE_BTC]
    assert await bot.say("70k") == [
        f"🔔 Alert #1 set: BTC goes above 70,000 (once). BTC is now 68,120.50 {SIMULATED}, as of {AT}."
    ]
    [row] = await bot.rows()
    assert fields(row) == {**ROW, "symbol": "BTC", "condition": "above", "threshold": 70000.0}
    assert bot.changes == [row.id]


async def test_a_condition_answer_can_carry_the_threshold_and_mode(bot):
    assert await bot.say("alert me when BTC") == [WATCH_BTC]
    assert await bot.say("crosses 65000 every time") == [
        f"🔔 Alert #1 set: BTC crosses 65,000 (every time). BTC is now 68,120.50 {SIMULATED}, as of {AT}."
    ]
    assert fields(await bot.row(1)) == {
        **ROW, "symbol": "BTC", "condition": "cross", "threshold": 65000.0, "side": "above", "repeat": True
    }


async def test_a_symbol_answer_can_carry_the_rest(bot):
    assert await bot.say("alert me") == [WHICH]
    assert (await bot.say("ETH below 3000"))[0].startswith("🔔 Alert #1 set: ETH drops below 3,000 (once).")


async def test_modes_from_the_first_message_survive_the_questions(bot):
    assert await bot.say("alert me every time, at most once every 30 minutes for 2 hours") == [WHICH]
    assert await bot.say("BTC") == [WATCH_BTC]
    assert await bot.say("below 60k") == [
        f"🔔 Alert #1 set: BTC drops below 60,000 (every time, at most once every 30 minutes). "
        f"BTC is now 68,120.50 {SIMULATED}, as of {AT}. The alert ends Tue 24 Nov 2026 15:00 CET."
    ]
    assert fields(await bot.row(1)) == {
        **ROW, "symbol": "BTC", "condition": "below", "threshold": 60000.0, "repeat": True,
        "cooldown_seconds": 1800, "expires_at": NOW + timedelta(hours=2),
    }


async def test_unknown_symbol_is_named_and_the_known_ones_listed_until_one_is_given(bot):
    assert await bot.say("alert me when DOGE goes above 1") == ["I don't know DOGE.", WHICH]
    assert await bot.say("shib") == [f"I don't know SHIB. {WHICH}"]
    assert await bot.say("???") == [WHICH]
    assert await bot.rows() == []
    [reply] = await bot.say("eth")
    # The condition and threshold from the first message are kept.
    assert reply.startswith("🔔 Alert #1 set: ETH goes above 1.00 (once).")
    assert reply.endswith("It is already above 1.00, so the alert will go off with the next price update.")
    assert fields(await bot.row(1)) == {**ROW, "symbol": "ETH", "condition": "above", "threshold": 1.0}


async def test_bad_thresholds_are_asked_again(bot):
    assert await bot.say("alert me when BTC goes above") == [PRICE_BTC]
    assert await bot.say("lots") == [PRICE_RETRY]
    assert await bot.say("-5") == [PRICE_RETRY]
    assert await bot.say("0") == [PRICE_RETRY]
    assert await bot.rows() == []
    assert (await bot.say("$70,500"))[0].startswith("🔔 Alert #1 set: BTC goes above 70,500 (once).")
    assert (await bot.row(1)).threshold == 70500.0


async def test_bad_percentages_are_asked_again_and_move_starts_from_the_current_price(bot):
    assert await bot.say("alert me when ETH moves") == [PERCENT_ETH]
    assert await bot.say("5000%") == [PERCENT_RETRY]
    assert await bot.say("0%") == [PERCENT_RETRY]
    assert (await bot.say("5 percent"))[0].startswith("🔔 Alert #1 set: ETH moves 5% from 3,500 (once).")
    assert fields(await bot.row(1)) == {
        **ROW, "symbol": "ETH", "condition": "move", "threshold": 5.0, "base_price": 3500.0
    }


async def test_bad_conditions_are_asked_again(bot):
    assert await bot.say("alert me when BTC") == [WATCH_BTC]
    assert await bot.say("whenever") == [CONDITION_RETRY]
    assert await bot.say("moves 5000%") == ["A change can be at most 1000%. What should I watch for?"]
    assert await bot.rows() == []
    assert (await bot.say("moves down 2%"))[0].startswith("🔔 Alert #1 set: BTC moves down 2% from 68,120.50")
    assert (await bot.row(1)).direction == "down"


async def test_cancel_mid_dialog_stores_nothing(bot):
    assert await bot.say("alert me") == [WHICH]
    assert await bot.say("BTC") == [WATCH_BTC]
    assert await bot.say("cancel") == [CANCELLED]
    assert await bot.rows() == []
    assert bot.changes == []
    # The dialog is gone: "above 70000" now starts a new alert instead of answering.
    assert await bot.say("above 70000") == [WHICH]


async def test_help_mid_dialog_explains_and_keeps_waiting(bot):
    assert await bot.say("alert me when BTC goes above") == [PRICE_BTC]
    assert await bot.say("help") == [HELP_TEXT]
    assert (await bot.say("70000"))[0].startswith("🔔 Alert #1 set: BTC goes above 70,000")


async def test_the_users_limit_is_enforced_with_a_reason(bot):
    for level in range(1, 6):
        assert (await bot.say(f"BTC above {level}00000"))[0].startswith(f"🔔 Alert #{level} set")
    assert await bot.say("BTC above 700000") == [
        'You already have 5 alerts, which is the limit. Cancel some first ("my alerts" lists them).'
    ]
    assert len(await bot.rows()) == 5


# --- commands ------------------------------------------------------------------------------


async def _three_alerts(bot: Harness) -> None:
    await bot.say("BTC above 70000 every time, at most once an hour")
    await bot.say("ETH moves 5% for 7 days")
    await bot.say("EUR/USD changes 1% within 1 hour")
    bot.changes.clear()


async def test_my_alerts_lists_each_with_condition_mode_and_state(bot):
    assert await bot.say("my alerts") == [
        'You have no price alerts. Try "alert me when BTC goes above 70000".'
    ]
    await _three_alerts(bot)
    assert await bot.say("pause alert 1") == [
        '⏸️ Paused alert #1: BTC goes above 70,000. Say "resume alert 1" to restart it.'
    ]
    assert await bot.say("snooze alert 3 30m") == [
        f"😴 Snoozed alert #3 until Tue 24 Nov 2026 13:30 CET: EUR/USD changes 1% {WITHIN_HOUR}."
    ]
    assert await bot.say("my alerts") == [
        "Your alerts:\n"
        "- #1 BTC goes above 70,000 (every time, at most once an hour) — paused\n"
        "- #2 ETH moves 5% from 3,500 (once), until Tue 1 Dec 2026 13:00 CET\n"
        f"- #3 EUR/USD changes 1% {WITHIN_HOUR} (once) — snoozed until Tue 24 Nov 2026 13:30 CET"
    ]


async def test_cancel_pause_resume_change_the_rows_and_tell_the_engine(bot):
    await _three_alerts(bot)
    first, second, _ = await bot.rows()

    assert await bot.say("cancel alert 2") == ["🗑️ Cancelled alert #2: ETH moves 5% from 3,500."]
    assert (await bot.row(2)).state == "cancelled"
    assert await bot.say("cancel alert 2") == ['You have no alert #2. Say "my alerts" to see them.']

    assert await bot.say("pause alert 1") == [
        '⏸️ Paused alert #1: BTC goes above 70,000. Say "resume alert 1" to restart it.'
    ]
    assert (await bot.row(1)).state == "paused"
    assert await bot.say("pause alert 1") == ["Alert #1 is paused, so it can't be paused."]
    assert await bot.say("resume alert 1") == ["▶️ Resumed alert #1: BTC goes above 70,000."]
    assert (await bot.row(1)).state == "active"
    assert bot.changes == [second.id, first.id, first.id]


async def test_snooze_pauses_until_a_time(bot):
    await _three_alerts(bot)
    assert await bot.say("snooze alert 1") == [
        "😴 Snoozed alert #1 until Tue 24 Nov 2026 14:00 CET: BTC goes above 70,000."
    ]
    row = await bot.row(1)
    assert (row.state, row.snoozed_until) == ("paused", NOW + timedelta(hours=1))
    assert await bot.say("snooze alert 1 8 days") == [
        "You can snooze an alert for between 1 minute and 7 days."
    ]


async def test_rearm_restarts_a_move_from_the_current_price(bot):
    await _three_alerts(bot)
    bot.quotes["ETH"] = FakeQuote("ETH", 3700.0, NOW)
    async with bot.sessionmaker.begin() as session:  # as if it had fired once
        row = (await session.execute(select(Alert).where(Alert.number == 2))).scalar_one()
        row.state, row.armed, row.fire_count = "done", False, 1
    assert await bot.say("re-arm alert 2") == ["🔁 Re-armed alert #2: ETH moves 5% from 3,700 (once)."]
    row = await bot.row(2)
    assert (row.state, row.armed, row.base_price) == ("active", True, 3700.0)
    assert bot.changes == [row.id]


async def test_cancel_all_alerts(bot):
    assert await bot.say("cancel all alerts") == ["You have no alerts to cancel."]
    await _three_alerts(bot)
    assert await bot.say("cancel all alerts") == ["🗑️ Cancelled 3 alerts."]
    assert [row.state for row in await bot.rows()] == ["cancelled"] * 3
    assert len(bot.changes) == 3
    assert await bot.say("my alerts") == ['You have no price alerts. Try "alert me when BTC goes above 70000".']


async def test_card_buttons(bot):
    await _three_alerts(bot)
    assert await bot.press({"nudge": "alert-snooze", "number": 1, "minutes": 60}) == [
        "😴 Snoozed alert #1 until Tue 24 Nov 2026 14:00 CET: BTC goes above 70,000."
    ]
    assert await bot.press({"nudge": "alert-disable", "number": 2}) == [
        '⏸️ Paused alert #2: ETH moves 5% from 3,500. Say "resume alert 2" to restart it.'
    ]
    assert (await bot.row(2)).state == "paused"
    assert await bot.press({"nudge": "alert-rearm", "number": 2}) == [
        "🔁 Re-armed alert #2: ETH moves 5% from 3,500 (once)."
    ]
    assert (await bot.row(2)).state == "active"


async def test_price_shows_source_and_local_time(bot):
    assert await bot.say("price BTC") == [
        f"BTC: 68,120.50 at {AT} (source: simulated — not real market data)"
    ]
    assert await bot.say("price of msft") == [f"MSFT: 420 at {AT} (source: live feed)"]
    assert await bot.say("price eurusd") == [f"EUR/USD: {EURUSD} at {AT} (source: simulated — not real market data)"]
    assert await bot.say("price AAPL") == ["AAPL: I have no price yet."]
    assert await bot.say("price DOGE") == ["I don't know DOGE. I know: AAPL, BTC, ETH, EUR/USD, MSFT."]
    # A markdown list; the source on each line, as the prices come from two.
    assert await bot.say("prices") == [
        "- AAPL: I have no price yet.\n"
        f"- BTC: 68,120.50 at {AT} (source: simulated — not real market data)\n"
        f"- ETH: 3,500 at {AT} (source: simulated — not real market data)\n"
        f"- EUR/USD: {EURUSD} at {AT} (source: simulated — not real market data)\n"
        f"- MSFT: 420 at {AT} (source: live feed)"
    ]


async def test_prices_from_one_source_name_it_once(bot):
    del bot.quotes["MSFT"]
    assert await bot.say("prices") == [
        "- AAPL: I have no price yet.\n"
        f"- BTC: 68,120.50 at {AT}\n"
        f"- ETH: 3,500 at {AT}\n"
        f"- EUR/USD: {EURUSD} at {AT}\n"
        "- MSFT: I have no price yet.\n"
        "\nSource: simulated — not real market data."
    ]


async def test_price_older_than_five_minutes_is_called_stale(bot):
    bot.now = NOW + timedelta(minutes=5)
    assert await bot.say("price BTC") == [f"BTC: 68,120.50 at {AT} (source: simulated — not real market data)"]
    bot.now = NOW + timedelta(minutes=5, seconds=1)
    assert await bot.say("price BTC") == [
        f"BTC: 68,120.50 (stale: last seen {AT}) (source: simulated — not real market data)"
    ]


async def test_the_confirmation_and_the_list_are_cards_whose_buttons_work(bot):
    [confirmed] = await bot.send(Activity(type=ActivityTypes.message, text="alert me when BTC goes above 70000"))
    card = card_of(confirmed)
    assert card["fallbackText"].startswith("🔔 Alert #1 set: BTC goes above 70,000 (once).")
    facts = {f["title"]: f["value"] for block in card["body"] if block["type"] == "FactSet" for f in block["facts"]}
    assert facts == {"Now": "68,120.50 (simulated)", "As of": AT, "Fires": "once"}
    assert buttons(card) == [("Cancel it", {"nudge": "alert-cancel", "number": 1})]
    assert suggestions(confirmed) == ["my alerts"]
    await bot.say("tell me if ETH drops below 2000 every time")

    [listed] = await bot.send(Activity(type=ActivityTypes.message, text="my alerts"))
    card = card_of(listed)
    assert card["fallbackText"].startswith("Your alerts:\n- #1 BTC goes above 70,000 (once)")
    assert buttons(card) == [
        ("Pause", {"nudge": "alert-disable", "number": 1}), ("Cancel", {"nudge": "alert-cancel", "number": 1}),
        ("Pause", {"nudge": "alert-disable", "number": 2}), ("Cancel", {"nudge": "alert-cancel", "number": 2}),
    ]
    assert (await bot.press({"nudge": "alert-disable", "number": 2}))[0].startswith("⏸️ Paused alert #2")
    [listed] = await bot.send(Activity(type=ActivityTypes.message, text="my alerts"))
    assert ("Resume", {"nudge": "alert-resume", "number": 2}) in buttons(card_of(listed))
    assert (await bot.press({"nudge": "alert-resume", "number": 2}))[0].startswith("▶️ Resumed alert #2")
    assert (await bot.press({"nudge": "alert-cancel", "number": 1}))[0].startswith("🗑️ Cancelled alert #1")
    assert [(r.number, r.state) for r in await bot.rows()] == [(1, "cancelled"), (2, "active")]


async def test_two_conditions_in_one_message_make_two_alerts(bot):
    replies = await bot.say("alert me when BTC goes above 70000 or below 60000")
    assert [r.split(" (")[0] for r in replies] == [
        "🔔 Alert #1 set: BTC goes above 70,000", "🔔 Alert #2 set: BTC drops below 60,000"
    ], replies
    rows = await bot.rows()
    assert [(r.symbol, r.condition, r.threshold, r.state) for r in rows] == [
        ("BTC", "above", 70000.0, "active"), ("BTC", "below", 60000.0, "active")
    ]


async def test_two_alerts_with_one_incomplete_set_neither(bot):
    replies = await bot.say("alert me when BTC goes above 70000 or below")
    assert replies == [
        'That asks for 2 alerts, and I couldn\'t read all of them, so nothing was set. '
        'Send them one at a time, like "BTC above 70000".'
    ]
    assert await bot.rows() == []


async def test_words_after_the_price_that_look_like_more_are_asked_about(bot):
    replies = await bot.say("alert me when BTC goes above 70000 by friday")
    assert replies == [
        'I didn\'t understand "by friday" in that, so nothing was set. Say the alert again without it, '
        'with a condition like "above 70000", "below 180", "crosses 65000", "moves 5%" or '
        '"changes 1% within 1 hour".'
    ]
    assert await bot.rows() == []
