"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when reachable),
the fake channel, and the bot served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest

from app import SCHEDULER, SESSIONMAKER, Settings, create_app
from models.db import upgrade_database
from tests.support.emulator import EmulatorUser
from tests.support.fake_channel import FakeChannel

PG_HOST = os.environ.get("NUDGE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("NUDGE_PG_PORT", "5432"))
PG_USER = os.environ.get("NUDGE_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("NUDGE_PG_DATABASE", "test")
REQUIRE_POSTGRES = os.environ.get("NUDGE_REQUIRE_POSTGRES") == "1"


def _run_async(coro):
    # Sync fixtures run inside pytest-asyncio's loop; run the admin call on a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=3
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_database() -> Iterator[str]:
    """Create a fresh, empty PostgreSQL database; yield its URL; drop it afterwards."""
    name = f"nudge_test_{uuid.uuid4().hex[:12]}"
    try:
        _run_async(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_USER}@{PG_HOST}:{PG_PORT}/{PG_ADMIN_DB}: {exc!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (NUDGE_REQUIRE_POSTGRES=1 makes this a failure)")
        pytest.skip(reason)
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database on each backend; the test migrates it (or the app does)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await upgrade_database(database_url)
    return database_url


@pytest.fixture
async def fake_channel(aiohttp_server) -> FakeChannel:
    channel = FakeChannel()
    channel.server = await aiohttp_server(channel.app, host="127.0.0.1")
    channel.url = str(channel.server.make_url("")).rstrip("/")
    return channel


@dataclass
class RunningBot:
    """The bot served on 127.0.0.1 plus what tests need to talk to it."""

    url: str
    app: object
    channel: FakeChannel
    http: aiohttp.ClientSession

    def user(self, **kwargs) -> EmulatorUser:
        return EmulatorUser(bot_url=self.url, service_url=self.channel.url, **kwargs)

    @property
    def sessionmaker(self):
        return self.app[SESSIONMAKER]

    @property
    def scheduler(self):
        return self.app[SCHEDULER]


@pytest.fixture
def bot_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, scheduler_resync_seconds=30)


@pytest.fixture
async def running_bot(aiohttp_server, fake_channel, bot_settings) -> AsyncIterator[RunningBot]:
    server = await aiohttp_server(create_app(bot_settings), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        yield RunningBot(
            url=str(server.make_url("/api/messages")), app=server.app, channel=fake_channel, http=http
        )
    # Shut the bot down here, before the database fixture drops its database: aiohttp_server
    # would only close it after that, with the scheduler still using the database.
    await server.close()
