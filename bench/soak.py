"""Soak benchmark: the bot under a steady mixed load for minutes; memory, and every message once.

Everything runs on 127.0.0.1, in three processes:

* the fake channel, ``bench/soak_channel.py``: it records every activity the bot posts and, by
  default, refuses 2% of proactive posts once the users have joined (half 429 with
  ``Retry-After: 1``, half 500), so retries are part of the load;
* the bot, ``python app.py``, configured only through its documented environment variables,
  against a fresh SQLite file (or, with ``--postgres``, a fresh PostgreSQL database that is
  dropped afterwards);
* this script, which creates ``--users`` Emulator users (a ``conversationUpdate`` each, whose
  ``serviceUrl`` is the fake channel) and then, for ``--minutes``, drives a steady load:

  - reminders set in chat, ``remind me to soakR000123 in 10 seconds`` (5, 10, 20 or 30 s),
    one turn at a time per user; the reply confirms it, the reminder arrives later;
  - ``POST /api/notify`` to one user, and to lists of 2-6 users or conversations, each with
    an ``Idempotency-Key`` (a request that fails in transit is retried with it);
  - a broadcast now and then;
  - price alerts: ticks for ten symbols pushed every second (``POST /api/prices``), users
    saying ``alert me when SOAK3 goes above 105``, and every few seconds one symbol spiking
    to 110 and back, which fires every alert set on it before the spike, once.

Every text carries a unique token (``soak`` + a letter for the kind + 6 digits), so each arrival
is matched with what was asked: each expected (token, conversation) must arrive exactly once.
A reminder's delivery is expected when its confirmation arrived; an alert's firing when it was
confirmed before a spike of its symbol (no alert is set on a symbol while it spikes). Alerts
are matched by conversation and the alert's per-user number.

The bot's resident memory (VmRSS) is sampled every 10 s. At the end the load stops, the
script waits (bounded by ``--drain-seconds``) until every expected message has arrived, stops
the bot with SIGTERM (it must exit with 0 within 10 s) and prints the command, the counts
(expected / arrived once / lost / doubled / unexpected), memory at the end of the warm-up and
at the end, its growth, throughput and latencies. Exit code 0 only when nothing was lost or
doubled, nothing arrived that was not asked for, and the bot stopped cleanly.

Run from the repository root:

    .venv/bin/python bench/soak.py                 # 10 minutes, SQLite
    .venv/bin/python bench/soak.py --minutes 1     # a quick run
    .venv/bin/python bench/soak.py --minutes 3 --postgres

With ``--restarts N`` the bot is also stopped with SIGTERM and started again N times during the
load (same database): nothing may be lost or doubled across a restart either; requests that fail
while it is down are retried (notify, with the same ``Idempotency-Key``) or not counted (chat).

The bot's log and the channel's arrivals stay in the printed work directory. Figures are
recorded in bench/README.md. Not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shlex
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import NOTIFY_KEY, BotProcess, ChannelProcess, database, machine_note, percentile  # noqa: E402

from tests.support.emulator import EmulatorUser  # noqa: E402

PRICES_KEY = "soak-prices-key-0123456789abcdef"
SYMBOLS = [f"SOAK{i}" for i in range(10)]
BASE_PRICE = 100.0
THRESHOLD = 105
SPIKE_PRICE = 110.0
REMINDER_DELAYS = (5, 10, 20, 30)
SAMPLE_SECONDS = 10.0
SHUTDOWN_LIMIT = 10.0  # the bot must exit within this after SIGTERM
NOTIFY_ATTEMPTS = 30  # a second apart

TOKEN = re.compile(r"soak([RNLB])\d{6}")
ALERT_SET = re.compile(r"Alert #(\d+) set: (SOAK\d) goes above")
ALERT_FIRED = re.compile(r"Alert #(\d+): (SOAK\d) goes above")
CATEGORY = {"R": "reminder", "N": "notify one", "L": "notify list", "B": "broadcast"}


# --- the fake channel as a process ---------------------------------------------------------


class Channel(ChannelProcess):
    """``bench/soak_channel.py`` in a process of its own, for the duration of an ``async with``."""

    def __init__(self, fault_rate: float, seed: int, max_seconds: float) -> None:
        super().__init__(
            max_seconds,
            script="soak_channel.py",
            extra_args=("--fault-rate", str(fault_rate), "--seed", str(seed)),
            http_timeout=aiohttp.ClientTimeout(total=60),
        )

    async def stats(self) -> dict[str, Any]:
        async with self._http.get(self.url + "/stats") as response:
            return await response.json()

    async def arm(self) -> None:
        """Start refusing the configured fraction of proactive posts."""
        async with self._http.post(self.url + "/arm") as response:
            response.raise_for_status()

    async def arrivals(self) -> list[list[Any]]:
        """Every accepted post: ``[kind ("p" proactive, "r" reply), conversation id, time, text]``."""
        async with self._http.get(self.url + "/arrivals") as response:
            return await response.json()


# --- what was asked for, and what arrived ----------------------------------------------------


@dataclass
class Ledger:
    """What the load asked the bot for; the expected arrivals are derived from it."""

    # token -> (conversation ids, when it should arrive at the earliest)
    notified: dict[str, tuple[list[str], float]] = field(default_factory=dict)
    # token -> (conversation id, when the reminder is due, whether the turn answered 2xx)
    reminders: dict[str, tuple[str, float, bool]] = field(default_factory=dict)
    # conversation id -> alerts set there (turns answered 200)
    alert_requests: Counter[str] = field(default_factory=Counter)
    # (symbol, time the spike was pushed, "fired" in the push's answer)
    spikes: list[tuple[str, float, int]] = field(default_factory=list)


@dataclass
class Tally:
    """Expected / arrived exactly once / lost / doubled for one category, with latencies."""

    expected: int = 0
    once: int = 0
    lost: int = 0
    doubled: int = 0
    extra: int = 0  # arrivals beyond the first of doubled ones
    latencies: list[float] = field(default_factory=list)
    arrived_at: list[float] = field(default_factory=list)  # the first arrival, per latency

    def count(self, arrivals: list[float], earliest: float | None) -> None:
        self.expected += 1
        if not arrivals:
            self.lost += 1
            return
        if len(arrivals) == 1:
            self.once += 1
        else:
            self.doubled += 1
            self.extra += len(arrivals) - 1
        if earliest is not None:
            self.latencies.append(min(arrivals) - earliest)
            self.arrived_at.append(min(arrivals))


@dataclass
class Analysis:
    tallies: dict[str, Tally]
    unexpected: Counter[str]
    others: Counter[str]
    lost_examples: list[str]
    doubled_examples: list[str]

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.tallies.values())

    @property
    def doubled(self) -> int:
        return sum(t.doubled for t in self.tallies.values())


def analyse(ledger: Ledger, arrivals: list[list[Any]], all_conversations: list[str]) -> Analysis:
    """Match the channel's arrivals with the ledger."""
    tokens: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    alert_sets: dict[str, list[tuple[int, str, float]]] = defaultdict(list)  # cid -> (number, symbol, time)
    alert_fires: dict[tuple[str, int], list[float]] = defaultdict(list)
    others: Counter[str] = Counter()
    for kind, cid, at, text in arrivals:
        found = TOKEN.search(text)
        if found:
            tokens[(kind, found.group(0), cid)].append(at)
            continue
        match = (ALERT_SET if kind == "r" else ALERT_FIRED).search(text)
        if match:
            if kind == "r":
                alert_sets[cid].append((int(match.group(1)), match.group(2), at))
            else:
                alert_fires[(cid, int(match.group(1)))].append(at)
            continue
        others[f"{'reply' if kind == 'r' else 'proactive'}: {text[:60]}"] += 1

    tallies: dict[str, Tally] = defaultdict(Tally)
    lost_examples: list[str] = []
    doubled_examples: list[str] = []
    used: set[tuple[str, str, str]] = set()

    def check(category: str, key: tuple[str, str, str], earliest: float | None) -> list[float]:
        used.add(key)
        times = tokens.get(key, [])
        tallies[category].count(times, earliest)
        if not times and len(lost_examples) < 10:
            lost_examples.append(f"{category}: {key}")
        if len(times) > 1 and len(doubled_examples) < 10:
            doubled_examples.append(f"{category}: {key} x{len(times)}")
        return times

    for token, (cid, due, answered) in ledger.reminders.items():
        # A turn cut short by a restart may still have set the reminder: then its confirmation
        # arrived, and the reminder is owed like any other.
        if (answered or ("r", token, cid) in tokens) and check("reminder confirmation", ("r", token, cid), None):
            check("reminder", ("p", token, cid), due)
    for token, (cids, earliest) in ledger.notified.items():
        category = CATEGORY[token[4]]
        for cid in (all_conversations if category == "broadcast" else cids):
            check(category, ("p", token, cid), earliest)

    # Alerts: one confirmation per turn answered 200; a firing for each confirmed alert whose
    # symbol spiked after the confirmation arrived.
    spikes_of: dict[str, list[float]] = defaultdict(list)
    for symbol, at, _ in ledger.spikes:
        spikes_of[symbol].append(at)
    confirm = tallies["alert confirmation"]
    for cid in set(ledger.alert_requests) | set(alert_sets):
        asked, got = ledger.alert_requests[cid], len(alert_sets[cid])
        numbers = Counter(number for number, _, _ in alert_sets[cid])
        confirm.expected += asked
        confirm.once += min(asked, got)
        confirm.lost += max(0, asked - got)
        confirm.doubled += sum(1 for n in numbers.values() if n > 1)
        if asked > got and len(lost_examples) < 10:
            lost_examples.append(f"alert confirmation: {cid} asked {asked}, confirmed {got}")
    fire_expected: set[tuple[str, int]] = set()
    for cid, sets in alert_sets.items():
        for number, symbol, confirmed_at in sets:
            later = [at for at in spikes_of[symbol] if at > confirmed_at]
            if not later:
                continue  # set after its symbol's last spike: nothing to fire yet
            key = (cid, number)
            fire_expected.add(key)
            times = alert_fires.get(key, [])
            tallies["alert"].count(times, min(later))
            if not times and len(lost_examples) < 10:
                lost_examples.append(f"alert: {cid} #{number} {symbol}")
            if len(times) > 1 and len(doubled_examples) < 10:
                doubled_examples.append(f"alert: {cid} #{number} x{len(times)}")
    unexpected: Counter[str] = Counter()
    for key, times in tokens.items():
        if key not in used:
            unexpected[f"{'reply' if key[0] == 'r' else 'proactive'} {CATEGORY[key[1][4]]}"] += len(times)
    for key, times in alert_fires.items():
        if key not in fire_expected:
            unexpected["proactive alert"] += len(times)
    return Analysis(dict(tallies), unexpected, others, lost_examples, doubled_examples)


# --- the load -------------------------------------------------------------------------------


@dataclass
class SimUser:
    emulator: EmulatorUser
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def cid(self) -> str:
        return self.emulator.conversation_id

    @property
    def uid(self) -> str:
        return self.emulator.user["id"]


@dataclass
class Rates:
    reminders: float
    notify: float
    lists: float
    alerts: float
    broadcast_every: float
    spike_every: float


class Load:
    """Drives the mixed load against the bot at ``bot_url`` and records it in a ``Ledger``."""

    def __init__(self, *, bot_url: str, channel_url: str, users: int, rates: Rates, seed: int,
                 max_in_flight: int) -> None:
        self.bot_url = bot_url
        self.rates = rates
        self.rng = random.Random(seed)
        self.users = [
            SimUser(EmulatorUser(
                bot_url=bot_url + "/api/messages", service_url=channel_url,
                user_id=f"soak-user-{i:04d}", conversation_id=f"soak-{i:04d}|livechat",
            ))
            for i in range(users)
        ]
        self.ledger = Ledger()
        self.ops: Counter[str] = Counter()  # operations completed successfully
        self.skipped: Counter[str] = Counter()  # not started: the load was behind or users were busy
        self.failures: Counter[str] = Counter()
        self.http_latency: dict[str, list[float]] = defaultdict(list)
        self.max_in_flight = max_in_flight
        self._in_flight: set[asyncio.Task] = set()
        self._seq = 0
        self._blocked: set[str] = set()  # symbols about to spike: no alert is set on them
        self._creating: Counter[str] = Counter()  # alert turns under way, per symbol
        # Held through a spike, and by a restart: a spike cut in half by a restart would leave
        # it unknown whether alerts fired, or the price up at 110.
        self.spike_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Load:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_in_flight + 8),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()

    def _token(self, letter: str) -> str:
        self._seq += 1
        return f"soak{letter}{self._seq:06d}"

    def _free_user(self) -> SimUser | None:
        """A user with no turn under way (users send one message at a time)."""
        for _ in range(8):
            user = self.rng.choice(self.users)
            if not user.lock.locked():
                return user
        return None

    async def join_all(self, concurrency: int = 16) -> None:
        """Every user's ``conversationUpdate``: the bot stores their conversation references."""
        gate = asyncio.Semaphore(concurrency)

        async def join(user: SimUser) -> None:
            async with gate:
                status = await user.emulator.join(self._http)
                if not 200 <= status < 300:
                    raise RuntimeError(f"conversationUpdate for {user.uid} answered {status}")

        await asyncio.gather(*(join(user) for user in self.users))

    async def _say(self, user: SimUser, text: str, op: str) -> bool:
        """Send ``text`` as ``user``; whether the bot answered the turn with 2xx."""
        started = time.monotonic()
        try:
            status = await user.emulator.say(self._http, text)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.failures[f"{op}: {type(exc).__name__}"] += 1
            return False
        self.http_latency["chat turn"].append(time.monotonic() - started)
        if not 200 <= status < 300:
            self.failures[f"{op}: HTTP {status}"] += 1
            return False
        return True

    # A user's lock serialises their turns (people send one message at a time; two turns of
    # one conversation at once would race on its dialog state). Busy users are skipped.

    def _reminder(self) -> Coroutine[Any, Any, None] | None:
        user = self._free_user()
        if user is None:
            return None
        token = self._token("R")
        delay = self.rng.choice(REMINDER_DELAYS)

        async def run() -> None:
            async with user.lock:
                asked = time.time()
                answered = await self._say(user, f"remind me to {token} in {delay} seconds", "reminder")
                self.ledger.reminders[token] = (user.cid, asked + delay, answered)
                if answered:
                    self.ops["reminder"] += 1

        return run()

    def _alert(self) -> Coroutine[Any, Any, None] | None:
        symbols = [s for s in SYMBOLS if s not in self._blocked]
        user = self._free_user()
        if user is None or not symbols:
            return None
        symbol = self.rng.choice(symbols)
        self._creating[symbol] += 1

        async def run() -> None:
            try:
                async with user.lock:
                    if await self._say(user, f"alert me when {symbol} goes above {THRESHOLD}", "alert"):
                        self.ledger.alert_requests[user.cid] += 1
                        self.ops["alert"] += 1
            finally:
                self._creating[symbol] -= 1

        return run()

    def _notify(self, letter: str) -> Coroutine[Any, Any, None]:
        token = self._token(letter)
        if letter == "N":
            user = self.rng.choice(self.users)
            body: dict[str, Any] = {"user": {"channelId": "emulator", "id": user.uid},
                                    "text": f"Your order {token} has shipped"}
            cids = [user.cid]
        elif letter == "L":
            chosen = self.rng.sample(self.users, self.rng.randint(2, 6))
            cids = [u.cid for u in chosen]
            if self.rng.random() < 0.5:
                body = {"users": [{"channelId": "emulator", "id": u.uid} for u in chosen]}
            else:
                body = {"conversations": [{"channelId": "emulator", "id": u.cid} for u in chosen]}
            body["text"] = f"Team update {token}: the build is green"
        else:
            body = {"broadcast": True, "text": f"Maintenance note {token}: nothing to do"}
            cids = []
        op = {"N": "notify one", "L": "notify list", "B": "broadcast"}[letter]
        headers = {"Authorization": f"Bearer {NOTIFY_KEY}", "Idempotency-Key": token}

        async def run() -> None:
            # Retried with the same Idempotency-Key for up to 30 s, which spans a restart.
            for attempt in range(NOTIFY_ATTEMPTS):
                if attempt:
                    await asyncio.sleep(1)
                started = time.monotonic()
                try:
                    async with self._http.post(self.bot_url + "/api/notify", json=body, headers=headers) as response:
                        answer = await response.json(content_type=None)
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    self.failures[f"{op}: {type(exc).__name__} (retried)"] += 1
                    continue
                if status == 202:
                    self.http_latency["notify"].append(time.monotonic() - started)
                    if answer.get("targets", {}).get("unknown"):
                        self.failures[f"{op}: unknown targets {answer['targets']['unknown']}"] += 1
                    self.ledger.notified[token] = (cids, time.time())
                    self.ops[op] += 1
                    return
                self.failures[f"{op}: HTTP {status}" + (" (retried)" if status >= 500 else "")] += 1
                if status < 500:
                    return

        return run()

    def _launch(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def run(self, seconds: float) -> float:
        """Generate the load for ``seconds``; returns when every started operation is done.

        Open loop at the configured rates, checked every 50 ms. An operation due while
        ``max_in_flight`` are under way (the bot is behind) is skipped, not queued, so the
        load stays bounded; the skips are counted.
        """
        kinds = {
            "reminder": (self.rates.reminders, self._reminder),
            "alert": (self.rates.alerts, self._alert),
            "notify one": (self.rates.notify, lambda: self._notify("N")),
            "notify list": (self.rates.lists, lambda: self._notify("L")),
            "broadcast": (1 / self.rates.broadcast_every if self.rates.broadcast_every > 0 else 0,
                          lambda: self._notify("B")),
        }
        begin = time.monotonic()
        end = begin + seconds
        next_at = {name: begin + (self.rng.random() / rate if rate else 0) for name, (rate, _) in kinds.items()}
        next_at["broadcast"] = begin + min(15.0, seconds / 2)
        stop_ticker = asyncio.Event()
        ticker = asyncio.create_task(self._ticker(stop_ticker))
        try:
            while (now := time.monotonic()) < end:
                for name, (rate, make) in kinds.items():
                    if not rate:
                        continue
                    while next_at[name] <= now:
                        next_at[name] += 1 / rate
                        if len(self._in_flight) >= self.max_in_flight:
                            self.skipped[f"{name} (load behind)"] += 1
                            continue
                        coroutine = make()
                        if coroutine is None:
                            self.skipped[f"{name} (no free user)"] += 1
                        else:
                            self._launch(coroutine)
                await asyncio.sleep(0.05)
            if self._in_flight:
                await asyncio.wait(list(self._in_flight), timeout=120)
        finally:
            stop_ticker.set()
            await ticker
        return time.monotonic() - begin

    async def _push(self, ticks: list[dict[str, Any]]) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {PRICES_KEY}"}
        try:
            async with self._http.post(self.bot_url + "/api/prices", json=ticks, headers=headers) as response:
                answer = await response.json(content_type=None)
                if response.status == 202:
                    self.ops["price push"] += 1
                    return answer
                self.failures[f"price push: HTTP {response.status} {answer}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            self.failures[f"price push: {type(exc).__name__}"] += 1
        return None

    @staticmethod
    def _tick(symbol: str, price: float) -> dict[str, Any]:
        return {"symbol": symbol, "price": round(price, 4), "time": datetime.now(UTC).isoformat()}

    async def prime_prices(self) -> None:
        """Make the symbols known (and fresh) before anyone sets an alert on them."""
        if await self._push([self._tick(s, BASE_PRICE) for s in SYMBOLS]) is None:
            raise RuntimeError(f"the first price push failed: {dict(self.failures)}")

    async def _ticker(self, stop: asyncio.Event) -> None:
        """Every second a tick per symbol near 100; every ``spike_every`` s one symbol spikes."""
        if self.rates.alerts <= 0:
            return
        prices = {s: BASE_PRICE for s in SYMBOLS}
        next_spike = time.monotonic() + self.rates.spike_every
        turn = 0
        while not stop.is_set():
            started = time.monotonic()
            for s in SYMBOLS:  # a walk that stays well below the threshold
                prices[s] = min(101.0, max(99.0, prices[s] + self.rng.uniform(-0.2, 0.2)))
            await self._push([self._tick(s, p) for s, p in prices.items()])
            if self.rates.spike_every > 0 and time.monotonic() >= next_spike:
                next_spike += self.rates.spike_every
                await self._spike(SYMBOLS[turn % len(SYMBOLS)], prices)
                turn += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, 1.0 - (time.monotonic() - started)))
            except asyncio.TimeoutError:
                pass

    async def _spike(self, symbol: str, prices: dict[str, float]) -> None:
        # No alert may be half-set on the symbol while it spikes: whether such an alert fires
        # would depend on the race, and the soak counts exactly.
        async with self.spike_lock:
            await self._spike_locked(symbol, prices)

    async def _spike_locked(self, symbol: str, prices: dict[str, float]) -> None:
        self._blocked.add(symbol)
        try:
            deadline = time.monotonic() + 60
            while self._creating[symbol] and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if self._creating[symbol]:
                self.failures[f"spike {symbol}: alert turns still under way after 60 s, skipped"] += 1
                return
            at = time.time()
            answer = await self._push([self._tick(symbol, SPIKE_PRICE)])
            if answer is None:
                return
            self.ledger.spikes.append((symbol, at, int(answer.get("fired", 0))))
            if await self._push([self._tick(symbol, prices[symbol])]) is None:
                self.failures[f"spike {symbol}: the price stayed at {SPIKE_PRICE:g}"] += 1
        finally:
            self._blocked.discard(symbol)


# --- the bot's process ---------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds since the load began
    rss: float
    hwm: float
    threads: int
    fds: int
    cpu: float
    proactive: int
    replies: int


async def sample(bot: BotProcess, channel: Channel, began: float) -> Sample | None:
    """The bot's memory, threads, fds and CPU now; None while it is down (a restart)."""
    stats = await channel.stats()
    try:
        memory = bot.memory_mib()
        return Sample(
            at=time.monotonic() - began, rss=memory["VmRSS"], hwm=memory["VmHWM"], threads=bot.threads(),
            fds=len(os.listdir(f"/proc/{bot.proc.pid}/fd")), cpu=bot.cpu_seconds(),
            proactive=stats["proactive"], replies=stats["replies"],
        )
    except (OSError, KeyError, IndexError, ValueError):
        return None


async def sampler(bot: BotProcess, channel: Channel, began: float, samples: list[Sample], stop: asyncio.Event) -> None:
    while not stop.is_set():
        if bot.proc.returncode is None and (taken := await sample(bot, channel, began)) is not None:
            samples.append(taken)
        try:
            await asyncio.wait_for(stop.wait(), timeout=SAMPLE_SECONDS)
        except asyncio.TimeoutError:
            pass


async def deliveries_metric(bot_url: str) -> dict[str, float]:
    """``nudge_deliveries_total`` by ``kind/outcome``, from ``GET /metrics``."""
    found: dict[str, float] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(bot_url + "/metrics") as response:
            body = await response.text()
    for line in body.splitlines():
        if line.startswith("nudge_deliveries_total{"):
            labels, _, value = line.partition("} ")
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            found[f"{pairs.get('kind')}/{pairs.get('outcome')}"] = float(value)
    return found


async def outbox_rows(url: str) -> dict[str, int]:
    """Occurrences by ``kind/status`` and notifications by status, read after the bot stopped."""
    from sqlalchemy import func, select

    from models.db import open_engine
    from models.tables import Notification, Occurrence

    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Occurrence.kind, Occurrence.status, func.count()).group_by(Occurrence.kind, Occurrence.status)
            )
            found = {f"{kind}/{status}": n for kind, status, n in rows}
            rows = await connection.execute(select(Notification.status, func.count()).group_by(Notification.status))
            found.update({f"notification/{status}": n for status, n in rows})
            return found
    finally:
        await engine.dispose()


async def stop_bot(bot: BotProcess) -> tuple[int | None, float]:
    """SIGTERM, then the exit code and the seconds it took (killed after 30 s: code None)."""
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(bot.proc.wait(), timeout=30)
    except asyncio.TimeoutError:
        bot.proc.kill()
        await bot.proc.wait()
        code = None
    took = time.monotonic() - started
    await bot.stop()  # closes its log
    return code, took


@dataclass
class Restart:
    at: float  # seconds into the load
    exit_code: int | None
    stop_took: float
    ready_after: float  # from the new process's spawn to /healthz answering 200


async def restarter(bot: BotProcess, load: Load, times: list[float], began: float,
                    restarts: list[Restart], metrics: Counter[str]) -> None:
    """Stop the bot with SIGTERM at each of ``times`` (seconds into the load) and start it again.

    The same port, database and log; /metrics counters start again at 0 in a new process,
    so each process's are added to ``metrics`` before it stops.
    """
    for at in times:
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        async with load.spike_lock:
            metrics.update(await deliveries_metric(bot.url))
            code, took = await stop_bot(bot)
            await bot.start()
            ready = await bot.wait_ready()
        restarts.append(Restart(time.monotonic() - began, code, took, ready))
        print(f"restart at t = {at:.0f} s: exit code {code} {took:.2f} s after SIGTERM, "
              f"ready again {ready:.1f} s after the spawn", flush=True)


def log_lines(path: Path) -> Counter[str]:
    """WARNING/ERROR/CRITICAL lines of the bot's log, by message with digits folded."""
    found: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            found[re.sub(r"\d+", "N", f"{parts[2]} {parts[3]} {parts[4]}")[:150]] += 1
        elif line.startswith("Traceback"):
            found["Traceback"] += 1
    return found


# --- the run ---------------------------------------------------------------------------------


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) points, in MiB a minute."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if not var:
        return float("nan")
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var * 60


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.0f}" if values else "-"


@dataclass
class Result:
    """Everything one soak run measured, for the report."""

    kind: str
    workdir: Path
    warmup: float
    idle_rss: float
    generated: float  # seconds of load
    began_epoch: float
    samples: list[Sample]
    at_load_end: Sample
    final: Sample
    drained: float
    load: Load
    analysis: Analysis
    channel_stats: dict[str, Any]
    metrics: dict[str, float]
    rows: dict[str, int]
    exit_code: int | None
    stop_took: float
    restarts: list[Restart]

    @property
    def clean_stop(self) -> bool:
        stops = [(self.exit_code, self.stop_took)] + [(x.exit_code, x.stop_took) for x in self.restarts]
        return all(code == 0 and took <= SHUTDOWN_LIMIT for code, took in stops)

    @property
    def passed(self) -> bool:
        a = self.analysis
        return a.lost == 0 and a.doubled == 0 and not a.unexpected and self.clean_stop


async def run(args: argparse.Namespace, workdir: Path) -> Result:
    """Start the channel and the bot, join the users, drive the load, drain, stop the bot."""
    seconds = args.minutes * 60
    rates = Rates(args.reminders, args.notify, args.lists, args.alerts, args.broadcast_every, args.spike_every)
    kind = "postgres" if args.postgres else "sqlite"
    async with database(kind, workdir, name="soak") as url, \
            Channel(args.fault_rate, args.seed, seconds + args.drain_seconds + 600) as channel:
        bot = BotProcess(url, workdir / "bot.log", env={
            "PER_CONVERSATION_RATE": str(args.per_conversation_rate),
            "PRICES_API_KEYS": PRICES_KEY,
            "PRICE_FEED": "none",
        })
        (workdir / "bot.log").unlink(missing_ok=True)  # BotProcess appends
        await bot.start()
        try:
            await bot.wait_ready()
            idle = bot.memory_mib()["VmRSS"]
            async with Load(bot_url=bot.url, channel_url=channel.url, users=args.users, rates=rates,
                            seed=args.seed, max_in_flight=args.max_in_flight) as load:
                await load.join_all()
                if args.alerts > 0:
                    await load.prime_prices()
                await channel.arm()
                print(f"{kind}: bot ready, {args.users} users joined; RSS idle {idle:.1f} MiB; "
                      f"load for {args.minutes:g} min", flush=True)
                began, began_epoch = time.monotonic(), time.time()
                samples: list[Sample] = []
                stop_sampling = asyncio.Event()
                sampling = asyncio.create_task(sampler(bot, channel, began, samples, stop_sampling))
                restarts: list[Restart] = []
                metrics: Counter[str] = Counter()
                restarting = asyncio.create_task(restarter(
                    bot, load, [seconds * (i + 1) / (args.restarts + 1) for i in range(args.restarts)],
                    began, restarts, metrics,
                ))
                generated = await load.run(seconds)
                await restarting
                at_load_end = await sample(bot, channel, began)
                if at_load_end is None:
                    raise RuntimeError(f"the bot is not running at the end of the load; see {workdir / 'bot.log'}")
                print(f"load done after {generated:.0f} s; waiting for the last messages", flush=True)

                drain_began = time.monotonic()
                conversations = [u.cid for u in load.users]
                while True:
                    analysis = analyse(load.ledger, await channel.arrivals(), conversations)
                    if analysis.lost == 0 or time.monotonic() - drain_began > args.drain_seconds:
                        break
                    await asyncio.sleep(2)
                drained = time.monotonic() - drain_began
                # A second copy (a retry racing its own success, say) would come soon after.
                await asyncio.sleep(args.settle_seconds)
                stop_sampling.set()
                await sampling
                final = await sample(bot, channel, began)
                if final is None:
                    raise RuntimeError(f"the bot is not running after the load; see {workdir / 'bot.log'}")
                samples.append(final)
                metrics.update(await deliveries_metric(bot.url))
                channel_stats = await channel.stats()
                arrivals = await channel.arrivals()
                analysis = analyse(load.ledger, arrivals, conversations)
        finally:
            exit_code, stop_took = await stop_bot(bot)
        rows = await outbox_rows(url)
    (workdir / "arrivals.json").write_text(json.dumps(arrivals))
    warmup = args.warmup if args.warmup is not None else min(60.0, seconds / 4)
    return Result(kind, workdir, warmup, idle, generated, began_epoch, samples, at_load_end, final, drained,
                  load, analysis, channel_stats, dict(metrics), rows, exit_code, stop_took, restarts)


def listing(counts: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(counts.items())) or "none"


def report(args: argparse.Namespace, r: Result) -> None:
    """Print the counts, the figures and the memory timeline as Markdown tables."""
    a, load, rates = r.analysis, r.load, r.load.rates
    print()
    print("| category | expected | arrived once | lost | doubled | latency p50 / p99 / max (ms) |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    order = ["reminder", "reminder confirmation", "notify one", "notify list", "broadcast", "alert",
             "alert confirmation"]
    total = Tally()
    for name in order + sorted(set(a.tallies) - set(order)):
        t = a.tallies.get(name)
        if t is None or not t.expected:
            continue
        for attr in ("expected", "once", "lost", "doubled", "extra"):
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        lat = (f"{ms(t.latencies, 50)} / {ms(t.latencies, 99)} / {max(t.latencies) * 1000:,.0f}"
               if t.latencies else "-")
        print(f"| {name} | {t.expected:,} | {t.once:,} | {t.lost:,} | {t.doubled:,} | {lat} |")
    print(f"| **all** | **{total.expected:,}** | **{total.once:,}** | **{total.lost:,}** | "
          f"**{total.doubled:,}** | |")
    print("latency: arrival minus the reminder's due time (asked + delay), the notify request's 202, "
          "or the price spike; confirmations are replies within the turn")

    first, end, final = r.samples[0], r.at_load_end, r.final
    # CPU time starts again at 0 in a restarted process: add up the intervals within one.
    cpu_seconds = sum(max(0.0, b.cpu - a.cpu) for a, b in zip(r.samples, r.samples[1:]) if b.at <= end.at + 1)
    after_warmup = [s for s in r.samples if s.at >= r.warmup]
    start = after_warmup[0] if after_warmup else first
    growth = final.rss - start.rss
    delivered = end.proactive - first.proactive
    replies = end.replies - first.replies
    refused = sum(r.channel_stats["refused"].values())
    retries = sum(v for k, v in r.metrics.items() if k.endswith("/retry"))
    turns, notify = load.http_latency["chat turn"], load.http_latency["notify"]
    print()
    print("| measured | value |")
    print("| --- | --- |")
    for name, value in (
        ("database", r.kind),
        ("load offered", f"{args.minutes:g} min, {args.users} users; a second: {rates.reminders:g} reminders "
                         f"(chat), {rates.notify:g} notify one user, {rates.lists:g} notify 2-6 targets, "
                         f"{rates.alerts:g} alerts (chat); a broadcast every {rates.broadcast_every:g} s; "
                         f"a price spike every {rates.spike_every:g} s"),
        ("operations done", listing(load.ops)),
        ("operations skipped", listing(load.skipped)),
        ("requests failed", listing(load.failures)),
        ("messages expected / arrived once", f"{total.expected:,} / {total.once:,}"),
        ("**lost / doubled**", f"**{total.lost:,} / {total.doubled:,}** (extra copies {total.extra:,})"),
        ("unexpected arrivals", listing(a.unexpected)),
        ("alert firings", f"{sum(fired for _, _, fired in load.ledger.spikes):,} reported by the bot on "
                          f"{len(load.ledger.spikes)} price spikes (\"fired\" in the push's answer); "
                          f"{a.tallies['alert'].expected if 'alert' in a.tallies else 0:,} expected from the "
                          "confirmations"),
        ("other posts (no token)", f"{sum(a.others.values()):,}: "
                                   + ", ".join(f"{k!r} x{v}" for k, v in a.others.most_common(3))),
        ("channel refused (scripted)", f"{refused:,} of {r.channel_stats['posts']:,} posts "
                                       f"({listing(r.channel_stats['refused'])}); retries the bot recorded "
                                       f"{retries:,.0f}"),
        ("delivered during the load", f"{delivered:,} proactive in {r.generated:.0f} s = "
                                      f"**{delivered / r.generated:.1f} messages/s**, + {replies:,} replies = "
                                      f"{(delivered + replies) / r.generated:.1f}/s"),
        ("HTTP latency p50 / p99 (ms)", f"chat turn {ms(turns, 50)} / {ms(turns, 99)}, "
                                        f"notify {ms(notify, 50)} / {ms(notify, 99)}"),
        ("wait for the last messages", f"{r.drained:.1f} s after the load (+ {args.settle_seconds:g} s)"),
        ("bot CPU during the load", f"{cpu_seconds / r.generated * 100:.0f}% of one core"),
        ("RSS idle, before the load", f"{r.idle_rss:.1f} MiB"),
        (f"RSS after warm-up (t = {start.at:.0f} s)", f"{start.rss:.1f} MiB"),
        (f"RSS at the end of the load (t = {end.at:.0f} s)", f"{end.rss:.1f} MiB"),
        (f"RSS at the end (t = {final.at:.0f} s, idle)", f"{final.rss:.1f} MiB (peak {final.hwm:.1f})"),
        ("**RSS growth**", f"**{growth:+.1f} MiB ({growth / start.rss * 100:+.1f}%)** from the warm-up to "
                           f"the end; trend (least squares) after warm-up "
                           f"{slope_per_minute([(s.at, s.rss) for s in after_warmup]):+.2f} MiB/min, over "
                           f"the second half of the load "
                           f"{slope_per_minute([(s.at, s.rss) for s in r.samples if s.at >= r.generated / 2]):+.2f}"
                           f" MiB/min"),
        ("threads / open fds, warm-up → end", f"{start.threads} → {final.threads} / {start.fds} → {final.fds}"),
        ("bot /metrics deliveries", listing(r.metrics)),
        ("outbox rows after the stop", listing(r.rows)),
        ("machine load average (1 min)", f"{os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} CPUs"),
        ("restarts during the load", "; ".join(
            f"t = {x.at:.0f} s: exit code {x.exit_code} {x.stop_took:.2f} s after SIGTERM, ready {x.ready_after:.1f} s "
            "after the spawn" for x in r.restarts) or "none"),
        ("SIGTERM → exit, at the end", f"code {r.exit_code}, {r.stop_took:.2f} s "
                                       f"({'ok' if r.clean_stop else 'NOT ok'}: every stop must exit 0 within "
                                       f"{SHUTDOWN_LIMIT:g} s)"),
    ):
        print(f"| {name} | {value} |")

    # Delivery latency (all proactive categories) of the messages that arrived in each interval.
    timed = [(at - r.began_epoch, latency)
             for t in a.tallies.values() for at, latency in zip(t.arrived_at, t.latencies)]
    step = 6 if args.minutes >= 3 else 1
    shown = r.samples[::step] + ([r.samples[-1]] if (len(r.samples) - 1) % step else [])
    print()
    if r.restarts:
        print("(the bot restarted: memory, threads, fds and CPU below belong to different processes)")
    print("| t (s) | RSS (MiB) | threads | fds | proactive/s | replies/s | bot CPU | latency p50 / max (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    previous = None
    for s in shown:
        cells = ["-"] * 4
        if previous is not None:
            span = s.at - previous.at
            window = [latency for at, latency in timed if previous.at <= at < s.at]
            cells = [f"{(s.proactive - previous.proactive) / span:.1f}", f"{(s.replies - previous.replies) / span:.1f}",
                     f"{(s.cpu - previous.cpu) / span * 100:.0f}%" if s.cpu >= previous.cpu else "-",
                     f"{ms(window, 50)} / {max(window) * 1000:,.0f}" if window else "-"]
        print(f"| {s.at:.0f} | {s.rss:.1f} | {s.threads} | {s.fds} | " + " | ".join(cells) + " |")
        previous = s

    problems = log_lines(r.workdir / "bot.log")
    if problems:
        print()
        print("bot log, warnings and errors (digits folded):")
        for line, n in problems.most_common(12):
            print(f"  {n:6,} x {line}")
    for title, examples in (("lost", a.lost_examples), ("doubled", a.doubled_examples)):
        if examples:
            print(f"{title}, first ones:")
            for line in examples:
                print(f"  {line}")
    print()
    print(f"result: {'PASS' if r.passed else 'FAIL'} (lost {a.lost}, doubled {a.doubled}, "
          f"unexpected {sum(a.unexpected.values())}, clean stop {'yes' if r.clean_stop else 'no'}); "
          f"bot log and arrivals in {r.workdir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs")
    parser.add_argument("--postgres", action="store_true",
                        help="a fresh PostgreSQL database (created and dropped) instead of a SQLite file")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--reminders", type=float, default=5.0, help="reminders set in chat a second")
    parser.add_argument("--notify", type=float, default=10.0, help="POST /api/notify to one user a second")
    parser.add_argument("--lists", type=float, default=2.0, help="POST /api/notify to 2-6 targets a second")
    parser.add_argument("--alerts", type=float, default=1.0, help="price alerts set in chat a second (0: no alerts)")
    parser.add_argument("--broadcast-every", type=float, default=60.0, help="seconds between broadcasts (0: none)")
    parser.add_argument("--spike-every", type=float, default=6.0, help="seconds between price spikes (one symbol each)")
    parser.add_argument("--fault-rate", type=float, default=0.02,
                        help="fraction of proactive posts the channel refuses (429 Retry-After: 1, or 500)")
    parser.add_argument("--per-conversation-rate", type=float, default=0.0,
                        help="the bot's PER_CONVERSATION_RATE (0: pacing off, so it does not dominate)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of load before the memory baseline (default: 60, or a quarter of a short run)")
    parser.add_argument("--drain-seconds", type=float, default=240.0,
                        help="longest wait after the load for every expected message")
    parser.add_argument("--settle-seconds", type=float, default=5.0, help="wait after the last expected arrival")
    parser.add_argument("--max-in-flight", type=int, default=64, help="most requests to the bot at once")
    parser.add_argument("--restarts", type=int, default=0,
                        help="stop the bot with SIGTERM and start it again this many times, evenly spread over "
                             "the load (memory figures then span processes)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", help="where the database, the bot's log and the arrivals go (default: a temp dir)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="nudge-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("$ " + " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/soak.py", *sys.argv[1:]]))
    print(f"machine: {machine_note()}; load average {os.getloadavg()[0]:.1f}; work directory {workdir}")
    result = asyncio.run(run(args, workdir))
    report(args, result)
    sys.exit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
