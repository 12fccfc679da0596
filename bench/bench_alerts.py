"""Benchmark: price-alert evaluation with ``AlertIndex`` against a naive full scan.

Builds 1,000,000 active alerts over 50 symbols (above/below/cross/move and 1% window
alerts), then feeds one seeded random-walk tick stream to the index, and two stretches of
the same stream also to a naive evaluator that, for every tick, loops over every alert of
the tick's symbol (about 20,000) and checks it against the documented rules:

* the first ticks after all alerts were set at the symbols' start prices (the nearest
  thresholds are crossed in a burst, so many firings per tick);
* ticks from the middle of the stream, with the scan restored from the index's persisted
  states at that point (as after a restart), closer to the stream's steady state.

On both stretches the two evaluators take the same ticks from the same states, and their
firings must be identical (alert ids, prices, times, reference, change and new state) or
the run fails. Run from the repository root:

    python bench/bench_alerts.py

Figures are recorded in bench/README.md. Not a test: nothing here is timed by CI.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The scan uses the index's own re-arm level arithmetic, so both evaluate the same rules.
from scheduler.alert_index import AlertIndex, AlertRule, AlertState, Firing, _above, _below, _Window  # noqa: E402

SEED = 20240301
N_ALERTS = 1_000_000
N_SYMBOLS = 50
STREAM_TICKS = 200_000   # ticks fed to the index
SCAN_TICKS = 1_000       # ticks of each stretch also fed to the full scan
MIDDLE = STREAM_TICKS // 2  # where the second stretch starts
TICK_SPACING = 0.05      # seconds between ticks (all symbols): one tick per symbol every ~2.5 s
STEP_SIGMA = 0.001       # random-walk step of a symbol's log price per tick (0.1%)
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_alerts(rng: random.Random, start: dict[str, float], n_alerts: int) -> list[tuple[AlertRule, float]]:
    """Alerts spread around each symbol's start price; (rule, price when it was set)."""
    symbols = list(start)
    out = []
    for aid in range(n_alerts):
        symbol = symbols[aid % N_SYMBOLS]
        s = start[symbol]
        roll = rng.random()
        common = dict(
            repeat=rng.random() < 0.3,
            cooldown_seconds=rng.choice([0, 60, 600]),
            band_pct=rng.choice([0.5, 0.5, 0.5, 0.0]),
        )
        if roll < 0.30:
            rule = AlertRule(aid, symbol, "above", s * (1 + rng.uniform(0.001, 0.15)), **common)
        elif roll < 0.60:
            rule = AlertRule(aid, symbol, "below", s * (1 - rng.uniform(0.001, 0.15)), **common)
        elif roll < 0.80:
            rule = AlertRule(aid, symbol, "cross", s * (1 + rng.uniform(-0.15, 0.15)), **common)
        elif roll < 0.99:
            rule = AlertRule(aid, symbol, "move", rng.uniform(1, 15), direction=rng.choice(["up", "down", "any"]),
                             base_price=s, **common)
        else:
            rule = AlertRule(aid, symbol, "window", rng.uniform(0.5, 5), direction=rng.choice(["up", "down", "any"]),
                             window_seconds=rng.choice([600, 3600]), **common)
        out.append((rule, s))
    return out


def make_stream(rng: random.Random, start: dict[str, float], n_ticks: int,
                sigma: float) -> list[tuple[str, float, datetime]]:
    symbols = list(start)
    prices = dict(start)
    stream = []
    for i in range(n_ticks):
        symbol = rng.choice(symbols)
        prices[symbol] *= math.exp(rng.gauss(0, sigma))
        stream.append((symbol, prices[symbol], T0 + timedelta(seconds=i * TICK_SPACING)))
    return stream


# -- the naive evaluator -------------------------------------------------------------------

class ScanAlert:
    """One alert for the full scan, with its levels worked out once, as a fair scan would."""

    __slots__ = ("rule", "kind", "up", "down", "up_rearm", "down_rearm", "armed", "side", "last",
                 "count", "done", "cooldown")

    def __init__(self, rule: AlertRule, current_price: float, state: AlertState | None = None) -> None:
        self.rule = rule
        self.kind = rule.condition
        band = rule.band_pct
        self.up = self.down = self.up_rearm = self.down_rearm = None
        if rule.condition in ("above", "cross"):
            self.up = rule.threshold
        if rule.condition in ("below", "cross"):
            self.down = rule.threshold
        if rule.condition == "move":
            if rule.direction != "down":
                self.up = rule.base_price * (1.0 + rule.threshold / 100.0)
            if rule.direction != "up":
                self.down = rule.base_price * (1.0 - rule.threshold / 100.0)
        if self.up is not None:
            self.up_rearm = _below(self.up, band)      # re-arm the up leg at price <= this
        if self.down is not None:
            self.down_rearm = _above(self.down, band)  # re-arm the down leg at price >= this
        state = state or AlertState()
        self.armed = state.armed
        self.side = state.side
        if rule.condition == "cross" and self.side is None and current_price != rule.threshold:
            self.side = "above" if current_price > rule.threshold else "below"
        self.last = state.last_fired_at
        self.count = state.fire_count
        self.done = state.done
        seconds = rule.cooldown_seconds
        if rule.condition == "window":
            seconds = max(seconds, rule.window_seconds)
        self.cooldown = timedelta(seconds=seconds) if seconds > 0 else None


class FullScan:
    """Checks every alert of the tick's symbol on every tick. Window minima and maxima come
    from the same monotonic deques as the index: what is measured is the scan over alerts."""

    def __init__(self, alerts: list[tuple[AlertRule, float, AlertState | None]]) -> None:
        self.by_symbol: dict[str, list[ScanAlert]] = {}
        self.windows: dict[str, dict[int, _Window]] = {}
        self.last_at: dict[str, datetime] = {}
        for rule, price, state in alerts:
            self.by_symbol.setdefault(rule.symbol, []).append(ScanAlert(rule, price, state))
            if rule.condition == "window":
                windows = self.windows.setdefault(rule.symbol, {})
                if rule.window_seconds not in windows:
                    windows[rule.window_seconds] = _Window(rule.window_seconds)

    def replay_windows(self, ticks: list[tuple[str, float, datetime]]) -> None:
        """Bring the window minima/maxima up to date with earlier ticks (no alert is evaluated)."""
        for symbol, price, at in ticks:
            self.last_at[symbol] = at
            self._update_windows(symbol, price, at)

    def _update_windows(self, symbol: str, price: float, at: datetime) -> dict[int, tuple]:
        extremes = {}
        for seconds, window in self.windows.get(symbol, {}).items():
            window.advance(price, at)
            low, high = window.low, window.high
            extremes[seconds] = (low, high, (price - low) / low * 100.0, (high - price) / high * 100.0)
        return extremes

    def on_tick(self, symbol: str, price: float, at: datetime) -> list[Firing]:
        if symbol in self.last_at and at < self.last_at[symbol]:
            return []
        self.last_at[symbol] = at
        extremes = self._update_windows(symbol, price, at)
        fired = []
        for a in self.by_symbol.get(symbol, ()):
            if a.done:
                continue
            kind = a.kind
            if kind == "cross":
                t = a.up
                side = a.side
                if side is None:
                    if price == t:
                        continue
                    side = a.side = "above" if price > t else "below"
                if not a.armed:
                    if price >= a.down_rearm if side == "above" else price <= a.up_rearm:
                        a.armed = True
                    else:
                        continue
                if side == "below":
                    if price < (t if a.count == 0 else a.down_rearm):
                        continue
                    leg = "up"
                elif price > (t if a.count == 0 else a.up_rearm):
                    continue
                else:
                    leg = "down"
                reference = t
            elif kind == "window":
                low, high, rise, fall = extremes[a.rule.window_seconds]
                x = a.rule.threshold
                direction = a.rule.direction
                legs = ("up", "down") if direction == "any" else (direction,)
                changes = {"up": rise, "down": fall}
                if not a.armed:
                    for leg in legs:
                        if (len(legs) == 1 or a.side is None or a.side == _SIDE[leg]) and changes[leg] < x:
                            a.armed = True
                leg = None
                for candidate in legs:
                    if changes[candidate] >= x and (a.armed or not (
                            len(legs) == 1 or a.side is None or a.side == _SIDE[candidate])):
                        leg = candidate
                        break
                if leg is None:
                    continue
                reference = low if leg == "up" else high
            else:
                up, down = a.up, a.down
                if not a.armed:
                    single = up is None or down is None
                    side = a.side
                    if up is not None and (single or side is None or side == "above") and price <= a.up_rearm:
                        a.armed = True
                    elif down is not None and (single or side is None or side == "below") and price >= a.down_rearm:
                        a.armed = True
                if up is not None and price >= up and (a.armed or not (down is None or a.side in (None, "above"))):
                    leg = "up"
                elif down is not None and price <= down and (a.armed or not (up is None or a.side in (None, "below"))):
                    leg = "down"
                else:
                    continue
                reference = a.rule.base_price if kind == "move" else a.rule.threshold
            if a.last is not None and a.cooldown is not None and at < a.last + a.cooldown:
                continue
            a.count += 1
            a.last = at
            if kind in ("cross", "move", "window"):
                a.side = _SIDE[leg]
            if not a.rule.repeat:
                a.done = True
            elif kind in ("above", "below", "move"):
                a.armed = False
            fired.append(Firing(a.rule.alert_id, symbol, price, at, reference,
                                (price - reference) / reference * 100.0,
                                AlertState(a.armed, a.side, a.last, a.count, a.done)))
        return fired


_SIDE = {"up": "above", "down": "below"}


# -- the run -------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=N_ALERTS)
    parser.add_argument("--ticks", type=int, default=STREAM_TICKS)
    parser.add_argument("--scan-ticks", type=int, default=SCAN_TICKS)
    parser.add_argument("--sigma", type=float, default=STEP_SIGMA, help="random-walk step per tick")
    parser.add_argument("--middle", type=int, default=MIDDLE, help="first tick of the second stretch")
    args = parser.parse_args()
    rng = random.Random(SEED)
    start = {f"S{i:02d}": round(rng.uniform(1, 100_000), 2) for i in range(N_SYMBOLS)}
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPUs available; seed {SEED}")

    began = time.perf_counter()
    alerts = make_alerts(rng, start, args.alerts)
    stream = make_stream(rng, start, args.ticks, args.sigma)
    print(f"made {len(alerts):,} rules and {len(stream):,} ticks in {time.perf_counter() - began:.1f} s; "
          f"peak RSS {rss_mib():,.0f} MiB")
    counts: dict[str, int] = {}
    for rule, _ in alerts:
        counts[rule.condition] = counts.get(rule.condition, 0) + 1
    print("mix: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))

    rss_before = rss_mib()
    began = time.perf_counter()
    index = AlertIndex()
    for rule, price in alerts:
        index.add(rule, current_price=price)
    build_index = time.perf_counter() - began
    rss_index = rss_mib()
    print(f"index: built {len(index):,} alerts in {build_index:.1f} s; peak RSS {rss_index:,.0f} MiB "
          f"(+{rss_index - rss_before:,.0f} MiB)")

    index_seconds = 0.0
    index_fired = 0
    on_tick = index.on_tick

    def run_index(ticks: list[tuple[str, float, datetime]]) -> None:
        nonlocal index_seconds, index_fired
        began = time.perf_counter()
        for symbol, price, at in ticks:
            index_fired += len(on_tick(symbol, price, at))
        index_seconds += time.perf_counter() - began

    stretches = []
    failed = False
    for name, first in (("just set", 0), ("middle, restored", args.middle)):
        began = time.perf_counter()
        if first == 0:
            scan = FullScan([(rule, price, None) for rule, price in alerts])
        else:
            run_index(stream[stretches[-1]["end"]:first])
            scan = FullScan([(rule, price, index.get_state(rule.alert_id))
                             for rule, price in alerts if rule.alert_id in index])
            scan.replay_windows(stream[:first])
        print(f"scan ({name}): built over {sum(map(len, scan.by_symbol.values())):,} live alerts "
              f"in {time.perf_counter() - began:.1f} s; peak RSS {rss_mib():,.0f} MiB")
        ticks = stream[first:first + args.scan_ticks]
        # The two evaluators take the same ticks in alternating chunks, so that other load
        # on the machine falls on both alike.
        scan_seconds = 0.0
        seconds_before = index_seconds
        differ = fired_here = 0
        for start_chunk in range(0, len(ticks), 50):
            chunk = ticks[start_chunk:start_chunk + 50]
            began = time.perf_counter()
            by_scan = [scan.on_tick(*tick) for tick in chunk]
            scan_seconds += time.perf_counter() - began
            began = time.perf_counter()
            by_index = [on_tick(*tick) for tick in chunk]
            index_seconds += time.perf_counter() - began
            index_fired += sum(map(len, by_index))
            fired_here += sum(map(len, by_scan))
            for tick, a, b in zip(chunk, by_scan, by_index, strict=True):
                if a != b:
                    if not differ:
                        print(f"first difference at {tick}:\n  scan  {a}\n  index {b}")
                    differ += 1
        failed |= differ > 0
        stretches.append(dict(name=name, first=first, end=first + len(ticks), n=len(ticks),
                              scan=scan_seconds, index=index_seconds - seconds_before,
                              fired=fired_here, differ=differ))
        del scan

    run_index(stream[stretches[-1]["end"]:])

    # Not an evaluator: the least any pure-Python scan must do, one float comparison per
    # alert of the symbol, to show how much of the ratio is the scan's own overhead.
    levels: dict[str, list[float]] = {}
    for rule, _ in alerts:
        levels.setdefault(rule.symbol, []).append(rule.threshold)
    floor_ticks = stream[:args.scan_ticks]
    began = time.perf_counter()
    for symbol, price, _ in floor_ticks:
        sum(1 for level in levels[symbol] if level <= price)
    floor_tps = len(floor_ticks) / (time.perf_counter() - began)

    print()
    ratios = []
    for st in stretches:
        scan_tps, index_tps = st["n"] / st["scan"], st["n"] / st["index"]
        ratios.append(index_tps / scan_tps)
        same = "yes" if not st["differ"] else f"NO, {st['differ']} ticks differ"
        print(f"ticks {st['first']:>6,}-{st['end'] - 1:<6,} ({st['name']}): "
              f"full scan {scan_tps:>6,.0f} ticks/s ({st['scan']:5.2f} s), "
              f"index {index_tps:>7,.0f} ticks/s ({st['index']:5.3f} s), ratio {index_tps / scan_tps:>4,.0f}x; "
              f"{st['fired']:,} firings ({st['fired'] / st['n']:.1f} per tick), identical: {same}")
    print(f"scan floor (one comparison per alert, no state): {floor_tps:,.0f} ticks/s; "
          f"index on the same ticks is {stretches[0]['n'] / stretches[0]['index'] / floor_tps:,.0f}x that")
    stream_tps = len(stream) / index_seconds
    print(f"index, whole stream: {len(stream):,} ticks in {index_seconds:.2f} s = {stream_tps:,.0f} ticks/s, "
          f"{index_fired:,} firings ({index_fired / len(stream):.1f} per tick), {len(index):,} alerts still live")
    print(f"peak RSS {rss_mib():,.0f} MiB")
    print(f"targets: >= 10,000 ticks/s over the stream: {'met' if stream_tps >= 10_000 else 'NOT met'}; "
          f">= 100x the scan on the same ticks: " + ", ".join(
              f"{st['name']} {'met' if r >= 100 else 'NOT met'}" for st, r in zip(stretches, ratios)))
    if failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
