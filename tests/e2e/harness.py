"""The browser side of the e2e tests, seen from pytest.

``glue/driver.js`` (one Node process per test module) serves Web Chat's own ``dist/webchat.js``
from ``node_modules``, runs the Direct Line emulator the page and the bot talk through
(``glue/directline.js``: offline-directline, with its quirks fixed), and drives headless
Chromium with playwright-core. Pytest sends it commands as JSON over HTTP on 127.0.0.1;
``WebChat`` wraps them as what a user does: type, read the transcript, click a card button.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = E2E_DIR / "artifacts"
DRIVER = E2E_DIR / "glue" / "driver.js"
CHROMIUM = os.environ.get("NUDGE_E2E_CHROMIUM", "/usr/bin/chromium")
# The bot's API keys in these tests (the bot runs with them; the tests call its HTTP API with them).
NOTIFY_KEY = "e2e-notify-key-" + "n" * 24
PRICES_KEY = "e2e-prices-key-" + "p" * 24
NODE_PACKAGES = ("botframework-webchat", "express", "offline-directline", "playwright-core")
INSTALL_HINT = (
    "install with `apt-get install -y chromium` and `cd tests/e2e && npm ci` (what .ci/run does); "
    "NUDGE_REQUIRE_E2E=1 turns this skip into a failure"
)


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks (empty when all is there)."""
    missing = []
    if shutil.which("node") is None:
        missing.append("Node.js (`node` on PATH)")
    absent = [p for p in NODE_PACKAGES if not (E2E_DIR / "node_modules" / p / "package.json").is_file()]
    if absent:
        missing.append(f"tests/e2e/node_modules ({', '.join(absent)})")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium at {CHROMIUM}")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Driver:
    """``node glue/driver.js`` in a process group of its own (Chromium runs under it).

    Args:
        bot_url: the bot's ``/api/messages``, where the Direct Line emulator forwards to.
        log_path: the driver's output (and Chromium's, if it complains).
        bot_pid: the bot process; the driver stops it if pytest dies without stopping either.
    """

    def __init__(self, *, bot_url: str, log_path: Path, bot_pid: int | None = None) -> None:
        self.bot_url = bot_url
        self.log_path = log_path
        self.bot_pid = bot_pid
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> None:
        """Start it; return when it serves and its browser is up."""
        log = open(self.log_path, "ab")
        command = ["node", str(DRIVER), "--port", str(self.port), "--bot", self.bot_url,
                   "--artifacts", str(ARTIFACTS), "--chromium", CHROMIUM]
        if self.bot_pid:
            command += ["--stop-with-me", str(self.bot_pid)]
        self.process = subprocess.Popen(
            command, cwd=E2E_DIR, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"e2e driver exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/e2e/health", timeout=2) as response:
                    if response.status == 200 and b'"browser":"' in response.read():
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"e2e driver not ready within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (it closes the browser itself), then SIGKILL to whatever of its process
        group is left (a browser process, if the driver died or hung)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=5)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else "(no log)"

    async def command(self, http: aiohttp.ClientSession, command: str, /, *, timeout: float = 30.0, **body: Any) -> dict:
        """Run one driver command, bounded by ``timeout`` seconds in the browser (and a little more
        over HTTP); raise AssertionError with the driver's reason if it fails."""
        async with http.post(
            f"{self.url}/e2e/{command}",
            json={**body, "timeoutMs": int(timeout * 1000)},
            timeout=aiohttp.ClientTimeout(total=timeout + 15),
        ) as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise AssertionError(f"browser command {command} {body} failed: {answer.get('error')}")
        return answer


@dataclass
class Entry:
    """One activity in the Web Chat transcript, as the user sees it."""

    index: int
    sender: str  # "user" or "bot"
    text: str  # every bubble of the activity, cards included, as rendered
    plain: str  # the same with typographic quotes made straight and white space as single spaces
    cards: list[str]
    buttons: list[str]
    html: str

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Entry:
        return cls(raw["index"], raw["from"], raw["text"], raw["plain"], raw["cards"], raw["buttons"], raw["html"])


@dataclass
class Seen:
    """A text that showed up: when (epoch seconds, read in the page) and in which activity."""

    at: float
    entry: Entry
    transcript: list[Entry]


class WebChat:
    """One user's Web Chat page: what they type, click and see."""

    def __init__(self, driver: Driver, http: aiohttp.ClientSession, page: str, user: str) -> None:
        self.driver = driver
        self.http = http
        self.page = page
        self.user = user

    @classmethod
    async def open(cls, driver: Driver, http: aiohttp.ClientSession, *, user: str, name: str = "Ada",
                   width: int = 900, height: int = 1000) -> WebChat:
        answer = await driver.command(http, "open", user=user, name=name, width=width, height=height, timeout=45.0)
        return cls(driver, http, answer["page"], user)

    async def _command(self, command: str, /, *, timeout: float = 30.0, **body: Any) -> dict:
        return await self.driver.command(self.http, command, page=self.page, timeout=timeout, **body)

    async def say(self, text: str) -> None:
        """Type ``text`` into the send box and press Enter; return once its bubble shows."""
        await self._command("say", text=text, timeout=15.0)

    async def wait_for(self, text: str, *, button: str | None = None, timeout: float = 15.0, count: int = 1) -> Seen:
        """Wait until ``count`` bot activities show ``text`` (and have a card button titled
        ``button``, if given); return the last of them.

        Raises:
            AssertionError: not in time; the message lists what the transcript showed instead.
        """
        try:
            answer = await self._command("wait", text=text, button=button, count=count, timeout=timeout)
        except AssertionError as exc:
            shown = "\n".join(f"  {e.sender}: {e.plain!r}" for e in await self.transcript())
            what = f"{text!r}" + (f" with a {button!r} button" if button else "") + f" (x{count})"
            raise AssertionError(f"{what} not shown within {timeout}s; transcript:\n{shown}") from exc
        transcript = [Entry.of(raw) for raw in answer["transcript"]]
        matching = [
            e for e in transcript
            if e.sender == "bot" and plain(text) in e.plain and (button is None or button in e.buttons)
        ]
        return Seen(answer["seenAt"] / 1000, matching[count - 1], transcript)

    async def transcript(self) -> list[Entry]:
        return [Entry.of(raw) for raw in (await self._command("transcript"))["transcript"]]

    async def bot_count(self) -> int:
        """How many activities from the bot the transcript shows."""
        return sum(1 for entry in await self.transcript() if entry.sender == "bot")

    async def reply_after(self, count: int, *, timeout: float = 15.0) -> Seen:
        """Wait for the bot's next activity after the first ``count`` (see ``bot_count``)."""
        return await self.wait_for("", count=count + 1, timeout=timeout)

    async def click(self, button: str, *, on: str) -> None:
        """Click the card button ``button`` on the last activity that shows ``on`` and has it."""
        await self._command("click", button=button, on=on, timeout=15.0)

    async def screenshot(self, path: Path) -> None:
        await self._command("screenshot", path=str(path), timeout=15.0)

    async def console(self) -> list[str]:
        """What the page logged (Web Chat's warnings and errors land there)."""
        return (await self._command("console"))["lines"]

    async def close(self) -> None:
        await self._command("close")


def plain(text: str) -> str:
    """``text`` as ``Entry.plain`` has it: typographic quotes (Web Chat's markdown renders ' as
    ’) made straight, and white space as single spaces."""
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"[\s\u200b]+", " ", text).strip()


def run_in_thread(coroutine) -> Any:
    """Run a coroutine to completion on a loop of its own (from a sync fixture)."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
