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
from dialogs.formatting import ZONE_EXAMPLES, format_local
from dialogs.timeparse import TimeParseError, parse_reminder, parse_when
from dialogs.zones import resolve_zone, zone_label
from models.reminders import MAX_TEXT_LENGTH, ReminderError, ReminderLimitReached, Reminders

WHEN_EXAMPLES = '"in 10 minutes", "tomorrow at 9am", "every weekday at 8:30"'
WHEN_SUGGESTIONS = ("in 10 minutes", "in 1 hour", "tomorrow at 9am")
HELP_TEXT = (
    "I'm setting up a reminder. Answer my question, or say \"cancel\" to stop. "
    f"Times can look like {WHEN_EXAMPLES}. Any other command (\"my reminders\", \"my alerts\", a new "
    "reminder) works too and drops this question; say \"help\" again after it for everything I can do."
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
                    "First, which time zone are you in? For example London, New York, PST or UTC+2."
                ),
                retry_prompt=MessageFactory.text(
                    f"I don't know that time zone. {ZONE_EXAMPLES}"
                ),
            ),
        )

    async def parse_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        user = get_turn_user(step_context.context)
        if not user.timezone:
            zone = resolve_zone(step_context.result)
            await self._set_timezone(user.user_pk, zone)
            user.timezone, user.timezone_source = zone, "user"
            await step_context.context.send_activity(f"Got it, your time zone is {zone_label(zone)}.")
        step_context.values["tz"] = user.timezone
        parsed = parse_reminder(
            step_context.values["text"], now=self._reminders.now(), tz=user.timezone
        )
        step_context.values["what"] = parsed.what
        step_context.values["schedule"] = None
        step_context.values["question"] = None
        if parsed.error:
            await step_context.context.send_activity(parsed.error)
        elif parsed.unclear:
            # Words that look like a time but were not understood: store nothing, name them,
            # and ask for the time again (a complete new request also starts over).
            understood = parsed.schedule.description if parsed.schedule is not None else "no time"
            words = ", ".join(f'"{word}"' for word in parsed.unclear)
            step_context.values["question"] = {
                "text": f"I understood *{understood}*; what about {words}? Tell me the whole time again, "
                f"for example {WHEN_EXAMPLES}.",
                "suggestions": ([parsed.schedule.description] if parsed.schedule is not None else [])
                + list(WHEN_SUGGESTIONS[:2]) + ["cancel"],
            }
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
        question = step_context.values.get("question")
        prompt = (
            text_reply(question["text"], question["suggestions"])
            if question
            else text_reply(f"When should I remind you? For example {WHEN_EXAMPLES}.", WHEN_SUGGESTIONS)
        )
        return await step_context.prompt(
            self.WHEN_PROMPT,
            PromptOptions(
                prompt=prompt,
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
        return await step_context.end_dialog({"kind": "reminder.create", "number": view.number})

    async def _validate_zone(self, prompt_context: PromptValidatorContext) -> bool:
        return prompt_context.recognized.succeeded and resolve_zone(prompt_context.recognized.value) is not None

    async def _validate_what(self, prompt_context: PromptValidatorContext) -> bool:
        value = prompt_context.recognized.value if prompt_context.recognized.succeeded else ""
        return 0 < len(" ".join((value or "").split())) <= MAX_TEXT_LENGTH

    async def _validate_when(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        answer, now, tz = prompt_context.recognized.value, self._reminders.now(), prompt_context.options.validations["tz"]
        try:
            parse_when(answer, now=now, tz=tz)
        except TimeParseError as exc:
            await prompt_context.context.send_activity(str(exc))
            return False
        extra = _words_besides_the_time(answer, now=now, tz=tz)
        if extra:
            # "see you tomorrow" holds a time, but it is not an answer to "When?": ask again.
            await prompt_context.context.send_activity(
                f'I can read a time in that, but not "{extra}", so I haven\'t set anything yet. '
                f"When should I remind you? Just the time, for example {WHEN_EXAMPLES}."
            )
            return False
        return True


def _words_besides_the_time(answer: str, *, now, tz: str) -> str | None:
    """The words of an answer to "When?" that are not its time (as ``parse_when`` reads it)."""
    parsed = parse_reminder(answer, now=now, tz=tz)
    if parsed.schedule is not None:
        return parsed.what
    # parse_when's second reading, "in " + the answer ("10 minutes"): that "in" is not the user's.
    parsed = parse_reminder(f"in {answer}", now=now, tz=tz)
    what = parsed.what or ""
    return (what[3:] if what.lower().startswith("in ") else what) or None


def _schedule_values(schedule) -> dict:
    # Waterfall values are persisted with the dialog state, so keep them plain JSON.
    return {"spec": schedule.spec, "description": schedule.description}
