"""Benchmark: scheduler lateness, 10,000 one-off reminders due within one minute.

N users, each with one conversation and one one-off reminder (``{"type": "date"}``), are
written straight into a fresh database (as tests/support/factories does), due from a time T
a little in the future: spread evenly over ``--spread`` seconds, or all at the same second
with ``--spread 0``. Then the bot, ``python app.py``, is started (it must be ready before T),
and the fake channel (bench/fake_channel_server.py, its own process) records when each
reminder arrives. Lateness of a reminder = its arrival at the channel - its due time.

Baseline, in the same run: an ideal sender in this process, a timer that wakes at each due
time and posts the same number of messages with one ``aiohttp.ClientSession`` (bounded
concurrency) to the same channel. No database, no claiming: the least lateness this machine
allows for that shape of load.

Run from the repository root:

    .venv/bin/python bench/bench_lateness.py              # spread over 60 s
    .venv/bin/python bench/bench_lateness.py --spread 0   # all at one second

Figures are recorded in bench/README.md. Not a test: nothing here is timed by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BotProcess,
    ChannelProcess,
    Profiler,
    conversation_id_of,
    database,
    machine_note,
    one_off,
    percentile,
    profile_summary,
    seed_conversations,
    seed_reminders,
)


def reminder_body(service_url: str) -> dict:
    """The JSON of a reminder message (the bot's own card), addressed as a channel expects."""
    from scheduler.messages import reminder_activity

    now = datetime.now(UTC)
    activity = dict(reminder_activity(number=1, text="Bench reminder 1", recurring=False, due_at=now, now=now))
    activity.update(
        channelId="emulator", serviceUrl=service_url, **{"from": {"id": "bot", "name": "Nudge"}},
        recipient={"id": "user-1", "name": "User"},
    )
    return activity


def due_offsets(n: int, spread: float) -> list[float]:
    """Seconds after T at which reminder i (1..n) is due, evenly over ``spread`` seconds."""
    return [0.0 if n == 1 else spread * (i - 1) / n for i in range(1, n + 1)]


def summarise(arrivals: dict, dues: dict[str, float], n: int) -> dict:
    """Lateness figures from the channel's detailed stats and each conversation's due time."""
    first: dict[str, float] = {}
    for at, conversation in zip(arrivals["times"], arrivals["conversations"], strict=True):
        first.setdefault(conversation, at)
    late = [first[c] - due for c, due in dues.items() if c in first]
    return {
        "arrived": len(first), "posts": arrivals["count"], "missing": n - len(first),
        "p50": percentile(late, 50), "p90": percentile(late, 90), "p99": percentile(late, 99),
        "max": max(late) if late else math.nan, "min": min(late) if late else math.nan,
    }


async def ideal_sender(channel: ChannelProcess, n: int, spread: float, lead: float, concurrency: int) -> dict:
    """A timer that posts each message at its due time: the floor for this load on this machine."""
    activity = reminder_body(channel.url)
    await channel.reset()
    start = math.ceil(time.time() + lead)
    offsets = due_offsets(n, spread)
    dues = {conversation_id_of(i): start + offsets[i - 1] for i in range(1, n + 1)}
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def post(conversation_id: str) -> None:
            body = dict(activity, conversation={"id": conversation_id})
            async with semaphore:
                async with http.post(
                    f"{channel.url}/v3/conversations/{conversation_id}/activities", json=body
                ) as response:
                    await response.read()

        tasks = []
        for conversation_id, due in dues.items():
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(conversation_id)))
        await asyncio.gather(*tasks)
    await asyncio.sleep(0.2)
    return summarise(await channel.stats(detail=True), dues, n)


async def product(kind: str, channel: ChannelProcess, n: int, spread: float, lead: float, workdir: Path,
                  timeout: float, app_env: dict[str, str], py_spy: str | None) -> dict:
    async with database(kind, workdir, name="lateness") as url:
        began = time.monotonic()
        await seed_conversations(url, n, [channel.url])
        start = math.ceil(time.time() + lead)
        offsets = due_offsets(n, spread)
        now = datetime.now(UTC)
        rows = []
        dues: dict[str, float] = {}
        for i in range(1, n + 1):
            due = datetime.fromtimestamp(start + offsets[i - 1], UTC)
            dues[conversation_id_of(i)] = due.timestamp()
            rows.append({
                "id": i, "number": 1, "user_pk": i, "conversation_pk": i, "text": f"Bench reminder {i}",
                "schedule": one_off(due), "description": "bench", "timezone": "UTC", "state": "active",
                "next_run_at": due, "created_at": now, "updated_at": now,
            })
        await seed_reminders(url, rows)
        seeded = time.monotonic() - began
        await channel.reset()
        bot = BotProcess(url, workdir / f"app-lateness-{kind}.log", env=app_env)
        profiler = None
        async with bot:
            await bot.wait_ready()
            if py_spy:
                # Outside the work directory, so it outlives the run for a closer look.
                profiler = Profiler(py_spy, bot.proc.pid, Path(tempfile.gettempdir()) / f"nudge-lateness-profile-{kind}.txt")
                await profiler.start()
            slack = start - time.time()
            if slack <= 0:
                raise RuntimeError(f"app.py was ready only {-slack:.1f} s after the first due time; raise --lead")
            cpu_before = bot.cpu_seconds()
            deadline_wait = start + spread + timeout - time.time()
            stats = await channel.wait_for_count(n, deadline_wait, poll=0.25)
            cpu = bot.cpu_seconds() - cpu_before
            if profiler is not None:
                await profiler.stop()
                print(f"    profile of app.py from start to the last arrival: {profiler.out}")
                for text in profile_summary(profiler.out):
                    print(f"    {text}")
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
            detail = await channel.stats(detail=True)
    result = summarise(detail, dues, n)
    result.update(kind=kind, seeded=seeded, slack=slack, cpu=cpu, timed_out=stats["count"] < n,
                  window=(detail["last"] or start) - start)
    return result


def line(name: str, r: dict) -> str:
    return (f"{name:<22} {r['p50']:>8.2f} {r['p90']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f} {r['min']:>8.2f} "
            f"{r['arrived']:>8,} {r['posts']:>7,}")


async def run(args: argparse.Namespace) -> int:
    print(machine_note())
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    shape = f"spread evenly over {args.spread:g} s" if args.spread else "all due at the same second"
    print(f"{args.reminders:,} one-off reminders, {shape}, one conversation each, one channel (serviceUrl)")
    results = []
    app_env = dict(item.split("=", 1) for item in args.app_env)
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        workdir = Path(tmp)
        async with ChannelProcess() as channel:
            ideal = await ideal_sender(channel, args.reminders, args.spread, 2.0, args.raw_concurrency)
            print(f"ideal timer + raw aiohttp ({args.raw_concurrency} in flight): p50 {ideal['p50']:.3f} s, "
                  f"p99 {ideal['p99']:.3f} s, max {ideal['max']:.3f} s")
            for kind in args.databases:
                try:
                    r = await product(kind, channel, args.reminders, args.spread, args.lead, workdir, args.timeout,
                                      app_env, args.py_spy)
                except Exception as exc:  # PostgreSQL not reachable, app.py broken mid-change...
                    print(f"product ({kind}): could not run: {exc!r}")
                    continue
                print(f"product ({kind}): seeded in {r['seeded']:.1f} s; ready {r['slack']:.1f} s before the first due "
                      f"time; last arrival {r['window']:.1f} s after it; app CPU {r['cpu']:.1f} s"
                      f"{'; TIMED OUT' if r['timed_out'] else ''}")
                results.append((f"product, {kind}", r))
    print()
    print(f"lateness in seconds ({shape}): arrival at the channel - due time")
    print(f"{'sender':<22} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'min':>8} {'arrived':>8} {'posts':>7}")
    print(line("ideal timer + raw", ideal))
    ok = True
    for name, r in results:
        print(line(name, r))
        ok &= r["missing"] == 0 and r["posts"] == args.reminders
        print(f"{'':<22} target p99 < 1 s: {'met' if r['p99'] < 1 else 'NOT met'}; "
              f"p99 is {r['p99'] / max(ideal['p99'], 1e-3):,.0f}x the ideal sender's; "
              f"exactly once: {'yes' if r['missing'] == 0 and r['posts'] == args.reminders else 'NO'}")
    return 0 if ok and results else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the due times spread over (0: one second)")
    parser.add_argument("--lead", type=float, default=15.0,
                        help="seconds from seeding to the first due time (app.py must be ready by then)")
    parser.add_argument("--raw-concurrency", type=int, default=64)
    parser.add_argument("--databases", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument("--timeout", type=float, default=240.0, help="longest wait after the last due time (s)")
    parser.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for app.py (e.g. DELIVERY_SENDER=sdk); repeatable")
    parser.add_argument("--py-spy", metavar="PATH",
                        help="profile app.py during the run with this py-spy and print a summary")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
