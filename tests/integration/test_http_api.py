"""/api/messages at the HTTP level: authentication and identifier validation."""

from __future__ import annotations

import pytest

from app import Settings


@pytest.fixture
def bot_settings(database_url) -> Settings:
    # With credentials configured the Bot Framework's JWT check is on.
    return Settings(database_url=database_url, APP_ID="00000000-0000-0000-0000-000000000001", APP_PASSWORD="secret")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
async def test_missing_or_malformed_token_is_401_not_500(running_bot, authorization):
    user = running_bot.user()
    headers = {} if authorization is None else {"Authorization": authorization}
    async with running_bot.http.post(running_bot.url, json=user.message("help"), headers=headers) as response:
        assert response.status == 401
        assert (await response.json()) == {"error": "unauthorized"}
    assert running_bot.channel.received == []
