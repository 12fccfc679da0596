"""The Direct Line route for external systems: a ``proactive`` event through ``/api/messages``.

An external system that talks to the bot through a channel (Direct Line, typically) sends
an activity of type ``event`` named ``proactive`` whose ``value`` is the same JSON object
``POST /api/notify`` takes, or a message whose ``value`` is that object. The channel's own
authentication lets it in; on top of that only the senders listed in
``PROACTIVE_TRUSTED_SENDERS`` (``channelId:userId``) may use it. Requests from anyone else
are ignored with a log line.

The answer goes back into the sender's conversation as an event named ``proactive.result``
whose value is what the HTTP endpoint would return (the notification id, or the error and
the field at fault). A trusted sender's conversation is never stored as a user's, so it is
not a target of broadcasts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.turn_log import note_action
from models.db import DATABASE_ERRORS, INVALID, TOO_LARGE, database_error_kind
from models.notifications import IdempotencyConflict, Notifications
from models.notify_request import TARGET_FIELDS, NotifyError

logger = logging.getLogger(__name__)

EVENT_NAME = "proactive"
RESULT_EVENT_NAME = "proactive.result"

# Seconds the sender should wait before sending again when the database was away.
RETRY_AFTER_SECONDS = 5

_MISSING = object()


def carried_request(activity: Activity) -> Any:
    """The notify body an activity carries, or ``_MISSING`` when it carries none."""
    if activity.type == ActivityTypes.event and activity.name == EVENT_NAME:
        return activity.value
    value = activity.value
    if (
        activity.type == ActivityTypes.message
        and isinstance(value, dict)
        and "nudge" not in value  # the bot's own card buttons
        and any(name in value for name in TARGET_FIELDS)
    ):
        return value
    return _MISSING


def sender_of(activity: Activity) -> str:
    sender = activity.from_property.id if activity.from_property else ""
    return f"{activity.channel_id or ''}:{sender or ''}"


@dataclass(frozen=True)
class ProactiveRoute:
    """Handles notify requests that arrive as activities.

    Args:
        notifications: the same service ``POST /api/notify`` uses.
        trusted_senders: ``channelId:userId`` of the senders allowed to use the route.
        max_targets: the most users and conversations one request may list.
    """

    notifications: Notifications
    trusted_senders: frozenset[str]
    max_targets: int

    async def route(self, turn_context: TurnContext) -> bool:
        """Handle the turn if it is the route's; True when it was (the bot does nothing else)."""
        activity = turn_context.activity
        body = carried_request(activity)
        trusted = sender_of(activity) in self.trusted_senders
        if body is _MISSING:
            if not trusted:
                return False
            # A trusted system's conversation is not a user's: don't store it, don't chat.
            note_action(turn_context, "notify.hint")
            if activity.type == ActivityTypes.message:
                await turn_context.send_activity(
                    f'This conversation is for notify requests: send an event named "{EVENT_NAME}".'
                )
            return True
        if not trusted:
            note_action(turn_context, "notify.refused")
            logger.warning(
                "ignored a proactive request from %s: not in PROACTIVE_TRUSTED_SENDERS",
                sender_of(activity)[:100],
            )
            return True
        note_action(turn_context, "notify")
        await turn_context.send_activity(
            Activity(type=ActivityTypes.event, name=RESULT_EVENT_NAME, value=await self._submit(activity, body))
        )
        return True

    async def _submit(self, activity: Activity, body: Any) -> dict[str, Any]:
        notifications = self.notifications
        try:
            accepted = await notifications.accept(
                body, idempotency_key=None, max_targets=self.max_targets,
                source="directline", sender=sender_of(activity),
            )
        except NotifyError as exc:
            return exc.body()
        except IdempotencyConflict:
            return {
                "error": "idempotencyKey: was used in the last 24 hours for a different request",
                "field": "idempotencyKey",
            }
        except DATABASE_ERRORS as exc:
            kind = database_error_kind(exc)
            if kind == TOO_LARGE:
                logger.warning("a notification too large for the database: %r", exc)
                return {"error": "the request is too large for the database; send fewer targets or less content"}
            if kind == INVALID:
                logger.warning("the database refused a value of a notification: %r", exc)
                return {"error": "the database refused a value (too long or out of range); nothing was sent"}
            logger.error("could not store a notification: %r", exc)
            return {
                "error": "the notification could not be stored; nothing was sent, try again",
                "retryAfter": RETRY_AFTER_SECONDS,
            }
        logger.info(
            "notification %s accepted from %s", accepted.body["id"], sender_of(activity)[:100]
        )
        return {**accepted.body, "replayed": accepted.replayed}
