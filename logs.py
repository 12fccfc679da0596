"""Log output: one line per record, as text for people or as JSON for a log pipeline.

Turns and deliveries log one line each with fields (``event``, ``conversation``, ``outcome``,
``ms``...) passed as ``extra={"fields": {...}}``. The text format appends them as
``key=value`` pairs; the JSON format makes them keys of the line's object. Message text,
card contents and full conversation references are never among them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

FORMATS = ("text", "json")


_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 UTC to the millisecond; the date and time part is formatted once a second."""
    global _second
    whole = int(record.created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((record.created - whole) * 1000):03d}Z"


_NEEDS_QUOTES = re.compile(r'[\s"=]')


def _plain(value: Any) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


class TextFormatter(logging.Formatter):
    """``2026-11-24T19:00:00.123Z INFO nudge.turn: turn conversation=... outcome=ok ms=12``"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{key}={_plain(value)}" for key, value in fields.items() if value is not None)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update((key, value) for key, value in fields.items() if value is not None)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class LoopBatchingHandler(logging.StreamHandler):
    """A ``StreamHandler`` that writes the lines logged during one turn of the event loop
    in one call, at the end of that turn.

    Each write to stderr is a system call that lets go of the GIL, and the database driver's
    threads are waiting for it: a write per delivery line handed the GIL back and forth
    thousands of times a second, which cost a fan-out about as much CPU as the HTTP client.
    Lines logged from another thread, or with no loop running, are written at once (after
    any gathered before them); :meth:`flush` (``logging.shutdown`` at exit) writes whatever is
    still gathered. So only a process that dies without Python's exit handlers (``kill -9``,
    ``os._exit``, a crash in native code) can lose lines: those of the turn it interrupts.
    A broken stderr costs the gathered lines, never an exception or a busy loop.
    """

    def __init__(self, stream=None) -> None:
        super().__init__(stream)
        self._gathered: list[str] = []
        # The loop a flush of the gathered lines is scheduled on (None: none is).
        self._flush_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            loop = asyncio._get_running_loop()
            if loop is None:
                self.flush()  # lines gathered earlier go first
                super().emit(record)
                return
            line = self.format(record)
            if self._flush_on is not loop:  # none scheduled, or on a loop that has stopped since
                loop.call_soon(self.flush)
                self._flush_on = loop
            self._gathered.append(line)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:  # an RLock: flush is also called inside emit, holding it
            lines, self._gathered, self._flush_on = self._gathered, [], None
            try:
                if lines:
                    self.stream.write(self.terminator.join(lines) + self.terminator)
                super().flush()
            except Exception:  # stderr gone: like StreamHandler, never raise from logging
                pass


class RoutineLibraryLines(logging.Filter):
    """APScheduler's and Alembic's routine INFO lines ("Running job ...", "Job ... executed
    successfully" every few seconds, "Added job", "Context impl SQLiteImpl") are DEBUG lines
    here: at INFO the console is one line per turn and per delivery. Their warnings and
    errors (a missed run, a job that raised) stay as they are, and so does Alembic's
    "Running upgrade" line, which says that a migration changed the schema."""

    QUIET = ("apscheduler", "alembic")
    KEPT = ("Running upgrade", "Running downgrade")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(self.QUIET):
            return True
        if record.name.startswith("alembic") and str(record.msg).startswith(self.KEPT):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str, fmt: str = "text") -> None:
    """Send every log record to stderr at ``level`` (a name such as ``INFO``) in ``fmt``.

    Raises:
        SystemExit: an unknown level or format (a start-up mistake, said plainly).
    """
    name = level.upper()
    if not isinstance(logging.getLevelName(name), int):
        raise SystemExit(f"--log-level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {level!r}")
    if fmt not in FORMATS:
        raise SystemExit(f"--log-format must be text or json, not {fmt!r}")
    # The formats use none of the caller's file and line, thread or process: not collecting
    # them is the logging module's documented optimisation (with the cached timestamp, a
    # delivery line went from 19 to 12 µs in a micro-benchmark).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = LoopBatchingHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RoutineLibraryLines())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(name)


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log as structured lines, leaving out what is logged better elsewhere
    (``/api/messages``: its turn line) or would drown the rest (health and metrics probes)."""

    QUIET = ("/api/messages", "/healthz", "/metrics")

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path in self.QUIET and response.status < 500:
            return
        self.logger.info(
            "%s %s %s", request.method, request.path, response.status,
            extra={"fields": {
                "event": "http",
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round(time * 1000, 1),
                "remote": request.remote,
            }},
        )
