"""Fixtures of the browser tests: one bot process, one driver (Direct Line emulator + headless
Chromium) per module, and a fresh Web Chat page, as a new user, per test.

The tests skip, saying what to install, when Node, ``tests/e2e/node_modules`` or Chromium is
missing; ``NUDGE_REQUIRE_E2E=1`` (set by ``.ci/run``) makes that a failure instead.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from models.db import make_sessionmaker, open_engine
from tests.e2e.harness import (
    ARTIFACTS, INSTALL_HINT, NOTIFY_KEY, PRICES_KEY, Driver, WebChat, missing_tools, run_in_thread,
)
from tests.integration.test_restart import BotProcess

REQUIRE_E2E = os.environ.get("NUDGE_REQUIRE_E2E") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "viewport(width, height): the size of the test's Web Chat page (default 900x1000)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Lets the page fixture know whether the test itself failed (see ``webchat``).
    report = yield
    setattr(item, f"e2e_{report.when}_failed", report.failed)
    return report


@pytest.fixture(scope="module")
def e2e_tools() -> None:
    missing = missing_tools()
    if missing:
        reason = f"browser e2e tests: missing {'; '.join(missing)}; {INSTALL_HINT}"
        if REQUIRE_E2E:
            pytest.fail(reason.replace("turns this skip into a failure", "is set, so this fails"), pytrace=False)
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.log"), *ARTIFACTS.glob("*.jsonl")]:
        old.unlink()


@pytest.fixture(scope="module")
def bot(e2e_tools, tmp_path_factory) -> Iterator[BotProcess]:
    """``app.py`` on a free loopback port with a fresh SQLite database; prices only from
    pushes (so nothing moves unless a test pushes a tick) and the notify API on."""
    database = tmp_path_factory.mktemp("e2e") / "nudge.db"
    bot = BotProcess(
        f"sqlite+aiosqlite:///{database}",
        ARTIFACTS / "bot.log",
        {"NOTIFY_API_KEYS": NOTIFY_KEY, "PRICES_API_KEYS": PRICES_KEY, "PRICE_FEED": "none"},
    )

    async def start() -> None:
        async with aiohttp.ClientSession() as http:
            await bot.start(http, timeout=60.0)

    try:
        run_in_thread(start())
        yield bot
    finally:
        if bot.process is not None and bot.process.poll() is None:
            try:
                bot.stop(signal.SIGTERM)
            except Exception:
                bot.process.kill()
                bot.process.wait()


@pytest.fixture(scope="module")
def driver(bot) -> Iterator[Driver]:
    driver = Driver(bot_url=bot.url + "/api/messages", log_path=ARTIFACTS / "driver.log", bot_pid=bot.process.pid)
    try:
        driver.start()
        yield driver
    finally:
        driver.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def db(bot):
    """The bot's database, read by the test (the bot process writes it)."""
    engine = open_engine(bot.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def webchat(request, driver, http) -> AsyncIterator[WebChat]:
    """Web Chat opened by a new user. At the end: a screenshot into
    tests/e2e/artifacts/<test>.png, the page's console beside it, and an error if the page
    logged one (Web Chat logs card rendering and Direct Line failures there)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    viewport = request.node.get_closest_marker("viewport")
    page = await WebChat.open(
        driver, http, user=f"{name[:40]}-{uuid.uuid4().hex[:6]}", **(viewport.kwargs if viewport else {})
    )
    try:
        yield page
    finally:
        try:
            await page.screenshot(ARTIFACTS / f"{name}.png")
            console = await page.console()
            (ARTIFACTS / f"{name}.console.log").write_text("".join(line + "\n" for line in console))
            await page.close()
        except Exception:
            if not getattr(request.node, "e2e_call_failed", False):
                raise  # the test passed: a failing screenshot is a failure of its own
            console = []
    errors = [line for line in console if line.startswith(("error:", "pageerror:"))]
    assert not errors, f"the page logged errors: {errors}"
