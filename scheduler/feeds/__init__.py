"""Price feeds: where the alert evaluator gets its ticks.

A feed is polled by the scheduler every ``interval_seconds`` and returns ``PriceTick``s.
``SimulatedFeed`` (the default) works offline and labels its ticks simulated;
``HttpJsonFeed`` polls a real provider; ``feed_from_env`` picks one from the environment.
Pushed ticks (``POST /api/prices``) are built as ``PriceTick(..., source="push")``.
"""

from scheduler.feeds.base import DEFAULT_SYMBOLS, NoFeed, PriceFeed, PriceTick, normalise_symbol
from scheduler.feeds.config import feed_from_env
from scheduler.feeds.http_json import MAX_BODY_BYTES, HttpJsonFeed
from scheduler.feeds.simulated import SimulatedFeed

__all__ = [
    "DEFAULT_SYMBOLS",
    "MAX_BODY_BYTES",
    "NoFeed",
    "HttpJsonFeed",
    "PriceFeed",
    "PriceTick",
    "SimulatedFeed",
    "feed_from_env",
    "normalise_symbol",
]
