"""Changing a reminder: a new time ("move 3 to 5pm"), a new recurrence ("change 3 to every
monday at 9") or new text ("rename 3 to call the dentist"), in one message or, for "edit 3",
as a short dialog that asks what to change.

``change_reminder`` does the work for both and returns the reply plus what "undo" needs.
Rules written here (the time itself is read by ``dialogs.timeparse``):

* a date without a time ("move 3 to friday") keeps the reminder's time of day;
* a time without a date ("move 3 to 5pm") keeps a one-off's day when that is still ahead;
* a repeating reminder is never silently turned into a one-off, and a message that is not a
  time is never stored as the new text unless the user said "rename".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt

from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.cards import text_reply
from dialogs.context import get_turn_user
from dialogs.formatting import shorten, when
from dialogs.timeparse import Schedule, TimeParseError, describe_schedule, parse_when
from models.markdown import escape_markdown
from models.reminders import ReminderError, Reminders, ReminderView
from models.schedule import is_recurring

HELP_TEXT = (
    "I'm changing a reminder. Say a new time (\"5pm\", \"tomorrow at 9\", \"every monday at 9\"), "
    "or \"rename to ...\" for new text, or \"cancel\" to leave it as it is."
)
_RENAME = re.compile(r"(?i)^\s*(?:rename(?: it)?(?: to)?|text|call it|change the text to|new text:?)\s+(.+)$")
# Words that give a time of day, or a relative time that carries its own clock.
_HAS_TIME = re.compile(
    r"(?i)\d\s*(?:am|pm|a\.m\.|p\.m\.|h\b)|\d:\d|\bat \d|\b(?:noon|midnight|morning|afternoon|evening|night|tonight|"
    r"tonite|now)\b|\bin (?:a|an|\d+)|\b\d+ ?(?:min|minutes?|hours?|hrs?|h)\b|\bhalf\b"
)
_PLAIN_TIME = re.compile(
    r"(?i)^(?:at |@ ?)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}:\d{2}|noon|midnight)$"
)


@dataclass(frozen=True)
class Change:
    """The outcome of a change: the reply, and the snapshot "undo" restores (None if nothing changed)."""

    reply: str
    undo: dict | None = None


def rename_text(answer: str) -> str | None:
    """The new text of an "edit" answer like "rename to call the dentist", or None."""
    match = _RENAME.match(answer)
    return match.group(1).strip() if match else None


def _new_schedule(view: ReminderView, text: str, *, now: datetime, tz: str) -> Schedule:
    """Read ``text`` as the reminder's new time, keeping what the user left unsaid from the old one."""
    parsed = parse_when(text, now=now, tz=tz)
    old = view.next_run_at.astimezone(ZoneInfo(tz)) if view.next_run_at else None
    if old is None or parsed.spec.get("type") not in ("date", "cron"):
        return parsed
    candidates = []
    # Only a rule that fires at set hours ("every monday" → 09:00) took a default time of day;
    # "every hour" has none to keep.
    daily = parsed.spec.get("type") == "date" or re.fullmatch(r"\d{1,2}", str(parsed.spec.get("hour", "")))
    if daily and not _HAS_TIME.search(text):
        # "friday" → friday at the old time; "every day" → every day at the old time.
        candidates.append(f"{text} at {old:%H:%M}")
    elif parsed.spec.get("type") == "date" and _PLAIN_TIME.match(text.strip()) and not view.recurring:
        candidates.append(f"on {old.day} {old:%b %Y} at {text.strip().removeprefix('at ').lstrip('@ ')}")
    for candidate in candidates:
        try:
            kept = parse_when(candidate, now=now, tz=tz)
        except TimeParseError:
            continue
        if kept.first_run > now:
            return kept
    return parsed


async def change_reminder(
    reminders: Reminders,
    *,
    user_pk: int,
    view: ReminderView,
    field: str | None,
    argument: str | None,
    tz: str,
    minutes: int | None = None,
) -> Change:
    """Apply "move/change/rename ``view`` to ``argument``".

    Args:
        field: "text" (rename), "when" (a new time), "shift" (later by ``minutes``), or None:
            a new time if ``argument`` reads as one, otherwise a question (never a guess at new text).
    """
    number = view.number
    snapshot = view.snapshot()
    if field == "text":
        try:
            changed = await reminders.rename(user_pk=user_pk, number=number, text=argument)
        except ReminderError as exc:
            return Change(str(exc))
        return Change(
            f"✏️ Renamed reminder #{number} to: {escape_markdown(changed.text)}. Say \"undo\" to change it back.",
            {"kind": "reminder.edit", "snapshot": snapshot},
        )
    if field == "shift":  # "postpone 2 by an hour": later than it is now by that much
        if view.recurring or view.next_run_at is None:
            return Change(
                f"Reminder #{number} repeats ({view.description}), so I can't push it by a fixed time. "
                f"Say \"snooze {number} ...\" for its next one, or \"change {number} to ...\" for a new schedule."
            )
        run_at = view.next_run_at + timedelta(minutes=minutes or 0)
        spec = {"type": "date", "run_at": run_at.isoformat()}
        try:
            changed = await reminders.reschedule(
                user_pk=user_pk, number=number, schedule=spec, description=describe_schedule(spec, tz), timezone=tz
            )
        except ReminderError as exc:
            return Change(str(exc))
        return Change(
            f"✏️ Moved reminder #{number} ({escape_markdown(shorten(changed.text, 80))}) to "
            f"{when(changed.next_run_at, tz)}. Say \"undo\" to change it back.",
            {"kind": "reminder.edit", "snapshot": snapshot},
        )
    try:
        schedule = _new_schedule(view, argument, now=reminders.now(), tz=tz)
    except TimeParseError as exc:
        if field == "when":
            return Change(str(exc))
        return Change(
            f"I couldn't read a time in \"{escape_markdown(shorten(argument, 60))}\", so reminder #{number} is "
            f"unchanged. For a new time say e.g. \"move {number} to 5pm\"; for new text, "
            f"\"rename {number} to {escape_markdown(shorten(argument, 60))}\"."
        )
    recurring = is_recurring(schedule.spec)
    if view.recurring and not recurring:
        return Change(
            f"Reminder #{number} repeats ({view.description}), and \"{escape_markdown(argument)}\" is a single time, "
            f"so I left it as it is. Say a repeating time, like \"change {number} to every day at 17:00\", "
            f"or cancel it and set a new one-off reminder."
        )
    try:
        changed = await reminders.reschedule(
            user_pk=user_pk, number=number, schedule=schedule.spec, description=schedule.description, timezone=tz
        )
    except ReminderError as exc:
        return Change(str(exc))
    what = escape_markdown(shorten(changed.text, 80))
    if recurring:
        reply = (
            f"✏️ Reminder #{number} ({what}) now repeats {schedule.description}; "
            f"next {when(changed.next_run_at, tz)}."
        )
    else:
        reply = f"✏️ Moved reminder #{number} ({what}) to {when(changed.next_run_at, tz)}."
    return Change(reply + ' Say "undo" to change it back.', {"kind": "reminder.edit", "snapshot": snapshot})


class EditReminderDialog(CancelAndHelpDialog):
    """Asks what to change about one reminder, then changes it.

    Begin it with ``{"number": N}``; it ends with the ``Change.undo`` record (or None).

    Args:
        reminders: the reminder operations.
    """

    ANSWER_PROMPT = "edit-answer-prompt"

    def __init__(self, reminders: Reminders) -> None:
        super().__init__(EditReminderDialog.__name__, HELP_TEXT)
        self._reminders = reminders
        self.add_dialog(TextPrompt(self.ANSWER_PROMPT, self._validate_answer))
        self.add_dialog(WaterfallDialog("edit-reminder", [self.ask_step, self.change_step]))
        self.initial_dialog_id = "edit-reminder"

    async def _view(self, step_context: WaterfallStepContext) -> ReminderView | None:
        user = get_turn_user(step_context.context)
        number = step_context.options["number"]
        return next((v for v in await self._reminders.list(user_pk=user.user_pk) if v.number == number), None)

    async def ask_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        view = await self._view(step_context)
        if view is None:
            number = step_context.options["number"]
            await step_context.context.send_activity(f'You have no reminder #{number}. Say "my reminders" to see them.')
            return await step_context.end_dialog(None)
        tz = get_turn_user(step_context.context).timezone or view.timezone
        repeat = f", {view.description}" if view.recurring else ""
        question = (
            f"What should I change about #{view.number} \"{escape_markdown(shorten(view.text, 80))}\" "
            f"(next {when(view.next_run_at, tz)}{repeat})? Say a new time, like \"5pm\", \"tomorrow at 9\" "
            "or \"every monday at 9\", or \"rename to ...\" for new text."
        )
        return await step_context.prompt(
            self.ANSWER_PROMPT,
            PromptOptions(
                prompt=text_reply(question, ("tomorrow at 9am", "in 1 hour", "cancel")),
                retry_prompt=text_reply(
                    "Please say a new time (\"5pm\", \"every monday at 9\"), \"rename to ...\", or \"cancel\".",
                    ("tomorrow at 9am", "cancel"),
                ),
                validations={"tz": tz},
            ),
        )

    async def change_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        view = await self._view(step_context)
        if view is None:
            await step_context.context.send_activity("That reminder is gone meanwhile; nothing was changed.")
            return await step_context.end_dialog(None)
        user = get_turn_user(step_context.context)
        answer = step_context.result
        text = rename_text(answer)
        change = await change_reminder(
            self._reminders,
            user_pk=user.user_pk,
            view=view,
            field="text" if text else "when",
            argument=text or answer,
            tz=user.timezone or view.timezone,
        )
        await step_context.context.send_activity(change.reply)
        return await step_context.end_dialog(change.undo)

    async def _validate_answer(self, prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        answer = prompt_context.recognized.value or ""
        if rename_text(answer):
            return True
        try:
            parse_when(answer, now=self._reminders.now(), tz=prompt_context.options.validations["tz"])
        except TimeParseError:
            return False
        return True
