"""Activities shaped as the Bot Framework Emulator sends them, posted over real HTTP."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp

BOT = {"id": "nudge-bot", "name": "Bot", "role": "bot"}


class EmulatorUser:
    """One Emulator user in one conversation, talking to the bot at ``bot_url``."""

    def __init__(
        self,
        *,
        bot_url: str,
        service_url: str,
        user_id: str | None = None,
        conversation_id: str | None = None,
        local_timezone: str | None = "Europe/Prague",
        local_timestamp: str | None = None,
    ) -> None:
        self.bot_url = bot_url
        self.service_url = service_url
        self.user = {"id": user_id or f"user-{uuid.uuid4().hex[:8]}", "name": "User", "role": "user"}
        self.conversation_id = conversation_id or f"conv-{uuid.uuid4().hex[:12]}|livechat"
        self.local_timezone = local_timezone
        self.local_timestamp = local_timestamp
        self._ids = itertools.count(1)

    def _base(self, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"act-{next(self._ids)}",
            "channelId": "emulator",
            "serviceUrl": self.service_url,
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "conversation": {"id": self.conversation_id},
            "recipient": BOT,
            "from": self.user,
            "locale": "en-US",
        }

    def conversation_update(self) -> dict[str, Any]:
        activity = self._base("conversationUpdate")
        activity["membersAdded"] = [BOT, self.user]
        return activity

    def message(self, text: str | None = None, value: dict | None = None) -> dict[str, Any]:
        activity = self._base("message")
        activity["textFormat"] = "plain"
        if text is not None:
            activity["text"] = text
        if value is not None:
            activity["value"] = value
        if self.local_timezone:
            activity["localTimezone"] = self.local_timezone
        if self.local_timestamp:
            activity["localTimestamp"] = self.local_timestamp
        return activity

    async def post(self, session: aiohttp.ClientSession, activity: dict[str, Any]) -> int:
        async with session.post(self.bot_url, json=activity) as response:
            await response.read()
            return response.status

    async def join(self, session: aiohttp.ClientSession) -> int:
        return await self.post(session, self.conversation_update())

    async def say(self, session: aiohttp.ClientSession, text: str) -> int:
        return await self.post(session, self.message(text))
