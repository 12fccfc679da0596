"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when reachable),
the fake channel, and the bot served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
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


async def _pg_admin(sql: str, *, database: str = PG_ADMIN_DB):
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=database, timeout=3)
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


def _pg_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _create_pg_database() -> str:
    """A new, empty PostgreSQL database's name (skips, or fails in CI, when unreachable)."""
    name = f"nudge_test_{uuid.uuid4().hex[:12]}"
    try:
        _run_async(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_USER}@{PG_HOST}:{PG_PORT}/{PG_ADMIN_DB}: {exc!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (NUDGE_REQUIRE_POSTGRES=1 makes this a failure)")
        pytest.skip(reason)
    return name


def _drop_pg_database(name: str) -> None:
    _run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_database() -> Iterator[str]:
    """Create a fresh, empty PostgreSQL database; yield its URL; drop it afterwards."""
    name = _create_pg_database()
    try:
        yield _pg_url(name)
    finally:
        _drop_pg_database(name)


# Empties every table but Alembic's in one statement; sequences start again at 1.
_EMPTY_TABLES = """
DO $$
DECLARE names text;
BEGIN
    SELECT string_agg(format('%I', tablename), ', ') INTO names
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
    IF names IS NOT NULL THEN
        EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY CASCADE';
    END IF;
END $$
"""
_SCHEMA = """
SELECT (SELECT string_agg(version_num, ',') FROM alembic_version) AS version,
       (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public') AS tables
"""


class MigratedPostgres:
    """Migrated PostgreSQL databases, reused from test to test.

    Creating, migrating and dropping a database cost about 0.9 s a test, most of the suite's
    time. A database handed back is emptied instead (its connections closed, every table
    truncated, its sequences restarted) and lent to the next test, provided its schema is
    still the one the migrations built; one a test changed is dropped.
    """

    def __init__(self) -> None:
        self._free: list[str] = []
        self._all: list[str] = []
        self._schema: tuple | None = None

    def lend(self) -> str:
        if self._free:
            return self._free.pop()
        name = _create_pg_database()
        self._all.append(name)
        _run_async(upgrade_database(_pg_url(name)))
        if self._schema is None:
            self._schema = tuple(_run_async(_pg_admin(_SCHEMA, database=name))[0])
        return name

    def give_back(self, name: str) -> None:
        async def empty() -> bool:
            connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=name, timeout=3)
            try:
                await connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                if tuple(await connection.fetchrow(_SCHEMA)) != self._schema:
                    return False
                await connection.execute(_EMPTY_TABLES)
                return True
            finally:
                await connection.close()

        if _run_async(empty()):
            self._free.append(name)
        else:
            self._all.remove(name)
            _drop_pg_database(name)

    def close(self) -> None:
        for name in self._all:
            _drop_pg_database(name)


class MigratedSqlite:
    """One SQLite file migrated once a session; each test gets a copy of it."""

    def __init__(self, directory) -> None:
        self._template = directory / "template.db"
        self._migrated = False

    def copy_to(self, path) -> str:
        if not self._migrated:
            _run_async(upgrade_database(f"sqlite+aiosqlite:///{self._template}"))
            self._migrated = True
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[MigratedPostgres]:
    databases = MigratedPostgres()
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> MigratedSqlite:
    return MigratedSqlite(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def postgres_url(_migrated_postgres) -> Iterator[str]:
    """A migrated, empty PostgreSQL database."""
    name = _migrated_postgres.lend()
    yield _pg_url(name)
    _migrated_postgres.give_back(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """The URL of an SQLite file that does not exist yet (the test or the app creates it)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, _migrated_sqlite, _migrated_postgres) -> Iterator[str]:
    """A migrated, empty database on each backend (the app's own migration on start then
    finds nothing to do; tests/unit/test_migrations.py and the start-up tests run them
    from nothing)."""
    if request.param == "sqlite":
        yield _migrated_sqlite.copy_to(tmp_path / "nudge.db")
    else:
        name = _migrated_postgres.lend()
        yield _pg_url(name)
        _migrated_postgres.give_back(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A database with nothing in it yet, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def migrated_url(database_url: str) -> str:
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
