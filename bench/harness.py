"""Shared pieces of the delivery and start-up benchmarks.

* :class:`ChannelProcess`: ``bench/fake_channel_server.py`` in a process of its own.
* :class:`BotProcess`: the bot itself, ``python app.py``, configured through its documented
  environment variables, so the benchmarks measure whatever ``app.py`` wires up (its
  scheduler, outbox and sender), not a copy of it.
* Throw-away databases (a SQLite file, or a fresh PostgreSQL database dropped afterwards),
  migrated with the project's own Alembic migrations, and bulk seeding of users,
  conversations and reminders straight into the tables (as ``tests/support/factories`` does,
  without chatting first).

Nothing here is a test; nothing asserts a timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.db import open_engine, upgrade_database  # noqa: E402
from models.tables import Conversation, Reminder, User  # noqa: E402

PG_HOST = os.environ.get("NUDGE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("NUDGE_PG_PORT", "5432"))
PG_USER = os.environ.get("NUDGE_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("NUDGE_PG_DATABASE", "test")

NOTIFY_KEY = "bench-notify-key-0123456789abcdef"
CHANNEL_ID = "emulator"


def machine_note() -> str:
    return (
        f"python {platform.python_version()}, {len(os.sched_getaffinity(0))} CPUs available, "
        f"{platform.system()} {platform.release()}; code at {code_version()}"
    )


def code_version() -> str:
    """The commit measured, and whether the product's files had uncommitted changes."""
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app.py", "scheduler", "models"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown commit"
    return f"{commit}{' + uncommitted changes' if dirty else ''}" if commit else "unknown commit"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the fake channel -------------------------------------------------------------------


class ChannelProcess:
    """The fake channel server, started in its own process for the duration of an ``async with``."""

    def __init__(
        self,
        max_seconds: float = 1800.0,
        *,
        script: str = "fake_channel_server.py",
        extra_args: tuple[str, ...] = (),
        http_timeout: aiohttp.ClientTimeout | None = None,
    ) -> None:
        self._args = (str(Path(__file__).with_name(script)), "--port", "0",
                      "--max-seconds", str(max_seconds), *extra_args)
        self._http_timeout = http_timeout
        self.url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ChannelProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, *self._args, stdout=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout=30)
        if not line.startswith(b"listening on "):
            raise RuntimeError(f"the fake channel did not start: {line!r}")
        self.url = line.decode().split()[-1]
        self._http = aiohttp.ClientSession(**({"timeout": self._http_timeout} if self._http_timeout else {}))
        return self

    async def __aexit__(self, *exc) -> None:
        if self._http is not None:
            await self._http.close()
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=10)
            except asyncio.TimeoutError:
                self._proc.kill()
                await self._proc.wait()

    async def stats(self, detail: bool = False) -> dict[str, Any]:
        async with self._http.get(self.url + "/stats" + ("?detail=1" if detail else "")) as response:
            return await response.json()

    async def last(self) -> dict[str, Any]:
        async with self._http.get(self.url + "/last") as response:
            return await response.json()

    async def reset(self) -> None:
        async with self._http.post(self.url + "/reset") as response:
            response.raise_for_status()

    async def wait_for_count(self, count: int, timeout: float, poll: float = 0.1) -> dict[str, Any]:
        """Poll until ``count`` posts have arrived or ``timeout`` s pass; the latest stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = await self.stats()
            if stats["count"] >= count or time.monotonic() > deadline:
                return stats
            await asyncio.sleep(poll)


# --- the bot as a process -----------------------------------------------------------------


class BotProcess:
    """``python app.py`` against ``database_url``, on a free loopback port.

    Args:
        database_url: the ``DATABASE_URL`` it runs against.
        log_path: where its log goes (its stdout and stderr).
        env: more environment variables (override the defaults set here).
    """

    def __init__(self, database_url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PRICE", "NOTIFY", "Microsoft"))},
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "NOTIFY_API_KEYS": NOTIFY_KEY,
            # The price feed is not what is measured; its polling would only add noise.
            "PRICE_FEED": "none",
            "LOG_LEVEL": "INFO",
            "MicrosoftAppId": "",
            "MicrosoftAppPassword": "",
            **(env or {}),
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0  # time.monotonic() just before the process was created
        self._log = None

    async def start(self) -> None:
        self._log = open(self._log_path, "ab")
        self.spawned_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "app.py"), cwd=str(ROOT), env=self._env,
            stdout=self._log, stderr=asyncio.subprocess.STDOUT,
        )

    async def wait_ready(self, timeout: float = 120.0) -> float:
        """Poll ``GET /healthz`` every 10 ms until it answers 200; seconds since the spawn."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"app.py exited with {self.proc.returncode}; see {self._log_path}")
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return time.monotonic() - self.spawned_at
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    pass
                await asyncio.sleep(0.01)
        raise RuntimeError(f"app.py not ready within {timeout:g} s; see {self._log_path}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        return 0

    def memory_mib(self) -> dict[str, float]:
        """VmRSS (resident now) and VmHWM (peak resident) from /proc/<pid>/status, in MiB."""
        found = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
        return found

    async def notify(self, body: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                self.url + "/api/notify", json=body, headers={"Authorization": f"Bearer {NOTIFY_KEY}"}
            ) as response:
                answer = await response.json()
                if response.status != 202:
                    raise RuntimeError(f"POST /api/notify answered {response.status}: {answer}")
                return answer

    async def stop(self, timeout: float = 20.0) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=timeout)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> BotProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()


# --- databases --------------------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path, name: str = "bench") -> AsyncIterator[str]:
    """An empty, migrated database: a SQLite file in ``workdir`` or a fresh PostgreSQL one."""
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_database(url)
        yield url
        return
    if kind != "postgres":
        raise ValueError(kind)
    db_name = f"nudge_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{db_name}"')
    try:
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{db_name}"
        await upgrade_database(url)
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def reference_for(conversation_id: str, user_id: str, service_url: str) -> dict[str, Any]:
    """A serialised conversation reference, as the bot stores one on every turn."""
    return {
        "activityId": "a1",
        "user": {"id": user_id, "name": "User"},
        "bot": {"id": "bot", "name": "Nudge"},
        "conversation": {"id": conversation_id},
        "channelId": CHANNEL_ID,
        "serviceUrl": service_url,
    }


def conversation_id_of(i: int) -> str:
    return f"conv-{i:07d}"


async def _insert(url: str, table, rows: Iterable[dict[str, Any]], chunk: int = 5000) -> None:
    engine = open_engine(url)
    try:
        batch: list[dict[str, Any]] = []
        async with engine.begin() as connection:
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    await connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                await connection.execute(table.insert(), batch)
        if engine.dialect.name == "postgresql":
            async with engine.begin() as connection:
                from sqlalchemy import text

                name = table.name
                await connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {name}))"
                ))
    finally:
        await engine.dispose()


async def seed_conversations(url: str, n: int, service_urls: Sequence[str]) -> list[str]:
    """Users 1..n, each with one active conversation (pk i, id ``conversation_id_of(i)``),
    spread round-robin over ``service_urls``."""
    now = datetime.now(UTC)
    await _insert(url, User.__table__, (
        {"id": i, "channel_id": CHANNEL_ID, "user_id": f"user-{i}", "name": f"User {i}",
         "created_at": now, "updated_at": now}
        for i in range(1, n + 1)
    ))
    ids = [conversation_id_of(i) for i in range(1, n + 1)]
    await _insert(url, Conversation.__table__, (
        {"id": i, "user_pk": i, "channel_id": CHANNEL_ID, "conversation_id": ids[i - 1],
         "service_url": service_urls[i % len(service_urls)],
         "reference": reference_for(ids[i - 1], f"user-{i}", service_urls[i % len(service_urls)]),
         "active": True, "created_at": now, "updated_at": now}
        for i in range(1, n + 1)
    ))
    return ids


def one_off(run_at: datetime) -> dict[str, str]:
    """A one-off schedule spec (models/schedule.py: ``{"type": "date", "run_at": ...}``)."""
    return {"type": "date", "run_at": run_at.isoformat()}


async def seed_reminders(url: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert reminder rows (dicts of ``reminders`` columns) through SQLAlchemy Core."""
    await _insert(url, Reminder.__table__, rows)


REMINDER_COLUMNS = ("id", "number", "user_pk", "conversation_pk", "text", "schedule", "description",
                    "timezone", "state", "next_run_at", "created_at", "updated_at")


async def bulk_reminders(url: str, rows: Iterable[tuple], chunk: int = 50_000) -> None:
    """Insert many reminder rows fast: COPY on PostgreSQL, ``executemany`` on SQLite.

    Each row is a tuple in ``REMINDER_COLUMNS`` order, with ``schedule`` as a JSON string and
    the times as aware UTC datetimes.
    """
    if url.startswith("postgresql"):
        import asyncpg

        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        try:
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    await connection.copy_records_to_table("reminders", records=batch, columns=REMINDER_COLUMNS)
                    batch = []
            if batch:
                await connection.copy_records_to_table("reminders", records=batch, columns=REMINDER_COLUMNS)
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('reminders', 'id'), (SELECT max(id) FROM reminders))"
            )
            await connection.execute("ANALYZE")
        finally:
            await connection.close()
        return
    import sqlite3

    path = url.split(":///", 1)[1]

    def stored(moment: datetime | None) -> str | None:
        # What UTCDateTime stores on SQLite: naive UTC in SQLAlchemy's DATETIME text format.
        return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def write() -> None:
        connection = sqlite3.connect(path)
        try:
            placeholders = ", ".join("?" for _ in REMINDER_COLUMNS)
            sql = f"INSERT INTO reminders ({', '.join(REMINDER_COLUMNS)}) VALUES ({placeholders})"
            batch: list[tuple] = []
            for row in rows:
                row = list(row)
                for index in (9, 10, 11):
                    row[index] = stored(row[index])
                batch.append(tuple(row))
                if len(batch) >= chunk:
                    connection.executemany(sql, batch)
                    batch = []
            if batch:
                connection.executemany(sql, batch)
            # No ANALYZE: a bot's SQLite file never gets one either.
            connection.commit()
        finally:
            connection.close()

    await asyncio.to_thread(write)


# --- profiling (optional) -----------------------------------------------------------------


class Profiler:
    """``py-spy record`` attached to a process (all threads, native frames off), raw output.

    Args:
        py_spy: path of the py-spy executable (not a project dependency: pass it when wanted).
        pid: the process to sample.
        out: where the collapsed stacks go.
    """

    def __init__(self, py_spy: str, pid: int, out: Path, rate: int = 200) -> None:
        self._args = [py_spy, "record", "--pid", str(pid), "--output", str(out), "--format", "raw",
                      "--rate", str(rate), "--threads"]
        self.out = out
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *self._args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await asyncio.sleep(0.5)  # attached before the measured work starts

    async def stop(self) -> None:
        if self._proc is None or self._proc.returncode is not None:
            return
        self._proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            await asyncio.wait_for(self._proc.wait(), timeout=30)
        except asyncio.TimeoutError:
            self._proc.kill()
            await self._proc.wait()


PROJECT_PREFIXES = ("app.py", "scheduler/", "models/", "dialogs/")


def _frame_file(frame: str) -> str:
    """``"f (scheduler/outbox.py:405)"`` -> ``"scheduler/outbox.py"``."""
    return frame.rpartition("(")[2].rpartition(":")[0]


def profile_summary(path: Path, rate: int = 200, top: int = 18) -> list[str]:
    """What a py-spy raw profile says, per thread and per line of the project's own code.

    Each busy sample of the main thread (py-spy leaves idle ones out) is charged to the
    deepest frame in the project's own files (app.py, scheduler/, models/, dialogs/), so
    library work is charged to the project line that asked for it; samples with no project
    frame are the event loop's own work and aiohttp's. Also the library functions with the
    largest inclusive share.
    """
    threads: dict[str, int] = {}
    by_line: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    main = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        thread = frames[0]
        threads[thread] = threads.get(thread, 0) + n
        if "MainThread" not in thread:
            continue
        main += n
        project = [f for f in frames if _frame_file(f).startswith(PROJECT_PREFIXES) and not f.startswith(("main ", "<module> "))]
        key = project[-1] if project else "(no project frame: event loop, aiohttp, ...)"
        by_line[key] = by_line.get(key, 0) + n
        for frame in set(frames[1:]):
            if not _frame_file(frame).startswith(PROJECT_PREFIXES) and not _frame_file(frame).startswith("asyncio/"):
                name = frame.partition(" (")[0] + " (" + _frame_file(frame) + ")"
                inclusive[name] = inclusive.get(name, 0) + n
    lines = ["busy samples per thread (py-spy leaves idle ones out), seconds at the sampling rate:"]
    for thread, n in sorted(threads.items(), key=lambda kv: -kv[1])[:6]:
        lines.append(f"  {n / rate:6.1f} s  {thread}")
    if not main:
        return lines
    lines.append(f"main thread, charged to the deepest project frame ({main / rate:.1f} s busy):")
    for key, n in sorted(by_line.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {n / main * 100:5.1f}%  {key}")
    lines.append("main thread, library functions by inclusive share:")
    for key, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        if n / main < 0.99:
            lines.append(f"  {n / main * 100:5.1f}%  {key}")
    return lines
