"""Interruptions every dialog honours: "cancel" ends the dialog, "help" explains and re-asks."""

from __future__ import annotations

from botbuilder.core import MessageFactory
from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes, InputHints

CANCEL_WORDS = {"cancel", "stop", "quit", "never mind", "nevermind", "abort"}
HELP_WORDS = {"help", "?", "help?", "commands", "what can you do", "what can you do?"}


class CancelAndHelpDialog(ComponentDialog):
    """Base for the bot's dialogs; subclasses define the waterfall.

    Args:
        dialog_id: the dialog's id.
        help_text: what "help" shows while this dialog waits for an answer.
    """

    def __init__(self, dialog_id: str, help_text: str) -> None:
        super().__init__(dialog_id)
        self._help_text = help_text

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        result = await self._interrupt(inner_dc)
        if result is not None:
            return result
        return await super().on_continue_dialog(inner_dc)

    async def _interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        activity = inner_dc.context.activity
        if activity.type != ActivityTypes.message or not activity.text:
            return None
        text = " ".join(activity.text.lower().split()).rstrip(".!")
        if text in CANCEL_WORDS:
            await inner_dc.context.send_activity(
                MessageFactory.text("OK, cancelled. Nothing was changed.", input_hint=InputHints.ignoring_input)
            )
            return await inner_dc.cancel_all_dialogs()
        if text in HELP_WORDS:
            await inner_dc.context.send_activity(
                MessageFactory.text(self._help_text, input_hint=InputHints.expecting_input)
            )
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return None
