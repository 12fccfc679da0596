"""Identifiers a real channel never sends are refused with 400 before they reach the database."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from models.tables import Conversation, User


@pytest.mark.parametrize(
    "field, value",
    [
        ("channelId", "x" * 65),
        ("from.id", "u" * 257),
        ("from.id", "a\x00b"),
        ("conversation.id", "c" * 513),
        ("serviceUrl", "ftp://127.0.0.1/"),
        ("serviceUrl", "http://127.0.0.1/" + "p" * 1024),
    ],
)
async def test_bad_identifiers_get_400_and_store_nothing(running_bot, field, value):
    user = running_bot.user()
    activity = user.message("help")
    if field == "from.id":
        activity["from"]["id"] = value
    elif field == "conversation.id":
        activity["conversation"]["id"] = value
    else:
        activity[field] = value
    async with running_bot.http.post(running_bot.url, json=activity) as response:
        assert response.status == 400
        assert field in (await response.json())["error"]
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_nul_in_display_name_is_dropped_not_an_error(running_bot):
    user = running_bot.user()
    activity = user.message("help")
    activity["from"]["name"] = "An\x00na"
    async with running_bot.http.post(running_bot.url, json=activity) as response:
        assert response.status == 201
    await running_bot.channel.wait_for_text("Here's what I can do")
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(User.name))).scalar_one() == "Anna"


def _set(activity: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    target = activity
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


@pytest.mark.parametrize(
    "field, value, named",
    [
        # Lone surrogates: JSON's \ud800 escape decodes to a string no UTF-8 codec can write.
        ("from.id", "\ud800x", "from.id"),
        ("conversation.id", "c\udfff", "conversation.id"),
        ("text", "remind me in 5 min \ud83d", "text"),
        ("from.name", "A\ud800", "from.name"),
        ("recipient.id", "\ud800", "recipient.id"),
        ("conversation.tenantId", "\ud800", "conversation.tenantId"),
        ("channelData.tenant.id", "\udc00", "channelData.tenant.id"),
        ("serviceUrl", "http://\ud800/", "serviceUrl"),
        # Not strings where a channel always sends strings.
        ("from.id", 123, "from.id"),
        ("from.id", {"a": 1}, "from.id"),
        ("conversation.id", ["x"], "conversation.id"),
        ("channelId", 5, "channelId"),
        ("text", 5, "text"),
        ("conversation.isGroup", "yes", "conversation.isGroup"),
        # Longer than anything a channel sends (and than the columns they are stored in).
        ("recipient.id", "r" * 5000, "recipient.id"),
        ("from.aadObjectId", "a" * 500, "from.aadObjectId"),
        ("conversation.tenantId", "t" * 500, "conversation.tenantId"),
        ("localTimezone", "x" * 500, "localTimezone"),
        ("conversation.conversationType", "x" * 500, "conversation.conversationType"),
        # Empty or with control characters.
        ("from.id", "", "from.id"),
        ("conversation.id", "c\n1", "conversation.id"),
    ],
)
async def test_identifiers_are_checked_and_the_field_named(running_bot, field, value, named):
    user = running_bot.user()
    # A deep copy: the helper's activities share the bot's account dict between messages.
    activity = copy.deepcopy(user.message("remind me in 5 minutes to stretch"))
    _set(activity, field, value)
    # json.dumps writes a lone surrogate as its \u escape, as a hostile client would.
    body = json.dumps(activity)
    headers = {"Content-Type": "application/json"}
    async with running_bot.http.post(running_bot.url, data=body, headers=headers) as response:
        assert response.status == 400, await response.text()
        error = (await response.json())["error"]
    assert error.startswith(named), error
    async with running_bot.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Conversation))).scalar_one() == 0
    assert running_bot.channel.received == []


async def test_a_teams_shaped_activity_with_every_identifier_passes(running_bot):
    user = running_bot.user()
    activity = user.message("help")
    activity["from"].update({"aadObjectId": "6f3c2a9e-7b1d-4c8e-9a0f-2d5e8b1c4a7f", "name": "Ana Nováková 🌷"})
    activity["conversation"].update(
        {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "conversationType": "personal", "isGroup": False}
    )
    activity["channelData"] = {"tenant": {"id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "notes": ["ü", "日本"]}
    activity["locale"] = "cs-CZ"
    async with running_bot.http.post(running_bot.url, json=activity) as response:
        assert response.status == 201
    await running_bot.channel.wait_for_text("Here's what I can do")
