"""A fake Bot Connector channel in a process of its own, for the delivery benchmarks.

It answers ``POST /v3/conversations/{id}/activities`` and
``POST /v3/conversations/{id}/activities/{activityId}`` with 200 ``{"id": ...}``, as the
real service does, and records the wall-clock arrival time (``time.time()``) and the
conversation id of every post. Its own process, so that the channel's work is not counted
against the sender being measured (nor the sender's against the channel).

The same routes under one path segment (``/ch3/v3/conversations/...``) let one server
stand for several channels, each with a serviceUrl of its own.

* ``GET /stats``: ``count``, ``distinct`` conversations, ``first`` and ``last`` arrival;
  with ``?detail=1`` also ``times`` and ``conversations``, in arrival order.
* ``GET /last``: the path and JSON body of the latest post (the raw client posts that body).
* ``POST /reset``: forget everything recorded.

Loopback only. It exits on SIGTERM/SIGINT, when its parent process goes away, or after
``--max-seconds``, whichever comes first. Run by the benchmarks (see bench/harness.py):

    python bench/fake_channel_server.py --port 0

prints ``listening on http://127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time

from aiohttp import web


class Recorder:
    """Arrival times and conversation ids, in arrival order."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.times: list[float] = []
        self.conversations: list[str] = []
        self.last_path = ""
        self.last_body = b""
        self.next_id = 1


RECORDER = web.AppKey("recorder", Recorder)


async def post_activity(request: web.Request) -> web.Response:
    body = await request.read()
    recorder = request.app[RECORDER]
    recorder.times.append(time.time())
    recorder.conversations.append(request.match_info["cid"])
    recorder.last_path = request.path
    recorder.last_body = body
    activity_id = recorder.next_id
    recorder.next_id += 1
    return web.Response(body=b'{"id":"fake-%d"}' % activity_id, content_type="application/json")


async def stats(request: web.Request) -> web.Response:
    recorder = request.app[RECORDER]
    body = {
        "count": len(recorder.times),
        "distinct": len(set(recorder.conversations)),
        "first": recorder.times[0] if recorder.times else None,
        "last": recorder.times[-1] if recorder.times else None,
    }
    if request.query.get("detail") == "1":
        body["times"] = recorder.times
        body["conversations"] = recorder.conversations
    return web.json_response(body)


async def last(request: web.Request) -> web.Response:
    recorder = request.app[RECORDER]
    body = json.loads(recorder.last_body) if recorder.last_body else None
    return web.json_response({"path": recorder.last_path, "body": body})


async def reset(request: web.Request) -> web.Response:
    request.app[RECORDER].reset()
    return web.json_response({"count": 0})


def make_app() -> web.Application:
    app = web.Application()
    app[RECORDER] = Recorder()
    app.router.add_post("/v3/conversations/{cid}/activities", post_activity)
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", post_activity)
    # The same under a path prefix, so that one server can stand for several channels
    # (distinct serviceUrls such as http://127.0.0.1:PORT/ch3).
    app.router.add_post("/{channel}/v3/conversations/{cid}/activities", post_activity)
    app.router.add_post("/{channel}/v3/conversations/{cid}/activities/{aid}", post_activity)
    app.router.add_get("/stats", stats)
    app.router.add_get("/last", last)
    app.router.add_post("/reset", reset)
    return app


async def serve_app(app: web.Application, port: int, max_seconds: float) -> None:
    """Serve ``app`` on 127.0.0.1 (printing the address) until a signal, the deadline, or the
    parent process is gone."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    deadline = loop.time() + max_seconds
    try:
        # Bounded: ends at the deadline, on a signal, or when the benchmark that started us is gone.
        while not stop.is_set() and loop.time() < deadline and os.getppid() == parent:
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
    finally:
        await runner.cleanup()


async def serve(port: int, max_seconds: float) -> None:
    await serve_app(make_app(), port, max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="exit after this long at most")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.max_seconds))


if __name__ == "__main__":
    main()
