"""POST/GET/DELETE /api/notify over real HTTP, with the fake channel receiving what users would see."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app import Settings
from models.tables import Conversation, Notification, Occurrence
from tests.support.waiting import eventually

KEY = "n" * 32
OLD_KEY = "p" * 32
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def bot_settings(database_url) -> Settings:
    return Settings(database_url=database_url, notify_api_keys=(KEY, OLD_KEY), notify_max_targets=5)


def notify_url(running_bot, suffix: str = "") -> str:
    return running_bot.url.replace("/api/messages", "/api/notify") + suffix


async def post(running_bot, body=None, *, headers=None, data=None, content_type=None):
    headers = dict(AUTH if headers is None else headers)
    if content_type:
        headers["Content-Type"] = content_type
    kwargs = {"data": data} if data is not None else {"json": body}
    async with running_bot.http.post(notify_url(running_bot), headers=headers, **kwargs) as response:
        return response.status, await response.json(), response.headers


async def get(running_bot, notification_id: str, query: str = "", headers=None):
    async with running_bot.http.get(
        notify_url(running_bot, f"/{notification_id}{query}"), headers=AUTH if headers is None else headers
    ) as response:
        return response.status, await response.json()


async def delete(running_bot, notification_id: str, headers=None):
    async with running_bot.http.delete(
        notify_url(running_bot, f"/{notification_id}"), headers=AUTH if headers is None else headers
    ) as response:
        return response.status, await response.json()


async def joined(running_bot, **kwargs):
    """A user who has talked to the bot (so it knows the conversation), with the welcome consumed."""
    user = running_bot.user(**kwargs)
    assert await user.join(running_bot.http) == 201
    await running_bot.channel.wait_for(lambda r: r.conversation_id == user.conversation_id)
    return user


def received_by(channel, user, fragment: str):
    return [r for r in channel.received if r.conversation_id == user.conversation_id and fragment in r.text]


async def settled(running_bot, notification_id: str, timeout: float = 10.0) -> dict:
    async def done():
        status, body = await get(running_bot, notification_id)
        return body if status == 200 and body["status"] in ("done", "cancelled") else None

    return await eventually(done, timeout=timeout)


async def stored_notifications(running_bot) -> int:
    async with running_bot.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Notification))).scalar_one()


# --- targets ---------------------------------------------------------------------------


async def test_user_target_gets_the_text_and_status_reports_sent(running_bot):
    alice = await joined(running_bot, user_id="alice")
    status, body, headers = await post(
        running_bot, {"user": {"channelId": "emulator", "id": "alice"}, "text": "Your order shipped"}
    )
    assert status == 202 and body["status"] == "queued" and body["targets"]["unknown"] == []
    assert headers["Location"] == f"/api/notify/{body['id']}"
    received = await running_bot.channel.wait_for_text("Your order shipped")
    assert received.conversation_id == alice.conversation_id
    assert received.reply_to is None  # posted to the conversation, not as a reply
    report = await settled(running_bot, body["id"])
    assert report["status"] == "done"
    assert report["counts"]["sent"] == 1 and report["counts"]["targets"] == 1
    [target] = report["targets"]
    assert (target["channelId"], target["userId"], target["status"]) == ("emulator", "alice", "sent")
    assert target["sentAt"] is not None


async def test_every_active_conversation_of_the_user_gets_it_once(running_bot):
    first = await joined(running_bot, user_id="bob")
    second = await joined(running_bot, user_id="bob")
    status, body, _ = await post(
        running_bot,
        {
            # The same user twice and one of their conversations: still one message each.
            "users": [{"channelId": "emulator", "id": "bob"}, {"channelId": "emulator", "id": "bob"}],
            "conversation": {"channelId": "emulator", "id": first.conversation_id},
            "text": "Twice listed, once sent",
        },
    )
    assert status == 202
    report = await settled(running_bot, body["id"])
    assert report["counts"]["sent"] == 2
    channel = running_bot.channel
    assert len(received_by(channel, first, "Twice listed")) == 1
    assert len(received_by(channel, second, "Twice listed")) == 1


async def test_unknown_targets_are_reported_and_the_rest_are_sent(running_bot):
    carol = await joined(running_bot, user_id="carol")
    status, body, _ = await post(
        running_bot,
        {
            "users": [{"channelId": "emulator", "id": "carol"}, {"channelId": "emulator", "id": "nobody"}],
            "conversations": ["no-such-conversation"],
            "text": "Partly known",
        },
    )
    assert status == 202
    assert body["targets"]["unknown"] == [
        {"user": {"channelId": "emulator", "id": "nobody"}},
        {"conversation": {"id": "no-such-conversation"}},
    ]
    await running_bot.channel.wait_for_text("Partly known")
    report = await settled(running_bot, body["id"])
    assert report["counts"]["sent"] == 1 and report["counts"]["unknown"] == 2
    assert len(report["unknown"]) == 2
    assert received_by(running_bot.channel, carol, "Partly known")


async def test_conversation_target_by_id_and_by_channel(running_bot):
    dave = await joined(running_bot, user_id="dave")
    erin = await joined(running_bot, user_id="erin")
    status, body, _ = await post(
        running_bot,
        {
            "conversations": [dave.conversation_id, {"channelId": "emulator", "id": erin.conversation_id}],
            "text": "Conversation targets",
        },
    )
    assert status == 202 and body["targets"]["unknown"] == []
    await settled(running_bot, body["id"])
    assert received_by(running_bot.channel, dave, "Conversation targets")
    assert received_by(running_bot.channel, erin, "Conversation targets")
    # The same id on another channel is a different conversation.
    status, body, _ = await post(
        running_bot, {"conversation": {"channelId": "msteams", "id": dave.conversation_id}, "text": "x"}
    )
    assert status == 202 and body["targets"]["unknown"] == [
        {"conversation": {"id": dave.conversation_id, "channelId": "msteams"}}
    ]


async def test_broadcast_reaches_every_active_conversation_and_skips_inactive(running_bot):
    users = [await joined(running_bot, user_id=f"b{i}") for i in range(4)]
    async with running_bot.sessionmaker.begin() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.conversation_id == users[3].conversation_id)
            .values(active=False)
        )
    status, body, _ = await post(running_bot, {"broadcast": True, "text": "Maintenance tonight"})
    assert status == 202 and body["targets"]["broadcast"] is True
    report = await settled(running_bot, body["id"])
    assert report["counts"]["sent"] == 3
    for user in users[:3]:
        assert len(received_by(running_bot.channel, user, "Maintenance tonight")) == 1
    assert not received_by(running_bot.channel, users[3], "Maintenance tonight")


async def test_explicit_target_in_an_inactive_conversation_is_skipped(running_bot):
    frank = await joined(running_bot, user_id="frank")
    async with running_bot.sessionmaker.begin() as session:
        await session.execute(update(Conversation).values(active=False))
    status, body, _ = await post(running_bot, {"user": {"channelId": "emulator", "id": "frank"}, "text": "Hello?"})
    assert status == 202
    report = await settled(running_bot, body["id"])
    assert report["counts"]["skipped"] == 1
    assert report["targets"][0]["status"] == "skipped"
    assert report["targets"][0]["reason"] == "conversation is inactive"
    assert not received_by(running_bot.channel, frank, "Hello?")


async def test_broadcast_larger_than_one_expansion_page(running_bot, monkeypatch):
    import models.notifications as notifications_module

    monkeypatch.setattr(notifications_module, "EXPAND_PAGE", 3)
    users = [await joined(running_bot, user_id=f"page{i}") for i in range(7)]
    status, body, _ = await post(running_bot, {"broadcast": True, "text": "Paged broadcast"})
    assert status == 202
    report = await settled(running_bot, body["id"])
    assert report["counts"]["sent"] == 7
    for user in users:
        assert len(received_by(running_bot.channel, user, "Paged broadcast")) == 1


# --- content -----------------------------------------------------------------------------

CARD = {
    "type": "AdaptiveCard",
    "version": "1.3",
    "body": [{"type": "TextBlock", "text": "Order 1042 shipped"}],
    "actions": [{"type": "Action.OpenUrl", "title": "Track", "url": "https://example.com/track/1042"}],
}


async def test_content_kinds_arrive_as_the_channel_expects(running_bot):
    await joined(running_bot, user_id="gina")
    target = {"user": {"channelId": "emulator", "id": "gina"}}
    cases = [
        ({"text": "**Bold** news", "textFormat": "markdown", "summary": "News"}, "Bold"),
        ({"card": CARD, "summary": "Order 1042 shipped"}, None),
        (
            {
                "text": "Pick one",
                "attachments": [
                    {"contentType": "image/png", "contentUrl": "https://example.com/a.png", "name": "a"},
                    {"contentType": "image/png", "contentUrl": "https://example.com/b.png", "name": "b"},
                ],
            },
            "Pick one",
        ),
        ({"text": "Rate us", "suggestedActions": ["Good", {"type": "openUrl", "title": "Site", "value": "https://example.com"}]}, "Rate us"),
    ]
    for content, _ in cases:
        status, body, _ = await post(running_bot, {**target, **content})
        assert status == 202, body
    activities = (
        await eventually(
            lambda: _after_welcome(running_bot, "gina", 4), timeout=10
        )
    )
    by_text = {a.get("text") or a.get("summary"): a for a in activities}
    assert by_text["**Bold** news"]["textFormat"] == "markdown"
    assert by_text["**Bold** news"]["summary"] == "News"
    card = by_text["Order 1042 shipped"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == "Order 1042 shipped"
    carousel = by_text["Pick one"]
    assert carousel["attachmentLayout"] == "carousel" and len(carousel["attachments"]) == 2
    actions = by_text["Rate us"]["suggestedActions"]["actions"]
    assert [(a["type"], a["title"], a["value"]) for a in actions] == [
        ("imBack", "Good", "Good"),
        ("openUrl", "Site", "https://example.com"),
    ]


async def _after_welcome(running_bot, user_id: str, count: int):
    found = [
        r.activity
        for r in running_bot.channel.received
        if r.activity.get("recipient", {}).get("id") == user_id and "Hi, I'm Nudge" not in r.text
    ]
    return found if len(found) >= count else None


# --- scheduling and cancelling --------------------------------------------------------


async def test_at_schedules_and_delivers_on_time(running_bot):
    await joined(running_bot, user_id="hana")
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    status, body, _ = await post(
        running_bot, {"user": {"channelId": "emulator", "id": "hana"}, "text": "Scheduled hello", "at": at.isoformat()}
    )
    assert status == 202 and body["status"] == "scheduled"
    status, report = await get(running_bot, body["id"])
    assert report["status"] == "scheduled" and report["counts"]["targets"] == 0
    received = await running_bot.channel.wait_for_text("Scheduled hello", timeout=6)
    assert received.at >= at.timestamp() - 0.05
    assert received.at <= at.timestamp() + 1.5


async def test_delete_cancels_a_scheduled_notification(running_bot):
    await joined(running_bot, user_id="ivan")
    at = datetime.now(UTC) + timedelta(seconds=1)
    _, body, _ = await post(
        running_bot, {"user": {"channelId": "emulator", "id": "ivan"}, "text": "Never sent", "at": at.isoformat()}
    )
    status, cancelled = await delete(running_bot, body["id"])
    assert status == 200 and cancelled["status"] == "cancelled"
    status, report = await get(running_bot, body["id"])
    assert report["status"] == "cancelled"
    # Past its time, and a pass of the scheduler later, nothing went out. The row is moved
    # into the past (the bot's clock is the real one): no waiting for the time to come.
    async with running_bot.sessionmaker.begin() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == body["id"])
            .values(deliver_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    await running_bot.scheduler.run_due()
    await running_bot.scheduler.outbox.idle(5)  # a send the pass started has reached the channel
    assert running_bot.channel.texts().count("Never sent") == 0
    # Cancelling again is harmless.
    status, _ = await delete(running_bot, body["id"])
    assert status == 200


async def test_delete_after_delivery_is_409_and_unknown_id_is_404(running_bot):
    await joined(running_bot, user_id="jana")
    _, body, _ = await post(running_bot, {"user": {"channelId": "emulator", "id": "jana"}, "text": "Gone out"})
    await settled(running_bot, body["id"])
    status, error = await delete(running_bot, body["id"])
    assert status == 409 and "already gone out" in error["error"]
    for bad in ("0" * 32, "not-an-id", "A" * 32):
        assert (await delete(running_bot, bad))[0] == 404
        assert (await get(running_bot, bad))[0] == 404


# --- idempotency -----------------------------------------------------------------------


async def test_same_idempotency_key_returns_the_first_result_and_sends_once(running_bot):
    kate = await joined(running_bot, user_id="kate")
    request = {"user": {"channelId": "emulator", "id": "kate"}, "text": "Exactly once"}
    headers = {**AUTH, "Idempotency-Key": "order-1042-shipped"}
    first = await post(running_bot, request, headers=headers)
    second = await post(running_bot, request, headers=headers)
    assert first[0] == second[0] == 202
    assert first[1] == second[1]
    assert second[2]["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first[2]
    await settled(running_bot, first[1]["id"])
    # Concurrent duplicates too.
    results = await asyncio.gather(
        *(post(running_bot, {**request, "text": "Concurrent once"}, headers={**AUTH, "Idempotency-Key": "k2"}) for _ in range(5))
    )
    assert {r[0] for r in results} == {202}
    assert len({r[1]["id"] for r in results}) == 1
    await settled(running_bot, results[0][1]["id"])
    assert len(received_by(running_bot.channel, kate, "Exactly once")) == 1
    assert len(received_by(running_bot.channel, kate, "Concurrent once")) == 1
    assert await stored_notifications(running_bot) == 2


async def test_idempotency_key_reused_for_another_request_is_422(running_bot):
    await joined(running_bot, user_id="liam")
    headers = {**AUTH, "Idempotency-Key": "reused"}
    assert (await post(running_bot, {"user": {"channelId": "emulator", "id": "liam"}, "text": "A"}, headers=headers))[0] == 202
    status, error, _ = await post(running_bot, {"user": {"channelId": "emulator", "id": "liam"}, "text": "B"}, headers=headers)
    assert status == 422 and error["field"] == "Idempotency-Key"
    assert await stored_notifications(running_bot) == 1


async def test_idempotency_key_expires_after_24_hours(running_bot):
    await joined(running_bot, user_id="mia")
    request = {"user": {"channelId": "emulator", "id": "mia"}, "text": "Daily digest"}
    headers = {**AUTH, "Idempotency-Key": "digest"}
    _, first, _ = await post(running_bot, request, headers=headers)
    async with running_bot.sessionmaker.begin() as session:
        await session.execute(
            update(Notification).values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )
    status, second, replay = await post(running_bot, request, headers=headers)
    assert status == 202 and second["id"] != first["id"] and "Idempotent-Replayed" not in replay


# --- legacy contracts -------------------------------------------------------------------


def reference_of(user) -> dict:
    return {
        "activityId": "x",
        "user": user.user,
        "bot": {"id": "nudge-bot", "name": "Bot"},
        "conversation": {"id": user.conversation_id},
        "channelId": "emulator",
        # Ignored: the bot sends to the serviceUrl it stored, never to one a caller gives.
        "serviceUrl": "http://127.0.0.1:9/attacker",
    }


async def test_legacy_sample_contracts_work_unchanged(running_bot):
    one, two, three = [await joined(running_bot, user_id=f"legacy{i}") for i in range(3)]
    bodies = [
        {"reference": reference_of(one), "message": "Legacy single"},
        {"references": [reference_of(one), reference_of(two)], "message": "Legacy many"},
        {
            "conversationReference": reference_of(three),
            "message": "Legacy full",
            "attachments": [{"contentType": "application/vnd.microsoft.card.hero", "content": {"title": "Hero"}}],
            "suggestedActions": {"actions": [{"type": "imBack", "title": "OK", "value": "OK"}]},
            "appId": "",
        },
    ]
    ids = []
    for body in bodies:
        status, accepted, _ = await post(running_bot, body)
        assert status == 202, accepted
        ids.append(accepted["id"])
    for notification_id in ids:
        await settled(running_bot, notification_id)
    channel = running_bot.channel
    assert len(received_by(channel, one, "Legacy single")) == 1
    assert len(received_by(channel, one, "Legacy many")) == len(received_by(channel, two, "Legacy many")) == 1
    [full] = received_by(channel, three, "Legacy full")
    assert full.activity["attachments"][0]["content"] == {"title": "Hero"}
    assert full.activity["suggestedActions"]["actions"][0]["title"] == "OK"


# --- auth and validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key-wrong-key-wrong"}, {"Authorization": f"Basic {KEY}"}, {"X-Api-Key": KEY[:-1]}],
)
async def test_missing_or_wrong_key_is_401_and_nothing_is_stored(running_bot, headers):
    status, body, _ = await post(running_bot, {"broadcast": True, "text": "x"}, headers=headers)
    assert status == 401 and "API key" in body["error"]
    assert (await get(running_bot, "0" * 32, headers=headers))[0] == 401
    assert (await delete(running_bot, "0" * 32, headers=headers))[0] == 401
    assert await stored_notifications(running_bot) == 0


@pytest.mark.parametrize("headers", [{"X-Api-Key": KEY}, {"Authorization": f"Bearer {OLD_KEY}"}, {"Authorization": f"bearer {KEY}"}])
async def test_either_header_and_every_configured_key_work(running_bot, headers):
    status, _, _ = await post(running_bot, {"broadcast": True, "text": "x"}, headers=headers)
    assert status == 202


DEEP: list = []
for _ in range(40):
    DEEP = [DEEP]


@pytest.mark.parametrize(
    "body, field",
    [
        ([], "body"),
        ("text", "body"),
        ({"text": "no target"}, "targets"),
        ({"users": [], "text": "x"}, "targets"),
        ({"broadcast": False, "text": "x"}, "targets"),
        ({"broadcast": "yes", "text": "x"}, "broadcast"),
        ({"broadcast": True, "user": {"channelId": "e", "id": "u"}, "text": "x"}, "broadcast"),
        ({"broadcast": True}, "text"),
        ({"broadcast": True, "text": "   "}, "text"),
        ({"broadcast": True, "text": 5}, "text"),
        ({"broadcast": True, "text": "x" * 10_001}, "text"),
        ({"broadcast": True, "text": "x", "message": "y"}, "message"),
        ({"broadcast": True, "text": "x", "colour": "red"}, "colour"),
        ({"user": {"channelId": "emulator"}, "text": "x"}, "user.id"),
        ({"user": {"channelId": "emulator", "id": 7}, "text": "x"}, "user.id"),
        ({"user": {"channelId": "emulator", "id": "a\x00b"}, "text": "x"}, "user.id"),
        ({"users": [{"channelId": "e", "id": "u"}, "bob"], "text": "x"}, "users[1]"),
        ({"users": [{"channelId": "e", "id": f"u{i}"} for i in range(6)], "text": "x"}, "users"),
        ({"users": [{"channelId": "e", "id": f"u{i}"} for i in range(3)], "conversations": ["a", "b", "c"], "text": "x"}, "targets"),
        ({"conversation": {"id": ""}, "text": "x"}, "conversation.id"),
        ({"reference": {"channelId": "emulator"}, "message": "x"}, "reference.conversation"),
        ({"references": [{"conversation": {"id": 3}}], "message": "x"}, "references[0].conversation.id"),
        ({"broadcast": True, "attachments": {}}, "attachments"),
        ({"broadcast": True, "attachments": [{"content": {}}]}, "attachments[0].contentType"),
        ({"broadcast": True, "attachments": [{"contentType": "image/png"}]}, "attachments[0]"),
        ({"broadcast": True, "attachments": [{"contentType": "image/png", "contentUrl": "file:///etc/passwd"}]}, "attachments[0].contentUrl"),
        ({"broadcast": True, "attachments": [{"contentType": "x", "content": "c"}] * 11}, "attachments"),
        ({"broadcast": True, "card": {"type": "HeroCard"}}, "card.type"),
        ({"broadcast": True, "card": {"type": "AdaptiveCard", "body": "x"}}, "card.body"),
        ({"broadcast": True, "text": "x", "suggestedActions": []}, "suggestedActions"),
        ({"broadcast": True, "text": "x", "suggestedActions": [{"type": "call", "title": "t"}]}, "suggestedActions[0].type"),
        ({"broadcast": True, "text": "x", "suggestedActions": [{"type": "openUrl", "title": "t", "value": "javascript:x"}]}, "suggestedActions[0].value"),
        ({"broadcast": True, "text": "x", "textFormat": "html"}, "textFormat"),
        ({"broadcast": True, "text": "x", "attachmentLayout": "grid"}, "attachmentLayout"),
        ({"broadcast": True, "text": "x", "at": "tomorrow"}, "at"),
        ({"broadcast": True, "text": "x", "at": "2026-11-24T18:00:00"}, "at"),
        ({"broadcast": True, "text": "x", "at": "2000-01-01T00:00:00Z"}, "at"),
        ({"broadcast": True, "text": "x", "at": (datetime.now(UTC) + timedelta(days=400)).isoformat()}, "at"),
        ({"broadcast": True, "text": "x", "appId": 5}, "appId"),
        ({"broadcast": True, "text": "x", "idempotencyKey": "é"}, "idempotencyKey"),
        ({"broadcast": True, "text": "x", "card": {"type": "AdaptiveCard", "body": DEEP}}, "body"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field_and_nothing_is_stored(running_bot, body, field):
    await joined(running_bot, user_id="victim")
    status, error, _ = await post(running_bot, body)
    assert status == 400, error
    assert error["field"] == field, error
    assert error["error"].startswith(field)
    assert await stored_notifications(running_bot) == 0
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Occurrence))).scalar_one() == 0


async def test_transport_errors(running_bot):
    status, error, _ = await post(running_bot, data=b'{"broadcast": true, "text": ', content_type="application/json")
    assert status == 400 and "JSON" in error["error"]
    status, error, _ = await post(running_bot, data=b"text=hi", content_type="application/x-www-form-urlencoded")
    assert status == 415
    status, error, _ = await post(running_bot, data=b"[" * 200_000 + b"]" * 200_000, content_type="application/json")
    assert status == 413
    status, error, _ = await post(running_bot, data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    assert status == 400  # deep nesting: refused, not a crash
    status, error, _ = await post(
        running_bot, {"broadcast": True, "text": "x"}, headers={**AUTH, "Idempotency-Key": "x" * 256}
    )
    assert status == 400 and error["field"] == "Idempotency-Key"
    for query in ("?limit=0", "?limit=abc", "?after=-1", "?limit=1001"):
        status, error = await get(running_bot, "0" * 32, query)
        assert status == 400 and error["field"] in ("limit", "after")
    assert await stored_notifications(running_bot) == 0


async def test_status_pages_through_targets(running_bot):
    users = [await joined(running_bot, user_id=f"pager{i}") for i in range(3)]
    _, body, _ = await post(running_bot, {"broadcast": True, "text": "Paging"})
    await settled(running_bot, body["id"])
    seen, after = [], 0
    while True:
        status, page = await get(running_bot, body["id"], f"?limit=2&after={after}")
        assert status == 200 and len(page["targets"]) <= 2
        seen += [t["userId"] for t in page["targets"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert sorted(seen) == sorted(u.user["id"] for u in users)


class TestDisabled:
    @pytest.fixture
    def bot_settings(self, database_url) -> Settings:
        return Settings(database_url=database_url)

    async def test_no_key_configured_means_404_never_open(self, running_bot):
        status, body, _ = await post(running_bot, {"broadcast": True, "text": "x"}, headers={})
        assert status == 404 and "NOTIFY_API_KEYS" in body["error"]
        assert await stored_notifications(running_bot) == 0


async def test_openapi_document_is_served(running_bot):
    async with running_bot.http.get(running_bot.url.replace("/api/messages", "/api/openapi.json")) as response:
        assert response.status == 200
        document = await response.json()
    assert set(document["paths"]) == {"/api/messages", "/api/notify", "/api/notify/{id}"}
    assert document["paths"]["/api/notify"]["post"]["requestBody"]["content"]["application/json"]
    # What /api/messages requires of an inbound activity (models.inbound_activity checks it).
    inbound = document["components"]["schemas"]["InboundActivity"]
    assert {"type", "serviceUrl", "from", "conversation"} <= set(inbound["required"])
    assert inbound["properties"]["conversation"]["properties"]["id"]["maxLength"] == 512


async def test_database_down_is_503_and_nothing_is_sent(running_bot, tmp_path, monkeypatch):
    from app import NOTIFICATIONS
    from models.db import make_sessionmaker, open_engine

    await joined(running_bot, user_id="olga")
    notifications = running_bot.app[NOTIFICATIONS]
    broken = open_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/nudge.db")
    working = notifications._sessionmaker
    monkeypatch.setattr(notifications, "_sessionmaker", make_sessionmaker(broken))
    try:
        request = {"user": {"channelId": "emulator", "id": "olga"}, "text": "While the database is down"}
        status, error, _ = await post(running_bot, request)
        assert status == 503 and "nothing was sent" in error["error"]
        assert (await get(running_bot, "0" * 32))[0] == 503
        assert (await delete(running_bot, "0" * 32))[0] == 503
    finally:
        monkeypatch.setattr(notifications, "_sessionmaker", working)
        await broken.dispose()
    assert await stored_notifications(running_bot) == 0
    # Back up: the caller's retry goes through.
    status, body, _ = await post(running_bot, request)
    assert status == 202
    await running_bot.channel.wait_for_text("While the database is down")
    assert running_bot.channel.texts().count("While the database is down") == 1
