"""``python -m cli.notify`` as operators run it: a real subprocess against the bot on 127.0.0.1.

Each test asserts on what the caller of the CLI sees (exit code, JSON on stdout, message on
stderr) and on what users see (the activity the fake channel receives, in the right
conversation), plus what the bot stored when nothing should have been.

The module runs on SQLite only: the notify API itself is tested on both backends in
``test_notify_api.py``; here the subject is the client, and one backend keeps the run short.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from app import Settings
from models.tables import Notification
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
KEY = "c" * 32
# Above the CLI's own 10 s request timeout, so a slow server shows as the CLI's exit 3;
# a CLI that hangs past it fails the test with what it printed instead of stalling the run.
CLI_DEADLINE = 15.0
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3

pytestmark = pytest.mark.slow

CARD = {
    "type": "AdaptiveCard",
    "version": "1.3",
    "body": [{"type": "TextBlock", "text": "Order 1042 shipped"}],
    "actions": [{"type": "Action.OpenUrl", "title": "Track", "url": "https://example.com/track/1042"}],
}


@pytest.fixture
def bot_settings(sqlite_url) -> Settings:
    return Settings(database_url=sqlite_url, notify_api_keys=(KEY,))


@dataclass(repr=False)
class Run:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"


async def cli(*args: str, url: str, key: str | None = KEY, extra_env: dict[str, str] | None = None) -> Run:
    """Run ``python -m cli.notify ARGS`` without blocking the loop the bot is served from.

    The environment is built from scratch so a NUDGE_API_KEY or NUDGE_URL of whoever runs
    the tests can't leak in; UTF-8 mode makes the output's encoding independent of the locale.
    """
    env = {name: os.environ[name] for name in ("PATH", "SYSTEMROOT") if name in os.environ}
    env |= {"NUDGE_URL": url, "PYTHONUTF8": "1", **(extra_env or {})}
    if key is not None:
        env["NUDGE_API_KEY"] = key
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.notify", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CLI_DEADLINE)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(f"cli.notify {args} still running after {CLI_DEADLINE}s: {out!r} {err!r}") from None
    return Run(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def base_url(running_bot) -> str:
    return running_bot.url.removesuffix("/api/messages")


async def joined(running_bot, **kwargs):
    """A user who has talked to the bot (so it knows the conversation), with the welcome consumed."""
    user = running_bot.user(**kwargs)
    assert await user.join(running_bot.http) == 201
    await running_bot.channel.wait_for(lambda r: r.conversation_id == user.conversation_id)
    return user


def received_by(channel, user, fragment: str) -> list:
    return [r for r in channel.received if r.conversation_id == user.conversation_id and fragment in r.text]


async def stored_notifications(running_bot) -> int:
    async with running_bot.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Notification))).scalar_one()


async def settled(running_bot, notification_id: str) -> dict:
    """The notification's status, via the CLI, once nothing of it is still on its way."""

    async def done():
        run = await cli("--status", notification_id, url=base_url(running_bot))
        assert run.code == EXIT_OK, run
        report = run.json()
        return report if report["status"] in ("done", "cancelled") else None

    return await eventually(done, timeout=10)


def iso_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def free_port() -> int:
    """A port nothing listens on: bound to learn a free number, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["alice", "29:1a2b-3c4d"], ids=["plain", "id-with-colons"])
async def test_user_gets_the_text_in_their_conversation(running_bot, user_id):
    # Teams user ids look like "29:1a2b...": the CLI must split channel:id on the first colon.
    user = await joined(running_bot, user_id=user_id)
    bystander = await joined(running_bot, user_id="bystander")
    run = await cli("--user", f"emulator:{user_id}", "--text", "Your order shipped", url=base_url(running_bot))
    assert run.code == EXIT_OK, run
    answer = run.json()
    assert answer["status"] == "queued" and len(answer["id"]) == 32
    assert answer["targets"] == {"broadcast": False, "requested": 1, "unknown": []}
    assert run.stderr == ""
    received = await running_bot.channel.wait_for_text("Your order shipped")
    assert received.conversation_id == user.conversation_id
    assert received.activity["recipient"]["id"] == user_id
    await settled(running_bot, answer["id"])
    assert len(received_by(running_bot.channel, user, "Your order shipped")) == 1
    assert not received_by(running_bot.channel, bystander, "Your order shipped")


async def test_broadcast_reaches_every_joined_user_once(running_bot):
    users = [await joined(running_bot, user_id=f"everyone{i}") for i in range(3)]
    run = await cli("--broadcast", "--text", "Maintenance at 22:00", url=base_url(running_bot))
    assert run.code == EXIT_OK, run
    assert run.json()["targets"]["broadcast"] is True
    report = await settled(running_bot, run.json()["id"])
    assert report["counts"]["sent"] == 3
    for user in users:
        assert len(received_by(running_bot.channel, user, "Maintenance at 22:00")) == 1


async def test_conversation_by_id_and_by_channel_and_id(running_bot):
    dave = await joined(running_bot, user_id="dave")
    erin = await joined(running_bot, user_id="erin")
    left_out = await joined(running_bot, user_id="frank")
    run = await cli(
        "--conversation", dave.conversation_id,
        "--conversation", f"emulator:{erin.conversation_id}",
        "--text", "Conversation targets",
        url=base_url(running_bot),
    )
    assert run.code == EXIT_OK, run
    assert run.json()["targets"] == {"broadcast": False, "requested": 2, "unknown": []}
    await settled(running_bot, run.json()["id"])
    assert len(received_by(running_bot.channel, dave, "Conversation targets")) == 1
    assert len(received_by(running_bot.channel, erin, "Conversation targets")) == 1
    assert not received_by(running_bot.channel, left_out, "Conversation targets")


# --- content -----------------------------------------------------------------------------------


async def test_markdown_summary_and_suggestions_arrive_as_activity_fields(running_bot):
    gina = await joined(running_bot, user_id="gina")
    run = await cli(
        "--user", "emulator:gina", "--text", "**Bold** news", "--markdown", "--summary", "News",
        "--suggest", "Good", "--suggest", "Not now",
        url=base_url(running_bot),
    )
    assert run.code == EXIT_OK, run
    received = await running_bot.channel.wait_for_text("**Bold** news")
    assert received.conversation_id == gina.conversation_id
    activity = received.activity
    assert activity["textFormat"] == "markdown"
    assert activity["summary"] == "News"
    assert [(a["type"], a["title"], a["value"]) for a in activity["suggestedActions"]["actions"]] == [
        ("imBack", "Good", "Good"),
        ("imBack", "Not now", "Not now"),
    ]


async def test_card_file_arrives_as_an_adaptive_card(running_bot, tmp_path):
    hana = await joined(running_bot, user_id="hana")
    card_file = tmp_path / "shipped.json"
    card_file.write_text(json.dumps(CARD), encoding="utf-8")
    run = await cli(
        "--user", "emulator:hana", "--card", str(card_file), "--summary", "Order 1042 shipped",
        url=base_url(running_bot),
    )
    assert run.code == EXIT_OK, run
    received = await running_bot.channel.wait_for(
        lambda r: r.conversation_id == hana.conversation_id and r.activity.get("attachments")
    )
    [attachment] = received.activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"] == CARD
    assert received.activity["summary"] == "Order 1042 shipped"
    assert not received.activity.get("text")  # a card with a summary, no text bubble


# --- scheduling, status and cancelling ---------------------------------------------------------


async def test_at_delivers_on_time_and_cancel_stops_a_scheduled_twin(running_bot):
    ivan = await joined(running_bot, user_id="ivan")
    url = base_url(running_bot)
    at = datetime.now(UTC) + timedelta(seconds=2)
    kept = await cli("--user", "emulator:ivan", "--text", "Kept for later", "--at", iso_z(at), url=url)
    dropped = await cli("--user", "emulator:ivan", "--text", "Cancelled in time", "--at", iso_z(at), url=url)
    for run in (kept, dropped):
        assert run.code == EXIT_OK, run
        assert run.json()["status"] == "scheduled"
        assert run.json()["at"] == iso_z(at)
    dropped_id = dropped.json()["id"]
    cancel = await cli("--cancel", dropped_id, url=url)
    assert cancel.code == EXIT_OK, cancel
    assert cancel.json() == {"id": dropped_id, "status": "cancelled", "cancelled": 0, "sent": 0, "sending": 0}
    # Three quick runs fit in the 2 s many times over; if not, say so rather than fail oddly.
    assert datetime.now(UTC) < at, "the cancel came after the delivery time: machine too slow"

    # The twin due at the same moment arriving proves the time has passed; one more
    # scheduler pass after it leaves the cancelled one no chance to be claimed later.
    received = await running_bot.channel.wait_for_text("Kept for later", timeout=6)
    assert received.conversation_id == ivan.conversation_id
    assert received.at >= at.timestamp() - 0.05
    await running_bot.scheduler.run_due()
    assert not received_by(running_bot.channel, ivan, "Cancelled in time")
    report = (await cli("--status", dropped_id, url=url)).json()
    assert report["status"] == "cancelled"
    assert report["counts"]["targets"] == 0 and report["counts"]["sent"] == 0


async def test_status_reports_each_target_after_delivery_and_cancel_then_exits_1(running_bot):
    jana = await joined(running_bot, user_id="jana")
    url = base_url(running_bot)
    run = await cli("--user", "emulator:jana", "--user", "emulator:nobody", "--text", "Gone out", url=url)
    assert run.code == EXIT_OK, run
    assert run.json()["targets"]["unknown"] == [{"user": {"channelId": "emulator", "id": "nobody"}}]
    notification_id = run.json()["id"]
    await running_bot.channel.wait_for_text("Gone out")

    report = await settled(running_bot, notification_id)
    assert report["status"] == "done"
    assert report["counts"]["sent"] == 1 and report["counts"]["unknown"] == 1
    [target] = report["targets"]
    assert (target["channelId"], target["userId"], target["conversationId"], target["status"]) == (
        "emulator", "jana", jana.conversation_id, "sent"
    )
    assert target["sentAt"] is not None

    cancel = await cli("--cancel", notification_id, url=url)
    assert cancel.code == EXIT_REFUSED, cancel
    assert cancel.stdout == ""
    assert "HTTP 409" in cancel.stderr and "already gone out" in cancel.stderr

    missing = await cli("--status", "0" * 32, url=url)
    assert missing.code == EXIT_REFUSED, missing
    assert "HTTP 404" in missing.stderr and "no notification with that id" in missing.stderr


async def test_idempotency_key_run_twice_sends_once(running_bot):
    kate = await joined(running_bot, user_id="kate")
    args = ("--user", "emulator:kate", "--text", "Exactly once", "--idempotency-key", "order-1042-shipped")
    first = await cli(*args, url=base_url(running_bot))
    second = await cli(*args, url=base_url(running_bot))
    assert first.code == second.code == EXIT_OK, (first, second)
    assert first.json() == second.json()
    await settled(running_bot, first.json()["id"])
    assert len(received_by(running_bot.channel, kate, "Exactly once")) == 1
    assert await stored_notifications(running_bot) == 1


# --- usage errors: exit 2, nothing sent ------------------------------------------------------


@pytest.mark.parametrize(
    "args, env_key, complaint",
    [
        (["--broadcast", "--text", "hi"], None, "set NUDGE_API_KEY"),
        (["--user", "bad", "--text", "hi"], KEY, "--user takes channelId:id"),
        (["--user", "emulator:", "--text", "hi"], KEY, "--user takes channelId:id"),
        (["--text", "hi"], KEY, "say whom to message"),
        (["--user", "emulator:alice"], KEY, "give --text or --card"),
        (["--broadcast", "--user", "emulator:alice", "--text", "hi"], KEY, "--broadcast can't be combined"),
        (["--broadcast", "--card", "{missing}"], KEY, "--card: can't read"),
        (["--broadcast", "--card", "{not_json}"], KEY, "is not JSON"),
    ],
    ids=["no-key", "user-without-colon", "user-without-id", "no-target", "no-content",
         "broadcast-and-user", "card-unreadable", "card-not-json"],
)
async def test_bad_command_line_exits_2_and_sends_nothing(running_bot, tmp_path, args, env_key, complaint):
    await joined(running_bot, user_id="alice")
    seen = len(running_bot.channel.received)
    (tmp_path / "not.json").write_text('{"type": "AdaptiveCard", ', encoding="utf-8")
    files = {"missing": str(tmp_path / "missing.json"), "not_json": str(tmp_path / "not.json")}
    run = await cli(*(arg.format(**files) for arg in args), url=base_url(running_bot), key=env_key)
    assert run.code == EXIT_USAGE, run
    assert run.stdout == ""
    assert run.stderr.startswith("error: ") and complaint in run.stderr, run
    assert await stored_notifications(running_bot) == 0
    await running_bot.scheduler.run_due()
    assert running_bot.channel.received[seen:] == []


# --- refused by the server: exit 1 -------------------------------------------------------------


async def test_wrong_key_exits_1_with_the_servers_error(running_bot):
    await joined(running_bot, user_id="alice")
    seen = len(running_bot.channel.received)
    run = await cli("--broadcast", "--text", "hi", url=base_url(running_bot), key="w" * 32)
    assert run.code == EXIT_REFUSED, run
    assert run.stdout == ""
    assert run.stderr.strip() == "error: HTTP 401: missing or wrong API key"
    assert await stored_notifications(running_bot) == 0
    await running_bot.scheduler.run_due()
    assert running_bot.channel.received[seen:] == []


YESTERDAY = iso_z(datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))


@pytest.mark.parametrize(
    "args, card, error",
    [
        (["--at", "yesterday"], None, "at: is not an ISO 8601 time"),
        (["--at", YESTERDAY], None, "at: is in the past"),
        (["--at", "2026-11-24T18:00:00"], None, "at: needs a UTC offset"),
        # Valid JSON is the server's to judge: a card of the wrong kind is refused there.
        (["--card", "{card}"], {"type": "HeroCard", "title": "x"}, 'card.type: must be "AdaptiveCard"'),
    ],
    ids=["at-word", "at-past", "at-naive", "card-not-adaptive"],
)
async def test_server_side_validation_error_exits_1_with_its_message(running_bot, tmp_path, args, card, error):
    await joined(running_bot, user_id="alice")
    seen = len(running_bot.channel.received)
    card_file = tmp_path / "card.json"
    if card is not None:
        card_file.write_text(json.dumps(card), encoding="utf-8")
    args = [arg.format(card=card_file) for arg in args]
    run = await cli("--user", "emulator:alice", "--text", "hi", *args, url=base_url(running_bot))
    assert run.code == EXIT_REFUSED, run
    assert run.stdout == ""
    assert run.stderr.startswith(f"error: HTTP 400: {error}"), run
    assert await stored_notifications(running_bot) == 0
    await running_bot.scheduler.run_due()
    assert running_bot.channel.received[seen:] == []


# --- unreachable or failing server: exit 3 ----------------------------------------------------


async def test_closed_port_exits_3():
    url = f"http://127.0.0.1:{free_port()}"
    run = await cli("--broadcast", "--text", "hi", url=url)
    assert run.code == EXIT_UNAVAILABLE, run
    assert run.stdout == ""
    assert run.stderr.startswith(f"error: could not reach {url}: "), run


@pytest.mark.parametrize(
    "response, shown",
    [
        (
            lambda: web.json_response({"error": "the database is unavailable; try again"}, status=503),
            "error: HTTP 503: the database is unavailable; try again",
        ),
        (
            lambda: web.Response(text="<html>Bad Gateway</html>", status=502, content_type="text/html"),
            "error: HTTP 502: <html>Bad Gateway</html>",
        ),
    ],
    ids=["503-json", "502-html-from-a-proxy"],
)
async def test_server_failure_exits_3_with_what_it_said(aiohttp_server, response, shown):
    # A stand-in for the bot (or a proxy in front of it) that fails: the real bot has no
    # switch to answer 5xx on demand.
    async def fail(request: web.Request) -> web.Response:
        return response()

    failing = web.Application()
    failing.router.add_post("/api/notify", fail)
    server = await aiohttp_server(failing, host="127.0.0.1")
    run = await cli("--broadcast", "--text", "hi", url=str(server.make_url("")).rstrip("/"))
    assert run.code == EXIT_UNAVAILABLE, run
    assert run.stdout == ""
    assert run.stderr.strip() == shown


# --- mistakes that retrying can't fix, and a sent message never reported as failed ------------


@pytest.mark.parametrize(
    "args, key",
    [
        (["--broadcast", "--text", "hi", "--idempotency-key", "order-1042 \u2615"], KEY),
        (["--status", "\u00e9" * 32], KEY),
        (["--broadcast", "--text", "hi", "--url", "{host_port}"], KEY),
        (["--broadcast", "--text", "hi"], "c" * 31 + "\u2019"),
    ],
    ids=["non-latin1-idempotency-key", "non-ascii-id", "url-without-scheme", "non-latin1-key"],
)
async def test_mistakes_on_the_command_line_are_not_reported_as_unreachable(running_bot, args, key):
    """Exit 3 tells the caller the server is down and a retry may help; here the bot is up and
    the mistake is the caller's, which retrying never fixes (the contract's exit 2)."""
    host_port = base_url(running_bot).removeprefix("http://")
    run = await cli(*(arg.format(host_port=host_port) for arg in args), url=base_url(running_bot), key=key)
    assert "could not reach" not in run.stderr, run
    assert run.code == EXIT_USAGE, run
    assert await stored_notifications(running_bot) == 0


async def test_success_is_not_reported_as_a_failure_on_a_non_utf8_stdout(running_bot):
    """On Windows a piped stdout uses the ANSI code page (cp1252), which has no kanji; the
    answer echoes the unknown user's id."""
    alice = await joined(running_bot, user_id="alice")
    run = await cli(
        "--user", "emulator:alice", "--user", "emulator:\u5c71\u7530", "--text", "Sent either way",
        url=base_url(running_bot), extra_env={"PYTHONIOENCODING": "cp1252"},
    )
    # The request was accepted and the message goes out whatever the exit code says...
    await running_bot.channel.wait_for_text("Sent either way")
    assert len(received_by(running_bot.channel, alice, "Sent either way")) == 1
    # ...so the caller must be told so, not "refused" (a script would send it again).
    assert run.code == EXIT_OK, run
    assert run.json()["targets"]["unknown"] == [{"user": {"channelId": "emulator", "id": "\u5c71\u7530"}}]


async def test_teams_style_conversation_id_is_not_read_as_a_channel(running_bot):
    teams_like = await joined(running_bot, conversation_id="19:meeting_abc@thread.v2")
    run = await cli("--conversation", "19:meeting_abc@thread.v2", "--text", "Colon in the id", url=base_url(running_bot))
    assert run.code == EXIT_OK, run
    assert run.json()["targets"]["unknown"] == []
    await settled(running_bot, run.json()["id"])
    assert len(received_by(running_bot.channel, teams_like, "Colon in the id")) == 1


async def test_unknown_targets_are_accepted_with_a_warning(running_bot):
    await joined(running_bot, user_id="known")
    run = await cli("--user", "emulator:known", "--user", "emulator:stranger", "--text", "Hi", url=base_url(running_bot))
    assert run.code == EXIT_OK, run
    assert "1 target(s) unknown" in run.stderr
    assert run.json()["targets"]["unknown"] == [{"user": {"channelId": "emulator", "id": "stranger"}}]


async def test_status_with_send_options_is_a_usage_error(running_bot):
    run = await cli("--status", "0" * 32, "--text", "ignored?", url=base_url(running_bot))
    assert run.code == EXIT_USAGE and "take no other options" in run.stderr, run
