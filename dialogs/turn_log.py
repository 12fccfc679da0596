"""One log line per turn, written by middleware (the SDK's extension point for this).

The line says which channel and conversation the turn came from, what kind of activity it
was, what the bot made of it (``action``, set by the bot with :func:`note_action`), how many
activities it sent back, how long it took and how it ended. Never the user's text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from botbuilder.core import Middleware, TurnContext

logger = logging.getLogger("nudge.turn")

_ACTION = "nudge.action"


def note_action(turn_context: TurnContext, action: str) -> None:
    """Name what the bot did with this turn (``reminder.create``, ``alert.list``...)."""
    turn_context.turn_state[_ACTION] = action


class TurnLogMiddleware(Middleware):
    """Logs each turn once it has ended (``outcome=error`` and re-raises if it failed)."""

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable]) -> None:
        started = time.monotonic()
        replies = 0

        async def count(_context, activities, send_next):
            nonlocal replies
            replies += len(activities)
            return await send_next()

        context.on_send_activities(count)
        outcome = "ok"
        try:
            await logic()
        except BaseException as exc:
            outcome = f"error:{type(exc).__name__}" if isinstance(exc, Exception) else "cancelled"
            raise
        finally:
            activity = context.activity
            logger.log(
                logging.INFO if outcome == "ok" else logging.WARNING,
                "turn",
                extra={"fields": {
                    "event": "turn",
                    "channel": activity.channel_id,
                    "conversation": activity.conversation.id if activity.conversation else None,
                    "type": activity.type,
                    "name": activity.name if activity.type == "event" else None,
                    "action": context.turn_state.get(_ACTION),
                    "replies": replies,
                    "outcome": outcome,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                }},
            )
