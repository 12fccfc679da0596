"""The soak benchmark's fake Bot Connector channel, in a process of its own.

It answers ``POST /v3/conversations/{id}/activities`` (a proactive message) and
``POST /v3/conversations/{id}/activities/{activityId}`` (a reply within a turn) with 200
``{"id": ...}`` as the real service does, and records, for every post it accepted, whether it
was proactive or a reply, the conversation id, the arrival time (``time.time()``) and the
activity's ``text``. The soak script matches those texts against what it asked for; this
process only records.

With ``--fault-rate F`` it refuses that fraction of *proactive* posts, half with
``429 Too Many Requests`` and ``Retry-After: 1`` and half with ``500``, as a throttling or
failing channel does. A refused post is not recorded as an arrival (the channel did not take
the message), so the bot's retry of it must arrive exactly once. Replies are never refused: a refused reply
fails the user's turn, and the soak measures proactive delivery. Faults start only once
``POST /arm`` is called: the bot's welcome message, sent inside the ``conversationUpdate``
turn, goes to the proactive route too, and refusing it would fail that turn instead.

* ``POST /arm``: start refusing (the soak calls it after its users have joined).
* ``GET /stats``: counts (``posts``, ``proactive``, ``replies``, ``refused`` by status).
* ``GET /arrivals``: every accepted post as ``[kind, conversation id, time, text]``, in
  arrival order (kind is ``"p"`` for proactive, ``"r"`` for a reply).

Loopback only. It exits on SIGTERM/SIGINT, when its parent process goes away, or after
``--max-seconds``. Started by bench/soak.py:

    python bench/soak_channel.py --port 0 --fault-rate 0.02 --seed 1

prints ``listening on http://127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_channel_server import serve_app  # noqa: E402

# Long enough for every text the soak sends and for the bot's confirmations of them.
TEXT_KEPT = 400


class Recorder:
    """What the channel accepted and refused, in arrival order."""

    def __init__(self, fault_rate: float, seed: int) -> None:
        self.fault_rate = fault_rate
        self.armed = False
        self.rng = random.Random(seed)
        self.arrivals: list[tuple[str, str, float, str]] = []
        self.refused: Counter[int] = Counter()
        self.bad_bodies = 0
        self.next_id = 1

    def fault(self) -> int | None:
        """The status to refuse the next proactive post with, or None to accept it."""
        if not self.armed or self.fault_rate <= 0 or self.rng.random() >= self.fault_rate:
            return None
        return 429 if self.rng.random() < 0.5 else 500


RECORDER = web.AppKey("recorder", Recorder)


async def post_activity(request: web.Request) -> web.Response:
    recorder = request.app[RECORDER]
    reply = "aid" in request.match_info
    try:
        body = json.loads(await request.read())
    except ValueError:
        recorder.bad_bodies += 1
        return web.json_response({"error": {"code": "BadArgument", "message": "not JSON"}}, status=400)
    if not reply:
        status = recorder.fault()
        if status is not None:
            recorder.refused[status] += 1
            headers = {"Retry-After": "1"} if status == 429 else None
            return web.json_response(
                {"error": {"code": "Scripted", "message": f"scripted {status}"}}, status=status, headers=headers
            )
    text = None
    if isinstance(body, dict):
        # A card message carries no text: its summary says the same.
        text = body.get("text") or body.get("summary")
    recorder.arrivals.append(
        ("r" if reply else "p", request.match_info["cid"], time.time(), (text or "")[:TEXT_KEPT])
    )
    activity_id = recorder.next_id
    recorder.next_id += 1
    return web.json_response({"id": f"soak-{activity_id}"})


async def stats(request: web.Request) -> web.Response:
    recorder = request.app[RECORDER]
    kinds = Counter(kind for kind, *_ in recorder.arrivals)
    return web.json_response({
        "posts": len(recorder.arrivals) + sum(recorder.refused.values()) + recorder.bad_bodies,
        "proactive": kinds["p"],
        "replies": kinds["r"],
        "refused": {str(status): n for status, n in sorted(recorder.refused.items())},
        "bad_bodies": recorder.bad_bodies,
    })


async def arm(request: web.Request) -> web.Response:
    request.app[RECORDER].armed = True
    return web.json_response({"armed": True})


async def arrivals(request: web.Request) -> web.Response:
    return web.json_response(request.app[RECORDER].arrivals)


def make_app(fault_rate: float, seed: int) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[RECORDER] = Recorder(fault_rate, seed)
    app.router.add_post("/v3/conversations/{cid}/activities", post_activity)
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", post_activity)
    app.router.add_post("/arm", arm)
    app.router.add_get("/stats", stats)
    app.router.add_get("/arrivals", arrivals)
    return app


async def serve(port: int, fault_rate: float, seed: int, max_seconds: float) -> None:
    await serve_app(make_app(fault_rate, seed), port, max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="fraction of proactive posts refused with 429 (Retry-After: 1) or 500")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault draws")
    parser.add_argument("--max-seconds", type=float, default=7200.0, help="exit after this long at most")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.fault_rate, args.seed, args.max_seconds))


if __name__ == "__main__":
    main()
