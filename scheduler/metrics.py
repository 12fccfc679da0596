"""Delivery metrics in Prometheus form (served at ``/metrics``).

One :class:`DeliveryMetrics` per application, on a registry of its own, so two apps in one
process (tests, benchmarks) never share counters.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Send durations: a loopback fake channel answers in ~1 ms, a real channel in 50-500 ms.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20)
# Lateness (due time to the channel's answer): the target is p99 < 1 s.
LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300, 3600)


class DeliveryMetrics:
    """Counters and histograms the outbox updates, plus gauges read when scraped."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.outcomes = Counter(
            "nudge_deliveries",
            "Send attempts by kind (reminder, alert, notify) and outcome "
            "(sent, retry, failed, unreachable, held, deferred; held and deferred are not attempts).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "nudge_delivery_duration_seconds",
            "Time one send took, until the channel answered or the send timed out.",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.lateness = Histogram(
            "nudge_delivery_lateness_seconds",
            "From an occurrence's due time to the channel accepting it (first attempt that succeeded).",
            ["kind"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "nudge_outbox_in_flight", "Occurrences claimed by this process and not yet recorded.",
            registry=self.registry,
        )

        self.circuit_opens = Counter(
            "nudge_channel_circuit_opens",
            "Times a channel's (serviceUrl's) circuit opened because most of its recent sends were refused (401/403).",
            registry=self.registry,
        )
        self.circuits_open = Gauge(
            "nudge_channel_circuits_open",
            "Channels whose circuit is open or half-open now (nothing is sent to them but a probe).",
            registry=self.registry,
        )
        self.circuit_held = Gauge(
            "nudge_channel_circuit_held_messages",
            "Messages this process keeps pending because their channel's circuit is open.",
            registry=self.registry,
        )

    def watch_in_flight(self, count: Callable[[], int]) -> None:
        self.in_flight.set_function(count)

    def watch_breaker(self, status: Callable[[], dict]) -> None:
        """Read the open circuits from ``status`` (:meth:`ChannelBreaker.status`) when scraped."""
        self.circuits_open.set_function(lambda: status()["open"])
        self.circuit_held.set_function(lambda: status()["held"])
