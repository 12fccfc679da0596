"""Fuzzing ``POST /api/messages`` from its OpenAPI description: never a 5xx, and a body that
breaks the documented rules is refused with 4xx and leaves no row behind.

schemathesis generates activities from ``docs/openapi.json`` (``InboundActivity``) in positive
mode (valid by the document: the bot takes the turn) and negative mode (each case breaks one
rule: a wrong type, a missing id, an overlong identifier, a control character). Its calls are
synchronous, so the bot and a fake channel run in a thread with an event loop of their own.
Every ``serviceUrl`` that would be reached is pointed at the fake channel, so replies stay on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import OPENAPI_PATH, Settings, create_app
from tests.support.background import background_loop, serve, stop
from tests.support.fake_channel import FakeChannel

SCHEMA = schemathesis.openapi.from_path(OPENAPI_PATH)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection]


@dataclass
class LiveBot:
    url: str
    channel_url: str
    db_path: Path

    def rows(self, table: str) -> int:
        connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            connection.close()


async def _start(db_path: Path) -> tuple[list[web.AppRunner], str, str]:
    channel = FakeChannel()
    channel_runner, channel_url = await serve(channel.app)
    bot_runner, bot_url = await serve(create_app(Settings(database_url=f"sqlite+aiosqlite:///{db_path}")))
    return [bot_runner, channel_runner], bot_url, channel_url


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory) -> Iterator[LiveBot]:
    db_path = tmp_path_factory.mktemp("messages-fuzz") / "nudge.db"
    with background_loop("messages-fuzz-bot") as loop:
        runners, url, channel_url = asyncio.run_coroutine_threadsafe(_start(db_path), loop).result(60)
        try:
            yield LiveBot(url=url, channel_url=channel_url, db_path=db_path)
        finally:
            asyncio.run_coroutine_threadsafe(stop(runners), loop).result(30)


def _local(body: Any, channel_url: str) -> Any:
    """Point a usable serviceUrl at the fake channel; leave a broken one as generated (the
    server must refuse it, so nothing is sent to it)."""
    if isinstance(body, dict):
        service_url = body.get("serviceUrl")
        if isinstance(service_url, str) and service_url.startswith(("http://", "https://")):
            return {**body, "serviceUrl": channel_url}
    return body


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_activities_fuzzed_from_the_openapi_document(live_bot, mode):
    operation = SCHEMA["/api/messages"]["POST"]
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        case.body = _local(case.body, live_bot.channel_url)
        users, conversations = live_bot.rows("users"), live_bot.rows("conversations")
        response = case.call(base_url=live_bot.url, timeout=15)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            # Refused before the turn: no user or conversation learnt from it.
            assert (live_bot.rows("users"), live_bot.rows("conversations")) == (users, conversations)

    fuzz()
    # Not a vacuous run: negative cases met refusals, positive ones were processed.
    if mode.is_positive:
        assert statuses[201] > 0, statuses
    else:
        assert statuses[400] > 0, statuses
