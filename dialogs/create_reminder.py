"""The "create a reminder" flow: one message or step by step, then a confirmation.

"remind me to stretch in 10 minutes" completes in one turn; "remind me to stretch" asks
when; "remind me in 10 minutes" asks what. A user with no known time zone is asked for it
once, before anything else.
"""

from __future__ import annotations

from botbuilder.core import MessageFactory
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt

from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.cards import reminder_set_card, text_reply
from dialogs.context import get_turn_user
from dialogs.timeparse import TimeParseError, parse_reminder, parse_when
from dialogs.zones import valid_zone
from models.reminders import MAX_TEXT_LENGTH, ReminderError, ReminderLimitReached, Reminders
from models.schedule import format_local

WHEN_EXAMPLES = '"in 10 minutes", "tomorrow at 9am", "every weekday at 8:30"'
WHEN_SUGGESTIONS = ("in 10 minutes", "in 1 hour", "tomorrow at 9am")
HELP_TEXT = (
    "I'm setting up a reminder. Answer my question, or say \"cancel\" to stop. "
    f"Times can look like {WHEN_EXAMPLES}."
)


class CreateReminderDialog(CancelAndHelpDialog):
    """Collects what and when, and stores the reminder.

    Args:
        reminders: the reminder operations.
        set_timezone: stores a user's zone, ``await set_timezone(user_pk, zone)``.
    """

    TZ_PROMPT = "timezone-prompt"
    WHAT_PROMPT = "what-prompt"
    WHEN_PROMPT = "when-prompt"

    def __init__(self, reminders: Reminders, set_timezone) -> None:
        super().__init__(CreateReminderDialog.__name__, HELP_TEXT)
        self._reminders = reminders
        self._set_timezone = set_timezone
        self.add_dialog(TextPrompt(self.TZ_PROMPT, self._validate_zone))
        self.add_dialog(TextPrompt(self.WHAT_PROMPT, self._validate_what))
        self.add_dialog(TextPrompt(self.WHEN_PROMPT, self._validate_when))
        self.add_dialog(
            WaterfallDialog(
                "create-reminder",
                [self.timezone_step, self.parse_step, self.what_step, self.when_step, self.save_step],
            )
        )
        self.initial_dialog_id = "create-reminder"

    async def timezone_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        step_context.values["text"] = step_context.options or ""
        user = get_turn_user(step_context.context)
        if user.timezone:
            return await step_context.next(user.timezone)
        return await step_context.prompt(
            self.TZ_PROMPT,
            PromptOptions(
                prompt=MessageFactory.text(
                    "First, which time zone are you in? For example Europe/Prague or America/New_York."
                ),
                retry_prompt=MessageFactory.text(
                    "I don't know that time zone. Please give an IANA name like Europe/Prague, "
                    "America/New_York or Asia/Tokyo."
                ),
            ),
        )

    async def parse_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        user = get_turn_user(step_context.context)
        if not user.timezone:
            zone = valid_zone(step_context.result)
            await self._set_timezone(user.user_pk, zone)
            user.timezone = zone
            await step_context.context.send_activity(f"Got it, your time zone is {zone}.")
        step_context.values["tz"] = user.timezone
        parsed = parse_reminder(
            step_context.values["text"], now=self._reminders.now(), tz=user.timezone
        )
        step_context.values["what"] = parsed.what
        step_context.values["schedule"] = None
        if parsed.error:
            await step_context.context.send_activity(parsed.error)
        elif parsed.schedule is not None:
            step_context.values["schedule"] = _schedule_values(parsed.schedule)
        return await step_context.next(None)

    async def what_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        if step_context.values["what"]:
            return await step_context.next(step_context.values["what"])
        return await step_context.prompt(
            self.WHAT_PROMPT,
            PromptOptions(
                prompt=MessageFactory.text("What should I remind you about?"),
                retry_prompt=MessageFactory.text(
                    f"Please tell me what to remind you about, in at most {MAX_TEXT_LENGTH} characters."
                ),
            ),
        )

    async def when_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        step_context.values["what"] = " ".join(step_context.result.split())
        if step_context.values["schedule"]:
            return await step_context.next(None)
        return await step_context.prompt(
            self.WHEN_PROMPT,
            PromptOptions(
                prompt=text_reply(
                    f"When should I remind you? For example {WHEN_EXAMPLES}.", WHEN_SUGGESTIONS
                ),
                validations={"tz": step_context.values["tz"]},
            ),
        )

    async def save_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        tz = step_context.values["tz"]
        schedule = step_context.values["schedule"]
        if schedule is None:
            schedule = _schedule_values(parse_when(step_context.result, now=self._reminders.now(), tz=tz))
        user = get_turn_user(step_context.context)
        try:
            view = await self._reminders.create(
                user_pk=user.user_pk,
                conversation_pk=user.conversation_pk,
                text=step_context.values["what"],
                schedule=schedule["spec"],
                description=schedule["description"],
                timezone=tz,
            )
        except ReminderLimitReached:
            await step_context.context.send_activity(
                f"You already have {self._reminders.max_live} active reminders, which is the limit. "
                'Cancel some first ("my reminders" lists them).'
            )
            return await step_context.end_dialog()
        except ReminderError as exc:
            await step_context.context.send_activity(str(exc))
            return await step_context.end_dialog()
        await step_context.context.send_activity(reminder_set_card(view, format_local(view.next_run_at, tz)))
        return await step_context.end_dialog(view.number)

    async def _validate_zone(self, prompt_context: PromptValidatorContext) -> bool:
        return prompt_context.recognized.succeeded and valid_zone(prompt_context.recognized.value) is not None

    async def _validate_what(self, prompt_context: PromptValidatorContext) -> bool:
        value = prompt_context.recognized.value if prompt_context.recognized.succeeded else ""
        return 0 < len(" ".join((value or "").split())) <= MAX_TEXT_LENGTH

    async def _validate_when(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        try:
            parse_when(
                prompt_context.recognized.value,
                now=self._reminders.now(),
                tz=prompt_context.options.validations["tz"],
            )
        except TimeParseError as exc:
            await prompt_context.context.send_activity(str(exc))
            return False
        return True


def _schedule_values(schedule) -> dict:
    # Waterfall values are persisted with the dialog state, so keep them plain JSON.
    return {"spec": schedule.spec, "description": schedule.description}
