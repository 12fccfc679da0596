"""Every database wait is bounded, and every database error means one thing to a caller:
try again (503), or never (400/413).

PostgreSQL is reached through the fault proxy (tests.support.pgproxy) where a connection
has to stall, break or meet a server that is starting up.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.db import (
    DATABASE_ERRORS,
    INVALID,
    TEMPORARY,
    TOO_LARGE,
    DatabaseTimeouts,
    database_error_kind,
    make_sessionmaker,
    open_engine,
    write_refused,
)
from scheduler.engine import ReminderScheduler
from tests.support.factories import RecordingDeliverer, make_conversation, make_reminder
from tests.support.pgproxy import pg_proxy
from tests.support.waiting import eventually

postgres = pytest.mark.postgres
SHORT = DatabaseTimeouts(connect=1, statement=1, lock=0.5, idle_in_transaction=1, pool=1)


async def _fails(engine, sql: str, params: dict | None = None) -> BaseException:
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql), params or {})
    except DATABASE_ERRORS as exc:
        return exc
    raise AssertionError(f"{sql[:40]} did not fail")


@postgres
async def test_every_session_carries_the_server_side_bounds(postgres_url):
    engine = open_engine(postgres_url, timeouts=SHORT)
    try:
        async with engine.connect() as connection:
            shown = {
                name: (await connection.execute(text(f"SHOW {name}"))).scalar_one()
                for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "tcp_keepalives_idle")
            }
    finally:
        await engine.dispose()
    assert shown == {
        "statement_timeout": "1s",
        "lock_timeout": "500ms",
        "idle_in_transaction_session_timeout": "1s",
        "tcp_keepalives_idle": "30",
    }


@postgres
async def test_a_statement_over_its_bound_is_cancelled_and_means_try_again(postgres_url):
    engine = open_engine(postgres_url, timeouts=SHORT)
    try:
        started = time.monotonic()
        error = await _fails(engine, "SELECT pg_sleep(10)")
        assert time.monotonic() - started < 3
        assert database_error_kind(error) == TEMPORARY
        async with engine.connect() as connection:  # the connection is still good
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


@postgres
async def test_a_stalled_connection_is_given_up_and_the_next_checkout_gets_a_fresh_one(postgres_url):
    async with pg_proxy(postgres_url) as proxy:
        engine = open_engine(proxy.url_through(postgres_url), timeouts=SHORT)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            proxy.pause(new_connections=False)  # the pooled connection goes silent
            started = time.monotonic()
            error = await _fails(engine, "SELECT 1")
            # The client's bound (statement + 1 s) plus SQLAlchemy's 2 s for a graceful close.
            assert time.monotonic() - started < SHORT.command + 3
            assert database_error_kind(error) == TEMPORARY
            started = time.monotonic()
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2
            assert time.monotonic() - started < SHORT.connect  # a new connection, no wait
        finally:
            proxy.pass_through()
            await engine.dispose()


@postgres
async def test_a_stalled_client_cannot_keep_rows_locked(postgres_url):
    """The issue's two-instance case: a stalled instance's FOR UPDATE hid rows from SKIP
    LOCKED for minutes. The server now ends its idle transaction and the rows come free."""
    direct = open_engine(postgres_url, timeouts=SHORT)
    async with direct.begin() as connection:
        await connection.execute(text("INSERT INTO bot_state (key, data, updated_at) VALUES ('k', '', now())"))
    skip_locked = "SELECT key FROM bot_state FOR UPDATE SKIP LOCKED"
    async with pg_proxy(postgres_url) as proxy:
        stalled = open_engine(proxy.url_through(postgres_url), timeouts=SHORT)
        try:
            connection = await stalled.connect()
            await connection.begin()
            assert (await connection.execute(text(skip_locked))).scalars().all() == ["k"]
            proxy.pause(new_connections=True)  # the client's host goes silent, locks held

            async def free_rows() -> list[str]:
                async with direct.begin() as other:
                    return (await other.execute(text(skip_locked))).scalars().all()

            assert await free_rows() == []
            started = time.monotonic()
            assert await eventually(free_rows, timeout=SHORT.longest_lock_hold + 2, interval=0.1) == ["k"]
            assert time.monotonic() - started <= SHORT.longest_lock_hold + 2
            proxy.reset()
            with pytest.raises(DATABASE_ERRORS):
                await connection.execute(text("SELECT 1"))
            await connection.invalidate()
        finally:
            await stalled.dispose()
            await direct.dispose()


@postgres
async def test_connect_time_errors_are_database_errors_that_mean_try_again(postgres_url):
    async with pg_proxy(postgres_url) as proxy:
        engine = open_engine(proxy.url_through(postgres_url), timeouts=SHORT)
        try:
            proxy.starting_up()
            error = await _fails(engine, "SELECT 1")
            assert isinstance(error, asyncpg.CannotConnectNowError) and proxy.refused_starting_up >= 1
            assert database_error_kind(error) == TEMPORARY

            proxy.blackhole()  # accepted, never answered: the connect timeout ends it
            started = time.monotonic()
            error = await _fails(engine, "SELECT 1")
            assert time.monotonic() - started < SHORT.connect + 1
            assert database_error_kind(error) == TEMPORARY
        finally:
            await engine.dispose()
    missing = open_engine(postgres_url.rsplit("/", 1)[0] + "/no_such_database_here", timeouts=SHORT)
    try:
        error = await _fails(missing, "SELECT 1")
        assert isinstance(error, asyncpg.InvalidCatalogNameError)
        assert database_error_kind(error) == TEMPORARY
    finally:
        await missing.dispose()


@postgres
async def test_requests_the_database_can_never_take_are_not_try_again(postgres_url):
    engine = open_engine(postgres_url, timeouts=SHORT)
    try:
        # More bind parameters than the protocol carries (asyncpg refuses before sending).
        many = {f"p{i}": f"k{i}" for i in range(33_000)}
        error = await _fails(engine, "SELECT key FROM bot_state WHERE key IN (" + ",".join(f":{n}" for n in many) + ")", many)
        assert database_error_kind(error) == TOO_LARGE
        # A value longer than its column (SQLSTATE 22001).
        error = await _fails(engine, "INSERT INTO bot_state (key, data, updated_at) VALUES (:k, '', now())", {"k": "x" * 600})
        assert database_error_kind(error) == INVALID
    finally:
        await engine.dispose()
    # PostgreSQL's "stack depth limit exceeded" (54001), as the issue met it with 10,000 targets.
    deep = DBAPIError("SELECT ...", {}, asyncpg.exceptions.ProgramLimitExceededError("stack depth limit exceeded"))
    assert database_error_kind(deep) == TOO_LARGE


def test_sqlite_errors_are_told_apart():
    # SQLite's own words (its variable limit depends on how it was built: 32,766 or 250,000).
    assert database_error_kind(sqlite3.OperationalError("too many SQL variables")) == TOO_LARGE
    assert database_error_kind(sqlite3.DataError("string or blob too big")) == TOO_LARGE
    assert database_error_kind(sqlite3.OperationalError("database is locked")) == TEMPORARY
    assert write_refused(sqlite3.OperationalError("database is locked")) is None
    assert write_refused(sqlite3.OperationalError("database or disk is full")) == "database or disk is full"
    assert write_refused(sqlite3.OperationalError("attempt to write a readonly database"))
    assert database_error_kind(sqlite3.OperationalError("database or disk is full")) == TEMPORARY


# --- the scheduler abandons a wedged pass and says so -------------------------------------


class _Wedged:
    """A sessionmaker whose sessions never open: a database call that never returns."""

    def __init__(self) -> None:
        self.entered = 0

    def begin(self):
        return self

    def __call__(self):
        return self

    async def __aenter__(self):
        self.entered += 1
        await asyncio.Event().wait()

    async def __aexit__(self, *exc_info):
        return False


async def test_a_wedged_pass_is_abandoned_reported_and_the_scheduler_recovers(_migrated_sqlite, tmp_path, caplog):
    engine = open_engine(_migrated_sqlite.copy_to(tmp_path / "nudge.db"))
    sessionmaker = make_sessionmaker(engine)
    deliverer = RecordingDeliverer()
    scheduler = ReminderScheduler(
        sessionmaker=sessionmaker, deliverer=deliverer, resync_seconds=3600, stall_seconds=0.3
    )
    await scheduler.start()
    try:
        async with sessionmaker.begin() as session:
            user_pk, conversation_pk = await make_conversation(session)
            now = datetime.now(UTC)
            session.add(make_reminder(user_pk=user_pk, conversation_pk=conversation_pk, number=1, text="wedged",
                                      schedule={"type": "date", "run_at": now.isoformat()}, next_run_at=now))
        wedged = _Wedged()
        scheduler._sessionmaker = wedged
        started = time.monotonic()
        await scheduler.run_due()  # returns: abandoned, not hung
        assert time.monotonic() - started < 2 and wedged.entered >= 1
        assert "scheduler pass abandoned" in caplog.text
        assert scheduler.wake_at is not None and scheduler.wake_at > datetime.now(UTC)  # tried again soon
        with pytest.raises(TimeoutError):
            await scheduler.resync()  # bounded too: APScheduler would skip every later one
        problem = await eventually(scheduler.stalled, timeout=3)
        assert problem.startswith("no scheduler pass completed for")
        assert deliverer.texts == []

        scheduler._sessionmaker = sessionmaker  # the database answers again
        await scheduler.run_due()
        await scheduler.outbox.idle(5)
        assert deliverer.texts == ["⏰ Reminder #1: wedged"]
        assert scheduler.stalled() is None
    finally:
        await scheduler.shutdown(timeout=2)
        await engine.dispose()
