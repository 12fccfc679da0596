"""Log formats: fields as key=value text or JSON keys, and start-up mistakes said plainly."""

from __future__ import annotations

import json
import logging

import pytest

from logs import JsonFormatter, TextFormatter, configure_logging


def record(message: str = "reminder 3 delivered", **fields) -> logging.LogRecord:
    entry = logging.LogRecord("scheduler.outbox", logging.INFO, __file__, 1, message, (), None)
    entry.fields = fields
    return entry


def test_text_lines_end_with_the_fields_quoted_when_needed():
    line = TextFormatter().format(record(event="delivery", conversation="a:b|livechat", error="HTTP 500: oops",
                                         status=None, ms=12.5))
    assert line.endswith(
        'INFO scheduler.outbox: reminder 3 delivered event=delivery conversation=a:b|livechat '
        'error="HTTP 500: oops" ms=12.5'
    )
    assert "status" not in line  # a field without a value is left out
    assert "\n" not in TextFormatter().format(record(error="two\nlines"))


def test_json_lines_are_one_object_with_the_fields_as_keys():
    entry = json.loads(JsonFormatter().format(record(event="turn", outcome="ok", replies=1)))
    assert entry["level"] == "INFO" and entry["logger"] == "scheduler.outbox"
    assert entry["msg"] == "reminder 3 delivered"
    assert (entry["event"], entry["outcome"], entry["replies"]) == ("turn", "ok", 1)
    assert entry["ts"].endswith("Z")


def test_unknown_level_or_format_stops_the_start():
    with pytest.raises(SystemExit, match="--log-level"):
        configure_logging("LOUD")
    with pytest.raises(SystemExit, match="--log-format"):
        configure_logging("INFO", "xml")


def test_timestamps_are_utc_to_the_millisecond_across_seconds():
    stamps = []
    for created in (1795550400.0, 1795550400.9996, 1795550401.042):
        entry = record()
        entry.created = created
        stamps.append(json.loads(JsonFormatter().format(entry))["ts"])
    assert stamps == ["2026-11-24T20:00:00.000Z", "2026-11-24T20:00:00.999Z", "2026-11-24T20:00:01.042Z"]
