"""A circuit breaker per channel (``serviceUrl``) for refusals that hit everyone.

A 401 or 403 can be about one conversation (the user blocked the bot) or about the whole
channel (a misconfigured bot, a tenant-wide policy, credentials being rotated). Taking a
channel-wide refusal for many conversation-specific ones would deactivate every user of the
channel in one broadcast. So the outbox reports each answer of a channel here, and:

* **closed** (normal): sends go. The last ``window`` answers (within ``window_seconds``) are
  kept; when at least ``min_refusals`` of them are 401/403 and they are at least ``share``
  of the window, the circuit **opens**.
* **open**: nothing is sent to the channel. Messages that would have been sent are kept
  pending (not failed, not counted as attempts) and remembered as held. After a cool-down
  (``cooldown_seconds``, doubling after each failed probe up to ``max_cooldown_seconds``)
  it turns **half-open**.
* **half-open**: one send, the probe, goes. Refused again (401/403): open again, with the
  next cool-down. Any other answer: closed, the window forgotten, and the held messages
  released (due at once, in their order).

The breaker holds no database state and does no I/O; the outbox acts on what it says.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# What an answer says about the channel.
OK = "ok"  # 2xx: the channel works for this conversation
REFUSED = "refused"  # 401/403
OTHER = "other"  # anything else (429, 5xx, 404, timeouts): says nothing about refusals

REFUSAL_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class BreakerPolicy:
    """When a channel's circuit opens and how it is retried.

    Attributes:
        window: how many of a channel's latest answers are judged.
        min_refusals: conversations refused (401/403) in the window needed to open (so two
            refusals in a quiet channel, or one blocked user's retries, don't open it).
        share: the least share of refusals in the window that opens it (0..1).
        window_seconds: answers older than this are forgotten.
        cooldown_seconds: first wait before a probe; doubles after each refused probe.
        max_cooldown_seconds: the longest wait between probes.
        suspect_seconds: a 403 not yet known to be about its conversation (no other send to
            the channel succeeded) is kept and tried again after this long.
    """

    window: int = 20
    min_refusals: int = 5
    share: float = 0.5
    window_seconds: float = 120.0
    cooldown_seconds: float = 30.0
    max_cooldown_seconds: float = 600.0
    suspect_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.window < 1 or self.min_refusals < 1 or not 0 < self.share <= 1:
            raise ValueError("window and min_refusals must be at least 1, share in (0, 1]")
        if self.min_refusals > self.window:
            raise ValueError("min_refusals can't exceed the window")
        if self.cooldown_seconds <= 0 or self.max_cooldown_seconds < self.cooldown_seconds:
            raise ValueError("cooldown_seconds must be positive and at most max_cooldown_seconds")


def channel_label(service_url: str) -> str:
    """The serviceUrl as shown in logs and status: scheme, host and path only (no user
    info, query or fragment, which could carry a secret)."""
    try:
        parts = urlsplit(service_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else service_url[:100]
    except ValueError:
        return "<unparsable serviceUrl>"


@dataclass
class _Circuit:
    answers: deque = field(default_factory=deque)  # (monotonic time, OK or REFUSED, who was refused)
    state: str = "closed"
    opened_at: float = 0.0  # monotonic
    probe_at: float = 0.0  # monotonic: when the next probe may go
    cooldown: float = 0.0
    probing: int | None = None  # the probe's occurrence id
    held: set[int] = field(default_factory=set)
    opened: int = 0  # times opened, in all
    refusals_when_opened: int = 0


class ChannelBreaker:
    """Circuit state per serviceUrl (see the module docstring).

    Args:
        policy: thresholds and cool-downs.
        clock: monotonic seconds (injectable for tests).
    """

    # Held ids remembered per channel, for their release when it closes.
    MAX_HELD = 100_000

    def __init__(self, policy: BreakerPolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self.opened_total = 0

    # -- what the outbox asks before and after a send --------------------------------

    def allow(self, service_url: str, occurrence_id: int) -> float:
        """May occurrence ``occurrence_id`` be sent to ``service_url`` now?

        Returns 0 if it may (closed, or it is the half-open circuit's probe), else the seconds
        until the next probe may go (the caller keeps the message pending until then).
        """
        circuit = self._circuits.get(service_url)
        if circuit is None or circuit.state == "closed":
            return 0.0
        now = self._clock()
        if circuit.probing == occurrence_id:
            return 0.0
        if circuit.probing is None and now >= circuit.probe_at:
            circuit.state = "half-open"
            circuit.probing = occurrence_id
            return 0.0
        return max(0.1, circuit.probe_at - now) if circuit.probing is None else max(0.1, circuit.cooldown)

    def record(
        self, service_url: str, answer: str, occurrence_id: int | None = None, source: object = None
    ) -> str | None:
        """Note the channel's ``answer`` (:data:`OK`, :data:`REFUSED` or :data:`OTHER`) to a send.

        ``source`` is the conversation sent to (default: the occurrence): the circuit opens only
        when ``min_refusals`` *different* conversations were refused, so one blocked user whose
        message is tried again and again never looks like a channel refusing everyone.

        Returns ``"opened"`` when this answer opened the circuit, ``"reopened"`` when it was a
        refused probe (open again, with a longer cool-down), ``"closed"`` when it was the
        probe's other answer, else None.
        """
        circuit = self._circuits.get(service_url)
        if circuit is not None and circuit.probing is not None and circuit.probing == occurrence_id:
            circuit.probing = None
            if answer == REFUSED:
                circuit.cooldown = min(self.policy.max_cooldown_seconds, circuit.cooldown * 2)
                circuit.state = "open"
                circuit.probe_at = self._clock() + circuit.cooldown
                return "reopened"
            else:
                # The channel answered something else than a refusal: it no longer refuses.
                circuit.state = "closed"
                circuit.answers.clear()
                circuit.cooldown = 0.0
                return "closed"
        if answer == OTHER:
            return None
        if circuit is None:
            circuit = self._circuits[service_url] = _Circuit()
        now = self._clock()
        answers = circuit.answers
        who = source if source is not None else occurrence_id if occurrence_id is not None else object()
        answers.append((now, answer, who))
        self._trim(answers, now)
        if circuit.state != "closed":
            return None  # a send that was under way when it opened: changes nothing
        refusals = sum(1 for _, a, _ in answers if a == REFUSED)
        refused = len({who for _, a, who in answers if a == REFUSED})
        if refused >= self.policy.min_refusals and refusals >= self.policy.share * len(answers):
            circuit.state = "open"
            circuit.opened_at = now
            circuit.cooldown = self.policy.cooldown_seconds
            circuit.probe_at = now + circuit.cooldown
            circuit.opened += 1
            circuit.refusals_when_opened = refusals
            self.opened_total += 1
            return "opened"
        return None

    def _trim(self, answers: deque, now: float) -> None:
        while len(answers) > self.policy.window:
            answers.popleft()
        while answers and now - answers[0][0] > self.policy.window_seconds:
            answers.popleft()

    def is_open(self, service_url: str) -> bool:
        """Open or half-open: sends to this channel are held."""
        circuit = self._circuits.get(service_url)
        return circuit is not None and circuit.state != "closed"

    def others_succeed(self, service_url: str) -> bool:
        """The circuit is closed and some recent send to the channel succeeded: a 403 now is
        about its own conversation."""
        circuit = self._circuits.get(service_url)
        if circuit is None or circuit.state != "closed":
            return False
        self._trim(circuit.answers, self._clock())
        return any(answer == OK for _, answer, _ in circuit.answers)

    def retry_in(self, service_url: str) -> float:
        """Seconds until a held message should be looked at again: the next probe time while
        open, else the suspect delay."""
        circuit = self._circuits.get(service_url)
        if circuit is None or circuit.state == "closed":
            return self.policy.suspect_seconds
        if circuit.state == "half-open":
            return max(0.1, circuit.cooldown)
        return max(0.1, circuit.probe_at - self._clock())

    def hold(self, service_url: str, occurrence_ids: list[int]) -> None:
        """Remember messages kept pending because the circuit is open (released on close)."""
        circuit = self._circuits.get(service_url)
        if circuit is not None:
            circuit.held.update(occurrence_ids)
            if len(circuit.held) > self.MAX_HELD:  # they come due at their probe time anyway
                circuit.held = set(sorted(circuit.held)[: self.MAX_HELD])
            if circuit.probing in circuit.held:
                circuit.probing = None  # the probe itself was put back: let another one go

    def take_held(self, service_url: str) -> list[int]:
        """The held messages to release (once the circuit closed), oldest first."""
        circuit = self._circuits.get(service_url)
        if circuit is None:
            return []
        held, circuit.held = sorted(circuit.held), set()
        return held

    # -- status ----------------------------------------------------------------------------

    def open_circuits(self) -> list[dict[str, Any]]:
        """The channels whose circuit is open or half-open, for ``/healthz`` and ``/metrics``.

        Each item: ``channel`` (scheme, host and path of the serviceUrl), ``state`` ("open"
        or "half-open"), ``open_for_s`` (seconds since it opened), ``probe_in_s`` (seconds
        until the next probe may go, 0 while one is under way), ``held`` (messages kept
        pending for it by this process), ``opened`` (times it opened since start).
        """
        now = self._clock()
        return [
            {
                "channel": channel_label(url),
                "state": circuit.state,
                "open_for_s": round(now - circuit.opened_at, 1),
                "probe_in_s": round(max(0.0, circuit.probe_at - now), 1) if circuit.state == "open" else 0.0,
                "held": len(circuit.held),
                "opened": circuit.opened,
            }
            for url, circuit in self._circuits.items()
            if circuit.state != "closed"
        ]

    def status(self) -> dict[str, Any]:
        """Counts in one dict: ``open`` (circuits open or half-open now), ``held`` (messages
        held for them), ``opened_total`` (circuits opened since start) and ``circuits``
        (:meth:`open_circuits`)."""
        circuits = self.open_circuits()
        return {
            "open": len(circuits),
            "held": sum(c["held"] for c in circuits),
            "opened_total": self.opened_total,
            "circuits": circuits,
        }
