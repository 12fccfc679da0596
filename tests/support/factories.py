"""Rows for tests that need a user, a conversation and reminders without chatting first."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from botbuilder.schema import Activity

from models.store import upsert_conversation, upsert_user
from models.tables import Reminder
from scheduler.delivery import DeliveryResult
from tests.support.fake_channel import shown_text


async def make_conversation(session, *, user_id: str = "u1", conversation_id: str = "c1",
                            service_url: str = "http://127.0.0.1:9/") -> tuple[int, int]:
    """Insert a user and a conversation; return (user_pk, conversation_pk)."""
    user = await upsert_user(session, channel_id="emulator", user_id=user_id, name="User", aad_object_id=None)
    reference = {
        "activityId": "a1",
        "user": {"id": user_id, "name": "User"},
        "bot": {"id": "bot", "name": "Bot"},
        "conversation": {"id": conversation_id},
        "channelId": "emulator",
        "serviceUrl": service_url,
    }
    conversation = await upsert_conversation(
        session, user_pk=user.id, channel_id="emulator", conversation_id=conversation_id,
        service_url=service_url, reference=reference,
    )
    return user.id, conversation.id


def make_reminder(*, user_pk: int, conversation_pk: int, number: int, text: str,
                  schedule: dict[str, Any], next_run_at: datetime, timezone: str = "Europe/Prague",
                  state: str = "active") -> Reminder:
    return Reminder(
        number=number, user_pk=user_pk, conversation_pk=conversation_pk, text=text,
        schedule=schedule, description="test", timezone=timezone, state=state, next_run_at=next_run_at,
    )


def as_activity(activity: Activity | dict) -> Activity:
    """The outbox hands deliverers the stored JSON; tests read it as an Activity."""
    return Activity().deserialize(activity) if isinstance(activity, dict) else activity


class RecordingDeliverer:
    """Stands in for the channel: records each send and answers with ``result``."""

    def __init__(self, result: DeliveryResult | None = None) -> None:
        self.sent: list[tuple[dict[str, Any], Activity]] = []
        self.result = result or DeliveryResult(ok=True)

    async def send(self, reference: dict[str, Any], activity: Activity | dict) -> DeliveryResult:
        self.sent.append((reference, as_activity(activity)))
        return self.result

    @property
    def texts(self) -> list[str]:
        return [shown_text(activity.serialize()) for _, activity in self.sent]


class GatedDeliverer(RecordingDeliverer):
    """A channel that holds each send until ``release`` is set (or answers per conversation)."""

    def __init__(self, result: DeliveryResult | None = None, slow_conversations: set[str] | None = None) -> None:
        super().__init__(result)
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.slow_conversations = slow_conversations

    async def send(self, reference: dict[str, Any], activity: Activity) -> DeliveryResult:
        self.started.set()
        if self.slow_conversations is None or reference["conversation"]["id"] in self.slow_conversations:
            await self.release.wait()
        return await super().send(reference, activity)


class ScriptedDeliverer(RecordingDeliverer):
    """A channel that answers each send with the next scripted result (the last one repeats)."""

    def __init__(self, *results: DeliveryResult) -> None:
        super().__init__()
        self.results = list(results)

    async def send(self, reference: dict[str, Any], activity: Activity | dict) -> DeliveryResult:
        self.sent.append((reference, as_activity(activity)))
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]
