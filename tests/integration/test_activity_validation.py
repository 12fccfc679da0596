"""Identifiers a real channel never sends are refused with 400 before they reach the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.tables import User


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
