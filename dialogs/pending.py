"""What the bot remembers between turns outside a dialog, in the conversation's state (stored
in the database with the dialog stack): an open yes/no confirmation, the next page of a list,
and the record "undo" needs to revert the last create, cancel or edit.

All three are per conversation. The confirmation is dropped by any other message, so a
"yes" typed later never confirms something the user has moved on from.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.schema import Activity

from dialogs.cards import PAGE_SIZE, confirm_card

YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "yes please", "do it", "confirm"}
NO_WORDS = {"no", "n", "nope", "nah", "no thanks", "don't", "dont", "cancel", "stop", "never mind", "nevermind", "abort"}


class PendingStore:
    """Reads and writes the pending confirmation, page and undo record of the turn's conversation.

    Args:
        conversation_state: the bot's conversation state; the bot saves it at the end of each turn.
    """

    def __init__(self, conversation_state: ConversationState) -> None:
        self._property = conversation_state.create_property("Pending")

    async def _state(self, turn_context: TurnContext) -> dict[str, Any]:
        state = await self._property.get(turn_context, dict)
        if not isinstance(state, dict):
            state = {}
            await self._property.set(turn_context, state)
        return state

    async def confirmation(self, turn_context: TurnContext) -> str | None:
        """The action waiting for a yes or no ("cancel_all", "cancel_all_alerts"), or None."""
        return (await self._state(turn_context)).get("confirm")

    async def set_confirmation(self, turn_context: TurnContext, action: str) -> None:
        (await self._state(turn_context))["confirm"] = action

    async def clear_confirmation(self, turn_context: TurnContext) -> None:
        (await self._state(turn_context)).pop("confirm", None)

    async def ask(self, turn_context: TurnContext, action: str, question: str) -> None:
        """Send a yes/no ``question`` about ``action`` and wait for the answer."""
        await self.set_confirmation(turn_context, action)
        await turn_context.send_activity(confirm_card(question, action))

    async def remember_page(self, turn_context: TurnContext, kind: str, offset: int, reply: Activity) -> None:
        """After showing the page of ``kind`` at ``offset``: what a typed "more" shows next."""
        actions = reply.suggested_actions.actions if reply.suggested_actions is not None else []
        more = any(action.title == "more" for action in actions)
        await self.set_page(turn_context, {"kind": kind, "offset": offset + PAGE_SIZE} if more else None)

    async def page(self, turn_context: TurnContext) -> dict[str, Any] | None:
        """The list page "more" shows: ``{"kind": "reminders"|"alerts", "offset": N}``, or None."""
        return (await self._state(turn_context)).get("page")

    async def set_page(self, turn_context: TurnContext, page: dict[str, Any] | None) -> None:
        state = await self._state(turn_context)
        if page is None:
            state.pop("page", None)
        else:
            state["page"] = page

    async def set_undo(self, turn_context: TurnContext, record: dict[str, Any]) -> None:
        """Remember how to revert the change just made (replacing the previous record)."""
        (await self._state(turn_context))["undo"] = record

    async def take_undo(self, turn_context: TurnContext) -> dict[str, Any] | None:
        """The last change's undo record, forgotten once taken (undo is not repeated)."""
        return (await self._state(turn_context)).pop("undo", None)

    async def first_time(self, turn_context: TurnContext, flag: str) -> bool:
        """True the first time ``flag`` is asked about in this conversation, False afterwards."""
        flags = (await self._state(turn_context)).setdefault("flags", [])
        if flag in flags:
            return False
        flags.append(flag)
        return True
