"""Log formats: fields as key=value text or JSON keys, and start-up mistakes said plainly."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest

from logs import JsonFormatter, LoopBatchingHandler, TextFormatter, configure_logging


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


class CountingStream:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


def batching_logger(stream: CountingStream) -> logging.Logger:
    handler = LoopBatchingHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"test.batching.{id(stream)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    return logger


async def test_lines_of_one_loop_turn_are_written_in_one_call_at_its_end():
    stream = CountingStream()
    logger = batching_logger(stream)
    for i in range(50):
        logger.info("delivery %d", i)
    assert stream.writes == []  # gathered while this turn runs
    await asyncio.sleep(0)
    assert stream.writes == ["".join(f"delivery {i}\n" for i in range(50))]
    logger.warning("next turn")
    await asyncio.sleep(0)
    assert stream.writes[1:] == ["next turn\n"]


async def test_lines_from_another_thread_and_at_exit_are_not_lost():
    stream = CountingStream()
    logger = batching_logger(stream)
    worker = threading.Thread(target=logger.info, args=("from a worker thread",))
    worker.start()
    worker.join()
    assert stream.writes == ["from a worker thread\n"]  # no loop there: written at once
    logger.info("the last line before the loop stops")
    logging.getLogger(logger.name).handlers[0].flush()  # what logging.shutdown() does at exit
    assert stream.writes[1:] == ["the last line before the loop stops\n"]
    await asyncio.sleep(0)
    assert len(stream.writes) == 2  # and it is not written twice


def test_without_a_running_loop_each_line_is_written_at_once():
    stream = CountingStream()
    logger = batching_logger(stream)
    logger.info("one")
    logger.info("two")
    assert stream.writes == ["one\n", "two\n"]
