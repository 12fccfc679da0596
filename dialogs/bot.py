"""The bot: remembers every conversation it sees, routes each message, runs the dialogs.

A message goes, in this order, to: a pending yes/no or "more" (``dialogs.pending``); the
command router (``dialogs.router``: alert commands, reminder commands, small talk), whose
management commands end any question the bot was waiting on; a complete new alert or reminder
request, which also ends a pending question and starts over; the open dialog; and finally the
dialogs that create alerts and reminders, or a fallback that suggests the nearest command.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ChannelAccount
from sqlalchemy.ext.asyncio import async_sessionmaker

from dialogs.alert_commands import AlertCommands, alert_command_from_card, is_alert_card, parse_alert_command
from dialogs.alert_parse import looks_like_alert, parse_alert
from dialogs.cancel_and_help import CANCEL_WORDS, HELP_WORDS
from dialogs.cards import as_reply, text_reply
from dialogs.commands import Command, parse_command
from dialogs.context import TurnUser, get_turn_user, set_turn_user
from dialogs.create_alert import CreateAlertDialog
from dialogs.create_reminder import CreateReminderDialog
from dialogs.edit_reminder import EditReminderDialog
from dialogs.formatting import zone_label
from dialogs.pending import NO_WORDS, YES_WORDS, PendingStore
from dialogs.proactive import ProactiveRoute
from dialogs.reminder_commands import ReminderCommands
from dialogs.router import Router
from dialogs.smalltalk import SmallTalk, nearest_command, parse_smalltalk, smalltalk_reply
from dialogs.timeparse import parse_reminder
from dialogs.turn_log import note_action
from dialogs.zones import zone_from_activity
from models.alerts import Alerts
from models.reminders import Reminders
from models.store import resume_conversation, set_user_timezone, upsert_conversation, upsert_user

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 1000
REMINDER_START = re.compile(
    r"^(remind|every|daily|hourly|weekly|monthly|cron|in \d|in an? |at \d|tomorrow|today|tonight|next |on )",
    re.IGNORECASE,
)
# The start of a message that is a new reminder request in its own right: when it also has
# a time and a text, it replaces any question the bot was waiting on.
NEW_REMINDER = re.compile(
    r"^(?:please |hey |ok |can you |could you |would you |pls )*(?:remind|set a reminder|new reminder)\b", re.IGNORECASE
)

HELP = """Here's what I can do:
- **Set a reminder:** "remind me to stretch in 10 minutes", "remind me tomorrow at 9am to call Anna", "every weekday at 8:30 remind me to stand up", "every 2 hours drink water", "remind me to pay rent on the 1st of every month at 10:00"
- **See them:** "my reminders" (say "more" for the next page)
- **Change them:** "move 3 to 5pm", "change 3 to every monday at 9", "rename 3 to call the dentist", "edit 3", "cancel 3", "cancel last", "cancel the dentist reminder", "cancel all", "pause 3", "resume 3", "snooze 10m", "snooze 3 1h", "done 3", "undo"
- **Price alerts:** "alert me when BTC goes above 70000", "tell me if AAPL drops below 180", "BTC crosses 65000", "ETH moves 5%", "EUR/USD changes 1% within 1 hour"; add "every time, at most once an hour" or "for 7 days"
- **Alerts and prices:** "my alerts", "change alert 2 to 75000", "cancel alert 2", "cancel all alerts", "pause alert 2", "resume alert 2", "rearm alert 2", "price BTC", "prices"
- **Time zone:** "my timezone", "set my timezone to London" (a city, "PST", "UTC+2" or "Europe/Prague"); "at 3pm London time" for one reminder

Say "cancel" to stop what we're doing."""

WELCOME = (
    "👋 Hi, I'm Nudge. I'll message you when it's time: try "
    '"remind me to stretch in 1 minute". Say "help" for everything I can do.'
)
NOT_UNDERSTOOD = 'Sorry, I didn\'t understand that. Try "remind me to stretch in 10 minutes", or say "help".'
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
        conversation_state: holds the dialog stack, pending questions and the undo record
            (persisted through the database storage).
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
        self._pending = PendingStore(conversation_state)
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(CreateReminderDialog(reminders, self._store_timezone))
        self._dialogs.add(EditReminderDialog(reminders))
        if alerts is not None:
            self._dialogs.add(CreateAlertDialog(alerts))
        self._reminder_commands = ReminderCommands(
            reminders=reminders,
            pending=self._pending,
            help_text=HELP,
            begin_edit=self._begin_edit,
            store_timezone=self._store_timezone,
            undo_other=self._undo_alert,
        )
        self._alert_commands = AlertCommands(alerts=alerts, pending=self._pending) if alerts is not None else None
        # The command table: alert commands first ("cancel alert 2" before "cancel 2").
        self._router = Router()
        if self._alert_commands is not None:
            self._router.add("alert", parse_alert_command, self._alert_commands.run)
        self._router.add("reminder", parse_command, self._reminder_commands.run)
        self._router.add("smalltalk", parse_smalltalk, self._smalltalk, interrupts=False)

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
            zone, source = user.timezone, user.timezone_source
            if detected and (
                _SOURCE_RANK[detected[1]] > _SOURCE_RANK.get(user.timezone_source, 0)
                or (detected[1] == user.timezone_source and detected[0] != user.timezone)
            ):
                zone, source = detected
                await set_user_timezone(session, user_pk=user.id, timezone=zone, source=source)
        if resumed_due is not None:
            self._reminders.wake(resumed_due)
        if resumed_alerts and self._on_alerts_resumed is not None:
            await self._on_alerts_resumed(resumed_alerts)
        logger.debug("turn from user %s in conversation %s", user.id, conversation.id)
        set_turn_user(turn_context, TurnUser(user.id, conversation.id, zone, source))

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

    # --- routing ----------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = (activity.text or "").strip()
        if isinstance(activity.value, dict) and activity.value.get("nudge"):
            await self._button(turn_context, activity.value)
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
        if await self._answer_pending(turn_context, text):
            return
        dialog_context = await self._dialogs.create_context(turn_context)
        route = self._router.route(text)
        bare = " ".join(text.lower().split()).rstrip(".!")
        if dialog_context.active_dialog is not None:
            if bare in CANCEL_WORDS or bare in HELP_WORDS or (route is not None and route.intent == "reminder.help"):
                # The dialog answers these itself: "cancel" ends it, "help" explains and re-asks.
                await self._continue(turn_context, dialog_context)
                return
            if route is not None and not route.interrupts:
                # Small talk ("thanks", "what time is it") is answered, and the question still waits.
                note_action(turn_context, route.intent)
                await route.run(turn_context)
                await dialog_context.reprompt_dialog()
                return
            if (route is not None and route.interrupts) or self._is_new_request(turn_context, text):
                # A command or a complete new request is never read as the answer to the
                # question: the question is dropped (its parts are not reused) and this runs.
                note_action(turn_context, "dialog.interrupted")
                await dialog_context.cancel_all_dialogs()
            else:
                if await self._continue(turn_context, dialog_context):
                    return
        if route is not None:
            note_action(turn_context, route.intent)
            await route.run(turn_context)
            return
        await self._create_or_fallback(turn_context, dialog_context, text, bare)

    async def _continue(self, turn_context: TurnContext, dialog_context: DialogContext) -> bool:
        """Give the message to the open dialog; False when the dialog did not take it."""
        note_action(turn_context, f"dialog.{dialog_context.active_dialog.id}")
        result = await dialog_context.continue_dialog()
        await self._dialog_finished(turn_context, result)
        return result.status != DialogTurnStatus.Empty

    async def _dialog_finished(self, turn_context: TurnContext, result: DialogTurnResult) -> None:
        # Dialogs end with the record "undo" needs ({"kind": ..., ...}) when they changed something.
        if result.status == DialogTurnStatus.Complete and isinstance(result.result, dict) and result.result.get("kind"):
            await self._pending.set_undo(turn_context, result.result)
            if result.result["kind"] == "reminder.create":
                await self._offer_city(turn_context)

    async def _offer_city(self, turn_context: TurnContext) -> None:
        """Once per conversation: a zone known only from the channel's UTC offset follows no
        daylight saving time, so suggest naming a city."""
        user = get_turn_user(turn_context)
        if user.timezone_source != "offset" or not await self._pending.first_time(turn_context, "city_offered"):
            return
        await turn_context.send_activity(text_reply(
            f"I only know your UTC offset ({zone_label(user.timezone)}), so your reminders won't follow "
            'daylight saving time. Tell me your city, e.g. "set my timezone to London", to fix that.',
            ("set my timezone to London", "set my timezone to New York"),
        ))

    def _is_new_request(self, turn_context: TurnContext, text: str) -> bool:
        """Whether ``text`` is a complete alert or reminder request in its own right."""
        if self._alerts is not None and looks_like_alert(text):
            parsed = parse_alert(text, known_symbols=tuple(self._alerts.known_symbols()))
            if parsed.error is None and parsed.condition and parsed.threshold is not None and (
                parsed.symbol or parsed.unknown_symbol
            ):
                return True
        if NEW_REMINDER.match(text):
            user = get_turn_user(turn_context)
            parsed = parse_reminder(text, now=self._reminders.now(), tz=user.timezone or "UTC")
            return bool(parsed.what) and (parsed.schedule is not None or bool(parsed.unclear))
        return False

    async def _create_or_fallback(
        self, turn_context: TurnContext, dialog_context: DialogContext, text: str, bare: str
    ) -> None:
        user = get_turn_user(turn_context)
        # Before reminders: "BTC moves 3% in 15 minutes" also reads as a time.
        if self._alerts is not None and looks_like_alert(text):
            note_action(turn_context, "alert.create")
            result = await dialog_context.begin_dialog(CreateAlertDialog.__name__, text)
            await self._dialog_finished(turn_context, result)
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
            result = await dialog_context.begin_dialog(CreateReminderDialog.__name__, text)
            await self._dialog_finished(turn_context, result)
            return
        if bare in CANCEL_WORDS:
            note_action(turn_context, "cancel.nothing")
            await turn_context.send_activity(
                text_reply('There\'s nothing to cancel right now. To cancel a reminder, say "cancel 3" '
                           '(its number from "my reminders").', MENU_SUGGESTIONS)
            )
            return
        suggestion = nearest_command(text)
        if suggestion is not None:
            note_action(turn_context, "did_you_mean")
            await turn_context.send_activity(
                text_reply(f'Sorry, I didn\'t understand that. Did you mean "{suggestion}"?', (suggestion, "help"))
            )
            return
        note_action(turn_context, "not_understood")
        await turn_context.send_activity(text_reply(NOT_UNDERSTOOD, MENU_SUGGESTIONS))

    # --- pending yes/no and "more" ----------------------------------------------------------

    async def _answer_pending(self, turn_context: TurnContext, text: str) -> bool:
        """Answer a typed "yes"/"no" to a pending confirmation, or "more" for a list's next page."""
        bare = " ".join(text.lower().split()).rstrip(".!")
        confirm = await self._pending.confirmation(turn_context)
        if confirm is not None:
            if bare in YES_WORDS or bare in NO_WORDS:
                await self._confirm(turn_context, confirm, bare in YES_WORDS)
                return True
            # Anything else drops the question: a later "yes" must not confirm it.
            await self._pending.clear_confirmation(turn_context)
        if bare in ("more", "show more", "next", "next page", "more please"):
            page = await self._pending.page(turn_context)
            if page is not None:
                await self._show_page(turn_context, page["kind"], page["offset"])
                return True
        return False

    async def _confirm(self, turn_context: TurnContext, action: str, yes: bool) -> None:
        await self._pending.clear_confirmation(turn_context)
        user = get_turn_user(turn_context)
        if not yes:
            note_action(turn_context, f"confirm.no.{action}")
            await turn_context.send_activity("OK, nothing was cancelled.")
            return
        note_action(turn_context, f"confirm.yes.{action}")
        if action == "cancel_all_alerts" and self._alert_commands is not None:
            await self._alert_commands.cancel_all_confirmed(turn_context)
        else:
            await self._reminder_commands.cancel_all_confirmed(turn_context)

    async def _show_page(self, turn_context: TurnContext, kind: str, offset: int) -> None:
        user = get_turn_user(turn_context)
        if kind == "alerts" and self._alert_commands is not None:
            reply = await self._alert_commands.page(user, offset)
        else:
            reply = await self._reminder_commands.page(user, offset)
        await self._pending.remember_page(turn_context, kind, offset, reply)
        await turn_context.send_activity(reply)

    async def _begin_edit(self, turn_context: TurnContext, number: int) -> None:
        dialog_context = await self._dialogs.create_context(turn_context)
        await dialog_context.cancel_all_dialogs()
        await dialog_context.begin_dialog(EditReminderDialog.__name__, {"number": number})

    async def _undo_alert(self, user: TurnUser, record: dict[str, Any]) -> str:
        if self._alert_commands is None:
            return "There's nothing to undo."
        return await self._alert_commands.undo(user, record)

    # --- buttons ----------------------------------------------------------------------------

    async def _button(self, turn_context: TurnContext, value: dict) -> None:
        action = value.get("nudge")
        if action == "confirm":
            note_action(turn_context, "button.confirm")
            pending = await self._pending.confirmation(turn_context)
            if pending is None or pending != value.get("action"):
                await turn_context.send_activity(
                    "That question isn't open any more, so nothing was changed. Ask again if you still want it."
                )
                return
            await self._confirm(turn_context, pending, value.get("answer") == "yes")
            return
        if action == "more":
            note_action(turn_context, "button.more")
            offset = value.get("offset")
            if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 10**6:
                offset = 0
            await self._show_page(turn_context, "alerts" if value.get("kind") == "alerts" else "reminders", offset)
            return
        if self._alert_commands is not None and is_alert_card(value):
            command = alert_command_from_card(value)
            note_action(turn_context, f"alert.button.{command.name}" if command else "alert.button.unknown")
            if command is None:
                await turn_context.send_activity(as_reply("That button doesn't name an alert I know."))
            else:
                await self._alert_commands.run(turn_context, command)
            return
        await self._card_action(turn_context, value)

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
            await self._reminder_commands.run(turn_context, Command("snooze", number=number, minutes=minutes))
        elif action in CARD_COMMANDS:
            await self._reminder_commands.run(turn_context, Command(action, number=number))
        else:
            await turn_context.send_activity("I don't know that button.")

    # --- small talk -------------------------------------------------------------------------

    async def _smalltalk(self, turn_context: TurnContext, talk: SmallTalk) -> None:
        user = get_turn_user(turn_context)
        await turn_context.send_activity(
            as_reply(smalltalk_reply(talk, now=self._reminders.now(), tz=user.timezone))
        )
