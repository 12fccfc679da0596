"""Waiting on a condition with a deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T] | T], *, timeout: float = 5.0, interval: float = 0.05
) -> T:
    """Call ``check`` until it returns a truthy value or ``timeout`` passes; return that value.

    Args:
        check: a coroutine function, or a plain function for a condition read in memory
            (``lambda: channel.proactive_posts > 0``).
        timeout: seconds to wait before giving up.
        interval: seconds between two calls.

    Raises:
        AssertionError: the condition did not come true in time (with the last value seen).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def until(moment: datetime, *, timeout: float = 60.0) -> None:
    """Wait until the wall clock has passed ``moment`` (an aware datetime).

    Only for a real bot process, whose clock a test cannot inject: the wait ends at the time
    the code under test acts on (a stored due time, say), not after a guessed number of
    seconds. In-process tests move an injected clock instead.

    Raises:
        AssertionError: ``moment`` is more than ``timeout`` seconds away (a wrong time would
            otherwise hang the test).
    """
    left = (moment - datetime.now(UTC)).total_seconds()
    if left > timeout:
        raise AssertionError(f"{moment.isoformat()} is {left:.1f}s away, more than the {timeout}s allowed")
    while left >= 0:
        await asyncio.sleep(left + 0.001)
        left = (moment - datetime.now(UTC)).total_seconds()
