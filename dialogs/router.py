"""The command router: one table from what a message says (an intent) to the code that answers it.

Each entry pairs a parser (text → a command object, or None) with a handler. Entries are
tried in order, so the more specific grammar (alerts: "cancel alert 2") goes before the more
general one (reminders: "cancel 2"). ``interrupts`` says whether a message the entry
understands ends a question the bot is waiting on: management commands do, small talk
doesn't (it may be an answer).

Adding a command: write its parser and handler and ``add`` them; ``NudgeBot`` needs no change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

Handler = Callable[[TurnContext, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """A message as the router understood it: the entry's name, the parsed command, its handler."""

    kind: str
    command: Any
    handler: Handler
    interrupts: bool

    @property
    def intent(self) -> str:
        """``<kind>.<command name>``, e.g. "reminder.cancel", for logs and tests."""
        name = getattr(self.command, "name", None)
        return f"{self.kind}.{name}" if name else self.kind

    async def run(self, turn_context: TurnContext) -> None:
        await self.handler(turn_context, self.command)


@dataclass(frozen=True)
class _Entry:
    kind: str
    parse: Callable[[str], Any]
    handler: Handler
    interrupts: bool


class Router:
    """An ordered table of (parser, handler) entries."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    def add(self, kind: str, parse: Callable[[str], Any], handler: Handler, *, interrupts: bool = True) -> None:
        """Append an entry: ``parse(text)`` returns a command or None; ``handler`` runs it."""
        self._entries.append(_Entry(kind, parse, handler, interrupts))

    def route(self, text: str) -> Route | None:
        """The first entry that understands ``text``, with its command; None when none does."""
        for entry in self._entries:
            command = entry.parse(text)
            if command is not None:
                return Route(entry.kind, command, entry.handler, entry.interrupts)
        return None
