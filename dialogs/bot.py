"""The bot: remembers every conversation it sees, answers commands, runs the dialogs."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ChannelAccount
from sqlalchemy.ext.asyncio import async_sessionmaker

from dialogs.alert_commands import (
    AlertCommand,
    alert_command_from_card,
    is_alert_card,
    parse_alert_command,
    run_alert_command,
)
from dialogs.alert_parse import looks_like_alert
from dialogs.cards import as_reply, reminders_card, text_reply
from dialogs.commands import Command, parse_command
from dialogs.context import TurnUser, get_turn_user, set_turn_user
from dialogs.create_alert import CreateAlertDialog
from dialogs.create_reminder import CreateReminderDialog
from dialogs.proactive import ProactiveRoute
from dialogs.timeparse import parse_reminder
from dialogs.turn_log import note_action
from dialogs.zones import valid_zone, zone_from_activity
from models.markdown import escape_markdown
from models.alerts import Alerts
from models.reminders import ReminderError, Reminders
from models.schedule import format_local
from models.store import resume_conversation, set_user_timezone, upsert_conversation, upsert_user

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 1000
REMINDER_START = re.compile(
    r"^(remind|every|daily|hourly|weekly|monthly|cron|in \d|in an? |at \d|tomorrow|today|tonight|next |on )",
    re.IGNORECASE,
)

NEW_REQUEST = re.compile(r"^(please )?remind me\b.*\b(in|at|on|every|tomorrow|today|tonight)\b", re.IGNORECASE)

HELP = """Here's what I can do:
- **Set a reminder:** "remind me to stretch in 10 minutes", "remind me tomorrow at 9am to call Anna", "every weekday at 8:30 remind me to stand up", "every 2 hours drink water", "remind me to pay rent on the 1st of every month at 10:00"
- **See them:** "my reminders"
- **Change them:** "cancel 3", "cancel all", "pause 3", "resume 3", "snooze 3 1h", "done 3"
- **Price alerts:** "alert me when BTC goes above 70000", "tell me if AAPL drops below 180", "BTC crosses 65000", "ETH moves 5%", "EUR/USD changes 1% within 1 hour"; add "every time, at most once an hour" or "for 7 days"
- **Alerts and prices:** "my alerts", "cancel alert 2", "pause alert 2", "resume alert 2", "rearm alert 2", "price BTC", "prices"
- **Time zone:** "my timezone", "set my timezone to Europe/Prague"

Say "cancel" to stop what we're doing."""

WELCOME = (
    "👋 Hi, I'm Nudge. I'll message you when it's time: try "
    '"remind me to stretch in 1 minute". Say "help" for everything I can do.'
)
# Reminder buttons that run the typed command of the same name ("cancel 3", "pause 3"...).
CARD_COMMANDS = ("done", "cancel", "pause", "resume")
# Offered as buttons where the user may not know what to say next.
START_SUGGESTIONS = ("remind me to stretch in 1 minute", "alert me when BTC goes above 70000", "help")
MENU_SUGGESTIONS = ("my reminders", "my alerts", "help")


_SOURCE_RANK = {None: 0, "offset": 1, "channel": 2, "user": 3}


class NudgeBot(ActivityHandler):
    """The reminder bot.

    Args:
        sessionmaker: opens one session per unit of work.
        conversation_state: holds the dialog stack (persisted through the database storage).
        reminders: the reminder operations.
        alerts: the price alert operations.
        proactive: the Direct Line route for external systems' notify requests.
        on_alerts_resumed: awaited with the ids of alerts resumed because their conversation,
            found unreachable before, is talking again (the alert engine reloads them).
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        conversation_state: ConversationState,
        reminders: Reminders,
        alerts: Alerts | None = None,
        proactive: ProactiveRoute | None = None,
        on_alerts_resumed: Callable[[list[int]], Awaitable[None]] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._proactive = proactive
        self._on_alerts_resumed = on_alerts_resumed
        self._conversation_state = conversation_state
        self._reminders = reminders
        self._alerts = alerts
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(CreateReminderDialog(reminders, self._store_timezone))
        if alerts is not None:
            self._dialogs.add(CreateAlertDialog(alerts))

    async def on_turn(self, turn_context: TurnContext) -> None:
        if self._proactive is not None and await self._proactive.route(turn_context):
            return  # an external system's notify request (or its conversation)
        await self._remember(turn_context)
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def _remember(self, turn_context: TurnContext) -> None:
        """Upsert the user and the conversation reference of every inbound activity."""
        activity = turn_context.activity
        sender = activity.from_property
        if sender is None or not sender.id or activity.conversation is None or not activity.service_url:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        detected = zone_from_activity(turn_context)
        async with self._sessionmaker.begin() as session:
            user = await upsert_user(
                session,
                channel_id=activity.channel_id or "",
                user_id=sender.id,
                name=sender.name,
                aad_object_id=getattr(sender, "aad_object_id", None),
            )
            conversation = await upsert_conversation(
                session,
                user_pk=user.id,
                channel_id=activity.channel_id or "",
                conversation_id=activity.conversation.id,
                service_url=activity.service_url,
                reference=reference,
            )
            # A conversation found unreachable (403/404) is talking again: resume its jobs.
            resumed_due, resumed_alerts = await resume_conversation(session, conversation_pk=conversation.id)
            zone = user.timezone
            if detected and (
                _SOURCE_RANK[detected[1]] > _SOURCE_RANK.get(user.timezone_source, 0)
                or (detected[1] == user.timezone_source and detected[0] != user.timezone)
            ):
                zone = detected[0]
                await set_user_timezone(session, user_pk=user.id, timezone=zone, source=detected[1])
        if resumed_due is not None:
            self._reminders.wake(resumed_due)
        if resumed_alerts and self._on_alerts_resumed is not None:
            await self._on_alerts_resumed(resumed_alerts)
        logger.debug("turn from user %s in conversation %s", user.id, conversation.id)
        set_turn_user(turn_context, TurnUser(user.id, conversation.id, zone))

    async def _store_timezone(self, user_pk: int, zone: str) -> None:
        async with self._sessionmaker.begin() as session:
            await set_user_timezone(session, user_pk=user_pk, timezone=zone, source="user")

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                note_action(turn_context, "welcome")
                await turn_context.send_activity(text_reply(WELCOME, START_SUGGESTIONS))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = (activity.text or "").strip()
        if isinstance(activity.value, dict) and activity.value.get("nudge"):
            if self._alerts is not None and is_alert_card(activity.value):
                command = alert_command_from_card(activity.value)
                note_action(turn_context, f"alert.button.{command.name}" if command else "alert.button.unknown")
                reply = (
                    "That button doesn't name an alert I know."
                    if command is None
                    else await self._run_alert_command(turn_context, command)
                )
                await turn_context.send_activity(as_reply(reply))
            else:
                await self._card_action(turn_context, activity.value)
            return
        if not text:
            note_action(turn_context, "empty")
            await turn_context.send_activity('I got an empty message. Say "help" to see what I can do.')
            return
        if len(text) > MAX_MESSAGE_LENGTH:
            note_action(turn_context, "too_long")
            await turn_context.send_activity(
                f"That message is {len(text)} characters long; I read at most {MAX_MESSAGE_LENGTH}. "
                "Nothing was changed."
            )
            return
        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is not None and NEW_REQUEST.match(text):
            # A fresh "remind me ..." while a question is open starts over with it, rather
            # than being read as the answer to that question.
            await dialog_context.cancel_all_dialogs()
        if dialog_context.active_dialog is not None:
            note_action(turn_context, f"dialog.{dialog_context.active_dialog.id}")
            result = await dialog_context.continue_dialog()
            if result.status != DialogTurnStatus.Empty:
                return
        alert_command = parse_alert_command(text) if self._alerts is not None else None
        if alert_command is not None:
            note_action(turn_context, f"alert.{alert_command.name}")
            reply = await self._run_alert_command(turn_context, alert_command)
            await turn_context.send_activity(as_reply(reply))
            return
        command = parse_command(text)
        if command is not None:
            note_action(turn_context, f"reminder.{command.name}")
            await self._run_command(turn_context, command)
            return
        user = get_turn_user(turn_context)
        # Before reminders: "BTC moves 3% in 15 minutes" also reads as a time.
        if self._alerts is not None and looks_like_alert(text):
            note_action(turn_context, "alert.create")
            await dialog_context.begin_dialog(CreateAlertDialog.__name__, text)
            return
        if REMINDER_START.match(text) or (
            user.timezone
            and parse_reminder(text, now=self._reminders.now(), tz=user.timezone).schedule is not None
        ):
            note_action(turn_context, "reminder.create")
            if await self._reminders.at_limit(user_pk=user.user_pk):
                note_action(turn_context, "reminder.limit")
                await turn_context.send_activity(
                    f"You already have {self._reminders.max_live} active reminders, which is the limit. "
                    'Cancel some first ("my reminders" lists them).'
                )
                return
            await dialog_context.begin_dialog(CreateReminderDialog.__name__, text)
            return
        note_action(turn_context, "not_understood")
        await turn_context.send_activity(text_reply(
            'Sorry, I didn\'t understand that. Try "remind me to stretch in 10 minutes", '
            'or say "help".',
            MENU_SUGGESTIONS,
        ))

    async def _run_alert_command(self, turn_context: TurnContext, command: AlertCommand) -> str | Activity:
        return await run_alert_command(
            command, alerts=self._alerts, user=get_turn_user(turn_context), now=self._alerts.now()
        )

    async def _card_action(self, turn_context: TurnContext, value: dict) -> None:
        action = value.get("nudge")
        note_action(turn_context, f"reminder.button.{action if action in ('snooze', *CARD_COMMANDS) else 'unknown'}")
        number = value.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10**9:
            await turn_context.send_activity("That button doesn't name a reminder I know.")
            return
        if action == "snooze":
            minutes = value.get("minutes", 10)
            if not isinstance(minutes, int) or isinstance(minutes, bool):
                minutes = 10
            await self._run_command(turn_context, Command("snooze", number=number, minutes=minutes))
        elif action in CARD_COMMANDS:
            await self._run_command(turn_context, Command(action, number=number))
        else:
            await turn_context.send_activity("I don't know that button.")

    async def _run_command(self, turn_context: TurnContext, command: Command) -> None:
        user = get_turn_user(turn_context)
        reminders = self._reminders
        try:
            if command.name == "help":
                reply = HELP
            elif command.name == "list":
                views = await reminders.list(user_pk=user.user_pk)
                plain = self._describe_list(views, user.timezone)
                reply = (
                    reminders_card(views, plain, lambda view: self._when(view.next_run_at, user.timezone or view.timezone))
                    if views
                    else text_reply(plain, ("remind me to stretch in 10 minutes", "help"))
                )
            elif command.name == "cancel_all":
                count = await reminders.cancel_all(user_pk=user.user_pk)
                reply = f"Cancelled {count} reminder{'s' if count != 1 else ''}." if count else "You have no reminders to cancel."
            elif command.name == "cancel":
                view = await reminders.cancel(user_pk=user.user_pk, number=command.number)
                reply = f"🗑️ Cancelled reminder #{view.number}: {escape_markdown(view.text)}."
            elif command.name == "pause":
                view = await reminders.pause(user_pk=user.user_pk, number=command.number)
                reply = f"⏸️ Paused reminder #{view.number}: {escape_markdown(view.text)}. Say \"resume {view.number}\" to restart it."
            elif command.name == "resume":
                view = await reminders.resume(user_pk=user.user_pk, number=command.number)
                reply = f"▶️ Resumed reminder #{view.number}: {escape_markdown(view.text)}, next {self._when(view.next_run_at, view.timezone)}."
            elif command.name == "snooze":
                view = await reminders.snooze(user_pk=user.user_pk, number=command.number, minutes=command.minutes)
                reply = f"😴 Snoozed reminder #{view.number} until {self._when(view.next_run_at, view.timezone)}."
            elif command.name == "done":
                view = await reminders.done(user_pk=user.user_pk, number=command.number)
                reply = f"👍 Done: #{view.number} {escape_markdown(view.text)}."
            elif command.name == "show_timezone":
                reply = (
                    f'Your time zone is {user.timezone}. To change it, say "set my timezone to Europe/Prague" (or yours).'
                    if user.timezone
                    else "I don't know your time zone yet. Say \"set my timezone to Europe/Prague\" (or yours)."
                )
            elif command.name == "set_timezone":
                zone = valid_zone(command.argument or "")
                if zone is None:
                    reply = (
                        f"I don't know the time zone \"{command.argument}\". Please use an IANA name "
                        "like Europe/Prague, America/New_York or Asia/Tokyo."
                    )
                else:
                    await self._store_timezone(user.user_pk, zone)
                    user.timezone = zone
                    reply = f"🌍 Your time zone is now {zone}. Reminders are shown in it."
            else:
                reply = 'Sorry, I didn\'t understand that. Say "help".'
        except ReminderError as exc:
            reply = str(exc)
        await turn_context.send_activity(as_reply(reply))

    @staticmethod
    def _when(moment, tz: str) -> str:
        return format_local(moment, tz) if moment is not None else "(not scheduled)"

    def _describe_list(self, views, tz: str | None) -> str:
        if not views:
            return 'You have no reminders. Try "remind me to stretch in 10 minutes".'
        lines = ["Your reminders:"]
        for view in views:
            when = self._when(view.next_run_at, tz or view.timezone)
            repeat = f", {view.description}" if view.recurring else ""
            paused = " (paused)" if view.state == "paused" else ""
            lines.append(f"- #{view.number} {view.text}: next {when}{repeat}{paused}")
        return "\n".join(lines)
