"""A newcomer's first minute: ``python app.py`` from a fresh working directory with no
configuration comes up, says where it listens only once it does, and a start-up failure is
one clear line and exit code 1."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.emulator import EmulatorUser

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

LISTENING = re.compile(r"INFO nudge: Nudge listening on (http://127\.0\.0\.1:(\d+)/api/messages)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Console:
    """``python app.py`` started as a newcomer starts it: in ``cwd``, with nothing in the
    environment but ``PATH`` (and what ``extra`` adds), its console read line by line."""

    def __init__(self, cwd: Path, *args: str, **extra: str) -> None:
        self.cwd, self.args = cwd, args
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}
        self.lines: list[str] = []
        self._grew = asyncio.Event()
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Console:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "app.py"), *self.args, cwd=self.cwd, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))
            self._grew.set()
        self._grew.set()

    async def wait_for(self, pattern: re.Pattern[str], timeout: float = 30.0) -> re.Match[str]:
        """The first console line matching ``pattern`` (waits for it)."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    if match := pattern.search(line):
                        return match
                if self._reader.done():
                    raise AssertionError("app.py ended without printing it:\n" + self.text)
                self._grew.clear()
                await self._grew.wait()

    async def exit_code(self, timeout: float = 30.0) -> int:
        async with asyncio.timeout(timeout):
            await self._reader
            return await self.process.wait()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    async def __aexit__(self, *exc_info) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader


async def test_fresh_directory_without_configuration_comes_up_and_the_emulator_connects(tmp_path, fake_channel):
    # PORT=0: the system picks a free port (a port found free and then handed over can be taken
    # by another test in between); the console line says which.
    async with Console(tmp_path, PORT="0") as console, aiohttp.ClientSession() as http:
        url, printed_port = (await console.wait_for(LISTENING)).groups()
        port = int(printed_port)
        # Said once it is true: the socket answers and the database is migrated already.
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["database"] == "ok"
        assert (tmp_path / "data" / "nudge.db").is_file()
        assert console.text.index("data/nudge.db: schema up to date") < console.text.index("Nudge listening")

        # The Emulator, pointed at the printed URL, is welcomed and can set a reminder.
        user = EmulatorUser(bot_url=url, service_url=fake_channel.url)
        assert await user.join(http) == 201
        await fake_channel.wait_for_text("I'm Nudge")
        assert await user.say(http, "remind me to stretch in 1 hour") == 201
        await fake_channel.wait_for_text("Reminder #1 set")

        console.process.send_signal(signal.SIGTERM)
        assert await console.exit_code() == 0, console.text
    # The console at INFO: no APScheduler job chatter ("Running job", "executed successfully").
    assert "apscheduler" not in console.text, console.text
    assert "Traceback" not in console.text, console.text


def assert_one_clear_failure(console: Console, code: int, expected: str) -> None:
    assert code == 1, console.text
    errors = [line for line in console.lines if " ERROR " in line]
    assert len(errors) == 1 and expected in errors[0], console.text
    for never in ("Traceback", "listening", "Event loop is closed"):
        assert never not in console.text, console.text


async def test_a_taken_port_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with Console(tmp_path, PORT=str(port)) as console:
            code = await console.exit_code()
    assert_one_clear_failure(console, code, f"cannot listen on 127.0.0.1:{port}: Address already in use")
    # Found before the database was touched.
    assert not (tmp_path / "data").exists()


async def test_a_database_directory_that_cannot_be_made_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "data").write_text("a file where the directory should be")
    async with Console(tmp_path, PORT="0") as console:
        code = await console.exit_code()
    assert_one_clear_failure(console, code, "cannot open database data/nudge.db: cannot create directory data")


async def test_a_file_that_is_no_database_is_one_line_with_the_traceback_at_debug(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"this is not an SQLite database, it is only text " * 4)
    settings = {"PORT": "0", "DATABASE_URL": "sqlite:///junk.db"}
    async with Console(tmp_path, **settings) as console:
        code = await console.exit_code()
    assert_one_clear_failure(console, code, "cannot open database junk.db: file is not a database")

    async with Console(tmp_path, "--log-level", "DEBUG", **settings) as console:
        code = await console.exit_code()
    assert code == 1
    assert "Traceback" in console.text and "sqlite3.DatabaseError" in console.text


async def test_an_unreachable_postgresql_is_one_line_and_exit_1(tmp_path):
    dead = free_port()  # nothing listens there
    url = f"postgresql://postgres@127.0.0.1:{dead}/test"
    async with Console(tmp_path, PORT="0", DATABASE_URL=url) as console:
        code = await console.exit_code()
    assert_one_clear_failure(
        console, code, f"cannot connect to the database at postgresql+asyncpg://postgres@127.0.0.1:{dead}/test"
    )
