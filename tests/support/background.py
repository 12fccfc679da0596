"""Serving aiohttp apps from a thread of their own, for tests whose client is synchronous
(schemathesis and ``requests``): the bot and the fake channel run on that thread's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start ``app`` on 127.0.0.1 at a free port; its runner and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def stop(runners: list[web.AppRunner]) -> None:
    """Clean the runners up in order (the bot first: its scheduler may still be sending)."""
    for runner in runners:
        await runner.cleanup()


@contextmanager
def background_loop(name: str) -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a daemon thread for the block; stopped and closed after it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert not thread.is_alive()
