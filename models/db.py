"""Opening and closing the database, and bringing its schema up to date with Alembic."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from models import jsoncodec

logger = logging.getLogger(__name__)

# What a database that is down or overloaded raises through SQLAlchemy and its drivers.
DATABASE_ERRORS = (SQLAlchemyError, OSError, asyncio.TimeoutError)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/nudge.db"
# JSON columns (references, activities) are read on every send: orjson, exact where it matters.
JSON_CODEC = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}


# The async drivers this project ships, for URLs written without one (``postgres://...``
# as hosting providers hand it out, ``sqlite:///file.db``).
ASYNC_DRIVERS = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
SUPPORTED_DRIVERS = frozenset(ASYNC_DRIVERS.values())


def with_async_driver(url: str) -> str:
    """``url`` with the scheme's async driver when it names none; other URLs unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ASYNC_DRIVERS:
        return f"{ASYNC_DRIVERS[scheme]}://{rest}"
    return url


def database_url_from_env() -> str:
    """``DATABASE_URL`` from the environment (or ``.env``), else the embedded SQLite file."""
    from dotenv import load_dotenv

    load_dotenv()
    return with_async_driver(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the scheduler read while a turn writes; the busy timeout turns lock
    # contention into a short wait rather than "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (SQLite via aiosqlite or PostgreSQL via asyncpg).

    Opens no connection; :func:`prepare_database` is what creates an SQLite file's directory.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # hide_parameters: an error's log line must not carry users' text or references.
        engine = create_async_engine(url, echo=echo, hide_parameters=True, **JSON_CODEC)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        **JSON_CODEC,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    """One session per unit of work: ``async with sessionmaker.begin() as session``."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """The Alembic configuration of this project, pointed at ``url``."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    # Alembic's ini interpolation treats % specially.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


class DatabaseUnavailable(Exception):
    """The database can't be opened or migrated. ``str()`` is one line for the console:
    what failed and how to fix it."""


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (relative to the working directory), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def describe_database(url: str) -> str:
    """The database as the console names it: an SQLite file's path, else the URL without
    its password."""
    path = sqlite_file(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def prepare_database(url: str) -> None:
    """Make sure the database can be opened before anything tries to: an SQLite file's
    directory is created if missing (``data/`` on a fresh clone) and must be writable.

    Raises:
        DatabaseUnavailable: the directory can't be created or written.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"DATABASE_URL is not a database URL ({exc}); see README, Configuration") from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseUnavailable(
            f"DATABASE_URL names {parsed.drivername}://, which Nudge does not support: use "
            "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DATABASE"
        )
    path = sqlite_file(url)
    if path is None:
        return
    directory = path.parent
    fix = "fix its permissions or point DATABASE_URL elsewhere"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot open database {path}: cannot create directory {directory} ({exc.strerror}); {fix}"
        ) from exc
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseUnavailable(f"cannot open database {path}: the file is not writable; {fix}")
    elif not os.access(directory, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(f"cannot open database {path}: directory {directory} is not writable; {fix}")
    # Opened here once with the standard library: a file that is no database, or a place
    # SQLite can't write, is said plainly before the migration's worker thread meets it.
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"cannot open database {path}: {exc}; check the file, or point DATABASE_URL elsewhere") from exc


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper and Alembic's re-raises."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "orig", None) or exc.__cause__
        if inner is None:
            break
        exc = inner
    return exc


def database_problem(url: str, exc: BaseException) -> str:
    """One console line for a failure to open or migrate ``url``: what failed and a fix."""
    cause = _root_cause(exc)
    where = describe_database(url)
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if sqlite_file(url) is not None:
        return f"cannot open database {where}: {reason}; check the file, or point DATABASE_URL elsewhere"
    if isinstance(cause, ConnectionRefusedError) or "Connect call failed" in reason:
        return f"cannot connect to the database at {where}: connection refused; is the server running? (DATABASE_URL)"
    if isinstance(cause, (OSError, asyncio.TimeoutError)):
        return f"cannot connect to the database at {where}: {reason or type(cause).__name__}; check DATABASE_URL"
    return f"cannot open or migrate the database at {where}: {reason}; check DATABASE_URL"


async def upgrade_database(url: str) -> None:
    """Run ``alembic upgrade head`` against ``url``.

    Alembic's async env.py runs its own event loop, so it runs in a worker thread here.
    """
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    logger.info("database %s: schema up to date", describe_database(url))
