"""Race tests: waiting until a task is held up by a lock another transaction holds."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.support.waiting import eventually

# Sessions of this database that wait for a lock some other session holds.
_BLOCKED_ON_POSTGRES = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
)


async def blocked_or_done(task: asyncio.Task, sessionmaker: async_sessionmaker, *, timeout: float = 5.0) -> None:
    """Wait until ``task`` sits in a database call that waits for another transaction, or
    has finished (which the caller then reports: a task that should have waited didn't).

    Call it right after creating ``task``, before yielding to the loop: it starts watching
    the task's statements when called. On PostgreSQL the server must also report a session
    blocked by another one. SQLite has nothing to ask: it has one write lock, and a write
    statement under way while another transaction holds it waits in the busy handler, so a
    statement of ``task`` under way is the sign.

    Raises:
        AssertionError: neither happened within ``timeout`` seconds.
    """
    engine = sessionmaker.kw["bind"].sync_engine
    under_way: set[int] = set()

    def started(conn, cursor, statement, parameters, context, executemany) -> None:
        if asyncio.current_task() is task:
            under_way.add(id(context))

    def ended(conn, cursor, statement, parameters, context, executemany) -> None:
        under_way.discard(id(context))

    def failed(exception_context) -> None:
        under_way.discard(id(exception_context.execution_context))

    async def held_up() -> bool:
        if task.done():
            return True
        if not under_way:
            return False
        if engine.dialect.name != "postgresql":
            return True
        async with sessionmaker() as session:
            return (await session.execute(_BLOCKED_ON_POSTGRES)).scalar_one() > 0

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    event.listen(engine, "handle_error", failed)
    try:
        await eventually(held_up, timeout=timeout, interval=0.01)
    finally:
        event.remove(engine, "before_cursor_execute", started)
        event.remove(engine, "after_cursor_execute", ended)
        event.remove(engine, "handle_error", failed)
