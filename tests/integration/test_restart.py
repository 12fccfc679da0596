"""Restarts with a real bot process: pending reminders and scheduled notifications survive
SIGTERM and kill -9."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from models.db import open_engine
from models.tables import Reminder
from tests.support.emulator import EmulatorUser
from tests.support.waiting import eventually, until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


# The bot's own line once it listens (app.py prints it after binding and migrating).
_LISTENING = re.compile(r"Nudge listening on http://127\.0\.0\.1:(\d+)/")


class BotProcess:
    """``python app.py`` in a subprocess, on a port of its own."""

    def __init__(self, database_url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        # Found on the first start (PORT=0 lets the system pick a free one, and the bot says
        # which: a port found free here and handed over could be taken by another test
        # in between); a restart listens on the same port again.
        self.port: int | None = None
        self.database_url = database_url
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession, timeout: float = 30.0) -> None:
        env = {
            **os.environ,
            "PORT": str(self.port or 0),
            "HOST": "127.0.0.1",
            "DATABASE_URL": self.database_url,
            "MicrosoftAppId": "",
            "MicrosoftAppPassword": "",
            **self.env,
        }
        log = open(self.log_path, "ab")
        logged_before = log.tell()
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--log-level", "INFO"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.process.returncode}: {self.log_path.read_text()[-3000:]}")
            if self.port is None:
                with open(self.log_path, "rb") as written:
                    written.seek(logged_before)
                    listening = _LISTENING.search(written.read().decode(errors="replace"))
                if listening is None:
                    await asyncio.sleep(0.1)
                    continue
                self.port = int(listening[1])
            try:
                async with http.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("bot did not become ready: " + self.log_path.read_text()[-3000:])

    async def start_and_join(self, http: aiohttp.ClientSession, service_url: str) -> EmulatorUser:
        """Start the bot and join it as an Emulator user whose channel is ``service_url``."""
        await self.start(http)
        user = EmulatorUser(bot_url=self.url + "/api/messages", service_url=service_url)
        assert await user.join(http) == 201
        return user

    def stop(self, sig: int) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=15)


@pytest.fixture
def bot_process(database_url, tmp_path):
    bots: list[BotProcess] = []

    def make(**env: str) -> BotProcess:
        bot = BotProcess(database_url, tmp_path / "bot.log", env)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        if bot.process is not None and bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait()


async def stored_due_time(database_url: str, number: int) -> datetime:
    """When the reminder numbered ``number`` is due, as the bot stored it."""
    engine = open_engine(database_url)
    try:
        async with engine.connect() as connection:
            due = (
                await connection.execute(select(Reminder.next_run_at).where(Reminder.number == number))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert due is not None
    return due


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
async def test_pending_reminders_fire_after_restart(bot_process, fake_channel, sig):
    async with aiohttp.ClientSession() as http:
        first = bot_process()
        user = await first.start_and_join(http, fake_channel.url)
        # One comes due while the bot is down, one after it is back.
        assert await user.say(http, "remind me to drink water in 2 seconds") == 201
        await fake_channel.wait_for_text("Reminder #1 set")
        assert await user.say(http, "remind me to stretch in 8 seconds") == 201
        await fake_channel.wait_for_text("Reminder #2 set")
        first.stop(sig)
        if sig == signal.SIGTERM:
            assert first.process.returncode == 0, first.log_path.read_text()[-2000:]
        assert not [t for t in fake_channel.texts() if t.startswith("⏰")], "fired before it was due"

        # Stay down until the first one is overdue.
        await until(await stored_due_time(first.database_url, 1))
        second = bot_process()
        await second.start(http)
        await fake_channel.wait_for_text("⏰ Reminder #1: drink water", timeout=10)
        await fake_channel.wait_for_text("⏰ Reminder #2: stretch", timeout=15)
        second.stop(signal.SIGTERM)
        delivered = [t for t in fake_channel.texts() if t.startswith("⏰")]
        assert delivered == ["⏰ Reminder #1: drink water", "⏰ Reminder #2: stretch"]


NOTIFY_KEY = "r" * 32


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
async def test_scheduled_notification_is_sent_once_after_restart(bot_process, fake_channel, sig):
    from datetime import UTC, datetime, timedelta

    async with aiohttp.ClientSession() as http:
        first = bot_process(NOTIFY_API_KEYS=NOTIFY_KEY)
        user = await first.start_and_join(http, fake_channel.url)
        at = datetime.now(UTC) + timedelta(seconds=2)
        async with http.post(
            first.url + "/api/notify",
            json={"user": {"channelId": "emulator", "id": user.user["id"]}, "text": "Your parcel arrives today", "at": at.isoformat()},
            headers={"Authorization": f"Bearer {NOTIFY_KEY}"},
        ) as response:
            assert response.status == 202
            notification_id = (await response.json())["id"]
        first.stop(sig)
        assert "Your parcel arrives today" not in fake_channel.texts()

        # Back after its time: it goes out once, late.
        await until(at)
        second = bot_process(NOTIFY_API_KEYS=NOTIFY_KEY)
        await second.start(http)
        await fake_channel.wait_for_text("Your parcel arrives today", timeout=10)

        async def recorded():
            async with http.get(
                f"{second.url}/api/notify/{notification_id}", headers={"X-Api-Key": NOTIFY_KEY}
            ) as response:
                report = await response.json()
            return report if report["status"] == "done" else None

        report = await eventually(recorded)
        second.stop(signal.SIGTERM)
        assert fake_channel.texts().count("Your parcel arrives today") == 1
        assert report["counts"]["sent"] == 1
