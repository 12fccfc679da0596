"""Fuzzing the notify API over real HTTP: never a 5xx, never a partial send.

Cases come from two sources: schemathesis, generating from ``docs/openapi.json`` in both
positive (schema-valid) and negative (schema-violating) mode, and hand-made Hypothesis
strategies for what a schema can't describe (any JSON value, raw bytes, wrong content
types, deep nesting). schemathesis calls are synchronous (``requests``), so the bot and a
fake Bot Connector channel run in a background thread with an event loop of their own.

"Never a partial send" is checked from the database file itself: a refused request leaves
the ``notifications`` table as it was, an accepted one adds exactly one row (a replayed
Idempotency-Key none), and what the channel received is exactly what the sent per-target
records of accepted notifications say was sent.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import OPENAPI_PATH, Settings, create_app
from models.notify_request import TARGET_FIELDS
from tests.support.background import background_loop, serve, stop
from tests.support.emulator import EmulatorUser
from tests.support.fake_channel import FakeChannel

KEY = "f" * 32
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}

# With security parameters generated, most cases would be a 401 that never reaches the
# parser; every call sends the real key instead (AUTH), so the fuzzing goes deep.
SCHEMA = schemathesis.openapi.from_path(
    OPENAPI_PATH,
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # a no-op for positive cases
]


def fuzz_settings(max_examples: int) -> settings:
    """Bounded and reproducible: the same cases on every run, no example database.

    No shrinking: the server keeps state (idempotency keys, stored rows) between calls, so a
    shrunk replay is not the same experiment; the failing case is printed as generated.
    """
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )


# --- the bot and the fake channel, served from a thread of their own ----------------------


@dataclass
class LiveBot:
    """The bot on 127.0.0.1 (its own thread and loop), the fake channel it sends to, and
    the bookkeeping the fuzz tests share."""

    url: str
    db_path: Path
    channel: FakeChannel
    loop: asyncio.AbstractEventLoop
    users: list[EmulatorUser]
    # Ids of notifications a 202 answered with: the only rows the table may ever hold.
    accepted: set[str] = field(default_factory=set)
    # How many activities the channel had received before the first notification.
    baseline: int = 0
    # A notification already sent and one scheduled a month ahead (see _seed_notifications).
    seeded: list[str] = field(default_factory=list)

    def run(self, coro, timeout: float = 30.0):
        """Run ``coro`` on the bot's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def query(self, sql: str, *params: Any) -> list[tuple]:
        # A fresh read-only connection per query, so the test never holds a lock the bot
        # (writing through aiosqlite in its thread) would have to wait for.
        connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def notification_count(self) -> int:
        return self.query("SELECT count(*) FROM notifications")[0][0]

    def targets(self) -> list[dict[str, Any]]:
        """Target fields naming conversations the bot knows, in every accepted shape."""
        first, second, third = self.users
        return [
            {"user": {"channelId": "emulator", "id": first.user["id"]}},
            {"users": [{"channelId": "emulator", "id": u.user["id"]} for u in (first, second)]},
            {"conversation": second.conversation_id},
            {"conversations": [{"channelId": "emulator", "id": third.conversation_id}]},
            {"reference": {"channelId": "emulator", "conversation": {"id": first.conversation_id}}},
            {"references": [{"conversation": {"id": third.conversation_id}}]},
        ]


async def _start(db_path: Path) -> tuple[list[web.AppRunner], FakeChannel, str, list[EmulatorUser]]:
    channel = FakeChannel()  # created on this loop: its Condition belongs here
    channel_runner, channel.url = await serve(channel.app)
    settings_ = Settings(database_url=f"sqlite+aiosqlite:///{db_path}", notify_api_keys=(KEY,))
    bot_runner, bot_url = await serve(create_app(settings_))
    users = [
        EmulatorUser(bot_url=f"{bot_url}/api/messages", service_url=channel.url, user_id=f"fuzz-{name}")
        for name in ("ada", "bo", "cy")
    ]
    async with aiohttp.ClientSession() as http:
        for user in users:
            assert await user.join(http) == 201
            # The welcome: after it the bot knows the conversation.
            await channel.wait_for(lambda r, user=user: r.conversation_id == user.conversation_id)
    return [bot_runner, channel_runner], channel, bot_url, users


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory) -> Iterator[LiveBot]:
    db_path = tmp_path_factory.mktemp("notify-fuzz") / "nudge.db"
    with background_loop("notify-fuzz-bot") as loop:
        runners, channel, url, users = asyncio.run_coroutine_threadsafe(_start(db_path), loop).result(60)
        bot = LiveBot(url=url, db_path=db_path, channel=channel, loop=loop, users=users)
        bot.baseline = len(channel.received)
        try:
            _seed_notifications(bot)
            yield bot
        finally:
            bot.run(stop(runners))


def _seed_notifications(bot: LiveBot) -> None:
    """One notification sent now and one scheduled for later, so status and cancel calls can
    find real ids (a random id is just a 404)."""
    target = bot.targets()[0]
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    for body in ({**target, "text": "seed: now"}, {**target, "text": "seed: later", "at": later}):
        response = requests.post(f"{bot.url}/api/notify", json=body, headers=AUTH, timeout=10)
        assert response.status_code == 202, response.text
        bot.seeded.append(response.json()["id"])
    bot.accepted.update(bot.seeded)
    wait_until_delivered(bot)


# --- what every case must leave behind ----------------------------------------------------


def assert_no_partial_send(bot: LiveBot, *, before: int, status: int, text: str, replayed: bool) -> None:
    """A refused request stored nothing; an accepted one stored exactly one row (none when
    it replayed an earlier request's answer)."""
    after = bot.notification_count()
    assert status < 500, f"{status}: {text[:500]}"
    if status != 202:
        assert after == before, f"{status} but the notifications table went from {before} to {after} rows"
        return
    notification_id = json.loads(text)["id"]
    if replayed:
        assert after == before, "a replayed request stored another row"
        assert notification_id in bot.accepted, "a replay answered with an id never accepted before"
    else:
        assert after == before + 1, f"202 but the notifications table went from {before} to {after} rows"
        assert notification_id not in bot.accepted
        bot.accepted.add(notification_id)


def _sql_now() -> str:
    # How SQLAlchemy stores the UTC timestamp columns in SQLite, so strings compare as times.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def wait_until_delivered(bot: LiveBot, timeout: float = 20.0) -> None:
    """Wait until every due notification has been expanded and every send has ended."""
    deadline = time.monotonic() + timeout
    while True:
        due = bot.query(
            "SELECT count(*) FROM notifications WHERE status = 'scheduled' AND deliver_at <= ?", _sql_now()
        )[0][0]
        in_flight = bot.query(
            "SELECT count(*) FROM occurrences WHERE notification_id IS NOT NULL"
            " AND status IN ('pending', 'sending')"
        )[0][0]
        if not due and not in_flight:
            return
        assert time.monotonic() < deadline, f"{due} due notifications and {in_flight} sends still open"
        time.sleep(0.05)


def _fingerprint(activity: dict[str, Any]) -> tuple:
    """What a user sees of a message: its text, summary and attachment types."""
    return (
        activity.get("text") or "",
        activity.get("summary") or "",
        tuple(a.get("contentType") for a in activity.get("attachments") or ()),
    )


def assert_channel_got_only_accepted_messages(bot: LiveBot) -> None:
    """Every stored notification came from a 202, and the channel received exactly the
    messages the sent records of those notifications account for: none for refused requests,
    none twice."""
    wait_until_delivered(bot)
    stored = {row[0] for row in bot.query("SELECT id FROM notifications")}
    assert stored <= bot.accepted, f"rows no 202 accounts for: {sorted(stored - bot.accepted)[:5]}"
    rows = bot.query(
        "SELECT c.conversation_id, n.activity FROM occurrences o"
        " JOIN notifications n ON n.id = o.notification_id"
        " JOIN conversations c ON c.id = o.conversation_pk"
        " WHERE o.status = 'sent'"
    )
    expected = Counter((conversation, _fingerprint(json.loads(activity))) for conversation, activity in rows)
    received = Counter(
        (r.conversation_id, _fingerprint(r.activity)) for r in bot.channel.received[bot.baseline :]
    )
    assert received == expected, (
        f"received but not sent: {list((received - expected).elements())[:3]}; "
        f"sent but not received: {list((expected - received).elements())[:3]}"
    )
    failed = bot.query("SELECT last_error FROM occurrences WHERE status = 'failed'")
    assert not failed, f"accepted notifications the channel never got: {failed[:3]}"


# --- schemathesis against the OpenAPI document ---------------------------------------------


CONTENT = ("text", "message", "attachments", "card")


def _steer(body: Any, target: dict[str, Any] | None) -> Any:
    """Swap the generated targets for known ones, and give a body without content a text
    (the schema can't say "at least one of"), so that valid requests reach real users."""
    if target is None or not isinstance(body, dict):
        return body
    steered = {**{k: v for k, v in body.items() if k not in TARGET_FIELDS}, **target}
    if all(steered.get(name) is None for name in CONTENT):
        steered.pop("message", None)
        steered["text"] = "steered text"
    return steered


def _call(bot: LiveBot, case: schemathesis.Case) -> schemathesis.Response:
    before = bot.notification_count()
    response = case.call(base_url=bot.url, headers=AUTH, timeout=15)
    assert_no_partial_send(
        bot,
        before=before,
        status=response.status_code,
        text=response.text,
        # schemathesis' response: lower-case header names, a list of values each.
        replayed=response.headers.get("idempotent-replayed") == ["true"],
    )
    case.validate_response(response, checks=CHECKS, headers=AUTH)
    return response


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_post_notify_fuzzed_from_the_openapi_document(live_bot, mode):
    operation = SCHEMA["/api/notify"]["POST"]
    # Positive cases get known targets half the time (the schema can't know any) and, now and
    # then, an Idempotency-Key from a pool of two, so that keys are replayed and reused for
    # other requests. Negative cases are left as generated: steering could make them valid.
    targets = st.none() | st.sampled_from(live_bot.targets()) if mode.is_positive else st.none()
    keys = st.none() | st.sampled_from(["fuzz-key-a", "fuzz-key-b"]) if mode.is_positive else st.none()
    statuses: Counter[int] = Counter()

    @fuzz_settings(max_examples=80)
    @given(case=operation.as_strategy(generation_mode=mode), target=targets, key=keys)
    def fuzz(case, target, key):
        case.body = _steer(case.body, target)
        if key is not None:
            case.headers = {**(case.headers or {}), "Idempotency-Key": key}
        statuses[_call(live_bot, case).status_code] += 1

    fuzz()
    # Not a vacuous run: both modes met refusals, and positive cases got requests through.
    assert statuses[400] > 0
    if mode.is_positive:
        assert statuses[202] > 0, statuses
    assert_channel_got_only_accepted_messages(live_bot)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_status_and_cancel_fuzzed_from_the_openapi_document(live_bot, method, mode):
    operation = SCHEMA["/api/notify/{id}"][method]
    ids = st.none() | st.sampled_from(live_bot.seeded) if mode.is_positive else st.none()
    statuses: Counter[int] = Counter()

    @fuzz_settings(max_examples=40)
    @given(case=operation.as_strategy(generation_mode=mode), notification_id=ids)
    def fuzz(case, notification_id):
        if notification_id is not None:
            case.path_parameters = {"id": notification_id}
        statuses[_call(live_bot, case).status_code] += 1

    fuzz()
    assert statuses[404] > 0
    if mode.is_positive:
        # Status of either seeded id; cancelling the scheduled one, and 409 for the sent one.
        assert statuses[200] > 0, statuses
        if method == "DELETE":
            assert statuses[409] > 0, statuses
    assert_channel_got_only_accepted_messages(live_bot)


# --- hand-made malformed bodies -------------------------------------------------------------

# Lone surrogates are valid in a JSON string ("\ud800") but in no encoding a database stores.
_characters = st.characters(codec="utf-8") | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_text = st.text(_characters, max_size=12) | st.sampled_from(["", " ", "\x00", "emulator", "AdaptiveCard"])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**310)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
)
_known_keys = st.sampled_from(
    sorted(
        {*TARGET_FIELDS, "text", "message", "textFormat", "summary", "attachments", "attachmentLayout",
         "suggestedActions", "card", "at", "appId", "idempotencyKey", "channelId", "id", "type",
         "contentType", "content", "contentUrl", "title", "value", "actions", "body", "conversation"}
    )
)
JSON_VALUES = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_known_keys | _text, children, max_size=5),
    max_leaves=25,
)


def post_raw(bot: LiveBot, data: bytes, headers: dict[str, str]) -> requests.Response:
    before = bot.notification_count()
    response = requests.post(f"{bot.url}/api/notify", data=data, headers=headers, timeout=15)
    assert_no_partial_send(
        bot,
        before=before,
        status=response.status_code,
        text=response.text,
        replayed=response.headers.get("Idempotent-Replayed") == "true",
    )
    if response.status_code != 202:
        assert response.headers["Content-Type"].startswith("application/json")
        assert isinstance(response.json().get("error"), str)
    return response


def _json_bytes(value: Any) -> bytes:
    # Python's encoder writes NaN and Infinity, which Python's decoder (the server's) reads.
    return json.dumps(value).encode()


def test_any_json_value_is_answered_without_a_server_error(live_bot):
    @fuzz_settings(max_examples=100)
    @given(body=JSON_VALUES | st.dictionaries(_known_keys, JSON_VALUES, max_size=6))
    @example(body={"broadcast": True, "text": "x", "card": {"type": "AdaptiveCard", "n": 10**4000}})
    @example(body={"broadcast": True, "text": "x", "attachments": [{"contentType": "x", "content": float("nan")}]})
    def fuzz(body):
        post_raw(live_bot, _json_bytes(body), JSON)

    fuzz()
    assert_channel_got_only_accepted_messages(live_bot)


@pytest.mark.parametrize(
    "body",
    [
        {"user": {"channelId": "emulator", "id": "fuzz-\ud800"}, "text": "x"},
        {"user": {"channelId": "emu\udc00lator", "id": "fuzz-ada"}, "text": "x"},
        {"conversation": "\udfff", "text": "x"},
        {"conversations": [{"channelId": "emulator", "id": "conv-\ud83d"}], "text": "x"},
        {"reference": {"conversation": {"id": "\udfff"}}, "message": "x"},
    ],
    ids=["user.id", "user.channelId", "conversation", "conversations[0].id", "reference.conversation.id"],
)
def test_a_lone_surrogate_in_a_target_id_is_a_400(live_bot, body):
    # JSON may escape half of a surrogate pair ("\ud800"); no channel has such an id, and
    # no database can store or even look one up.
    response = post_raw(live_bot, _json_bytes(body), JSON)
    assert response.status_code == 400, response.text


def test_known_targets_with_fuzzed_fields_are_answered_without_a_server_error(live_bot):
    statuses: Counter[int] = Counter()

    @fuzz_settings(max_examples=80)
    # A few fields at most, over a text, so that some of these requests are valid.
    @given(fields=st.dictionaries(_known_keys, JSON_VALUES, max_size=3), target=st.sampled_from(live_bot.targets()))
    @example(fields={"text": "\ud800 lone surrogate"}, target=live_bot.targets()[0])
    @example(
        fields={"text": "x", "card": {"type": "AdaptiveCard", "body": [{"text": "\udfff"}]}},
        target=live_bot.targets()[2],
    )
    def fuzz(fields, target):
        response = post_raw(live_bot, _json_bytes({"text": "fuzzed fields", **fields, **target}), JSON)
        statuses[response.status_code] += 1

    fuzz()
    assert statuses[202] > 0, statuses
    assert_channel_got_only_accepted_messages(live_bot)


def test_random_bytes_are_a_400(live_bot):
    @fuzz_settings(max_examples=60)
    @given(data=st.binary(max_size=300))
    @example(data=b"")
    @example(data=b"\xff\xfe{\x00}\x00")  # UTF-16 with a byte order mark
    @example(data=b'{"broadcast": true, "text": "\xff"}')  # not UTF-8
    @example(data=b'{"broadcast": true, "text": "x"')  # cut short
    # An integer longer than Python will convert (4300 digits), in an otherwise valid body.
    @example(data=b'{"broadcast": true, "text": "x", "card": {"type": "AdaptiveCard", "n": ' + b"9" * 5000 + b"}}")
    def fuzz(data):
        assert post_raw(live_bot, data, JSON).status_code == 400

    fuzz()
    assert_channel_got_only_accepted_messages(live_bot)


def test_a_replayed_idempotency_key_stores_nothing_more(live_bot):
    body = _json_bytes({**live_bot.targets()[1], "text": "replayed once"})
    headers = {**JSON, "Idempotency-Key": "fuzz-replay"}
    first = post_raw(live_bot, body, headers)
    again = post_raw(live_bot, body, headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = post_raw(live_bot, _json_bytes({**live_bot.targets()[1], "text": "another"}), headers)
    assert other.status_code == 422
    assert_channel_got_only_accepted_messages(live_bot)


CONTENT_TYPES = [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml",
    "application/jsonx", "application/merge-patch+json", "json", "*/*", "",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_a_valid_body_of_another_content_type_is_a_415(live_bot, content_type):
    body = {**live_bot.targets()[0], "text": "sent as the wrong type"}
    response = post_raw(live_bot, _json_bytes(body), {**AUTH, "Content-Type": content_type})
    assert response.status_code == 415
    assert_channel_got_only_accepted_messages(live_bot)
    assert not any(r.text == "sent as the wrong type" for r in live_bot.channel.received)


NESTING_LIMIT = 32  # levels, the outer object being the first
BODY_LIMIT = Settings().notify_max_body_bytes


def test_deep_nesting_is_refused_at_the_limit_and_never_crashes(live_bot):
    statuses: Counter[int] = Counter()

    @fuzz_settings(max_examples=30)
    # Generated depths stay well inside what the JSON decoder parses without recursing to
    # the interpreter's limit; the explicit examples go past it.
    @given(depth=st.integers(min_value=1, max_value=600))
    @example(depth=NESTING_LIMIT - 2)  # the deepest accepted: object, card, then the lists
    @example(depth=NESTING_LIMIT - 1)
    @example(depth=5_000)  # deeper than the JSON decoder's recursion limit
    @example(depth=BODY_LIMIT // 2)  # over the body size limit
    def fuzz(depth):
        body = (
            b'{"user": {"channelId": "emulator", "id": "fuzz-ada"}, "text": "nested",'
            b' "card": {"type": "AdaptiveCard", "body": ' + b"[" * depth + b"]" * depth + b"}}"
        )
        if depth > 600:
            # The server's decoder recurses to the interpreter's limit on this body, so a
            # garbage collection that happened to run at that depth would fail in finalizers
            # (an "unraisable" RecursionError, which pytest reports as an error of this test).
            # Leave nothing to collect.
            gc.collect()
        response = post_raw(live_bot, body, JSON)
        statuses[response.status_code] += 1
        if len(body) > BODY_LIMIT:
            assert response.status_code == 413
        elif depth <= NESTING_LIMIT - 2:
            assert response.status_code == 202, response.text
        else:
            assert response.status_code == 400

    fuzz()
    assert {202, 400, 413} <= set(statuses), statuses
    assert_channel_got_only_accepted_messages(live_bot)
