"""A fake Bot Connector channel: records what the bot posts, as the Emulator would show it.

It answers ``POST /v3/conversations/{id}/activities[/{activityId}]`` like the real
service, and can be told to fail with a given status to test error handling.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    """One activity the bot posted."""

    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        """The message's text, or for a card without text the card's fallback text (what a
        client that shows no cards shows)."""
        return shown_text(self.activity)


def shown_text(activity: dict[str, Any]) -> str:
    if activity.get("text"):
        return activity["text"]
    for attachment in activity.get("attachments") or ():
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if isinstance(content, dict) and content.get("fallbackText"):
            return content["fallbackText"]
    return activity.get("summary") or ""


class FakeChannel:
    """Records activities; ``fail_with`` makes the next posts answer with that status,
    ``fail_conversations`` ({conversation id: status}) only the posts to those conversations.
    ``scripts`` ({conversation id: [status or None, ...]}) answers that conversation's next
    posts in turn (None: accepted). Refused posts are counted per conversation in ``refused``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.fail_with: int | None = None
        self.fail_conversations: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.scripts: dict[str, list[int | None]] = {}
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        self.app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        status = self.fail_conversations.get(request.match_info["cid"], self.fail_with)
        if self.scripts.get(request.match_info["cid"]):
            status = self.scripts[request.match_info["cid"]].pop(0)
        if status is not None:
            self.refused[request.match_info["cid"]] = self.refused.get(request.match_info["cid"], 0) + 1
            return web.json_response({"error": {"code": "Fake", "message": "scripted failure"}}, status=status)
        received = Received(request.match_info["cid"], request.match_info.get("aid"), body)
        async with self._changed:
            self.received.append(received)
            self._changed.notify_all()
        return web.json_response({"id": f"fake-{next(self._ids)}"})

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [r.text for r in self.received if conversation_id in (None, r.conversation_id)]

    async def wait_for(self, predicate, timeout: float = 5.0) -> Received:
        """Wait until an activity matching ``predicate`` arrives; return it."""

        def find() -> Received | None:
            return next((r for r in self.received if predicate(r)), None)

        async with self._changed:
            found = await asyncio.wait_for(self._changed.wait_for(find), timeout)
        return found

    async def wait_for_text(self, fragment: str, timeout: float = 5.0, after: int = 0) -> Received:
        """Wait for an activity, among those from index ``after`` on, whose text contains ``fragment``."""
        start = after

        def match(r: Received) -> bool:
            return fragment in r.text and self.received.index(r) >= start

        return await self.wait_for(match, timeout)
