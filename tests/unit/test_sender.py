"""The lean Bot Connector sender against a local HTTP server: the request it makes, the token
it carries, and how each failure is reported."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from botbuilder.core import MessageFactory
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import MicrosoftAppCredentials

from app import Settings
from scheduler.sender import ConnectorSender, retry_after_seconds


class Channel:
    """Answers each post with the next scripted (status, headers) and records the requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.script: list[tuple[int, dict]] = []
        self.delay = 0.0
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self.post)

    async def post(self, request: web.Request) -> web.Response:
        self.requests.append((request.raw_path, dict(request.headers), await request.json()))
        await asyncio.sleep(self.delay)
        status, headers = self.script.pop(0) if self.script else (200, {})
        return web.json_response({"id": "x"} if status < 300 else {"error": "scripted"}, status=status, headers=headers)


@pytest.fixture
async def channel(aiohttp_server):
    channel = Channel()
    channel.server = await aiohttp_server(channel.app, host="127.0.0.1")
    channel.url = str(channel.server.make_url("")).rstrip("/")
    return channel


async def sender_for(app_id: str = "", password: str = "") -> ConnectorSender:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Settings(APP_ID=app_id, APP_PASSWORD=password)))
    sender = ConnectorSender(
        auth=adapter.bot_framework_authentication,
        claims_identity=adapter.create_claims_identity(app_id),
        app_id=app_id,
    )
    await sender.start()
    return sender


def reference(channel, conversation_id: str = "conv 1|livechat") -> dict:
    return {
        "activityId": "incoming-7",
        "user": {"id": "user-1", "name": "Ann"},
        "bot": {"id": "bot-1", "name": "Nudge"},
        "conversation": {"id": conversation_id},
        "channelId": "emulator",
        "locale": "en-US",
        "serviceUrl": channel.url + "/",
    }


async def test_posts_to_the_conversation_addressed_like_the_sdk(channel):
    sender = await sender_for()
    try:
        result = await sender.send(reference(channel, "19:abc@thread.v2|x/y"), MessageFactory.text("hello"))
    finally:
        await sender.close()
    assert result.ok
    [(path, headers, body)] = channel.requests
    # The id is one path segment, however many reserved characters it holds.
    assert path == "/v3/conversations/19%3Aabc%40thread.v2%7Cx%2Fy/activities"
    assert "Authorization" not in headers  # no app id: the SDK sends no token either
    assert body["text"] == "hello" and body["type"] == "message"
    assert body["from"]["id"] == "bot-1" and body["recipient"]["id"] == "user-1"
    assert body["conversation"]["id"] == "19:abc@thread.v2|x/y"
    assert body["channelId"] == "emulator" and body["inputHint"] == "acceptingInput"
    assert "replyToId" not in body and "id" not in body


async def test_the_token_comes_from_the_sdk_credentials_and_is_reused_until_a_401(channel, monkeypatch):
    calls = []

    def get_access_token(self, force_refresh: bool = False) -> str:
        calls.append(self.microsoft_app_id)
        return f"token-{len(calls)}"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", get_access_token)
    sender = await sender_for("00000000-0000-0000-0000-0000000000aa", "secret")
    channel.script = [(200, {}), (200, {}), (401, {}), (200, {})]
    try:
        results = [await sender.send(reference(channel), MessageFactory.text(f"m{i}")) for i in range(4)]
    finally:
        await sender.close()
    assert [r.ok for r in results] == [True, True, False, True]
    assert results[2].status == 401
    tokens = [headers["Authorization"] for _, headers, _ in channel.requests]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert calls == ["00000000-0000-0000-0000-0000000000aa"] * 2


async def test_throttling_and_errors_are_reported_with_status_and_retry_after(channel):
    sender = await sender_for()
    channel.script = [(429, {"Retry-After": "7"}), (503, {}), (403, {}), (404, {})]
    try:
        results = [await sender.send(reference(channel), MessageFactory.text("x")) for _ in range(4)]
    finally:
        await sender.close()
    assert [(r.ok, r.status) for r in results] == [(False, 429), (False, 503), (False, 403), (False, 404)]
    assert results[0].retry_after == 7.0 and results[1].retry_after is None
    assert "scripted" in results[2].error


async def test_an_unreachable_channel_is_a_result_not_an_exception(channel):
    sender = await sender_for()
    dead = {**reference(channel), "serviceUrl": "http://127.0.0.1:9/"}
    try:
        result = await sender.send(dead, MessageFactory.text("x"))
    finally:
        await sender.close()
    assert not result.ok and result.status is None and "Connect" in result.error


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
