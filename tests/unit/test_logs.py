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


class BrokenStream:
    def __init__(self) -> None:
        self.attempts = 0

    def write(self, text: str) -> None:
        self.attempts += 1
        raise BrokenPipeError("the log shipper went away")

    def flush(self) -> None:
        raise BrokenPipeError("the log shipper went away")


async def test_a_broken_stderr_loses_lines_but_never_raises_or_keeps_the_loop_busy():
    stream = BrokenStream()
    handler = LoopBatchingHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.batching.broken")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    for i in range(20):
        logger.info("delivery %d", i)
    handler.flush()  # what the end of the turn runs: it must not raise (asyncio would log that, here)
    for _ in range(5):
        await asyncio.sleep(0)
    assert stream.attempts == 1  # one write for the turn, then nothing more scheduled
    logger.info("later")
    for _ in range(5):
        await asyncio.sleep(0)
    assert stream.attempts == 2


async def test_a_line_from_another_thread_comes_after_the_lines_gathered_before_it():
    stream = CountingStream()
    logger = batching_logger(stream)
    logger.info("1 loop")
    worker = threading.Thread(target=logger.info, args=("2 thread",))
    worker.start()
    worker.join()
    logger.info("3 loop")
    await asyncio.sleep(0)
    assert "".join(stream.writes) == "1 loop\n2 thread\n3 loop\n"


def test_a_line_left_by_a_loop_that_stopped_is_written_by_the_next_loop():
    stream = CountingStream()
    logger = batching_logger(stream)

    first = asyncio.new_event_loop()
    first.call_soon(logger.info, "last line of the first loop")
    first.call_soon(first.stop)  # the loop stops at the end of this turn, before the flush runs
    first.run_forever()
    first.close()
    assert stream.writes == []

    async def log_and_yield() -> None:
        logger.info("first line of the second loop")
        await asyncio.sleep(0)

    second = asyncio.new_event_loop()
    second.run_until_complete(log_and_yield())
    second.close()
    assert "".join(stream.writes) == "last line of the first loop\nfirst line of the second loop\n"


@pytest.fixture
def root_logging():
    """configure_logging changes the root logger; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def scheduler_chatter() -> None:
    jobs = logging.getLogger("apscheduler.executors.default")
    jobs.info('Running job "ReminderScheduler.resync (trigger: interval[0:00:05])"')
    jobs.info('Job "ReminderScheduler.resync (trigger: interval[0:00:05])" executed successfully')
    logging.getLogger("apscheduler.scheduler").info('Added job "ReminderScheduler.resync" to job store "default"')
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0002 -> 0003, notifications")
    jobs.warning('Run time of job "ReminderScheduler.resync" was missed by 0:00:07')
    jobs.error('Job "ReminderScheduler.resync" raised an exception')
    logging.getLogger("nudge.turn").info("turn")


def test_scheduler_and_migration_routine_lines_are_debug_their_problems_stay(root_logging, capsys):
    configure_logging("INFO")
    scheduler_chatter()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "INFO alembic.runtime.migration: Running upgrade 0002 -> 0003, notifications",
        'WARNING apscheduler.executors.default: Run time of job "ReminderScheduler.resync" was missed by 0:00:07',
        'ERROR apscheduler.executors.default: Job "ReminderScheduler.resync" raised an exception',
        "INFO nudge.turn: turn",
    ]


def test_at_debug_the_routine_lines_are_shown_as_debug(root_logging, capsys):
    configure_logging("DEBUG")
    scheduler_chatter()
    levels = [line.split(" ")[1] for line in capsys.readouterr().err.splitlines()]
    assert levels == ["DEBUG", "DEBUG", "DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "INFO"]
