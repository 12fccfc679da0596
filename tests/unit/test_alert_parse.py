"""Reading alerts and alert commands out of chat text: every field of every parse, in tables."""

from __future__ import annotations

import pytest

from dialogs.alert_commands import AlertCommand, alert_command_from_card, parse_alert_command
from dialogs.alert_parse import (
    ParsedAlert,
    looks_like_alert,
    match_symbol,
    parse_alert,
    parse_alerts,
    parse_percent,
    parse_threshold,
)

KNOWN = ("AAPL", "BTC", "ETH", "EUR/USD", "MSFT")


def alert(symbol=None, condition=None, threshold=None, **fields) -> ParsedAlert:
    """The expected parse; every field not given has its "not said" value."""
    return ParsedAlert(
        symbol=symbol,
        unknown_symbol=fields.pop("unknown_symbol", None),
        condition=condition,
        threshold=threshold,
        **fields,
    )


ERROR_PRICE = "The price must be a positive number, like 70000 or 70k."
ERROR_WINDOW = "The time window must be between 1 minute and 7 days."

PARSES = [
    # price levels
    ("alert me when BTC goes above 70000", alert("BTC", "above", 70000.0)),
    ("tell me if AAPL drops below 180", alert("AAPL", "below", 180.0)),
    ("notify me when ETH rises above 4,000", alert("ETH", "above", 4000.0)),
    ("BTC above 70k", alert("BTC", "above", 70000.0)),
    ("alert me if msft falls under 400.5", alert("MSFT", "below", 400.5)),
    ("BTC crosses 65000", alert("BTC", "cross", 65000.0)),
    ("alert me when btc crosses 65,000", alert("BTC", "cross", 65000.0)),
    ("alert me when the price of bitcoin is over $71,500.25", alert("BTC", "above", 71500.25)),
    ("eurusd below 1.05", alert("EUR/USD", "below", 1.05)),
    ("alert me when eur/usd goes above 1.1", alert("EUR/USD", "above", 1.1)),
    # changes from the price when set
    ("ETH moves 5%", alert("ETH", "move", 5.0, direction="any")),
    ("ETH moves up 5%", alert("ETH", "move", 5.0, direction="up")),
    ("ETH moves down 3 %", alert("ETH", "move", 3.0, direction="down")),
    ("ETH rises 5%", alert("ETH", "move", 5.0, direction="up")),
    ("ETH drops 5%", alert("ETH", "move", 5.0, direction="down")),
    ("ETH moves by 2 percent", alert("ETH", "move", 2.0)),
    # changes within a window
    ("EUR/USD changes 1% within 1 hour", alert("EUR/USD", "window", 1.0, window_seconds=3600)),
    ("BTC moves 3% in 15 minutes", alert("BTC", "window", 3.0, window_seconds=900)),
    ("ETH drops 2% within a day", alert("ETH", "window", 2.0, direction="down", window_seconds=86400)),
    # modes and expiry
    ("BTC above 70000 every time", alert("BTC", "above", 70000.0, repeat=True)),
    (
        "alert me when BTC goes above 70000 every time, at most once an hour",
        alert("BTC", "above", 70000.0, repeat=True, cooldown_seconds=3600),
    ),
    (
        "BTC crosses 65000 at most once every 30 minutes",
        alert("BTC", "cross", 65000.0, repeat=True, cooldown_seconds=1800),
    ),
    ("ETH moves 5% repeatedly", alert("ETH", "move", 5.0, repeat=True)),
    ("BTC above 70000 for 7 days", alert("BTC", "above", 70000.0, expires_in_seconds=604800)),
    ("AAPL below 180 for 2 hours", alert("AAPL", "below", 180.0, expires_in_seconds=7200)),
    ("AAPL below 180 once", alert("AAPL", "below", 180.0)),
    (
        "alert me when BTC goes above 70k every time, at most once an hour for 7 days",
        alert("BTC", "above", 70000.0, repeat=True, cooldown_seconds=3600, expires_in_seconds=604800),
    ),
    # case and spacing
    ("  ALERT   me WHEN   Btc   GOES  ABOVE 70K.  ", alert("BTC", "above", 70000.0)),
    # partial: the dialog asks for the rest
    ("alert me when BTC", alert("BTC")),
    ("alert me", alert()),
    ("alert me above 70000", alert(None, "above", 70000.0)),
    ("alert me when BTC goes above", alert("BTC", "above")),
    ("alert me when ETH moves", alert("ETH", "move")),
    ("alert me when DOGE goes above 1", alert(None, "above", 1.0, unknown_symbol="DOGE")),
    ("alert me when it drops below 5", alert(None, "below", 5.0)),
    # recognised but unacceptable
    ("BTC above -5", alert("BTC", "above", error=ERROR_PRICE)),
    ("BTC above 0", alert("BTC", "above", error=ERROR_PRICE)),
    ("BTC moves 0%", alert("BTC", "move", error="The change must be more than 0%, like 5%.")),
    ("BTC moves 5000%", alert("BTC", "move", error="A change can be at most 1000%.")),
    ("EUR/USD changes 1% within 5 seconds", alert("EUR/USD", "window", 1.0, error=ERROR_WINDOW)),
    ("BTC moves 1% within 8 days", alert("BTC", "window", 1.0, error=ERROR_WINDOW)),
    (
        "BTC above 5%",
        alert("BTC", "above", error='That looks like a percentage. For a change, say "BTC moves 5%".'),
    ),
    (
        "BTC above 70000 for 30 seconds",
        alert("BTC", "above", 70000.0, error="An alert can last between 1 minute and a year."),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PARSES, ids=[text for text, _ in PARSES])
def test_parse_alert(text, expected):
    assert parse_alert(text, known_symbols=KNOWN) == expected


def test_symbols_are_matched_against_the_callers_list():
    assert parse_alert("SOL above 150", known_symbols=KNOWN).unknown_symbol == "SOL"
    assert parse_alert("SOL above 150", known_symbols=(*KNOWN, "SOL")).symbol == "SOL"
    # An alias only applies when its symbol is known.
    assert parse_alert("bitcoin above 1", known_symbols=("ETH",)).unknown_symbol == "BITCOIN"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("btc", "BTC"), ("eur/usd", "EUR/USD"), ("EURUSD", "EUR/USD"), ("eur-usd", "EUR/USD"),
     ("ethereum", "ETH"), ("doge", None), ("", None), ("eur", None)],
)
def test_match_symbol(text, expected):
    assert match_symbol(text, KNOWN) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("70000", 70000.0), ("70,000", 70000.0), ("70k", 70000.0), ("70K", 70000.0),
        ("$180.50", 180.5), ("1.5m", 1_500_000.0), ("0.5", 0.5), (".5", 0.5), ("180 usd", 180.0),
        ("1,234,567.5", 1234567.5), (" 42 ", 42.0),
        ("0", None), ("-5", None), ("-$5", None), ("abc", None), ("", None), ("1,5", None),
        ("70 000", None), ("1e5", None), ("nan", None), ("inf", None), ("5pm", None), ("5%", None),
    ],
)
def test_parse_threshold(text, expected):
    assert parse_threshold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5%", 5.0), ("5 %", 5.0), ("5 percent", 5.0), ("0.5", 0.5), ("2.5 pct", 2.5), ("by 3%", 3.0),
        ("1000%", 1000.0),
        ("0%", None), ("0", None), ("-5%", None), ("abc", None), ("", None), ("5%%", None), ("nan", None),
    ],
)
def test_parse_percent(text, expected):
    assert parse_percent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # alerts, complete or not
        ("alert me when BTC goes above 70000", True),
        ("tell me if AAPL drops below 180", True),
        ("tell me when ETH crosses 4000", True),
        ("notify me when ETH rises above 4,000", True),
        ("BTC above 70k", True),
        ("ETH moves 5%", True),
        ("EUR/USD changes 1% within 1 hour", True),
        ("BTC crosses 65000 every time, at most once an hour", True),
        ("alert me", True),
        ("alert me when BTC", True),
        ("alert me when DOGE goes above 1", True),
        ("alert me above 70000", True),
        ("set an alert for BTC", True),
        # not alerts
        ("remind me to buy BTC at 5pm", False),
        ("remind me when BTC goes above 70000", False),
        ("my reminders", False),
        ("my alerts", False),
        ("cancel alert 2", False),
        ("price BTC", False),
        ("tell me when it's 5pm", False),
        ("tell me when it's time to go", False),
        ("notify me when the report is over", False),
        ("the meeting moves to 5pm", False),
        ("alert me in 10 minutes to stretch", False),
        ("every day at 9 check the BTC price", False),
        ("BTC", False),
        ("above 70000", False),  # no symbol and no "alert me": not enough to go on
        ("hello", False),
        ("", False),
    ],
)
def test_looks_like_alert(text, expected):
    assert looks_like_alert(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my alerts", AlertCommand("list")),
        ("alerts", AlertCommand("list")),
        ("list alerts", AlertCommand("list")),
        ("Show my alerts.", AlertCommand("list")),
        ("my price alerts", AlertCommand("list")),
        ("cancel alert 2", AlertCommand("cancel", number=2)),
        ("delete alert #2", AlertCommand("cancel", number=2)),
        ("Remove  alert 12!", AlertCommand("cancel", number=12)),
        ("cancel alert 123456789", AlertCommand("cancel", number=123456789)),
        ("cancel all alerts", AlertCommand("cancel_all")),
        ("delete all my alerts", AlertCommand("cancel_all")),
        ("pause alert 2", AlertCommand("pause", number=2)),
        ("disable alert 2", AlertCommand("pause", number=2)),
        ("resume alert 2", AlertCommand("resume", number=2)),
        ("enable alert #2", AlertCommand("resume", number=2)),
        ("snooze alert 2", AlertCommand("snooze", number=2, minutes=60)),
        ("snooze alert 2 1h", AlertCommand("snooze", number=2, minutes=60)),
        ("snooze alert 2 30m", AlertCommand("snooze", number=2, minutes=30)),
        ("snooze alert 2 for 2 hours", AlertCommand("snooze", number=2, minutes=120)),
        ("snooze alert 2 1 day", AlertCommand("snooze", number=2, minutes=1440)),
        ("rearm alert 2", AlertCommand("rearm", number=2)),
        ("re-arm alert 2", AlertCommand("rearm", number=2)),
        ("price BTC", AlertCommand("price", symbol="BTC")),
        ("price of eur/usd", AlertCommand("price", symbol="EUR/USD")),
        ("what's the price of eth?", AlertCommand("price", symbol="ETH")),
        ("btc price", AlertCommand("price", symbol="BTC")),
        ("prices", AlertCommand("price")),
        # too long to be a short id: never reaches the database
        ("cancel alert 1234567890", None),
        ("snooze alert 12345678901 1h", None),
        # reminder commands and other text are left alone
        ("cancel 2", None),
        ("cancel all", None),
        ("my reminders", None),
        ("list", None),
        ("alert me when BTC goes above 70000", None),
        ("price", None),
    ],
)
def test_parse_alert_command(text, expected):
    assert parse_alert_command(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"nudge": "alert-snooze", "number": 3, "minutes": 60}, AlertCommand("snooze", number=3, minutes=60)),
        ({"nudge": "alert-snooze", "number": 3, "minutes": 15}, AlertCommand("snooze", number=3, minutes=15)),
        ({"nudge": "alert-snooze", "number": 3}, AlertCommand("snooze", number=3, minutes=60)),
        ({"nudge": "alert-snooze", "number": 3, "minutes": True}, AlertCommand("snooze", number=3, minutes=60)),
        ({"nudge": "alert-snooze", "number": 3, "minutes": "15"}, AlertCommand("snooze", number=3, minutes=60)),
        ({"nudge": "alert-disable", "number": 3}, AlertCommand("pause", number=3)),
        ({"nudge": "alert-rearm", "number": 3}, AlertCommand("rearm", number=3)),
        ({"nudge": "alert-rearm", "number": 999_999_999}, AlertCommand("rearm", number=999_999_999)),
        # not a valid alert button
        ({"nudge": "alert-rearm", "number": 10**9}, None),
        ({"nudge": "alert-rearm", "number": 0}, None),
        ({"nudge": "alert-rearm", "number": -1}, None),
        ({"nudge": "alert-rearm", "number": True}, None),
        ({"nudge": "alert-rearm", "number": "3"}, None),
        ({"nudge": "alert-rearm", "number": 3.0}, None),
        ({"nudge": "alert-rearm"}, None),
        ({"nudge": "alert-explode", "number": 3}, None),
        ({"nudge": "snooze", "number": 3, "minutes": 10}, None),  # a reminder's button
        ({}, None),
        ("alert-rearm", None),
    ],
)
def test_alert_command_from_card(value, expected):
    assert alert_command_from_card(value) == expected


# --- Issue 13: several conditions in one message, "hits", "ping me if" -------------------------

SEVERAL = [
    ("BTC above 70000 or below 60000", [alert("BTC", "above", 70000.0), alert("BTC", "below", 60000.0)]),
    ("alert me if ETH goes above 4000 or drops below 3000", [alert("ETH", "above", 4000.0), alert("ETH", "below", 3000.0)]),
    ("tell me when AAPL goes over 200 or under 170", [alert("AAPL", "above", 200.0), alert("AAPL", "below", 170.0)]),
    ("alert me when MSFT is above 450 and ETH below 3000", [alert("MSFT", "above", 450.0), alert("ETH", "below", 3000.0)]),
    # the modes apply to both
    (
        "alert me every time BTC goes above 70k or below 60k",
        [alert("BTC", "above", 70000.0, repeat=True), alert("BTC", "below", 60000.0, repeat=True)],
    ),
    # an incomplete second part stays incomplete, for the dialog to ask about
    ("alert me if BTC above 70000 or below", [alert("BTC", "above", 70000.0), alert("BTC", "below", None)]),
]


@pytest.mark.parametrize(("text", "expected"), SEVERAL)
def test_parse_alerts_returns_every_condition(text, expected):
    assert list(parse_alerts(text, known_symbols=KNOWN)) == expected


@pytest.mark.parametrize(
    ("text", "unclear"),
    [
        ("BTC above 70000 or below 60000", ("or below 60000",)),
        ("alert me if BTC above 70000 or below", ("or below",)),
        ("alert me when MSFT is above 450 and ETH below 3000", ("and eth below 3000",)),
    ],
)
def test_parse_alert_never_drops_a_second_condition_silently(text, unclear):
    parsed = parse_alert(text, known_symbols=KNOWN)
    assert parsed.unclear == unclear
    assert parse_alerts(text, known_symbols=KNOWN)[0] == ParsedAlert(**{**parsed.__dict__, "unclear": ()})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ping me if BTC hits 80000", alert("BTC", "cross", 80000.0)),
        ("let me know when bitcoin hits 65k", alert("BTC", "cross", 65000.0)),
        ("tell me when AAPL reaches 210", alert("AAPL", "cross", 210.0)),
        ("alert me once BTC breaks 75000", alert("BTC", "cross", 75000.0)),
        ("never mind, alert me when BTC goes above 71000", alert("BTC", "above", 71000.0)),
        ("alert me when BTC goes above 70000 and stays there", alert("BTC", "above", 70000.0, unclear=("and stays there",))),
        ("alert me when BTC goes above 70000 or 80000", alert("BTC", "above", 70000.0, unclear=("or 80000",))),
        ("ping me if BTC hits 70k or 60k", alert("BTC", "cross", 70000.0, unclear=("or 60k",))),
        ("alert me when BTC goes above 70000 by friday", alert("BTC", "above", 70000.0, unclear=("by friday",))),
        ("alert me when BTC goes above 70,000 USD please", alert("BTC", "above", 70000.0)),
        ("alert me if BTC drops 150%", alert("BTC", "move", None, direction="down",
                                               error="A price can't fall by 100% or more; pick a smaller drop, e.g. 10%.")),
    ],
)
def test_more_ways_to_say_an_alert(text, expected):
    assert parse_alert(text, known_symbols=KNOWN) == expected
    assert looks_like_alert(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let me know when MSFT drops by more than 3%", alert("MSFT", "move", 3.0, direction="down")),
        ("alert me if BTC falls by over 5%", alert("BTC", "move", 5.0, direction="down")),
        ("tell me when ETH rises by at least 4%", alert("ETH", "move", 4.0, direction="up")),
        # a level with a verb in front is still a level
        ("BTC drops below 60000", alert("BTC", "below", 60000.0)),
    ],
)
def test_a_change_verb_before_more_than_is_a_change(text, expected):
    assert looks_like_alert(text)
    assert parse_alert(text, known_symbols=KNOWN) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("alert me when ETH is up 8% today", "within 24 hours"),
        ("tell me if AAPL drops 2% this week", "within 24 hours"),
        ("BTC above 70000 today", "for 1 day"),
    ],
)
def test_today_is_asked_about_never_dropped(text, hint):
    parsed = parse_alert(text, known_symbols=KNOWN)
    assert parsed.error is not None and hint in parsed.error
    assert parsed.window_seconds is None
    assert all(p.error for p in parse_alerts(text, known_symbols=KNOWN))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("notify me when BTC moves more than 4%", alert("BTC", "move", 4.0, direction="any")),
        ("BTC rises above 5%", alert("BTC", "move", 5.0, direction="up")),
        ("BTC rises above 70000", alert("BTC", "above", 70000.0)),
    ],
)
def test_a_level_word_before_a_percentage_is_a_change(text, expected):
    assert parse_alert(text, known_symbols=KNOWN) == expected
