"""Opening and closing the database, and bringing its schema up to date with Alembic."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from models import jsoncodec

logger = logging.getLogger(__name__)

# What a database that is down or overloaded raises through SQLAlchemy and its drivers.
DATABASE_ERRORS = (SQLAlchemyError, OSError, asyncio.TimeoutError)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/nudge.db"
# JSON columns (references, activities) are read on every send: orjson, exact where it matters.
JSON_CODEC = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}


def database_url_from_env() -> str:
    """``DATABASE_URL`` from the environment (or ``.env``), else the embedded SQLite file."""
    from dotenv import load_dotenv

    load_dotenv()
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the scheduler read while a turn writes; the busy timeout turns lock
    # contention into a short wait rather than "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (SQLite via aiosqlite or PostgreSQL via asyncpg)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
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


async def upgrade_database(url: str) -> None:
    """Run ``alembic upgrade head`` against ``url``.

    Alembic's async env.py runs its own event loop, so it runs in a worker thread here.
    """
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    logger.info("database schema is at head")
