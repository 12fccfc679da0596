"""Proactive delivery: send one activity into a stored conversation and report the outcome.

Two pitfalls of the stock proactive recipe are handled here:

* ``BotAdapter.run_pipeline`` hands any exception raised in the turn to ``on_turn_error``,
  which logs it and returns, so a failed send looks like success to the caller. The
  callback therefore catches the send's exception itself and reports it.
* ``continue_conversation`` creates a synthetic event with a fresh id; ``send_activity``
  would copy that id into ``replyToId`` and post to ``.../activities/{id}``. Web Chat then
  holds the message for 5 s waiting for a parent that never arrives. The callback clears
  the id so the message is posted to the conversation itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ConversationReference

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one send attempt.

    Attributes:
        ok: the channel accepted the activity.
        status: the channel's HTTP status when it answered with an error.
        error: a short description of the failure.
        retry_after: seconds the channel asked us to wait (429/503 ``Retry-After``).
    """

    ok: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def _describe_failure(exc: BaseException) -> DeliveryResult:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    retry_after = None
    headers = getattr(response, "headers", None)
    if headers is not None:
        raw = headers.get("Retry-After")
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
    message = f"{type(exc).__name__}: {exc}"[:500]
    return DeliveryResult(ok=False, status=status, error=message, retry_after=retry_after)


class Deliverer:
    """Sends activities proactively through the bot's adapter.

    Args:
        adapter: the bot's ``CloudAdapter``.
        app_id: the bot's Microsoft App ID ("" for local use without credentials).
    """

    def __init__(self, adapter: BotAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id or ""

    async def send(self, reference: dict[str, Any], activity: Activity | dict[str, Any]) -> DeliveryResult:
        """Send ``activity`` (or its JSON) into the conversation ``reference`` (a serialised reference).

        Returns:
            The outcome; it never raises for a channel or network failure.
        """
        if isinstance(activity, dict):
            activity = Activity().deserialize(activity)
        outcome: list[DeliveryResult] = []

        async def callback(turn_context: TurnContext) -> None:
            turn_context.activity.id = None
            try:
                await turn_context.send_activity(activity)
            except Exception as exc:  # every failure becomes a result the scheduler sees
                outcome.append(_describe_failure(exc))
            else:
                outcome.append(DeliveryResult(ok=True))

        try:
            conversation_reference = ConversationReference().deserialize(reference)
            await self._adapter.continue_conversation(
                conversation_reference, callback, self._app_id
            )
        except Exception as exc:
            logger.warning("proactive turn failed before sending: %s", type(exc).__name__)
            return _describe_failure(exc)
        if not outcome:
            return DeliveryResult(ok=False, error="the proactive turn did not run")
        return outcome[0]
