"""Price-alert evaluation: which alerts does one price tick fire?

A pure in-memory engine. It does no I/O and never reads the clock: time arrives with each
tick (``on_tick``) and with each ``expire`` call. The caller persists the ``AlertState`` a
``Firing`` carries in the same transaction that records the firing, and the states from
``pop_state_changes`` (re-arms, a cross alert learning its side) after each tick, and
restores alerts on start with ``add(rule, state)``.

Why it is fast: a tick never scans the alerts of its symbol. Every live alert has one or
two *watches*, each a price level that triggers either a firing or a re-arm. Per symbol,
watches that trigger when the price rises to a level sit in a min-heap, those that trigger
when it falls in a max-heap, so a tick pops exactly the watches it crosses: O(log n + k)
for k alerts fired or re-armed. A state change bumps the alert's generation, which makes
its old heap entries stale; they are skipped when popped (lazy deletion) and the heaps are
rebuilt once stale entries outnumber live ones. Window alerts are grouped per (symbol,
window length) in heaps ordered by their percentage, next to two monotonic deques giving the
window's minimum and maximum, so a tick costs O(log n + k) per distinct window length.

Semantics (``b`` is ``band_pct / 100``; all prices are positive):

* **above T** fires when ``price >= T``; **below T** when ``price <= T``. Once mode: the
  alert is done after its first firing and leaves the index. Repeat mode: after a firing
  the alert is disarmed until the price moves back past the band (above: ``price <=
  T*(1-b)``; below: ``price >= T*(1+b)``; with ``band_pct == 0``, or a band too small to
  change the float, strictly below/above T, so a price sitting exactly on T cannot
  alternate fire/re-arm), then fires again at T.
* **cross T** fires when the price reaches T from the other side. Its side comes from
  ``state.side`` when restored, else from ``current_price`` at ``add``, else from the last
  tick this index saw for the symbol, else from the first tick after ``add`` (which then
  cannot fire). A price exactly at T tells no side; the alert waits for one that does. The
  first firing is at T itself (from below ``price >= T``, from above ``price <= T``).
  Repeat mode is a Schmitt trigger: after an upward firing the next (downward) one needs
  ``price <= T*(1-b)``, after a downward one the next needs ``price >= T*(1+b)`` (strictly
  past T when ``band_pct == 0``). "After a firing" is ``fire_count > 0``. Cross alerts never
  disarm themselves; a restored cross state with ``armed=False`` re-arms when the price is
  seen beyond the band on its recorded side.
* **move X%** from ``base_price``: the up leg fires at ``base*(1+X/100)``, the down leg at
  ``base*(1-X/100)`` (``direction`` picks the legs). Each leg re-arms like above/below
  around its own level. ``state.side`` records the leg that fired last ("above" = up); with
  ``armed=False`` only that leg is disarmed (both when ``side`` is None), so a move that
  swings from the up level straight to the down level still fires down.
* **window X% within W s** fires when the price is at least X% above the minimum (up) or
  below the maximum (down) of the prices this index received for the symbol in the last W
  seconds, the current tick included (ticks with ``time >= at - W``). Change up is
  ``(price - min) / min * 100``, down ``(max - price) / max * 100``. Windows are filled by
  ticks received after the first window alert of that length was added for the symbol;
  after a restart they refill from new ticks. Window alerts do not disarm after firing;
  repeat mode instead uses a cooldown of at least W. A restored ``armed=False`` window
  alert re-arms when its leg's change drops below X. When both legs qualify, up wins.
* **Cooldown**: an alert never fires twice within ``cooldown_seconds`` (window: at least W)
  of ``last_fired_at``; a next firing is allowed at ``last_fired_at + cooldown``. A crossing
  during the cooldown fires on the first tick at or after the cooldown's end if the
  condition still holds then (a per-symbol heap of cooling alerts keyed by that end).
* **Order and time**: ticks older than the last one accepted for a symbol are ignored;
  ticks with the same time are evaluated (two ticks arriving together). Because a firing
  moves the alert to a watch the same price cannot trigger, an alert fires at most once per
  tick and once per crossing (a guard defers any second firing in one tick to the next
  tick, so a bug cannot loop). Within one tick re-arms are applied before firings.
* **Expiry**: an alert does not fire at or after ``expires_at``; ``expire(now)`` removes
  and returns the alerts with ``expires_at <= now``.
* ``add`` with an id already present replaces that alert (a done state just removes it);
  ``remove`` of an unknown id is a no-op. ``direction`` is ignored for above,
  below and cross.
* Firings of one tick are returned sorted by ``alert_id``. ``reference_price`` is T for
  above/below/cross, the base for move, the window minimum (up) or maximum (down) for
  window; ``change_pct`` is ``(price - reference) / reference * 100``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from heapq import heapify, heappop, heappush
from operator import attrgetter

CONDITIONS = ("above", "below", "cross", "move", "window")
DIRECTIONS = ("up", "down", "any")

_ABOVE, _BELOW, _CROSS, _MOVE, _WINDOW = range(5)
_KIND = {name: code for code, name in enumerate(CONDITIONS)}

# Watch codes stored in heap entries: bit 0 is the leg (0 up, 1 down), bit 1 the action.
_FIRE_UP, _FIRE_DOWN, _REARM_UP, _REARM_DOWN = 0, 1, 2, 3
_LEG_SIDE = ("above", "below")

# Rebuild a symbol's heaps once stale entries exceed this many and half of all entries.
_COMPACT_MIN_STALE = 1024

_by_alert_id = attrgetter("alert_id")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """What the user asked for; immutable once set (edit by ``add`` with the same id)."""

    alert_id: int
    symbol: str
    condition: str
    threshold: float
    direction: str = "any"
    base_price: float | None = None
    window_seconds: int | None = None
    repeat: bool = False
    cooldown_seconds: int = 0
    band_pct: float = 0.5
    expires_at: datetime | None = None


@dataclass(slots=True)
class AlertState:
    """The mutable part of an alert, persisted by the caller after every change."""

    armed: bool = True
    side: str | None = None
    last_fired_at: datetime | None = None
    fire_count: int = 0
    done: bool = False


@dataclass(frozen=True, slots=True)
class Firing:
    """One alert fired by one tick, with the alert's new state to persist alongside it."""

    alert_id: int
    symbol: str
    price: float
    at: datetime
    reference_price: float
    change_pct: float
    state: AlertState


class _Alert:
    # State lives here as plain fields rather than in an AlertState object: one object per
    # alert instead of two matters at a million alerts.
    __slots__ = ("rule", "kind", "sym", "armed", "side", "last_fired_at", "fire_count",
                 "done", "gen", "uid", "entries", "fired_tick")

    def __init__(self, rule: AlertRule, kind: int, sym: _Symbol, state: AlertState) -> None:
        self.rule = rule
        self.kind = kind
        self.sym = sym
        self.armed = state.armed
        self.side = state.side
        self.last_fired_at = state.last_fired_at
        self.fire_count = state.fire_count
        self.done = state.done
        self.gen = 0      # generation: heap entries carrying another value are stale; 0 = dropped
        self.uid = 0      # identifies this add() in the expiry heap
        self.entries = 0  # heap entries pushed under the current generation
        self.fired_tick = 0  # AlertIndex._ticks when it last fired

    def snapshot(self) -> AlertState:
        return AlertState(self.armed, self.side, self.last_fired_at, self.fire_count, self.done)


class _Window:
    __slots__ = ("seconds", "delta", "mins", "maxs", "low", "high",
                 "fire_up", "fire_down", "rearm_up", "rearm_down")

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.delta = timedelta(seconds=seconds)
        self.mins: deque[tuple[datetime, float]] = deque()  # increasing prices
        self.maxs: deque[tuple[datetime, float]] = deque()  # decreasing prices
        self.low = 0.0
        self.high = 0.0
        self.fire_up: list[tuple] = []     # (X, gen, code, alert): fire while X <= rise
        self.fire_down: list[tuple] = []   # (X, gen, code, alert): fire while X <= fall
        self.rearm_up: list[tuple] = []    # (-X, gen, code, alert): re-arm while X > rise
        self.rearm_down: list[tuple] = []  # (-X, gen, code, alert): re-arm while X > fall

    def advance(self, price: float, at: datetime) -> None:
        """Take in a tick: ``low``/``high`` become the window's minimum and maximum at ``at``."""
        cutoff = at - self.delta
        mins, maxs = self.mins, self.maxs
        while mins and mins[-1][1] >= price:
            mins.pop()
        mins.append((at, price))
        while mins[0][0] < cutoff:
            mins.popleft()
        while maxs and maxs[-1][1] <= price:
            maxs.pop()
        maxs.append((at, price))
        while maxs[0][0] < cutoff:
            maxs.popleft()
        self.low = mins[0][1]
        self.high = maxs[0][1]


class _Symbol:
    __slots__ = ("last_at", "last_price", "up", "down", "cooling", "windows", "pending",
                 "stale", "alerts")

    def __init__(self) -> None:
        self.last_at: datetime | None = None
        self.last_price: float | None = None
        # Heap entries are (key, gen, code, alert). One _schedule call pushes at most one
        # entry per (heap, code), and gen is unique per call, so (key, gen, code) never ties
        # and tuples are never compared down to the alert object. Holding the alert rather
        # than its id spares a dict lookup per popped entry.
        self.up: list[tuple] = []       # key = level: triggers when price >= level
        self.down: list[tuple] = []     # key = -level: triggers when price <= level
        self.cooling: list[tuple] = []  # key = cooldown end
        self.windows: dict[int, _Window] = {}
        self.pending: list[tuple[_Alert, int]] = []  # cross alerts waiting for a side
        self.stale = 0
        self.alerts = 0

    def heaps(self) -> list[list[tuple]]:
        out = [self.up, self.down, self.cooling]
        for window in self.windows.values():
            out += (window.fire_up, window.fire_down, window.rearm_up, window.rearm_down)
        return out


def _validate(rule: AlertRule) -> int:
    kind = _KIND.get(rule.condition)
    if kind is None:
        raise ValueError(f"unknown condition {rule.condition!r}; expected one of {CONDITIONS}")
    if not (math.isfinite(rule.threshold) and rule.threshold > 0):
        raise ValueError("threshold must be a positive number")
    if rule.direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {rule.direction!r}; expected one of {DIRECTIONS}")
    if not (0 <= rule.band_pct < 100):
        raise ValueError("band_pct must be in [0, 100)")
    if rule.cooldown_seconds < 0:
        raise ValueError("cooldown_seconds must not be negative")
    if kind == _MOVE:
        if not (rule.base_price is not None and rule.base_price > 0):
            raise ValueError("a move alert needs a positive base_price")
        if not rule.base_price * (1.0 + rule.threshold / 100.0) > rule.base_price * (1.0 - rule.threshold / 100.0):
            raise ValueError("a move alert's percentage is too small to tell up from down")
    if kind == _WINDOW and not (rule.window_seconds is not None and rule.window_seconds > 0):
        raise ValueError("a window alert needs a positive window_seconds")
    return kind


def _below(level: float, band_pct: float) -> float:
    """The re-arm level under ``level``: price <= result means "back past the band"."""
    result = level * (1.0 - band_pct / 100.0)
    # With no band (or one too small to change the float) re-arming needs price < level;
    # a re-arm level equal to the firing level would let one price fire, re-arm, fire...
    return result if result < level else math.nextafter(level, -math.inf)


def _above(level: float, band_pct: float) -> float:
    """The re-arm level over ``level``: price >= result means "back past the band"."""
    result = level * (1.0 + band_pct / 100.0)
    return result if result > level else math.nextafter(level, math.inf)


def _legs(rule: AlertRule, kind: int) -> tuple[float | None, float | None]:
    """The (up, down) firing levels of an above/below/move alert; None for a missing leg."""
    if kind == _ABOVE:
        return rule.threshold, None
    if kind == _BELOW:
        return None, rule.threshold
    base, pct = rule.base_price, rule.threshold
    up = base * (1.0 + pct / 100.0) if rule.direction != "down" else None
    down = base * (1.0 - pct / 100.0) if rule.direction != "up" else None
    return up, down


class AlertIndex:
    """Live price alerts, indexed so that a tick only touches the alerts it fires or re-arms."""

    def __init__(self) -> None:
        self._alerts: dict[int, _Alert] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._expiry: list[tuple] = []  # (expires_at, uid, alert)
        self._changed: set[int] = set()
        self._gen = 0
        self._ticks = 0  # accepted ticks, all symbols

    def __len__(self) -> int:
        return len(self._alerts)

    def __contains__(self, alert_id: object) -> bool:
        return alert_id in self._alerts

    def add(self, rule: AlertRule, state: AlertState | None = None, *,
            current_price: float | None = None) -> None:
        """Start evaluating an alert, replacing any alert with the same id.

        Args:
            rule: the alert's condition; raises ``ValueError`` when it is inconsistent.
            state: a persisted state to restore; a fresh armed state when None. Not kept:
                the index copies it.
            current_price: the symbol's price when the alert was set; gives a cross alert
                its side when ``state.side`` is None.
        """
        kind = _validate(rule)
        state = state if state is not None else AlertState()
        if state.side not in (None, "above", "below"):
            raise ValueError(f"unknown side {state.side!r}")
        if rule.alert_id in self._alerts:
            self.remove(rule.alert_id)
        if state.done:
            return
        sym = self._symbols.get(rule.symbol)
        if sym is None:
            sym = self._symbols[rule.symbol] = _Symbol()
        alert = _Alert(rule, kind, sym, state)
        if kind == _CROSS and alert.side is None:
            price = current_price if current_price is not None else sym.last_price
            if price is not None and price != rule.threshold:
                alert.side = "above" if price > rule.threshold else "below"
        if kind == _WINDOW and rule.window_seconds not in sym.windows:
            sym.windows[rule.window_seconds] = _Window(rule.window_seconds)
        self._gen += 1
        alert.uid = self._gen
        self._alerts[rule.alert_id] = alert
        sym.alerts += 1
        if rule.expires_at is not None:
            heappush(self._expiry, (rule.expires_at, alert.uid, alert))
        self._schedule(alert, None)

    def remove(self, alert_id: int) -> None:
        """Stop evaluating an alert (cancelled, paused, done elsewhere). O(1); unknown ids are ignored."""
        alert = self._alerts.get(alert_id)
        if alert is not None:
            self._drop(alert)
            self._maybe_compact(alert.sym)

    def get_state(self, alert_id: int) -> AlertState | None:
        """A copy of a live alert's current state, or None when it is not in the index."""
        alert = self._alerts.get(alert_id)
        return alert.snapshot() if alert is not None else None

    def pop_state_changes(self) -> dict[int, AlertState]:
        """States changed since the last call without a firing (re-arms, a cross side learnt).

        Returns:
            alert id -> its current state, for live alerts only. Persist them so a restart
            does not wait for a re-arm that already happened.
        """
        alerts = self._alerts
        out = {aid: alerts[aid].snapshot() for aid in self._changed if aid in alerts}
        self._changed = set()
        return out

    def expire(self, now: datetime) -> list[int]:
        """Remove the alerts whose ``expires_at`` is at or before ``now``.

        Returns:
            their ids, earliest expiry first.
        """
        heap, out = self._expiry, []
        while heap and heap[0][0] <= now:
            alert = heappop(heap)[2]
            if alert.gen:  # still in the index
                self._drop(alert)
                self._maybe_compact(alert.sym)
                out.append(alert.rule.alert_id)
        return out

    def on_tick(self, symbol: str, price: float, at: datetime) -> list[Firing]:
        """Evaluate one price tick.

        Args:
            symbol: the instrument, as in ``AlertRule.symbol``.
            price: a positive, finite price.
            at: the tick's time; a tick older than the symbol's last accepted tick is ignored.

        Returns:
            the firings, sorted by alert id; each alert's state has been updated already.
        """
        if not (price > 0 and math.isfinite(price)):
            raise ValueError(f"price must be a positive number, got {price!r}")
        sym = self._symbols.get(symbol)
        if sym is None:
            sym = self._symbols[symbol] = _Symbol()
        if sym.last_at is not None and at < sym.last_at:
            return []
        sym.last_at = at
        sym.last_price = price
        self._ticks += 1
        if not sym.alerts and not sym.windows:
            return []
        fired: list[Firing] = []

        if sym.pending:
            self._resolve_sides(sym, price, at)

        cooling = sym.cooling
        while cooling and cooling[0][0] <= at:
            _, gen, _, alert = heappop(cooling)
            if alert.gen != gen:
                sym.stale -= 1
                continue
            alert.entries -= 1
            self._schedule(alert, at)  # cooldown over: watch the level again

        if sym.windows:
            self._tick_windows(sym, price, at, fired)

        # One pass over each heap suffices: no event pushes a watch into the other heap that
        # this same price meets (a re-arm's fire level is on the far side of its band).
        up, down = sym.up, sym.down
        if up and up[0][0] <= price:
            self._pop_through(sym, up, price, price, at, fired)
        if down and down[0][0] <= -price:
            self._pop_through(sym, down, -price, price, at, fired)

        if sym.stale > _COMPACT_MIN_STALE:
            self._maybe_compact(sym)
        if len(fired) > 1:
            fired.sort(key=_by_alert_id)
        return fired

    # -- internals -------------------------------------------------------------------------

    def _resolve_sides(self, sym: _Symbol, price: float, at: datetime) -> None:
        pending, sym.pending = sym.pending, []
        for alert, gen in pending:
            if alert.gen != gen:
                continue
            threshold = alert.rule.threshold
            if price == threshold:
                sym.pending.append((alert, gen))
                continue
            alert.side = "above" if price > threshold else "below"
            self._changed.add(alert.rule.alert_id)
            self._schedule(alert, at)

    def _tick_windows(self, sym: _Symbol, price: float, at: datetime, fired: list[Firing]) -> None:
        for window in sym.windows.values():
            window.advance(price, at)
            low, high = window.low, window.high
            rise = (price - low) / low * 100.0
            fall = (high - price) / high * 100.0
            # Re-arms first (key -X < -change, i.e. X > change), then firings (X <= change).
            heap = window.rearm_up
            if heap and heap[0][0] < -rise:
                self._pop_through(sym, heap, math.nextafter(-rise, -math.inf), price, at, fired)
            heap = window.rearm_down
            if heap and heap[0][0] < -fall:
                self._pop_through(sym, heap, math.nextafter(-fall, -math.inf), price, at, fired)
            heap = window.fire_up
            if heap and heap[0][0] <= rise:
                self._pop_through(sym, heap, rise, price, at, fired)
            heap = window.fire_down
            if heap and heap[0][0] <= fall:
                self._pop_through(sym, heap, fall, price, at, fired)

    def _pop_through(self, sym: _Symbol, heap: list[tuple], limit: float, price: float,
                     at: datetime, fired: list[Firing]) -> None:
        """Pop and handle every entry of ``heap`` keyed at or below ``limit``."""
        while heap and heap[0][0] <= limit:
            _, gen, code, alert = heappop(heap)
            if alert.gen != gen:
                sym.stale -= 1
                continue
            alert.entries -= 1
            self._event(alert, code, price, at, fired)

    def _event(self, alert: _Alert, code: int, price: float, at: datetime,
               fired: list[Firing]) -> None:
        rule = alert.rule
        aid = rule.alert_id
        if code & 2:
            alert.armed = True
            self._changed.add(aid)
            self._schedule(alert, at)
            return
        if rule.expires_at is not None and at >= rule.expires_at:
            return  # dead until expire() removes it; its watch is simply not re-pushed
        if alert.fired_tick == self._ticks:
            # Valid rules never get here (a firing moves the alert to a watch the same price
            # cannot meet); the guard keeps a bug from becoming an endless loop: retry next tick.
            heappush(alert.sym.cooling, (at, alert.gen, code, alert))
            alert.entries += 1
            return
        if alert.last_fired_at is not None:
            end = self._cooldown_end(alert)
            if end is not None and at < end:
                heappush(alert.sym.cooling, (end, alert.gen, code, alert))
                alert.entries += 1
                return

        leg = code & 1
        kind = alert.kind
        if kind == _MOVE:
            reference = rule.base_price
        elif kind == _WINDOW:
            window = alert.sym.windows[rule.window_seconds]
            reference = window.high if leg else window.low
        else:
            reference = rule.threshold
        alert.fire_count += 1
        alert.last_fired_at = at
        alert.fired_tick = self._ticks
        if kind >= _CROSS:
            alert.side = _LEG_SIDE[leg]
        if not rule.repeat:
            alert.done = True
        elif kind != _CROSS and kind != _WINDOW:
            alert.armed = False
        state = AlertState(alert.armed, alert.side, at, alert.fire_count, alert.done)
        fired.append(Firing(aid, rule.symbol, price, at, reference,
                            (price - reference) / reference * 100.0, state))
        if alert.done:
            self._drop(alert)
        else:
            self._changed.discard(aid)
            self._schedule(alert, at)

    def _cooldown_end(self, alert: _Alert) -> datetime | None:
        last = alert.last_fired_at
        if last is None:
            return None
        rule = alert.rule
        seconds = rule.cooldown_seconds
        if alert.kind == _WINDOW and rule.window_seconds > seconds:
            seconds = rule.window_seconds
        return last + timedelta(seconds=seconds) if seconds > 0 else None

    def _schedule(self, alert: _Alert, at: datetime | None) -> None:
        """Invalidate the alert's heap entries and push the watches its state calls for."""
        sym = alert.sym
        sym.stale += alert.entries
        self._gen += 1
        gen = alert.gen = self._gen
        rule = alert.rule
        kind = alert.kind
        band = rule.band_pct
        armed = alert.armed
        side = alert.side

        if kind == _CROSS:
            if side is None:
                alert.entries = 0
                sym.pending.append((alert, gen))
                return
            t = rule.threshold
            if not armed:
                if side == "above":
                    heappush(sym.up, (_above(t, band), gen, _REARM_UP, alert))
                else:
                    heappush(sym.down, (-_below(t, band), gen, _REARM_DOWN, alert))
            elif side == "below":
                level = t if alert.fire_count == 0 else _above(t, band)
                heappush(sym.up, (level, gen, _FIRE_UP, alert))
            else:
                level = t if alert.fire_count == 0 else _below(t, band)
                heappush(sym.down, (-level, gen, _FIRE_DOWN, alert))
            alert.entries = 1
            return

        if kind == _WINDOW:
            window = sym.windows[rule.window_seconds]
            x = rule.threshold
            single = rule.direction != "any"
            end = self._cooldown_end(alert) if at is not None else None
            cooling = end is not None and at < end
            pushed = 0
            cooling_pushed = False
            for leg, present in ((0, rule.direction != "down"), (1, rule.direction != "up")):
                if not present:
                    continue
                if not armed and (single or side is None or side == _LEG_SIDE[leg]):
                    heappush(window.rearm_down if leg else window.rearm_up,
                             (-x, gen, _REARM_DOWN if leg else _REARM_UP, alert))
                    pushed += 1
                elif cooling:
                    # A window alert fires again only after its cooldown; waiting in the
                    # cooling heap is cheaper than popping its fire watch on every tick.
                    if not cooling_pushed:
                        heappush(sym.cooling, (end, gen, _FIRE_UP, alert))
                        cooling_pushed = True
                        pushed += 1
                else:
                    heappush(window.fire_down if leg else window.fire_up,
                             (x, gen, _FIRE_DOWN if leg else _FIRE_UP, alert))
                    pushed += 1
            alert.entries = pushed
            return

        up, down = _legs(rule, kind)
        single = up is None or down is None
        pushed = 0
        if up is not None:
            if not armed and (single or side is None or side == "above"):
                heappush(sym.down, (-_below(up, band), gen, _REARM_UP, alert))
            else:
                heappush(sym.up, (up, gen, _FIRE_UP, alert))
            pushed += 1
        if down is not None:
            if not armed and (single or side is None or side == "below"):
                heappush(sym.up, (_above(down, band), gen, _REARM_DOWN, alert))
            else:
                heappush(sym.down, (-down, gen, _FIRE_DOWN, alert))
            pushed += 1
        alert.entries = pushed

    def _drop(self, alert: _Alert) -> None:
        aid = alert.rule.alert_id
        del self._alerts[aid]
        self._changed.discard(aid)
        sym = alert.sym
        sym.stale += alert.entries
        alert.entries = 0
        sym.alerts -= 1
        alert.gen = 0  # every heap entry of it is stale now
        if len(self._expiry) > 2 * len(self._alerts) + _COMPACT_MIN_STALE:
            self._expiry = [e for e in self._expiry if e[2].gen]
            heapify(self._expiry)

    def _maybe_compact(self, sym: _Symbol) -> None:
        if sym.stale <= _COMPACT_MIN_STALE:
            return
        heaps = sym.heaps()
        if 2 * sym.stale <= sum(map(len, heaps)):
            return
        for heap in heaps:
            heap[:] = [e for e in heap if e[3].gen == e[1]]
            heapify(heap)
        sym.stale = 0
