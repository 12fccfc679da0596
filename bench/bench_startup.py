"""Benchmark: start-up of ``python app.py`` with 1,000,000 stored pending reminders.

Two databases of the same kind, both migrated: one empty (the baseline), one holding
1,000,000 active reminders due in the future (from 1 hour to 30 days ahead, so none fires
during the run) for 10,000 users with one conversation and 100 reminders each (the default
per-user limit): 70% one-off, 20% daily cron, 10% interval schedules. Rows are bulk-loaded
(COPY on PostgreSQL, ``executemany`` on SQLite).

Each run spawns ``python app.py`` against one of them and measures the time from the spawn
to the first ``GET /healthz`` answering 200 (polled every 10 ms), the process's VmRSS at that
moment, and VmRSS and VmHWM (peak) ``--settle`` seconds later, after the start-up resync and
first scheduler pass. Empty and full runs alternate so other load on the machine falls on
both. Run from the repository root:

    .venv/bin/python bench/bench_startup.py

Figures are recorded in bench/README.md. Not a test: nothing here is timed by CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BotProcess,
    bulk_reminders,
    database,
    machine_note,
    seed_conversations,
)

SEED = 20240301


def reminder_rows(n: int, users: int, now: datetime) -> Iterator[tuple]:
    """``n`` active reminders spread over ``users`` users, due 1 h to 30 days from ``now``."""
    rng = random.Random(SEED)
    per_user = -(-n // users)
    horizon = 30 * 86400 - 3600
    for i in range(n):
        user = i // per_user + 1
        due = now + timedelta(seconds=3600 + rng.random() * horizon)
        due = due.replace(microsecond=0)
        roll = rng.random()
        if roll < 0.7:
            schedule = {"type": "date", "run_at": due.isoformat()}
        elif roll < 0.9:
            schedule = {"type": "cron", "minute": str(due.minute), "hour": str(due.hour), "day": "*",
                        "month": "*", "day_of_week": "*"}
        else:
            schedule = {"type": "interval", "seconds": 3600 * rng.choice([2, 6, 24]), "start": due.isoformat()}
        yield (i + 1, i % per_user + 1, user, user, f"Pending reminder {i + 1}", json.dumps(schedule),
               "bench", "UTC", "active", due, now, now)


async def count_pending(url: str) -> int:
    """Active reminders with a due time, as the app's own engine reads them."""
    from sqlalchemy import func, select

    from models.db import open_engine
    from models.tables import Reminder

    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(
                select(func.count()).select_from(Reminder).where(Reminder.state == "active",
                                                                 Reminder.next_run_at.is_not(None))
            )).scalar_one()
    finally:
        await engine.dispose()


async def one_start(url: str, log: Path, settle: float) -> dict:
    bot = BotProcess(url, log)
    async with bot:
        ready = await bot.wait_ready(timeout=180)
        at_ready = bot.memory_mib()
        await asyncio.sleep(settle)
        later = bot.memory_mib()
        began = time.monotonic()
    stopped = time.monotonic() - began
    return {"ready": ready, "rss_ready": at_ready["VmRSS"], "rss_later": later["VmRSS"], "hwm": later["VmHWM"],
            "stop": stopped}


async def run_kind(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, list[dict]]:
    async with database(kind, workdir, name="empty") as empty_url, database(kind, workdir, name="full") as full_url:
        began = time.monotonic()
        service_url = "http://127.0.0.1:9/"  # never called: nothing is due
        await seed_conversations(full_url, args.users, [service_url])
        await bulk_reminders(full_url, reminder_rows(args.reminders, args.users, datetime.now(UTC)))
        seeded = time.monotonic() - began
        stored = await count_pending(full_url)
        if stored != args.reminders:
            raise RuntimeError(f"{stored:,} active reminders stored, not {args.reminders:,}")
        size = ""
        if kind == "sqlite":
            path = Path(full_url.split(":///", 1)[1])
            size = f", file {path.stat().st_size / 2**20:,.0f} MiB"
        print(f"{kind}: {stored:,} active reminders for {args.users:,} users loaded in {seeded:.1f} s{size}")
        runs: dict[str, list[dict]] = {"empty": [], "full": []}
        for i in range(args.runs):
            for name, url in (("empty", empty_url), ("full", full_url)):
                r = await one_start(url, workdir / f"app-startup-{kind}-{name}.log", args.settle)
                runs[name].append(r)
                print(f"  run {i + 1} {name:<5}: ready in {r['ready']:.2f} s, VmRSS {r['rss_ready']:.0f} MiB at ready, "
                      f"{r['rss_later']:.0f} MiB {args.settle:g} s later (peak {r['hwm']:.0f} MiB); "
                      f"stopped in {r['stop']:.1f} s")
    return runs


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


async def run(args: argparse.Namespace) -> int:
    print(machine_note())
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    table = []
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        for kind in args.databases:
            try:
                runs = await run_kind(kind, args, Path(tmp))
            except Exception as exc:  # PostgreSQL not reachable, app.py broken mid-change...
                print(f"{kind}: could not run: {exc!r}")
                continue
            table.append((kind, runs))
    print()
    print(f"medians of {args.runs} runs each   {'ready (s)':>10} {'RSS at ready':>13} {'RSS later':>10} {'peak RSS':>9}")
    ok = True
    for kind, runs in table:
        for name in ("empty", "full"):
            label = f"{kind}, {'empty' if name == 'empty' else f'{args.reminders:,} pending'}"
            print(f"{label:<31} {median(runs[name], 'ready'):>10.2f} {median(runs[name], 'rss_ready'):>10.0f} MiB "
                  f"{median(runs[name], 'rss_later'):>6.0f} MiB {median(runs[name], 'hwm'):>5.0f} MiB")
        ready = median(runs["full"], "ready")
        peak = median(runs["full"], "hwm")
        print(f"{'':<31} full/empty: ready {ready / median(runs['empty'], 'ready'):.2f}x, "
              f"peak RSS {peak / median(runs['empty'], 'hwm'):.2f}x; targets < 5 s: {'met' if ready < 5 else 'NOT met'}, "
              f"< 300 MB: {'met' if peak * 2**20 < 300e6 else 'NOT met'}")
        ok &= ready < 5 and peak * 2**20 < 300e6
    return 0 if table else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="starts of each database")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready to read RSS again")
    parser.add_argument("--databases", default="sqlite,postgres", type=lambda s: s.split(","))
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
