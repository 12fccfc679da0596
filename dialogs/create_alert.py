"""The "create a price alert" flow: one message or step by step, then a confirmation.

"alert me when BTC goes above 70000" completes in one turn; "alert me" asks which symbol,
what to watch for and at what level, one question each. The confirmation shows the current
price, so the user can see how far away the condition is.
"""

from __future__ import annotations

import dataclasses

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt
from botbuilder.schema import Activity

from dialogs.alert_parse import ParsedAlert, parse_alert, parse_alerts, parse_percent, parse_threshold
from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.cards import alert_set_card, text_reply
from dialogs.context import get_turn_user
from models.alerts import (
    MAX_PERCENT,
    AlertError,
    AlertRequest,
    Alerts,
    AlertView,
    Quote,
    describe_source,
    format_price,
)
from dialogs.formatting import format_local

CONDITION_EXAMPLES = '"above 70000", "below 180", "crosses 65000", "moves 5%" or "changes 1% within 1 hour"'
HELP_TEXT = (
    "I'm setting up a price alert. Answer my question, or say \"cancel\" to stop. "
    f"Conditions look like {CONDITION_EXAMPLES}; add \"every time, at most once an hour\" "
    'to repeat, or "for 7 days" to end it. Any other command ("my alerts", a new alert) works '
    "too and drops this question."
)
SIMULATED_NOTE = "simulated prices, not real market data"


class CreateAlertDialog(CancelAndHelpDialog):
    """Collects symbol, condition and threshold, and stores the alert.

    Begin it with the user's message as options:
    ``await dialog_context.begin_dialog(CreateAlertDialog.__name__, text)``. It needs the
    turn's user in turn state (``dialogs.context.set_turn_user``), as the bot sets it.

    Args:
        alerts: the alert operations (and the known symbols and latest quotes).
    """

    SYMBOL_PROMPT = "alert-symbol-prompt"
    CONDITION_PROMPT = "alert-condition-prompt"
    THRESHOLD_PROMPT = "alert-threshold-prompt"

    def __init__(self, alerts: Alerts) -> None:
        super().__init__(CreateAlertDialog.__name__, HELP_TEXT)
        self._alerts = alerts
        self.add_dialog(TextPrompt(self.SYMBOL_PROMPT, self._validate_symbol))
        self.add_dialog(TextPrompt(self.CONDITION_PROMPT, self._validate_condition))
        self.add_dialog(TextPrompt(self.THRESHOLD_PROMPT, self._validate_threshold))
        self.add_dialog(
            WaterfallDialog(
                "create-alert",
                [self.symbol_step, self.condition_step, self.threshold_step, self.save_step],
            )
        )
        self.initial_dialog_id = "create-alert"

    def _known(self) -> tuple[str, ...]:
        return tuple(self._alerts.known_symbols())

    def _which_symbol(self) -> str:
        return f"Which symbol? I know: {', '.join(self._known())}."

    async def symbol_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        several = parse_alerts(step_context.options or "", known_symbols=self._known())
        if len(several) > 1:
            return await self._create_several(step_context, several)
        parsed = several[0]
        if parsed.error:
            await step_context.context.send_activity(f"{parsed.error} Nothing was set.")
            return await step_context.end_dialog(None)
        if parsed.unclear:
            # Words that look like more of the request ("today", "or 80000"): ask, never drop them.
            await step_context.context.send_activity(text_reply(
                f"I didn't understand {_quoted(parsed.unclear)} in that, so nothing was set. Say the alert "
                f"again without it, with a condition like {CONDITION_EXAMPLES}.",
                ("help",),
            ))
            return await step_context.end_dialog(None)
        # Waterfall values are persisted with the dialog state, so keep them plain JSON.
        step_context.values["alert"] = dataclasses.asdict(parsed)
        if parsed.symbol:
            return await step_context.next(None)
        if parsed.unknown_symbol:
            await step_context.context.send_activity(f"I don't know {parsed.unknown_symbol}.")
        return await step_context.prompt(
            self.SYMBOL_PROMPT,
            PromptOptions(
                prompt=text_reply(self._which_symbol(), self._known()[:6]),
                retry_prompt=MessageFactory.text(self._which_symbol()),
            ),
        )

    async def condition_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        alert = step_context.values["alert"]
        if step_context.result is not None:
            # The answer may say more than the symbol ("ETH above 4000"): keep what it adds.
            answer = parse_alert(step_context.result, known_symbols=self._known())
            alert["symbol"] = answer.symbol
            if answer.error is None and answer.condition and not alert["condition"]:
                _merge(alert, answer)
        if alert["condition"]:
            return await step_context.next(None)
        symbol = alert["symbol"]
        return await step_context.prompt(
            self.CONDITION_PROMPT,
            PromptOptions(
                prompt=MessageFactory.text(
                    f"What should I watch {symbol} for? For example {CONDITION_EXAMPLES}."
                ),
                retry_prompt=MessageFactory.text(
                    f"Sorry, I didn't get that. Tell me the condition, like {CONDITION_EXAMPLES}."
                ),
                validations={"symbol": symbol},
            ),
        )

    async def threshold_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        alert = step_context.values["alert"]
        if step_context.result is not None:
            _merge(alert, self._parse_condition(alert["symbol"], step_context.result))
        if alert["threshold"] is not None:
            return await step_context.next(None)
        symbol = alert["symbol"]
        percent = alert["condition"] in ("move", "window")
        if percent:
            question = f"By how many percent should {symbol} change? For example 5%."
            retry = f"Please give a percentage above 0 and at most {MAX_PERCENT:g}, like 5%."
        else:
            quote = self._alerts.quote(symbol)
            now = f" {symbol} is now {format_price(quote.price)}." if quote is not None else ""
            question = f"At what price?{now} For example 70000 or 70k."
            retry = "Please give the price as a positive number, like 70000, 70k or 180.50."
        return await step_context.prompt(
            self.THRESHOLD_PROMPT,
            PromptOptions(
                prompt=MessageFactory.text(question),
                retry_prompt=MessageFactory.text(retry),
                validations={"percent": percent},
            ),
        )

    async def save_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        alert = step_context.values["alert"]
        if step_context.result is not None:
            alert["threshold"] = _read_threshold(step_context.result, alert["condition"] in ("move", "window"))
        user = get_turn_user(step_context.context)
        try:
            view, quote = await self._alerts.create(
                user_pk=user.user_pk, conversation_pk=user.conversation_pk, request=_request(alert)
            )
        except AlertError as exc:
            await step_context.context.send_activity(str(exc))
            return await step_context.end_dialog(None)
        await step_context.context.send_activity(confirmation(view, quote, user.timezone or "UTC"))
        return await step_context.end_dialog({"kind": "alert.create", "number": view.number})

    async def _create_several(self, step_context: WaterfallStepContext, parsed: tuple[ParsedAlert, ...]) -> DialogTurnResult:
        """ "BTC above 70000 or below 60000": every alert, when each part is complete; else none."""
        incomplete = [p for p in parsed if p.error or p.unclear or not p.symbol or not p.condition or p.threshold is None]
        if incomplete:
            problem = next((p.error.rstrip(".") for p in incomplete if p.error), None)
            await step_context.context.send_activity(
                f"That asks for {len(parsed)} alerts, and I couldn't read all of them"
                + (f" ({problem})" if problem else "")
                + ', so nothing was set. Send them one at a time, like "BTC above 70000".'
            )
            return await step_context.end_dialog(None)
        user = get_turn_user(step_context.context)
        numbers = []
        for alert in parsed:
            try:
                view, quote = await self._alerts.create(
                    user_pk=user.user_pk, conversation_pk=user.conversation_pk, request=_request(dataclasses.asdict(alert))
                )
            except AlertError as exc:
                await step_context.context.send_activity(str(exc))
                break
            numbers.append(view.number)
            await step_context.context.send_activity(confirmation(view, quote, user.timezone or "UTC"))
        return await step_context.end_dialog({"kind": "alert.create", "numbers": numbers} if numbers else None)

    # -- validators --------------------------------------------------------------------------

    def _parse_condition(self, symbol: str, answer: str) -> ParsedAlert:
        # Read the answer as if it followed the symbol: "above 70000" -> "BTC above 70000".
        return parse_alert(f"{symbol} {answer}", known_symbols=self._known())

    async def _validate_symbol(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        answer = parse_alert(prompt_context.recognized.value, known_symbols=self._known())
        if answer.symbol:
            return True
        if answer.unknown_symbol:
            await _say(prompt_context.context, f"I don't know {answer.unknown_symbol}. {self._which_symbol()}")
        return False

    async def _validate_condition(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        answer = self._parse_condition(
            prompt_context.options.validations["symbol"], prompt_context.recognized.value
        )
        if answer.error:
            await _say(prompt_context.context, f"{answer.error} What should I watch for?")
            return False
        return answer.condition is not None

    async def _validate_threshold(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        value = _read_threshold(
            prompt_context.recognized.value, prompt_context.options.validations["percent"]
        )
        return value is not None


def _request(alert: dict) -> AlertRequest:
    return AlertRequest(
        symbol=alert["symbol"],
        condition=alert["condition"],
        threshold=alert["threshold"],
        direction=alert["direction"],
        window_seconds=alert["window_seconds"],
        repeat=alert["repeat"],
        cooldown_seconds=alert["cooldown_seconds"],
        expires_in_seconds=alert["expires_in_seconds"],
    )


def _quoted(words: tuple[str, ...]) -> str:
    return " or ".join(f'"{word}"' for word in words)


def _read_threshold(text: str, percent: bool) -> float | None:
    if percent:
        value = parse_percent(text)
        return value if value is not None and value <= MAX_PERCENT else None
    return parse_threshold(text)


def _merge(alert: dict, answer: ParsedAlert) -> None:
    """Fill the condition parts of ``alert`` from a later answer; modes accumulate."""
    if answer.condition:
        alert["condition"] = answer.condition
        alert["direction"] = answer.direction
        alert["window_seconds"] = answer.window_seconds
        alert["threshold"] = answer.threshold
    alert["repeat"] = alert["repeat"] or answer.repeat
    alert["cooldown_seconds"] = alert["cooldown_seconds"] or answer.cooldown_seconds
    alert["expires_in_seconds"] = alert["expires_in_seconds"] or answer.expires_in_seconds


async def _say(turn_context: TurnContext, text: str) -> None:
    # A validator that sends a message replaces the prompt's retry (the prompt only re-asks
    # when nothing was said this turn), so the message must end with the question.
    await turn_context.send_activity(MessageFactory.text(text))


def already_true(view: AlertView, price: float) -> bool:
    """Whether a new above/below alert's condition holds at ``price`` already.

    The alert engine (scheduler.alert_index) fires an armed above/below alert on any tick
    at or past its level, so such an alert fires on the next price update, not on a later
    crossing. Cross alerts wait for a crossing and move alerts start from this price, so
    neither can be true at once.
    """
    if view.condition == "above":
        return price >= view.threshold
    if view.condition == "below":
        return price <= view.threshold
    return False


def confirmation(view: AlertView, quote: Quote, tz: str) -> Activity:
    """The reply to a new alert, a card: what it watches, how often, and the price it starts
    from. Its plain text (the card's fallback) reads:

    E.g. "🔔 Alert #1 set: BTC goes above 70,000 (once). BTC is now 68,120.5 (simulated
    prices, not real market data), as of Tue 24 Nov 2026 13:00 CET."
    """
    source = "simulated" if quote.simulated else describe_source(quote.source, False)
    text = (
        f"🔔 Alert #{view.number} set: {view.condition_text()} ({view.mode_text()}). "
        f"{view.symbol} is now {format_price(quote.price)} "
        f"({SIMULATED_NOTE if quote.simulated else f'source: {source}'}), "
        f"as of {format_local(quote.at, tz)}."
    )
    note = None  # said under the card's facts
    if already_true(view, quote.price):
        side = "at" if quote.price == view.threshold else view.condition
        note = (
            f"It is already {side} {format_price(view.threshold)}, so the alert will go off "
            "with the next price update."
        )
        text += " " + note
    facts = [
        ("Now", f"{format_price(quote.price)} ({source})"),
        ("As of", format_local(quote.at, tz)),
        ("Fires", view.mode_text()),
    ]
    if view.expires_at is not None:
        text += f" The alert ends {format_local(view.expires_at, tz)}."
        facts.append(("Ends", format_local(view.expires_at, tz)))
    if quote.simulated:
        note = f"{note} {SIMULATED_NOTE.capitalize()}." if note else f"{SIMULATED_NOTE.capitalize()}."
    return alert_set_card(view, text, facts, note)
