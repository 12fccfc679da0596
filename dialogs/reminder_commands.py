"""The chat's reminder commands, carried out: list (paged), cancel (by number, "last" or text,
"cancel all" after a yes), pause, resume, snooze, done, edit, undo and the time zone.

``parse_command`` (dialogs/commands.py) turns text into a ``Command``; ``ReminderCommands.run``
looks its handler up in a table by name and sends the reply. The alert side is laid out the
same way in dialogs/alert_commands.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from dialogs.cards import PAGE_SIZE, as_reply, choice_card, reminders_card, text_reply
from dialogs.commands import Command
from dialogs.context import TurnUser, get_turn_user
from dialogs.edit_reminder import change_reminder
from dialogs.formatting import ZONE_EXAMPLES, cancel_all_question, plural, shorten, when, zone_label
from dialogs.pending import PendingStore
from dialogs.timeparse import TimeParseError, parse_when
from dialogs.zones import resolve_zone
from models.markdown import escape_markdown
from models.reminders import ReminderError, Reminders, ReminderView


class ReminderCommands:
    """The reminder commands' handlers, by command name.

    Args:
        reminders: the reminder operations.
        pending: the conversation's pending confirmation, page and undo record.
        help_text: what "help" answers.
        begin_edit: starts the "edit N" dialog, ``await begin_edit(turn_context, number)``.
        store_timezone: stores a user's zone, ``await store_timezone(user_pk, zone)``.
        undo_other: undoes a record that is not about reminders (alerts), returning the reply.
    """

    def __init__(
        self,
        *,
        reminders: Reminders,
        pending: PendingStore,
        help_text: str,
        begin_edit: Callable[[TurnContext, int], Awaitable[None]],
        store_timezone: Callable[[int, str], Awaitable[None]],
        undo_other: Callable[[TurnUser, dict[str, Any]], Awaitable[str]],
    ) -> None:
        self._reminders = reminders
        self._pending = pending
        self._help_text = help_text
        self._begin_edit = begin_edit
        self._store_timezone = store_timezone
        self._undo_other = undo_other
        self._handlers: dict[str, Callable[[TurnContext, TurnUser, Command], Awaitable[Any]]] = {
            "help": self._help,
            "list": self._list,
            "cancel_all": self._ask_cancel_all,
            "cancel": self._cancel,
            "find_cancel": self._find_cancel,
            "pause": self._pause,
            "resume": self._resume,
            "snooze": self._snooze,
            "done": self._done,
            "edit": self._edit,
            "find_edit": self._find_edit,
            "undo": self._undo,
            "show_timezone": self._show_timezone,
            "set_timezone": self._set_timezone,
        }

    async def run(self, turn_context: TurnContext, command: Command) -> None:
        """Carry out ``command`` for the turn's user and send the reply."""
        user = get_turn_user(turn_context)
        handler = self._handlers.get(command.name)
        try:
            reply = await handler(turn_context, user, command) if handler else 'Sorry, I didn\'t understand that. Say "help".'
        except ReminderError as exc:
            reply = str(exc)
        if reply is not None:
            await turn_context.send_activity(as_reply(reply))

    async def _target(self, user: TurnUser, command: Command) -> int:
        """The number of the reminder a command names (by number, or "last": the newest live one)."""
        if command.number is not None:
            return command.number
        view = await self._reminders.last_created(user_pk=user.user_pk)
        if view is None:
            raise ReminderError('You have no reminders. Try "remind me to stretch in 10 minutes".')
        return view.number

    async def _view(self, user: TurnUser, number: int) -> ReminderView:
        for view in await self._reminders.list(user_pk=user.user_pk):
            if view.number == number:
                return view
        raise ReminderError(f'You have no reminder #{number}. Say "my reminders" to see them.')

    async def _help(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        return self._help_text

    async def _list(self, turn_context: TurnContext, user: TurnUser, command: Command) -> Activity:
        reply = await self.page(user, 0)
        await self._pending.remember_page(turn_context, "reminders", 0, reply)
        return reply

    async def _ask_cancel_all(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str | None:
        views = await self._reminders.list(user_pk=user.user_pk)
        if not views:
            return "You have no reminders to cancel."
        await self._pending.ask(turn_context, "cancel_all", cancel_all_question(len(views), "reminder"))
        return None

    async def _cancel(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        number = await self._target(user, command)
        before = await self._view(user, number)
        view = await self._reminders.cancel(user_pk=user.user_pk, number=number)
        await self._pending.set_undo(turn_context, {"kind": "reminder.cancel", "snapshots": [before.snapshot()]})
        return f"🗑️ Cancelled reminder #{view.number}: {escape_markdown(view.text)}. Say \"undo\" to bring it back."

    async def _find_cancel(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str | Activity:
        words = command.argument or ""
        found = await self._reminders.find(user_pk=user.user_pk, words=words)
        if not found:
            return _none_mention(words, "cancelled")
        if len(found) == 1:
            return await self._cancel(turn_context, user, Command("cancel", number=found[0].number))
        choices = [
            (f"Cancel #{view.number} {shorten(view.text, 40)}", {"nudge": "cancel", "number": view.number})
            for view in found[:PAGE_SIZE]
        ]
        return choice_card(f"{plural(len(found), 'reminder')} mention \"{shorten(words, 60)}\". Which one should I cancel?", choices)

    async def _pause(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        view = await self._reminders.pause(user_pk=user.user_pk, number=await self._target(user, command))
        return f"⏸️ Paused reminder #{view.number}: {escape_markdown(view.text)}. Say \"resume {view.number}\" to restart it."

    async def _resume(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        view = await self._reminders.resume(user_pk=user.user_pk, number=await self._target(user, command))
        return f"▶️ Resumed reminder #{view.number}: {escape_markdown(view.text)}, next {when(view.next_run_at, view.timezone)}."

    async def _snooze(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        # Without a number ("snooze", "snooze it"), a snooze is about the reminder just delivered.
        number = command.number
        if number is None:
            delivered = await self._reminders.last_delivered(user_pk=user.user_pk)
            if delivered is None:
                return 'None of your reminders has gone off yet, so there is nothing to snooze. Say "snooze 3 10m" to snooze #3.'
            number = delivered.number
        minutes = command.minutes
        if command.argument is not None:  # "snooze 5 until 6pm"
            try:
                until = parse_when(command.argument, now=self._reminders.now(), tz=user.timezone or "UTC")
            except TimeParseError as exc:
                return str(exc)
            if until.spec.get("type") != "date":
                return f'A snooze lasts until one time, not "{escape_markdown(shorten(command.argument, 60))}". Try "snooze {number} until 6pm".'
            minutes = max(1, math.ceil((until.first_run - self._reminders.now()).total_seconds() / 60))
        snoozed = await self._reminders.snooze(user_pk=user.user_pk, number=number, minutes=minutes)
        view = snoozed.view
        tz = user.timezone or view.timezone
        if snoozed.kept and view.next_run_at <= self._reminders.now() + timedelta(minutes=minutes):
            return (
                f"⏰ Reminder #{view.number} comes back {when(view.next_run_at, tz)} anyway, before that snooze "
                "would end, so I left it as it is."
            )
        if snoozed.kept:
            return (
                f"⏰ Reminder #{view.number} isn't due until {when(view.next_run_at, tz)}, later than that snooze, "
                f"so it stays then (a snooze never brings a reminder forward). To move it, say \"move {view.number} to ...\"."
            )
        return f"😴 Snoozed reminder #{view.number} until {when(view.next_run_at, tz)}."

    async def _done(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        view = await self._reminders.done(user_pk=user.user_pk, number=command.number)
        return f"👍 Done: #{view.number} {escape_markdown(view.text)}."

    async def _edit(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str | None:
        number = await self._target(user, command)
        view = await self._view(user, number)
        if command.field == "ask" or (not command.argument and command.field != "shift"):
            await self._begin_edit(turn_context, number)
            return None
        change = await change_reminder(
            self._reminders, user_pk=user.user_pk, view=view, field=command.field, argument=command.argument,
            tz=user.timezone or view.timezone, minutes=command.minutes,
        )
        if change.undo is not None:
            await self._pending.set_undo(turn_context, change.undo)
        return change.reply

    async def _find_edit(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str | Activity | None:
        """ "move the dentist reminder to friday at 3pm": the reminder found by its text."""
        words = command.target or ""
        found = await self._reminders.find(user_pk=user.user_pk, words=words)
        if not found:
            return _none_mention(words, "changed")
        if len(found) > 1:
            numbers = ", ".join(f"#{view.number}" for view in found[:PAGE_SIZE])
            return (
                f"{plural(len(found), 'reminder')} mention \"{escape_markdown(shorten(words, 60))}\" ({numbers}), so "
                f"nothing was changed. Say which, e.g. \"move {found[0].number} to {escape_markdown(shorten(command.argument or '', 40))}\"."
            )
        return await self._edit(turn_context, user, Command("edit", number=found[0].number, argument=command.argument))

    async def _undo(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        record = await self._pending.take_undo(turn_context)
        if record is None:
            return "There's nothing to undo."
        kind = record.get("kind")
        try:
            if kind == "reminder.create":
                view = await self._reminders.cancel(user_pk=user.user_pk, number=record["number"])
                return f"↩️ Undone: reminder #{view.number} ({escape_markdown(view.text)}) is cancelled."
            if kind in ("reminder.cancel", "reminder.cancel_all"):
                views = [await self._reminders.restore(user_pk=user.user_pk, snapshot=s) for s in record["snapshots"]]
                if len(views) == 1:
                    return f"↩️ Undone: reminder #{views[0].number} ({escape_markdown(views[0].text)}) is back."
                return f"↩️ Undone: {plural(len(views), 'reminder')} are back."
            if kind == "reminder.edit":
                view = await self._reminders.restore(user_pk=user.user_pk, snapshot=record["snapshot"])
                tz = user.timezone or view.timezone
                return (
                    f"↩️ Undone: reminder #{view.number} is back to {escape_markdown(view.text)}, "
                    f"next {when(view.next_run_at, tz)}."
                )
        except ReminderError as exc:
            return str(exc)
        return await self._undo_other(user, record)

    async def _show_timezone(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        if not user.timezone:
            return "I don't know your time zone yet. Say \"set my timezone to Europe/Prague\" (or yours)."
        if user.timezone_source == "offset":
            return (
                f"Your time zone is {zone_label(user.timezone)} (your device's UTC offset, without daylight "
                "saving time). Say \"set my timezone to <your city>\", e.g. \"set my timezone to London\", to fix that."
            )
        return (
            f'Your time zone is {zone_label(user.timezone)}. To change it, say "set my timezone to Europe/Prague" (or yours).'
        )

    async def _set_timezone(self, turn_context: TurnContext, user: TurnUser, command: Command) -> str:
        name = command.argument or ""
        zone = resolve_zone(name) or resolve_zone(re.sub(r"(?i)\s+(?:time|time zone|timezone|now)$", "", name))
        if zone is None:
            return f"I don't know the time zone \"{shorten(command.argument or '', 60)}\". {ZONE_EXAMPLES}"
        await self._store_timezone(user.user_pk, zone)
        user.timezone, user.timezone_source = zone, "user"
        kept = await self._reminders.reanchor(user_pk=user.user_pk, timezone=zone)
        reply = f"🌍 Your time zone is now {zone_label(zone)}. Reminders are shown in it."
        if kept:
            reply += (
                f" Your {plural(kept, 'recurring reminder')} keep{'s' if kept == 1 else ''} "
                f"{'its' if kept == 1 else 'their'} local times."
            )
        return reply

    async def cancel_all_confirmed(self, turn_context: TurnContext) -> None:
        """The user said yes to "cancel all": cancel every live reminder, keeping them for "undo"."""
        user = get_turn_user(turn_context)
        views = await self._reminders.list(user_pk=user.user_pk)
        count = await self._reminders.cancel_all(user_pk=user.user_pk)
        if not count:
            await turn_context.send_activity("You have no reminders to cancel.")
            return
        await self._pending.set_undo(
            turn_context, {"kind": "reminder.cancel_all", "snapshots": [v.snapshot() for v in views]}
        )
        await turn_context.send_activity(
            f"🗑️ Cancelled {plural(count, 'reminder')}. Say \"undo\" to bring {'it' if count == 1 else 'them'} back."
        )

    async def page(self, user: TurnUser, offset: int) -> Activity:
        """One page of "my reminders" (``PAGE_SIZE`` from ``offset``), with *More* when more follow."""
        views = await self._reminders.list(user_pk=user.user_pk)
        if not views:
            return text_reply(self._describe_list(views, user.timezone), ("remind me to stretch in 10 minutes", "help"))
        offset = max(0, min(offset, len(views) - 1))
        page = views[offset:offset + PAGE_SIZE]
        following = offset + PAGE_SIZE
        more = {"nudge": "more", "kind": "reminders", "offset": following} if following < len(views) else None
        plain = self._describe_list(page, user.timezone, total=len(views), offset=offset)
        return reminders_card(
            page, plain, lambda view: when(view.next_run_at, user.timezone or view.timezone),
            total=len(views), more=more,
        )

    def _describe_list(self, views, tz: str | None, *, total: int | None = None, offset: int = 0) -> str:
        if not views:
            return 'You have no reminders. Try "remind me to stretch in 10 minutes".'
        total = len(views) if total is None else total
        shown = f" ({offset + 1}–{offset + len(views)} of {total})" if total > len(views) else ""
        lines = [f"Your reminders{shown}:"]
        for view in views:
            moment = when(view.next_run_at, tz or view.timezone)
            repeat = f", {view.description}" if view.recurring else ""
            paused = " (paused)" if view.state == "paused" else ""
            lines.append(f"- #{view.number} {shorten(view.text, 120)}: next {moment}{repeat}{paused}")
        if offset + len(views) < total:
            lines.append('Say "more" for the next ones.')
        return "\n".join(lines)


def _none_mention(words: str, outcome: str) -> Activity:
    """The reply when no reminder's text has ``words``: nothing was ``outcome``."""
    return text_reply(
        f"None of your reminders mention \"{escape_markdown(shorten(words, 60))}\", so nothing was {outcome}.",
        ("my reminders",),
    )
