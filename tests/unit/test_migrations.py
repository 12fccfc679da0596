"""The Alembic migrations build the schema the models describe, and tear it down again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from models.base import Base
from models.db import alembic_config
from models import tables  # noqa: F401


async def _table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_head_then_downgrade_base(empty_database_url):
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _table_names(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _table_names(empty_database_url) <= {"alembic_version"}

    # And up again: the downgrade left nothing behind that blocks a fresh upgrade.
    await asyncio.to_thread(command.upgrade, config, "head")
    assert "reminders" in await _table_names(empty_database_url)


async def test_models_match_migrations(empty_database_url):
    """Autogenerate finds nothing to add: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "head")
    engine = create_async_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []
