"""The chat's alert commands ("my alerts", "cancel alert 2", "price BTC") and alert card buttons.

``parse_alert_command`` and ``alert_command_from_card`` turn text or a button's value into an
``AlertCommand``; ``run_alert_command`` carries it out and returns the reply text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botbuilder.schema import Activity

from dialogs.alert_parse import match_symbol
from dialogs.cards import alerts_card, text_reply
from dialogs.context import TurnUser
from models.alerts import AlertError, Alerts, AlertView, describe_source, format_price
from models.schedule import format_local

# Short ids are small positive integers; anything longer can't name an alert and must not
# reach the database as an out-of-range integer.
_NUMBER = r"#?(\d{1,9})"
_MAX_NUMBER = 10**9
DEFAULT_SNOOZE_MINUTES = 60
# Older prices are stale: the alert engine ignores ticks older than this, too.
STALE_AFTER = timedelta(minutes=5)

_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
}
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_ALERT = r"(?:price )?alert"
_SYMBOL = r"([a-z0-9][a-z0-9./-]{0,15})"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("list", re.compile(r"(?:(?:my|list|show|list my|show my|show me my) )?(?:price )?alerts")),
    ("cancel_all", re.compile(r"(?:cancel|delete|remove|clear) all(?: of)?(?: my)? (?:price )?alerts")),
    ("cancel", re.compile(rf"(?:cancel|delete|remove) {_ALERT} {_NUMBER}")),
    ("pause", re.compile(rf"(?:pause|disable) {_ALERT} {_NUMBER}")),
    ("resume", re.compile(rf"(?:resume|unpause|enable) {_ALERT} {_NUMBER}")),
    ("snooze", re.compile(rf"snooze {_ALERT} {_NUMBER}(?: (?:for )?(\d{{1,6}}) ?({_UNIT}))?")),
    ("rearm", re.compile(rf"(?:rearm|re-arm|re arm|reset) {_ALERT} {_NUMBER}")),
    ("price", re.compile(r"(?:all )?prices|(?:show|list) (?:all )?prices")),
    ("price", re.compile(rf"(?:what(?:'s| is) (?:the )?)?price (?:of |for )?{_SYMBOL}")),
    ("price", re.compile(rf"{_SYMBOL} price")),
]


@dataclass(frozen=True)
class AlertCommand:
    """A parsed alert command: ``name`` plus the alert number, minutes or symbol it names.

    Names: list, cancel, cancel_all, pause, resume, snooze, rearm, price (``symbol`` None
    means every known symbol).
    """

    name: str
    number: int | None = None
    minutes: int | None = None
    symbol: str | None = None


def parse_alert_command(text: str) -> AlertCommand | None:
    """Return the alert command ``text`` is, or None when it is not one."""
    lowered = " ".join(text.strip().rstrip(".!?").lower().split())
    for name, pattern in _PATTERNS:
        match = pattern.fullmatch(lowered)
        if match is None:
            continue
        if name in ("cancel", "pause", "resume", "rearm"):
            return AlertCommand(name, number=int(match.group(1)))
        if name == "snooze":
            amount, unit = match.group(2), match.group(3)
            minutes = int(amount) * _UNITS[unit] if amount else DEFAULT_SNOOZE_MINUTES
            return AlertCommand(name, number=int(match.group(1)), minutes=minutes)
        if name == "price":
            symbol = match.group(1) if match.groups() else None
            return AlertCommand(name, symbol=symbol.upper() if symbol else None)
        return AlertCommand(name)
    return None


def _small_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _MAX_NUMBER:
        return value
    return None


def alert_command_from_card(value: dict) -> AlertCommand | None:
    """The command an alert card's button sent, or None when the value is not a valid one.

    Buttons (scheduler.messages.alert_activity) send ``{"nudge": "alert-snooze", "number": N,
    "minutes": 60}``, ``{"nudge": "alert-disable", "number": N}`` (pauses the alert) and
    ``{"nudge": "alert-rearm", "number": N}``; the list and confirmation cards
    (dialogs.cards) also ``alert-resume`` and ``alert-cancel``.
    """
    if not isinstance(value, dict):
        return None
    number = _small_int(value.get("number"))
    if number is None:
        return None
    action = value.get("nudge")
    if action == "alert-snooze":
        minutes = value.get("minutes", DEFAULT_SNOOZE_MINUTES)
        return AlertCommand("snooze", number=number, minutes=_small_int(minutes) or DEFAULT_SNOOZE_MINUTES)
    if action == "alert-disable":
        return AlertCommand("pause", number=number)
    if action == "alert-rearm":
        return AlertCommand("rearm", number=number)
    if action == "alert-resume":  # the list card's buttons
        return AlertCommand("resume", number=number)
    if action == "alert-cancel":
        return AlertCommand("cancel", number=number)
    return None


def is_alert_card(value: object) -> bool:
    """Whether a card value is meant for alerts (its ``nudge`` starts with "alert-")."""
    return isinstance(value, dict) and str(value.get("nudge", "")).startswith("alert-")


async def run_alert_command(
    command: AlertCommand, *, alerts: Alerts, user: TurnUser, now: datetime | None = None
) -> str | Activity:
    """Carry out ``command`` for ``user`` and return the reply.

    Args:
        command: from ``parse_alert_command`` or ``alert_command_from_card``.
        alerts: the alert operations.
        user: the turn's user (``dialogs.context.get_turn_user``); times are shown in their zone.
        now: the current time, to tell stale prices; the system clock when None.

    Returns:
        The text to send, or for "my alerts" the list card. An ``AlertError`` (no such
        alert, bad snooze...) becomes its message.
    """
    tz = user.timezone or "UTC"
    try:
        if command.name == "list":
            views = await alerts.list(user_pk=user.user_pk)
            plain = describe_alerts(views, tz)
            if not views:
                return text_reply(plain, ("alert me when BTC goes above 70000", "prices", "help"))
            return alerts_card(views, plain, lambda view: _alert_lines(view, tz))
        if command.name == "cancel_all":
            return await _cancel_all(alerts, user.user_pk)
        if command.name == "cancel":
            view = await alerts.cancel(user_pk=user.user_pk, number=command.number)
            return f"🗑️ Cancelled alert #{view.number}: {view.condition_text()}."
        if command.name == "pause":
            view = await alerts.pause(user_pk=user.user_pk, number=command.number)
            return (
                f"⏸️ Paused alert #{view.number}: {view.condition_text()}. "
                f'Say "resume alert {view.number}" to restart it.'
            )
        if command.name == "resume":
            view = await alerts.resume(user_pk=user.user_pk, number=command.number)
            return f"▶️ Resumed alert #{view.number}: {view.condition_text()}."
        if command.name == "snooze":
            view = await alerts.snooze(
                user_pk=user.user_pk, number=command.number, minutes=command.minutes
            )
            return (
                f"😴 Snoozed alert #{view.number} until {format_local(view.snoozed_until, tz)}: "
                f"{view.condition_text()}."
            )
        if command.name == "rearm":
            view = await alerts.rearm(user_pk=user.user_pk, number=command.number)
            return f"🔁 Re-armed alert #{view.number}: {view.condition_text()} ({view.mode_text()})."
        if command.name == "price":
            return describe_prices(alerts, command.symbol, tz, now or datetime.now(UTC))
    except AlertError as exc:
        return str(exc)
    return 'Sorry, I didn\'t understand that. Say "help".'


async def _cancel_all(alerts: Alerts, user_pk: int) -> str:
    # One operation per alert: a user has at most Alerts.max_live (100) of them.
    count = 0
    for view in await alerts.list(user_pk=user_pk):
        try:
            await alerts.cancel(user_pk=user_pk, number=view.number)
        except AlertError:
            continue  # cancelled meanwhile, e.g. from another conversation
        count += 1
    if not count:
        return "You have no alerts to cancel."
    return f"🗑️ Cancelled {count} alert{'s' if count != 1 else ''}."


def _alert_lines(view: AlertView, tz: str) -> list[str]:
    lines = [f"Fires {view.mode_text()}"]
    if view.expires_at is not None:
        lines.append(f"Until {format_local(view.expires_at, tz)}")
    if view.state == "paused" and view.snoozed_until is not None:
        lines.append(f"Snoozed until {format_local(view.snoozed_until, tz)}")
    elif view.state == "paused":
        lines.append("Paused")
    return lines


def describe_alerts(views: list[AlertView], tz: str) -> str:
    """The "my alerts" reply: one line per active or paused alert."""
    if not views:
        return 'You have no price alerts. Try "alert me when BTC goes above 70000".'
    lines = ["Your alerts:"]
    for view in views:
        line = f"- #{view.number} {view.condition_text()} ({view.mode_text()})"
        if view.expires_at is not None:
            line += f", until {format_local(view.expires_at, tz)}"
        if view.state == "paused" and view.snoozed_until is not None:
            line += f" — snoozed until {format_local(view.snoozed_until, tz)}"
        elif view.state == "paused":
            line += " — paused"
        lines.append(line)
    return "\n".join(lines)


def describe_prices(alerts: Alerts, symbol: str | None, tz: str, now: datetime) -> str:
    """The "price BTC" / "prices" reply."""
    known = tuple(alerts.known_symbols())
    if symbol is None:
        if not known:
            return "I don't know any symbols yet."
        # A markdown list (single newlines run together in Web Chat), and the source said
        # once when every price has the same one.
        quotes = [alerts.quote(name) for name in known]
        sources = {describe_source(q.source, q.simulated) for q in quotes if q is not None}
        shared = len(sources) == 1
        lines = [f"- {_price_line(alerts, name, tz, now, with_source=not shared)}" for name in known]
        if shared:
            lines.append(f"\nSource: {sources.pop()}.")
        return "\n".join(lines)
    found = match_symbol(symbol, known)
    if found is None:
        return f"I don't know {symbol}. I know: {', '.join(known)}."
    return _price_line(alerts, found, tz, now)


def _price_line(alerts: Alerts, symbol: str, tz: str, now: datetime, with_source: bool = True) -> str:
    quote = alerts.quote(symbol)
    if quote is None:
        return f"{symbol}: I have no price yet."
    note = f" (source: {describe_source(quote.source, quote.simulated)})" if with_source else ""
    seen = format_local(quote.at, tz)
    if now - quote.at > STALE_AFTER:
        return f"{symbol}: {format_price(quote.price)} (stale: last seen {seen}){note}"
    return f"{symbol}: {format_price(quote.price)} at {seen}{note}"
