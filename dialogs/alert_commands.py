"""The chat's alert commands ("my alerts", "cancel alert 2", "price BTC") and alert card buttons.

``parse_alert_command`` and ``alert_command_from_card`` turn text or a button's value into an
``AlertCommand``; ``run_alert_command`` carries it out and returns the reply text;
``AlertCommands`` adds what needs the conversation (confirmations, paging, undo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from dialogs.alert_parse import match_symbol, parse_percent, parse_threshold
from dialogs.cards import PAGE_SIZE, alerts_card, as_reply, text_reply
from dialogs.commands import DURATION_UNIT, DURATION_UNITS, NUMBER
from dialogs.context import TurnUser, get_turn_user
from dialogs.formatting import cancel_all_question, format_local, plural, shorten
from dialogs.pending import PendingStore
from models.markdown import escape_markdown
from models.alerts import AlertError, Alerts, AlertView, describe_source, format_price

_MAX_NUMBER = 10**9
DEFAULT_SNOOZE_MINUTES = 60
# Older prices are stale: the alert engine ignores ticks older than this, too.
STALE_AFTER = timedelta(minutes=5)

_ALERT = r"(?:price )?alert"
_SYMBOL = r"([a-z0-9][a-z0-9./-]{0,15})"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("list", re.compile(r"(?:(?:my|list|show|list my|show my|show me my) )?(?:price )?alerts")),
    # Asked as a question: "what alerts do I have?", "do I have any price alerts?"
    ("list", re.compile(r"(?:what|which|any)(?: are)?(?: my)? (?:price )?alerts(?: (?:do i have|have i got|are (?:there|set|active|left)|i have))?"
                        r"|(?:what are|what's|whats) my (?:price )?alerts|(?:do i have|have i got) any (?:price )?alerts(?: set| left)?")),
    ("cancel_all", re.compile(r"(?:cancel|delete|remove|clear) all(?: of)?(?: my)? (?:price )?alerts")),
    ("cancel", re.compile(rf"(?:cancel|delete|remove) {_ALERT} {NUMBER}")),
    ("pause", re.compile(rf"(?:pause|disable) {_ALERT} {NUMBER}")),
    ("resume", re.compile(rf"(?:resume|unpause|enable) {_ALERT} {NUMBER}")),
    ("snooze", re.compile(rf"snooze {_ALERT} {NUMBER}(?: (?:for )?(\d{{1,6}}) ?({DURATION_UNIT}))?")),
    ("rearm", re.compile(rf"(?:rearm|re-arm|re arm|reset) {_ALERT} {NUMBER}")),
    ("edit", re.compile(rf"(?:change|edit|update|set|move|modify) {_ALERT} {NUMBER}(?: (?:to|at) (.+))?")),
    ("price", re.compile(r"(?:all )?prices|(?:show|list) (?:all )?prices")),
    ("price", re.compile(rf"(?:what(?:'s| is) (?:the )?)?price (?:of |for )?{_SYMBOL}")),
    ("price", re.compile(rf"{_SYMBOL} price")),
]


@dataclass(frozen=True)
class AlertCommand:
    """A parsed alert command: ``name`` plus the alert number, minutes or symbol it names.

    Names: list, cancel, cancel_all, pause, resume, snooze, rearm, edit (``argument`` the new
    level as typed, None to ask), price (``symbol`` None means every known symbol).
    """

    name: str
    number: int | None = None
    minutes: int | None = None
    symbol: str | None = None
    argument: str | None = None


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
            minutes = int(amount) * DURATION_UNITS[unit] if amount else DEFAULT_SNOOZE_MINUTES
            return AlertCommand(name, number=int(match.group(1)), minutes=minutes)
        if name == "edit":
            return AlertCommand(name, number=int(match.group(1)), argument=match.group(2))
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
            return alerts_page(await alerts.list(user_pk=user.user_pk), tz, offset=command.number or 0)
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


def alerts_page(views: list[AlertView], tz: str, *, offset: int = 0) -> Activity:
    """One page of "my alerts" (``PAGE_SIZE`` from ``offset``), with *More* when more follow."""
    if not views:
        return text_reply(describe_alerts(views, tz), ("alert me when BTC goes above 70000", "prices", "help"))
    offset = max(0, min(offset, len(views) - 1))
    page = views[offset:offset + PAGE_SIZE]
    following = offset + PAGE_SIZE
    plain = describe_alerts(page, tz, total=len(views), offset=offset)
    more = {"nudge": "more", "kind": "alerts", "offset": following} if following < len(views) else None
    return alerts_card(page, plain, lambda view: _alert_lines(view, tz), total=len(views), more=more)


async def cancel_all_alerts(alerts: Alerts, user_pk: int) -> tuple[str, list[int]]:
    """Cancel every live alert of the user; the reply and the numbers cancelled (for "undo")."""
    numbers = [view.number for view in await alerts.list(user_pk=user_pk)]
    reply = await _cancel_all(alerts, user_pk)
    return reply, numbers


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


def describe_alerts(views: list[AlertView], tz: str, *, total: int | None = None, offset: int = 0) -> str:
    """The "my alerts" reply: one line per active or paused alert (of one page: ``views``
    from ``offset`` of ``total``)."""
    if not views:
        return 'You have no price alerts. Try "alert me when BTC goes above 70000".'
    total = len(views) if total is None else total
    shown = f" ({offset + 1}–{offset + len(views)} of {total})" if total > len(views) else ""
    lines = [f"Your alerts{shown}:"]
    for view in views:
        line = f"- #{view.number} {view.condition_text()} ({view.mode_text()})"
        if view.expires_at is not None:
            line += f", until {format_local(view.expires_at, tz)}"
        if view.state == "paused" and view.snoozed_until is not None:
            line += f" — snoozed until {format_local(view.snoozed_until, tz)}"
        elif view.state == "paused":
            line += " — paused"
        lines.append(line)
    if offset + len(views) < total:
        lines.append('Say "more" for the next ones.')
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


class AlertCommands:
    """The alert commands carried out in a turn, laid out as ``ReminderCommands`` is: the
    typed or pressed command, the "cancel all alerts" confirmation, paging and undo.

    Args:
        alerts: the alert operations.
        pending: the conversation's pending confirmation, page and undo record.
    """

    def __init__(self, *, alerts: Alerts, pending: PendingStore) -> None:
        self._alerts = alerts
        self._pending = pending

    async def run(self, turn_context: TurnContext, command: AlertCommand) -> None:
        """Carry out ``command`` for the turn's user and send the reply."""
        user = get_turn_user(turn_context)
        alerts = self._alerts
        if command.name == "cancel_all":
            live = await alerts.list(user_pk=user.user_pk)
            if not live:
                await turn_context.send_activity(as_reply("You have no alerts to cancel."))
                return
            await self._pending.ask(
                turn_context, "cancel_all_alerts",
                cancel_all_question(len(live), "price alert"),
            )
            return
        if command.name == "edit":
            await turn_context.send_activity(as_reply(await self._edit(turn_context, user, command)))
            return
        reply = as_reply(await run_alert_command(command, alerts=alerts, user=user, now=alerts.now()))
        if command.name == "list":
            await self._pending.remember_page(turn_context, "alerts", 0, reply)
        if command.name == "cancel" and reply.text and reply.text.startswith("🗑️"):
            await self._pending.set_undo(turn_context, {"kind": "alert.cancel", "numbers": [command.number]})
            reply.text += ' Say "undo" to bring it back.'
        await turn_context.send_activity(reply)

    async def page(self, user: TurnUser, offset: int) -> Activity:
        """One page of "my alerts" from ``offset``."""
        return alerts_page(await self._alerts.list(user_pk=user.user_pk), user.timezone or "UTC", offset=offset)

    async def cancel_all_confirmed(self, turn_context: TurnContext) -> None:
        """The user said yes to "cancel all alerts"."""
        user = get_turn_user(turn_context)
        reply, numbers = await cancel_all_alerts(self._alerts, user.user_pk)
        if numbers:
            await self._pending.set_undo(turn_context, {"kind": "alert.cancel_all", "numbers": numbers})
            reply += f' Say "undo" to bring {"it" if len(numbers) == 1 else "them"} back.'
        await turn_context.send_activity(as_reply(reply))

    async def _edit(self, turn_context: TurnContext, user: TurnUser, command: AlertCommand) -> str:
        """ "change alert 2 to 75000": a new level for the alert, armed again."""
        views = {view.number: view for view in await self._alerts.list(user_pk=user.user_pk)}
        view = views.get(command.number)
        if view is None:
            return f'You have no alert #{command.number}. Say "my alerts" to see them.'
        percent = view.condition in ("move", "window")
        example = "5%" if percent else "75000"
        if not command.argument:
            return (
                f'Alert #{view.number} is {view.condition_text()}. Say "change alert {view.number} to {example}" '
                "to give it a new level."
            )
        level = parse_percent(command.argument) if percent else parse_threshold(command.argument)
        if level is None:
            return (
                f"I couldn't read a {'percentage' if percent else 'price'} in "
                f"\"{escape_markdown(shorten(command.argument, 40))}\", so alert #{view.number} is unchanged. "
                f"Say e.g. \"change alert {view.number} to {example}\"."
            )
        try:
            changed, old = await self._alerts.set_threshold(user_pk=user.user_pk, number=view.number, threshold=level)
        except AlertError as exc:
            return str(exc)
        await self._pending.set_undo(turn_context, {"kind": "alert.edit", "number": view.number, "threshold": old})
        was = f"{old:g}%" if percent else format_price(old)
        return (
            f"✏️ Alert #{changed.number} is now: {changed.condition_text()} (was {was}). "
            'Say "undo" to change it back.'
        )

    async def undo(self, user: TurnUser, record: dict[str, Any]) -> str:
        """Revert an alert change ``record`` (from the pending store); the reply."""
        kind = record.get("kind")
        try:
            if kind == "alert.create":
                views = [
                    await self._alerts.cancel(user_pk=user.user_pk, number=n)
                    for n in record.get("numbers") or [record["number"]]
                ]
                return "↩️ Undone: " + " and ".join(
                    f"alert #{view.number} ({view.condition_text()})" for view in views
                ) + (" is" if len(views) == 1 else " are") + " cancelled."
            if kind in ("alert.cancel", "alert.cancel_all"):
                views = [
                    await self._alerts.restore(user_pk=user.user_pk, number=n, state="active")
                    for n in record["numbers"]
                ]
                if len(views) == 1:
                    return f"↩️ Undone: alert #{views[0].number} ({views[0].condition_text()}) is back."
                return f"↩️ Undone: {plural(len(views), 'alert')} are back."
            if kind == "alert.edit":
                view = await self._alerts.restore(
                    user_pk=user.user_pk, number=record["number"], threshold=record["threshold"]
                )
                return f"↩️ Undone: alert #{view.number} is back to {view.condition_text()}."
        except AlertError as exc:
            return str(exc)
        return "There's nothing to undo."
