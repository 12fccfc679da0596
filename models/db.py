"""Opening and closing the database, and bringing its schema up to date with Alembic."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from models import jsoncodec

logger = logging.getLogger(__name__)

# What a database that is down, starting, overloaded or unreachable raises through SQLAlchemy
# and its drivers. asyncpg's own errors come through unwrapped when a connection is being
# opened (SQLAlchemy wraps only what a cursor raises): "the database system is starting up"
# (CannotConnectNowError, 57P03), a database that does not exist (yet), too many connections,
# a connection reset or closed mid-operation (ConnectionDoesNotExistError, an InterfaceError).
DATABASE_ERRORS = (
    SQLAlchemyError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
)

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


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long any one database wait may last (seconds), so that no request, turn or
    scheduler pass waits on a database that does not answer.

    Attributes:
        connect: opening a connection (TCP, TLS, start-up, authentication).
        statement: one statement on the server (PostgreSQL ``statement_timeout``); the
            client gives up one second later (asyncpg's ``command_timeout``), cancels the
            statement, and drops the connection if the cancel is not acknowledged.
        lock: waiting for a row or table lock (``lock_timeout``).
        idle_in_transaction: the server ends a session whose client has left a transaction
            open this long without sending anything (a stalled or dead client), releasing
            its row locks (``idle_in_transaction_session_timeout``).
        pool: waiting for a free pooled connection.
        keepalive: idle seconds before TCP keepalive probes, on both ends (three probes,
            a third of this apart, then the connection is dropped).
        sqlite_busy: SQLite's busy timeout: how long a writer waits for the file's lock.
    """

    connect: float = 5.0
    statement: float = 5.0
    lock: float = 3.0
    idle_in_transaction: float = 3.0
    pool: float = 5.0
    keepalive: float = 30.0
    sqlite_busy: float = 10.0

    @property
    def command(self) -> float:
        """The client's own bound on a statement: the server's, plus a second."""
        return self.statement + 1.0

    @property
    def longest_lock_hold(self) -> float:
        """The longest a stalled client can keep rows locked: a statement that the server
        ends, or the idle wait for the client's next one, whichever the stall hits."""
        return self.statement + self.idle_in_transaction


def _ms(seconds: float) -> str:
    return str(max(1, int(seconds * 1000)))


def postgres_server_settings(timeouts: DatabaseTimeouts) -> dict[str, str]:
    """Per-session settings sent in every connection's start-up message."""
    interval = max(1, int(timeouts.keepalive / 3))
    return {
        "statement_timeout": _ms(timeouts.statement),
        "lock_timeout": _ms(timeouts.lock),
        "idle_in_transaction_session_timeout": _ms(timeouts.idle_in_transaction),
        # The server notices a client host that vanished (its session, and locks, go).
        "tcp_keepalives_idle": str(max(1, int(timeouts.keepalive))),
        "tcp_keepalives_interval": str(interval),
        "tcp_keepalives_count": "3",
    }


def _client_keepalive(dbapi_connection, timeouts: DatabaseTimeouts) -> None:
    """TCP keepalives on the client's socket (asyncpg has no option for them), so a server
    that vanished without a FIN is noticed by the OS too."""
    transport = getattr(getattr(dbapi_connection, "_connection", None), "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    interval = max(1, int(timeouts.keepalive / 3))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, max(1, int(timeouts.keepalive)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except (OSError, AttributeError):  # not Linux, or a transport without a real socket
        logger.debug("could not set TCP keepalives on a database connection", exc_info=True)


def _sqlite_pragmas(busy_seconds: float):
    def apply(dbapi_connection, _record) -> None:
        # WAL lets the scheduler read while a turn writes; the busy timeout turns lock
        # contention into a short wait rather than "database is locked".
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return apply


def _is_broken_connection(exc: BaseException | None) -> bool:
    """True for a failure that leaves a pooled connection unusable or in doubt: a client
    timeout (asyncpg is still cancelling the statement), a reset, a closed connection."""
    # SQLSTATE 08: connection exceptions; 57P: the server ended the session (admin shutdown,
    # crash, starting up, idle-session timeouts). 57014 (a statement cancelled by its timeout)
    # leaves the connection usable.
    return isinstance(exc, (asyncio.TimeoutError, OSError, asyncpg.InterfaceError)) or (
        isinstance(exc, asyncpg.PostgresError) and (getattr(exc, "sqlstate", "") or "").startswith(("08", "57P"))
    )


def _drop_broken_connections(context) -> None:
    # A connection whose statement timed out on the client is still busy cancelling; one
    # whose server session was ended (idle-in-transaction timeout, admin shutdown) or reset
    # is dead. Either must leave the pool now, not fail the next checkout too.
    if _is_broken_connection(_root_cause(context.original_exception)):
        context.is_disconnect = True


def open_engine(url: str, *, echo: bool = False, timeouts: DatabaseTimeouts | None = None) -> AsyncEngine:
    """Create the async engine for ``url`` (SQLite via aiosqlite or PostgreSQL via asyncpg),
    every wait bounded by ``timeouts`` (the defaults when None).

    Opens no connection; :func:`prepare_database` is what creates an SQLite file's directory.
    """
    timeouts = timeouts or DatabaseTimeouts()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # hide_parameters: an error's log line must not carry users' text or references.
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, pool_timeout=timeouts.pool, **JSON_CODEC
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(timeouts.sqlite_busy))
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_timeout=timeouts.pool,
        connect_args={
            "timeout": timeouts.connect,
            "command_timeout": timeouts.command,
            "server_settings": postgres_server_settings(timeouts),
        },
        **JSON_CODEC,
    )
    event.listen(engine.sync_engine, "connect", lambda dbapi_connection, _record: _client_keepalive(dbapi_connection, timeouts))
    event.listen(engine.sync_engine, "handle_error", _drop_broken_connections)
    return engine


# --- what a database error means for the caller -----------------------------------------

TEMPORARY, TOO_LARGE, INVALID = "temporary", "too large", "invalid"

# Errors that say the request itself can never be stored, however often it is retried.
_TOO_LARGE_MESSAGES = (
    "number of query arguments cannot exceed",  # asyncpg: more than 32,767 bind parameters
    "too many sql variables",  # SQLite
    "string or blob too big",  # SQLite
    "expression tree is too large",  # SQLite
)
# Errors that say the database's storage refuses writes: the database is unhealthy.
_WRITE_REFUSED_MESSAGES = (
    "database or disk is full",
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
)
_WRITE_REFUSED_SQLSTATES = ("53100", "25006", "58030")  # disk full, read-only transaction, I/O error


def _sqlstate(exc: BaseException) -> str:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or ""


def database_error_kind(exc: BaseException) -> str:
    """What a database error means for the request that met it.

    Returns:
        ``TOO_LARGE``: the request needs more than the database takes in one statement (too
        many bind parameters, PostgreSQL's "program limit exceeded" such as its stack depth
        limit): 413, never "try again". ``INVALID``: a value the database refuses (too long,
        out of range, bad encoding: SQLSTATE class 22): 400. ``TEMPORARY``: everything else
        (down, starting up, busy, locked, timed out, disk full): 503 with ``Retry-After``.
    """
    cause = _root_cause(exc)
    message = str(cause).lower()
    state = _sqlstate(cause) or _sqlstate(exc)
    if any(fragment in message for fragment in _TOO_LARGE_MESSAGES) or state.startswith("54"):
        return TOO_LARGE
    if state.startswith("22"):
        return INVALID
    return TEMPORARY


def write_refused(exc: BaseException) -> str | None:
    """The reason, when ``exc`` says the database refuses writes (disk full, read-only,
    an I/O error); else None."""
    cause = _root_cause(exc)
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if _sqlstate(cause) in _WRITE_REFUSED_SQLSTATES or any(m in message.lower() for m in _WRITE_REFUSED_MESSAGES):
        return message[:200]
    return None


class WriteHealth:
    """The outcome of the database's recent writes, for ``/healthz``: a write that the
    storage refused (disk full, read-only file, I/O error) marks the database unhealthy for
    ``hold_seconds`` (each new refusal starts the wait again).

    A rolled-back probe can't see a full disk (SQLite writes nothing until a commit), so the
    real writes' outcome is watched instead, through the engine's error events.
    """

    def __init__(self, hold_seconds: float = 60.0) -> None:
        self.hold_seconds = hold_seconds
        self._refused_at: float | None = None
        self.reason: str | None = None

    def watch(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "handle_error", self._on_error)

    def _on_error(self, context) -> None:
        reason = write_refused(context.original_exception)
        if reason is not None:
            self.refused(reason)

    def refused(self, reason: str) -> None:
        self._refused_at = time.monotonic()
        self.reason = reason

    def cleared(self) -> None:
        """A write went through after the refusal: the database takes writes again."""
        self._refused_at = self.reason = None

    def problem(self) -> str | None:
        """Why writes are failing, if one failed in the last ``hold_seconds``."""
        if self._refused_at is None or time.monotonic() - self._refused_at > self.hold_seconds:
            return None
        return self.reason


# The write probe: a row written and deleted in one committed transaction, so the storage
# has to take a write (a full disk refuses it) and nothing is left behind.
_PROBE_KEY = "nudge:healthz-write-probe"


async def probe_database(engine: AsyncEngine, *, commit: bool) -> None:
    """Read, then write (``commit``: for real; else a write that is rolled back, which
    still finds a read-only database or a held lock). Raises what the database raises."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(text("SELECT 1"))
            await connection.execute(
                text("INSERT INTO bot_state (key, data, updated_at) VALUES (:key, '', CURRENT_TIMESTAMP)"),
                {"key": _PROBE_KEY},
            )
            await connection.execute(text("DELETE FROM bot_state WHERE key = :key"), {"key": _PROBE_KEY})
        except BaseException:
            await transaction.rollback()
            raise
        if commit:
            await transaction.commit()
        else:
            await transaction.rollback()


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
    if os.statvfs(directory).f_flag & os.ST_RDONLY:
        raise DatabaseUnavailable(f"cannot open database {path}: it is on a read-only file system; {fix}")
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
            _check_writable(connection)
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"cannot open database {path}: {exc}; check the file, or point DATABASE_URL elsewhere") from exc


def _check_writable(connection: sqlite3.Connection) -> None:
    """Take the write lock once and let it go: a file SQLite can only read (a read-only
    mount, an immutable file; root passes ``os.access`` on a mode 0444 file) says so here,
    not at the first reminder. A lock held by another writer is no start-up failure."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise sqlite3.OperationalError(f"the file is read-only ({exc})") from exc


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
