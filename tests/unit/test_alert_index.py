"""The price-alert evaluation engine: each condition and mode on scripted price series, and a
randomised comparison against a brute-force full scan written here from the documented rules."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.alert_index import AlertIndex, AlertRule, AlertState, Firing

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def ts(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(index: AlertIndex, symbol: str, series: list[tuple[float, float]]) -> list[tuple[int, float, float]]:
    """Feed (seconds, price) ticks; return (alert_id, price, seconds) for every firing."""
    out = []
    for seconds, price in series:
        for firing in index.on_tick(symbol, price, ts(seconds)):
            assert firing.symbol == symbol and firing.price == price and firing.at == ts(seconds)
            out.append((firing.alert_id, firing.price, seconds))
    return out


def ticks(*prices: float, step: float = 1) -> list[tuple[float, float]]:
    return [(i * step, p) for i, p in enumerate(prices)]


# -- above / below ------------------------------------------------------------------------


def test_above_once_fires_at_the_threshold_then_is_done():
    index = AlertIndex()
    index.add(AlertRule(1, "BTC", "above", 70000))
    fired = []
    for seconds, price in ticks(69000, 69999.99, 70000, 71000, 69000, 72000):
        fired += index.on_tick("BTC", price, ts(seconds))
    assert [(f.alert_id, f.price, f.at) for f in fired] == [(1, 70000, ts(2))]
    firing = fired[0]
    assert firing.reference_price == 70000 and firing.change_pct == 0
    assert firing.state == AlertState(armed=True, side=None, last_fired_at=ts(2), fire_count=1, done=True)
    assert len(index) == 0 and index.get_state(1) is None


def test_below_once_reports_reference_and_change():
    index = AlertIndex()
    index.add(AlertRule(1, "AAPL", "below", 180))
    index.add(AlertRule(2, "AAPL", "below", 170))
    fired = []
    for seconds, price in ticks(185, 180.5, 171, 162, 150):
        fired += index.on_tick("AAPL", price, ts(seconds))
    assert [(f.alert_id, f.price, f.at) for f in fired] == [(1, 171, ts(2)), (2, 162, ts(3))]
    assert fired[0].reference_price == 180 and fired[0].change_pct == pytest.approx(-5.0)
    assert fired[1].change_pct == pytest.approx((162 - 170) / 170 * 100)


def test_one_tick_fires_every_alert_it_crosses_and_no_other():
    index = AlertIndex()
    for aid, level in enumerate([100, 101, 102, 103, 104], start=1):
        index.add(AlertRule(aid, "X", "above", level))
    index.add(AlertRule(9, "X", "below", 99))
    index.add(AlertRule(10, "Y", "above", 50))  # another symbol
    assert run(index, "X", ticks(99.5, 102.5)) == [(1, 102.5, 1), (2, 102.5, 1), (3, 102.5, 1)]
    assert len(index) == 4


def test_above_repeat_hovering_at_threshold_fires_once_until_back_past_band():
    index = AlertIndex()
    index.add(AlertRule(7, "BTC", "above", 70000, repeat=True, band_pct=0.5))  # re-arm at <= 69650
    series = ticks(69990, 70010, 69995, 70005, 69990, 70020, 69700, 70100, 69650, 69990, 70000, 70001)
    assert run(index, "BTC", series) == [(7, 70010, 1), (7, 70000, 10)]
    assert index.get_state(7) == AlertState(armed=False, last_fired_at=ts(10), fire_count=2)


def test_below_repeat_rearms_above_band():
    index = AlertIndex()
    index.add(AlertRule(3, "AAPL", "below", 180, repeat=True, band_pct=1))  # re-arm at >= 181.8
    series = ticks(181, 179.9, 180.2, 179.5, 181.7, 179, 181.8, 180.5, 180)
    assert run(index, "AAPL", series) == [(3, 179.9, 1), (3, 180, 8)]


def test_zero_band_rearms_only_strictly_past_the_threshold():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, band_pct=0))
    assert run(index, "X", ticks(100, 100, 100, 99.99, 100, 100)) == [(1, 100, 0), (1, 100, 4)]


def test_a_band_too_small_to_change_the_price_acts_like_no_band():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, band_pct=1e-20))
    index.add(AlertRule(2, "X", "cross", 100, repeat=True, band_pct=1e-20), current_price=99)
    # Like band 0: the above alert re-arms strictly below 100, the cross needs strictly past 100.
    assert run(index, "X", ticks(100, 100, 99.99, 100, 100.01)) == [
        (1, 100, 0), (2, 100, 0), (2, 99.99, 2), (1, 100, 3), (2, 100.01, 4),
    ]


def test_an_alert_never_fires_twice_in_one_tick_even_if_its_levels_are_wrong(monkeypatch):
    # Simulate a bug: the Schmitt level after an upward firing equals T, which the same
    # tick's price meets. The guard must defer the second firing to the next tick.
    monkeypatch.setattr("scheduler.alert_index._below", lambda level, band_pct: level)
    index = AlertIndex()
    index.add(AlertRule(1, "X", "cross", 100, repeat=True), current_price=99)
    assert run(index, "X", ticks(100, 100)) == [(1, 100, 0), (1, 100, 1)]


def test_repeat_reports_state_changes_without_firings():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, band_pct=1))
    run(index, "X", ticks(101))
    assert index.pop_state_changes() == {}  # the firing carried that state
    run(index, "X", [(5, 98)])
    assert index.pop_state_changes() == {1: AlertState(armed=True, last_fired_at=ts(0), fire_count=1)}
    assert index.pop_state_changes() == {}


# -- cooldown ------------------------------------------------------------------------------


def test_cooldown_defers_a_crossing_to_the_first_tick_after_it_ends():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, cooldown_seconds=60, band_pct=0.5))
    series = [(0, 101), (10, 99), (20, 101), (50, 102), (59.9, 103), (80, 101.5), (90, 99), (100, 100.5)]
    assert run(index, "X", series) == [(1, 101, 0), (1, 101.5, 80)]


def test_cooldown_end_with_price_back_below_waits_for_the_next_crossing():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, cooldown_seconds=60, band_pct=0.5))
    series = [(0, 101), (10, 99), (20, 101), (70, 99.8), (71, 99.9), (75, 100.5), (76, 101)]
    assert run(index, "X", series) == [(1, 101, 0), (1, 100.5, 75)]


def test_cooldown_allows_firing_exactly_at_its_end():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "below", 50, repeat=True, cooldown_seconds=30, band_pct=0))
    series = [(0, 49), (1, 51), (2, 49), (29, 48), (30, 48)]
    assert run(index, "X", series) == [(1, 49, 0), (1, 48, 30)]


def test_restored_last_fired_at_keeps_the_cooldown_across_a_restart():
    index = AlertIndex()
    state = AlertState(armed=True, last_fired_at=ts(-10), fire_count=1)
    index.add(AlertRule(1, "X", "above", 100, repeat=True, cooldown_seconds=60), state)
    assert run(index, "X", [(0, 101), (49, 102), (50, 103)]) == [(1, 103, 50)]


# -- cross ---------------------------------------------------------------------------------


def test_cross_is_a_schmitt_trigger_around_the_threshold():
    index = AlertIndex()
    # T = 65000, band 0.5%: later firings need <= 64675 (down) or >= 65325 (up).
    index.add(AlertRule(5, "BTC", "cross", 65000, repeat=True), current_price=64000)
    series = ticks(64999, 65000, 64990, 65100, 64800, 64675, 65000, 65200, 64000, 65325, 65330)
    assert run(index, "BTC", series) == [(5, 65000, 1), (5, 64675, 5), (5, 65325, 9)]
    assert index.get_state(5) == AlertState(armed=True, side="above", last_fired_at=ts(9), fire_count=3)


def test_cross_first_firing_down_is_at_the_threshold_and_once_mode_finishes():
    index = AlertIndex()
    index.add(AlertRule(1, "ETH", "cross", 3000), current_price=3100)
    index.add(AlertRule(2, "ETH", "cross", 2900), current_price=3100)
    fired = []
    for seconds, price in ticks(3050, 3000, 2950, 3100, 2900):
        fired += index.on_tick("ETH", price, ts(seconds))
    assert [(f.alert_id, f.price, f.at) for f in fired] == [(1, 3000, ts(1)), (2, 2900, ts(4))]
    assert fired[0].state.side == "below" and fired[0].state.done
    assert len(index) == 0


def test_cross_takes_its_side_from_the_first_tick_when_no_price_was_given():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "cross", 100, repeat=True, band_pct=0))
    # 100 itself tells no side; 101 says "above"; then falling to 100 is the first crossing.
    assert run(index, "X", ticks(100, 101, 100, 100, 100.5, 99.5)) == [(1, 100, 2), (1, 100.5, 4), (1, 99.5, 5)]


def test_cross_uses_the_last_seen_price_when_added_later():
    index = AlertIndex()
    run(index, "X", ticks(90))
    index.add(AlertRule(1, "X", "cross", 100))
    assert index.get_state(1).side == "below"
    assert run(index, "X", [(5, 100)]) == [(1, 100, 5)]


# -- move ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("up", [(1, 105.5, 2)]),
        ("down", [(1, 94.5, 4)]),
        ("any", [(1, 105.5, 2)]),
    ],
)
def test_move_once_per_direction(direction, expected):
    index = AlertIndex()
    index.add(AlertRule(1, "ETH", "move", 5, direction=direction, base_price=100))
    assert run(index, "ETH", ticks(103, 104.9, 105.5, 100, 94.5, 106)) == expected


def test_move_reports_base_and_percent_change():
    index = AlertIndex()
    index.add(AlertRule(1, "ETH", "move", 5, direction="down", base_price=2000))
    [firing] = index.on_tick("ETH", 1880, ts(0))
    assert firing.reference_price == 2000 and firing.change_pct == pytest.approx(-6.0)


def test_move_any_repeat_rearms_per_leg_and_swings_fire_both_ways():
    index = AlertIndex()
    # base 100, 5%: up level 105 (re-arm <= 104.475), down level 95 (re-arm >= 95.475).
    index.add(AlertRule(1, "ETH", "move", 5, base_price=100, repeat=True, band_pct=0.5))
    series = ticks(106, 104.8, 105.2, 104.4, 105.1, 94, 95.3, 94.9, 95.6, 94.5, 106)
    assert run(index, "ETH", series) == [(1, 106, 0), (1, 105.1, 4), (1, 94, 5), (1, 94.5, 9), (1, 106, 10)]
    assert index.get_state(1) == AlertState(armed=False, side="above", last_fired_at=ts(10), fire_count=5)


def test_move_up_only_ignores_falls():
    index = AlertIndex()
    index.add(AlertRule(1, "ETH", "move", 2, direction="up", base_price=50, repeat=True))
    assert run(index, "ETH", ticks(40, 30, 51.5, 49, 52)) == [(1, 51.5, 2), (1, 52, 4)]


# -- window --------------------------------------------------------------------------------


def test_window_fires_on_change_against_the_window_extreme_and_forgets_old_prices():
    index = AlertIndex()
    index.add(AlertRule(1, "EUR/USD", "window", 1, direction="up", window_seconds=3600))
    # The 100 at t=0 leaves the window at t=3601, so 101.2 is only +0.7% over 100.5 then.
    series = [(0, 100), (3000, 100.5), (3601, 101.2), (3700, 100.6), (4000, 101.7)]
    fired = []
    for seconds, price in series:
        fired += index.on_tick("EUR/USD", price, ts(seconds))
    assert [(f.alert_id, f.price, f.at) for f in fired] == [(1, 101.7, ts(4000))]
    assert fired[0].reference_price == 100.5
    assert fired[0].change_pct == pytest.approx((101.7 - 100.5) / 100.5 * 100)


def test_window_includes_a_tick_exactly_w_seconds_old():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "window", 1, direction="up", window_seconds=60))
    assert run(index, "X", [(0, 100), (60, 101)]) == [(1, 101, 60)]


def test_window_down_uses_the_window_maximum():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "window", 2, direction="down", window_seconds=600))
    index.add(AlertRule(2, "X", "window", 5, direction="down", window_seconds=600))
    fired = []
    for seconds, price in [(0, 100), (100, 104), (200, 102.5), (300, 101.9), (400, 98)]:
        fired += index.on_tick("X", price, ts(seconds))
    assert [(f.alert_id, f.price, f.at) for f in fired] == [(1, 101.9, ts(300)), (2, 98, ts(400))]
    assert [f.reference_price for f in fired] == [104, 104]
    assert fired[0].change_pct == pytest.approx((101.9 - 104) / 104 * 100)


def test_window_repeat_cools_down_for_at_least_w():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "window", 1, window_seconds=100, repeat=True, cooldown_seconds=10))
    series = [(0, 100), (10, 101), (50, 103), (109, 105), (110, 105.5), (150, 103), (250, 101.9)]
    # t=110: cooldown (max(10, 100) s) over; window [10, 110] has min 101 -> +4.5%.
    # t=250: window [150, 250] has max 103 -> -1.07%, down leg fires.
    assert run(index, "X", series) == [(1, 101, 10), (1, 105.5, 110), (1, 101.9, 250)]


def test_restored_disarmed_window_rearms_only_once_the_change_is_below_x():
    index = AlertIndex()
    index.add(AlertRule(2, "X", "window", 50, direction="up", window_seconds=60))  # opens the window
    run(index, "X", [(0, 100)])
    index.add(AlertRule(1, "X", "window", 1, direction="up", window_seconds=60, repeat=True), AlertState(armed=False))
    # +1.0% exactly at t=10 is not below X, so no re-arm; at t=70 the window is flat: re-armed.
    assert run(index, "X", [(10, 101), (20, 101.5), (70, 101), (80, 103)]) == [(1, 103, 80)]


def test_window_groups_with_different_lengths_are_independent():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "window", 3, direction="up", window_seconds=60))
    index.add(AlertRule(2, "X", "window", 3, direction="up", window_seconds=600))
    assert run(index, "X", [(0, 100), (300, 102), (400, 103)]) == [(2, 103, 400)]


# -- expiry, removal, restore, ordering -----------------------------------------------------


def test_expire_removes_and_returns_passed_alerts_and_they_never_fire_after_expiry():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, expires_at=ts(100)))
    index.add(AlertRule(2, "X", "above", 100, expires_at=ts(50)))
    index.add(AlertRule(3, "X", "above", 200, expires_at=ts(10)))
    index.add(AlertRule(4, "X", "above", 100))
    assert index.expire(ts(9)) == []
    assert index.expire(ts(10)) == [3]
    assert len(index) == 3
    # Alert 2 expired at t=50 though expire() has not been called since: it must not fire.
    assert run(index, "X", [(60, 101)]) == [(1, 101, 60), (4, 101, 60)]
    assert index.expire(ts(1000)) == [2]
    assert len(index) == 0


def test_remove_stops_firing_and_unknown_ids_are_ignored():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True))
    index.add(AlertRule(2, "X", "above", 100, repeat=True))
    assert run(index, "X", [(0, 101)]) == [(1, 101, 0), (2, 101, 0)]
    index.remove(1)
    index.remove(1)
    index.remove(12345)
    assert run(index, "X", [(1, 90), (2, 101)]) == [(2, 101, 2)]
    assert len(index) == 1 and 1 not in index


def test_add_with_an_existing_id_replaces_the_alert():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100))
    index.add(AlertRule(1, "X", "above", 120))
    assert len(index) == 1
    assert run(index, "X", ticks(110, 121)) == [(1, 121, 1)]


def test_restored_disarmed_alert_does_not_fire_until_rearmed():
    index = AlertIndex()
    state = AlertState(armed=False, last_fired_at=ts(-3600), fire_count=1)
    index.add(AlertRule(1, "BTC", "above", 70000, repeat=True, band_pct=0.5), state)
    assert run(index, "BTC", ticks(70500, 71000, 69700, 70100, 69650, 70000)) == [(1, 70000, 5)]
    assert state.armed is False  # the caller's object is not mutated


def test_restored_cross_keeps_its_side_and_schmitt_level():
    index = AlertIndex()
    state = AlertState(armed=True, side="above", last_fired_at=ts(-60), fire_count=1)
    index.add(AlertRule(1, "BTC", "cross", 65000, repeat=True, band_pct=0.5), state, current_price=64000)
    # The restored side wins over current_price; after a firing, down needs <= 64675.
    assert run(index, "BTC", ticks(64900, 64000, 66000)) == [(1, 64000, 1), (1, 66000, 2)]


def test_restored_disarmed_cross_rearms_beyond_the_band_on_its_side():
    index = AlertIndex()
    state = AlertState(armed=False, side="above", fire_count=1)
    index.add(AlertRule(1, "X", "cross", 100, repeat=True, band_pct=1), state)
    assert run(index, "X", ticks(98, 100.5, 101, 99.5, 99)) == [(1, 99, 4)]


def test_restored_move_disarms_only_the_leg_that_fired():
    index = AlertIndex()
    state = AlertState(armed=False, side="above", fire_count=1)
    index.add(AlertRule(1, "X", "move", 5, base_price=100, repeat=True), state)
    assert run(index, "X", ticks(106, 94, 106)) == [(1, 94, 1), (1, 106, 2)]


def test_restored_done_state_is_not_indexed():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100), AlertState(done=True, fire_count=1))
    assert len(index) == 0 and run(index, "X", ticks(101)) == []


def test_out_of_order_ticks_are_ignored():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True))
    index.add(AlertRule(2, "X", "window", 1, direction="up", window_seconds=60))
    # The late 101 (t=5) would cross; it is older than t=10 and must be ignored, also by the window.
    assert run(index, "X", [(0, 99), (10, 99.5), (5, 101), (5, 98), (11, 99.6)]) == []
    assert run(index, "X", [(12, 100)]) == [(1, 100, 12), (2, 100, 12)]


def test_ticks_with_the_same_time_fire_once_per_crossing():
    index = AlertIndex()
    index.add(AlertRule(1, "X", "above", 100, repeat=True, band_pct=1))
    index.add(AlertRule(2, "X", "cross", 100, repeat=True, band_pct=1), current_price=99)
    series = [(0, 100.5), (0, 100.7), (0, 101), (1, 100.2), (1, 100.9)]
    assert run(index, "X", series) == [(1, 100.5, 0), (2, 100.5, 0)]


def test_invalid_rules_and_prices_are_rejected():
    index = AlertIndex()
    with pytest.raises(ValueError):
        index.add(AlertRule(1, "X", "sideways", 100))
    with pytest.raises(ValueError):
        index.add(AlertRule(1, "X", "move", 5))  # no base price
    with pytest.raises(ValueError):
        index.add(AlertRule(1, "X", "window", 5))  # no window length
    with pytest.raises(ValueError):
        index.add(AlertRule(1, "X", "above", -1))
    with pytest.raises(ValueError):
        index.add(AlertRule(1, "X", "move", 1e-30, base_price=100))  # up and down levels coincide
    with pytest.raises(ValueError):
        index.on_tick("X", float("nan"), ts(0))
    assert len(index) == 0


def test_stale_heap_entries_are_compacted_after_many_removals():
    index = AlertIndex()
    for aid in range(5000):
        index.add(AlertRule(aid, "X", "above", 200 + aid))
    for aid in range(4900):
        index.remove(aid)
    sym = index._symbols["X"]
    assert len(sym.up) < 2500  # rebuilt rather than holding 4,900 dead entries
    assert run(index, "X", ticks(5150.5)) == [(aid, 5150.5, 0) for aid in range(4900, 4951)]


def test_heaps_stay_bounded_while_live_alerts_churn():
    index = AlertIndex()
    for aid in range(3000):
        index.add(AlertRule(aid, "X", "move", 5, base_price=100, repeat=True, band_pct=0.5))
    sym = index._symbols["X"]
    for swing in range(20):
        # Around the up level: every firing and every re-arm re-pushes the alert's down-leg
        # watch at 95, which no tick reaches, so only compaction gets rid of the old ones.
        fired = index.on_tick("X", 106 if swing % 2 == 0 else 104, ts(swing))
        assert len(fired) == (3000 if swing % 2 == 0 else 0)
    assert sum(map(len, sym.heaps())) < 15_000  # 6,000 live entries, not 60,000 dead ones


# -- randomised comparison against a full scan --------------------------------------------


class FullScan:
    """Reference evaluator: every alert of the symbol is checked against every tick."""

    def __init__(self) -> None:
        self.alerts: dict[int, tuple[AlertRule, AlertState]] = {}
        self.last_at: dict[str, datetime] = {}
        self.last_price: dict[str, float] = {}
        self.history: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        self._extremes_cache: dict[int, tuple[float, float]] = {}  # this tick's, per window length

    def add(self, rule, state=None, current_price=None):
        self.alerts.pop(rule.alert_id, None)
        state = replace(state) if state is not None else AlertState()
        if state.done:
            return
        if rule.condition == "cross" and state.side is None:
            price = current_price if current_price is not None else self.last_price.get(rule.symbol)
            if price is not None and price != rule.threshold:
                state.side = "above" if price > rule.threshold else "below"
        self.alerts[rule.alert_id] = (rule, state)

    def remove(self, alert_id):
        self.alerts.pop(alert_id, None)

    def expire(self, now):
        gone = [aid for aid, (rule, _) in self.alerts.items() if rule.expires_at is not None and rule.expires_at <= now]
        for aid in gone:
            del self.alerts[aid]
        return gone

    def on_tick(self, symbol, price, at):
        if symbol in self.last_at and at < self.last_at[symbol]:
            return []
        self.last_at[symbol] = at
        self.last_price[symbol] = price
        self.history[symbol].append((at, price))
        self._extremes_cache = {}
        out = []
        for aid, (rule, state) in sorted(self.alerts.items()):
            if rule.symbol != symbol:
                continue
            firing = self._evaluate(rule, state, price, at)
            if firing is not None:
                out.append(firing)
                if state.done:
                    del self.alerts[aid]
        return out

    def _extremes(self, symbol, seconds, at):
        if seconds not in self._extremes_cache:  # one scan of the history per tick and window length
            cutoff = at - timedelta(seconds=seconds)
            recent = [p for t, p in self.history[symbol] if t >= cutoff]
            self._extremes_cache[seconds] = (min(recent), max(recent))
        return self._extremes_cache[seconds]

    def _evaluate(self, rule, state, price, at):
        b = rule.band_pct

        def past_band_down(level):
            return price <= level * (1.0 - b / 100.0) if b > 0 else price < level

        def past_band_up(level):
            return price >= level * (1.0 + b / 100.0) if b > 0 else price > level

        side_of = {"up": "above", "down": "below"}
        hit = None  # (leg, reference)
        if rule.condition == "cross":
            t = rule.threshold
            if state.side is None:
                if price == t:
                    return None
                state.side = "above" if price > t else "below"
            if not state.armed and (past_band_up(t) if state.side == "above" else past_band_down(t)):
                state.armed = True
            if state.armed:
                if state.side == "below":
                    crossed = price >= t if state.fire_count == 0 else past_band_up(t)
                    hit = ("up", t) if crossed else None
                else:
                    crossed = price <= t if state.fire_count == 0 else past_band_down(t)
                    hit = ("down", t) if crossed else None
        else:
            if rule.condition == "window":
                low, high = self._extremes(rule.symbol, rule.window_seconds, at)
                legs = [("up", (price - low) / low * 100.0, low), ("down", (high - price) / high * 100.0, high)]
                rearm = {leg: change < rule.threshold for leg, change, _ in legs}
                fire = {leg: change >= rule.threshold for leg, change, _ in legs}
                refs = {leg: ref for leg, _, ref in legs}
            else:
                if rule.condition == "above":
                    levels = {"up": rule.threshold}
                elif rule.condition == "below":
                    levels = {"down": rule.threshold}
                else:
                    base, pct = rule.base_price, rule.threshold
                    levels = {"up": base * (1.0 + pct / 100.0), "down": base * (1.0 - pct / 100.0)}
                rearm = {"up": past_band_down(levels.get("up", 0)), "down": past_band_up(levels.get("down", 0))}
                fire = {"up": price >= levels.get("up", 0), "down": price <= levels.get("down", 0)}
                refs = dict.fromkeys(levels, rule.base_price if rule.condition == "move" else rule.threshold)
                legs = [(leg, None, None) for leg in ("up", "down") if leg in levels]
            if rule.condition in ("move", "window"):
                legs = [leg for leg in legs if rule.direction in ("any", leg[0])]
            names = [leg for leg, _, _ in legs]

            def disarmed(leg):
                return not state.armed and (len(names) == 1 or state.side is None or state.side == side_of[leg])

            for leg in names:
                if disarmed(leg) and rearm[leg]:
                    state.armed = True
            for leg in names:
                if not disarmed(leg) and fire[leg]:
                    hit = (leg, refs[leg])
                    break
        if hit is None:
            return None
        if rule.expires_at is not None and at >= rule.expires_at:
            return None
        cooldown = rule.cooldown_seconds
        if rule.condition == "window":
            cooldown = max(cooldown, rule.window_seconds)
        if state.last_fired_at is not None and cooldown > 0 and at < state.last_fired_at + timedelta(seconds=cooldown):
            return None
        leg, reference = hit
        state.fire_count += 1
        state.last_fired_at = at
        if rule.condition in ("cross", "move", "window"):
            state.side = side_of[leg]
        if not rule.repeat:
            state.done = True
        elif rule.condition in ("above", "below", "move"):
            state.armed = False
        return Firing(rule.alert_id, rule.symbol, price, at, reference,
                      (price - reference) / reference * 100.0, replace(state))


def random_rule(rng: random.Random, aid: int, symbol: str, *, windows: bool) -> AlertRule:
    kinds = ["above", "below", "cross", "move"] + (["window"] if windows else [])
    condition = rng.choice(kinds)
    band = rng.choice([0.0, 0.2, 0.5, 1.0])
    common = dict(
        repeat=rng.random() < 0.6,
        cooldown_seconds=rng.choice([0, 0, 5, 30]),
        band_pct=band,
        expires_at=ts(rng.uniform(0, 6000)) if rng.random() < 0.1 else None,
    )
    if condition == "move":
        return AlertRule(aid, symbol, "move", rng.uniform(0.3, 4), direction=rng.choice(["up", "down", "any"]),
                         base_price=round(rng.uniform(97, 103), 1), **common)
    if condition == "window":
        return AlertRule(aid, symbol, "window", rng.uniform(0.2, 2.5), direction=rng.choice(["up", "down", "any"]),
                         window_seconds=rng.choice([20, 90]), **common)
    return AlertRule(aid, symbol, condition, round(rng.uniform(95, 105), 1), **common)


def random_state(rng: random.Random) -> AlertState | None:
    if rng.random() < 0.7:
        return None
    return AlertState(
        armed=rng.random() < 0.5,
        side=rng.choice([None, "above", "below"]),
        last_fired_at=ts(-rng.uniform(0, 40)) if rng.random() < 0.5 else None,
        fire_count=rng.choice([0, 1, 3]),
    )


def test_randomised_ticks_fire_exactly_like_a_full_scan():
    rng = random.Random(20240301)
    index, scan = AlertIndex(), FullScan()
    symbols = ["AAA", "BBB", "CCC"]
    next_id = 0
    condition_of: dict[int, str] = {}

    def add_some(count, *, windows):
        nonlocal next_id
        for _ in range(count):
            rule = random_rule(rng, next_id, rng.choice(symbols), windows=windows)
            state = random_state(rng)
            current = round(rng.uniform(94, 106), 1) if rng.random() < 0.5 else None
            index.add(rule, state, current_price=current)
            scan.add(rule, state, current_price=current)
            condition_of[rule.alert_id] = rule.condition
            next_id += 1

    add_some(2500, windows=True)
    # Prices snap to the same 0.1 grid as thresholds, so exact touches of levels happen often.
    prices = {s: 100.0 for s in symbols}
    clock = 0.0
    seen = defaultdict(int)
    for step in range(3000):
        symbol = rng.choice(symbols)
        prices[symbol] = round(min(max(prices[symbol] * (1 + rng.gauss(0, 0.006)), 90.0), 110.0), 1)
        roll = rng.random()
        if roll < 0.05:
            at = clock - rng.uniform(0, 5)  # out of order: older than the last tick
        elif roll < 0.15:
            at = clock  # same time as the previous tick
        else:
            clock += rng.uniform(0, 3)
            at = clock
        expected = scan.on_tick(symbol, prices[symbol], ts(at))
        got = index.on_tick(symbol, prices[symbol], ts(at))
        assert got == expected, f"tick {step}: {symbol} {prices[symbol]} at {at}"
        for firing in got:
            seen[condition_of[firing.alert_id]] += 1
            seen["repeat"] += firing.state.fire_count > 1
        if step % 250 == 249:
            for aid in rng.sample(sorted(scan.alerts), 40):
                index.remove(aid)
                scan.remove(aid)
            add_some(100, windows=False)  # window history starts at the first window alert
            assert sorted(index.expire(ts(clock))) == sorted(scan.expire(ts(clock)))
            assert len(index) == len(scan.alerts)
    for aid, (rule, state) in scan.alerts.items():
        if rule.expires_at is None or rule.expires_at > ts(clock):
            assert index.get_state(aid) == state, aid
    # The comparison is only worth something if every condition fired many times.
    assert all(seen[c] >= 50 for c in ("above", "below", "cross", "move", "window")), dict(seen)
    assert seen["repeat"] >= 500, dict(seen)

