"""A Bot Framework ``Storage`` on the project's database, so dialog state survives restarts."""

from __future__ import annotations

from typing import Any

import jsonpickle
from botbuilder.core import Storage
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.store import dialect_insert
from models.tables import BotState, utcnow


class SqlStorage(Storage):
    """Stores each state key as one row of ``bot_state`` (last writer wins, like BotState expects).

    Args:
        sessionmaker: opens one session per call.
    """

    def __init__(self, sessionmaker: async_sessionmaker) -> None:
        super().__init__()
        self._sessionmaker = sessionmaker

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        async with self._sessionmaker() as session:
            rows = await session.execute(select(BotState.key, BotState.data).where(BotState.key.in_(keys)))
            return {key: jsonpickle.decode(data) for key, data in rows.tuples()}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        async with self._sessionmaker.begin() as session:
            for key, value in changes.items():
                data = jsonpickle.encode(value)
                now = utcnow()
                stmt = dialect_insert(session, BotState).values(key=key, data=data, updated_at=now)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["key"], set_={"data": data, "updated_at": now}
                )
                await session.execute(stmt)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(BotState).where(BotState.key.in_(keys)))
