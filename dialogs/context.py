"""Who the current turn is from, as the bot stored it: set by the bot, read by the dialogs."""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.core import TurnContext

_KEY = "nudge.turn_user"


@dataclass
class TurnUser:
    """The stored user and conversation behind the current turn."""

    user_pk: int
    conversation_pk: int
    timezone: str | None
    # Where the zone came from: "user", "channel" (an IANA name) or "offset" (a UTC offset only).
    timezone_source: str | None = None


def set_turn_user(turn_context: TurnContext, user: TurnUser) -> None:
    turn_context.turn_state[_KEY] = user


def get_turn_user(turn_context: TurnContext) -> TurnUser:
    user = turn_context.turn_state.get(_KEY)
    if user is None:
        raise RuntimeError("the bot did not record the turn's user")
    return user
