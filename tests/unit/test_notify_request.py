"""parse_notify_request without HTTP: any JSON value gives a request or a NotifyError, and
the message built from an accepted one is what channels expect."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botbuilder.schema import Activity
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.notify_request import (
    ADAPTIVE_CARD,
    KNOWN_FIELDS,
    MAX_AHEAD,
    PAST_GRACE,
    NotifyError,
    NotifyRequest,
    parse_notify_request,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ALICE = {"channelId": "emulator", "id": "alice"}
BOB = {"channelId": "emulator", "id": "bob"}
CARD = {"type": "AdaptiveCard", "version": "1.3", "body": [{"type": "TextBlock", "text": "Shipped"}]}


def parse(body: Any, *, idempotency_key: str | None = None, max_targets: int = 10) -> NotifyRequest:
    return parse_notify_request(body, now=NOW, max_targets=max_targets, idempotency_key=idempotency_key)


def refused(body: Any, **kwargs: Any) -> NotifyError:
    with pytest.raises(NotifyError) as info:
        parse(body, **kwargs)
    return info.value


def image(name: str) -> dict[str, str]:
    return {"contentType": "image/png", "contentUrl": f"https://example.com/{name}.png", "name": name}


# --- any JSON value -----------------------------------------------------------------------

# Names a body may use, plus the nested ones, so that generated objects get past the
# "is not a known field" check and reach the deeper validation now and then.
NESTED_FIELDS = (
    "channelId", "id", "name", "conversation", "contentType", "content", "contentUrl", "thumbnailUrl",
    "type", "title", "value", "text", "displayText", "image", "actions", "to", "body", "version",
)
FIELD_NAMES = st.sampled_from(sorted(KNOWN_FIELDS | set(NESTED_FIELDS)))
TEXT = (
    st.text(max_size=20)
    | st.text(st.characters(codec=None), max_size=5)  # lone surrogates and control characters too
    | st.sampled_from(["", " ", "\x00", "emulator", "AdaptiveCard", ADAPTIVE_CARD, "https://example.com/a.png",
                       "imBack", "openUrl", "list", "carousel", "markdown", "2026-12-01T10:00:00Z"])
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**4000), max_value=10**4000)  # huge, still valid JSON
    | st.floats()  # NaN and infinities included: Python's JSON decoder reads them
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(FIELD_NAMES | TEXT, children, max_size=5),
    max_leaves=30,
)

# Bodies near a valid one: a valid request with a few fields replaced, each by a plausible or
# an arbitrary value, so that both outcomes occur and refusals come from every check.
VALID = st.builds(
    lambda target, content: {**target, **content},
    st.sampled_from([{"user": ALICE}, {"users": [ALICE, BOB]}, {"conversation": "c1"}, {"broadcast": True},
                     {"references": [{"conversation": {"id": "c2"}}]}]),
    st.sampled_from([{"text": "hi"}, {"card": CARD}, {"message": "hi", "attachments": [image("a")]}]),
)
PLAUSIBLE = {
    "user": st.just(BOB) | JSON,
    "users": st.lists(st.sampled_from([ALICE, BOB]), max_size=3) | JSON,
    "conversation": st.sampled_from(["c1", {"id": "c2"}, {"channelId": "emulator", "id": "c3"}]) | JSON,
    "conversations": st.lists(st.sampled_from(["c1", {"id": "c2"}]), max_size=3) | JSON,
    "broadcast": st.booleans() | JSON,
    "reference": st.just({"channelId": "emulator", "conversation": {"id": "c4"}}) | JSON,
    "text": TEXT | JSON,
    "textFormat": st.sampled_from(["markdown", "plain", "xml"]) | JSON,
    "summary": TEXT,
    "attachments": st.lists(st.builds(image, st.sampled_from("ab")) | JSON, max_size=3) | JSON,
    "attachmentLayout": st.sampled_from(["list", "carousel"]) | JSON,
    "card": st.just(CARD) | JSON,
    "suggestedActions": st.lists(TEXT | JSON, max_size=3) | JSON,
    "at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat) | TEXT | JSON,
    "idempotencyKey": TEXT | JSON,
    "appId": TEXT | JSON,
}
REPLACEMENTS = st.lists(
    st.sampled_from(sorted(PLAUSIBLE)).flatmap(lambda name: PLAUSIBLE[name].map(lambda value: (name, value))),
    max_size=3,
).map(dict)
NEAR_VALID = st.builds(lambda valid, replaced: {**valid, **replaced}, VALID, REPLACEMENTS)
BODIES = JSON | st.dictionaries(FIELD_NAMES, JSON, max_size=6) | NEAR_VALID


def _assert_accepted_request_is_usable(request: NotifyRequest) -> None:
    activity = Activity().deserialize(request.activity)
    assert activity.type == "message"
    assert activity.text or activity.attachments
    if activity.text is not None:
        assert activity.text.strip() == activity.text
        assert all(ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in activity.text)
    # Stored as JSON and posted to channels: no NaN or infinity may hide in it.
    json.dumps(request.activity, allow_nan=False)
    assert request.targets.broadcast != (request.targets.count() > 0)
    assert request.at is None or NOW < request.at <= NOW + MAX_AHEAD
    assert len(request.request_hash) == 64


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(body=BODIES, header_key=st.none() | st.sampled_from(["k1", "k2"]))
@example(body={"broadcast": True, "text": "x", "card": {"type": "AdaptiveCard", "n": math.nan}}, header_key=None)
@example(
    body={"broadcast": True, "text": "x", "attachments": [{"contentType": "x", "content": {"n": -math.inf}}]},
    header_key=None,
)
@example(body={"broadcast": True, "card": {"type": "AdaptiveCard", "body": [10**4000]}}, header_key=None)
@example(body={"user": ALICE, "text": "\x00\x01 \t"}, header_key=None)
@example(body={"user": ALICE, "text": "hi", "at": "9999-12-31T23:59:59-23:59"}, header_key=None)
@example(body={"user": ALICE, "text": "hi", "at": "0001-01-01T00:00:00+23:59"}, header_key=None)
@example(body={"user": ALICE, "text": "hi", "idempotencyKey": ["k1"]}, header_key="k1")
def test_any_json_value_gives_a_request_or_a_notify_error(body, header_key):
    try:
        request = parse(body, idempotency_key=header_key, max_targets=1000)
    except NotifyError as error:
        assert str(error).startswith(f"{error.field}: ")
        assert error.body() == {"error": str(error), "field": error.field}
    else:
        _assert_accepted_request_is_usable(request)


def test_generated_bodies_reach_both_outcomes():
    """The property above would pass vacuously if every body were refused (or accepted)."""
    outcomes: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=BODIES)
    def count(body):
        try:
            parse(body, max_targets=1000)
        except NotifyError as error:
            outcomes[error.field.split(".")[0].split("[")[0]] += 1
        else:
            outcomes["accepted"] += 1

    count()
    assert outcomes["accepted"] >= 10, outcomes
    assert sum(outcomes.values()) - outcomes["accepted"] >= 10, outcomes
    # Refusals come from the deep checks too, not only the first, shallow ones (which of
    # them varies with the generator, so ask for several rather than a fixed list).
    deep = set(outcomes) - {"accepted", "body", "targets", ""}
    assert len(deep) >= 5, outcomes


@pytest.mark.parametrize(
    "target, field",
    [
        ({"user": {"channelId": "emulator", "id": "al\ud800ice"}}, "user.id"),
        ({"user": {"channelId": "emu\udc00", "id": "alice"}}, "user.channelId"),
        ({"conversations": ["\udfff"]}, "conversations[0]"),
        ({"reference": {"conversation": {"id": "c\ud83d"}}}, "reference.conversation.id"),
    ],
    ids=["user.id", "user.channelId", "conversations[0]", "reference.conversation.id"],
)
def test_an_id_with_a_lone_surrogate_is_refused(target, field):
    # JSON can carry half a surrogate pair ("\ud800"); no channel sends such an id, and no
    # database driver can encode it, so it must be refused here like a control character.
    assert refused({**target, "text": "x"}).field == field


# --- the message ---------------------------------------------------------------------------


def test_two_or_more_attachments_are_a_carousel():
    activity = parse({"user": ALICE, "attachments": [image("a"), image("b")]}).activity
    assert activity["attachmentLayout"] == "carousel"
    assert [a["name"] for a in activity["attachments"]] == ["a", "b"]
    single = parse({"user": ALICE, "attachments": [image("a")]}).activity
    assert "attachmentLayout" not in single


def test_attachment_layout_list_is_respected():
    activity = parse({"user": ALICE, "attachments": [image("a"), image("b")], "attachmentLayout": "list"}).activity
    assert activity["attachmentLayout"] == "list"


def test_card_becomes_the_first_attachment_as_an_adaptive_card():
    activity = parse({"user": ALICE, "text": "Order 1042", "card": CARD, "attachments": [image("a")]}).activity
    first, second = activity["attachments"]
    assert first == {"contentType": ADAPTIVE_CARD, "content": CARD}
    assert second["name"] == "a"
    assert activity["attachmentLayout"] == "carousel"
    # Channels that can't show cards show the summary: the text, unless one is given.
    assert activity["summary"] == "Order 1042"
    card_only = parse({"user": ALICE, "card": CARD}).activity
    assert card_only["attachments"] == [{"contentType": ADAPTIVE_CARD, "content": CARD}]
    assert "text" not in card_only


@pytest.mark.parametrize("suggested", [["Yes", " No "], {"actions": ["Yes", "No"]}])
def test_string_suggested_actions_become_im_back_buttons(suggested):
    activity = parse({"user": ALICE, "text": "Coming?", "suggestedActions": suggested}).activity
    assert activity["suggestedActions"]["actions"] == [
        {"type": "imBack", "title": "Yes", "value": "Yes"},
        {"type": "imBack", "title": "No", "value": "No"},
    ]


def test_text_is_cleaned_of_control_characters_and_blank_text_is_no_text():
    assert parse({"user": ALICE, "text": " a\x00b\x07\nc\t "}).activity["text"] == "ab\nc"
    assert refused({"user": ALICE, "text": " \x00 "}).field == "text"


# --- targets -------------------------------------------------------------------------------


def test_duplicate_targets_are_listed_once_in_their_first_order():
    request = parse(
        {
            "users": [BOB, ALICE, BOB],
            "user": ALICE,
            "conversations": ["c1", {"id": "c1"}, {"channelId": "emulator", "id": "c1"}],
            "reference": {"channelId": "emulator", "conversation": {"id": "c1"}},
            "text": "x",
        }
    )
    assert request.targets.users == (("emulator", "alice"), ("emulator", "bob"))
    # "c1" on any channel and "c1" on the emulator channel are different targets.
    assert request.targets.conversations == ((None, "c1"), ("emulator", "c1"))
    assert request.targets.count() == 4


def test_duplicates_still_count_against_the_target_limit():
    assert refused({"users": [ALICE] * 3, "text": "x"}, max_targets=2).field == "users"


# --- at ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(seconds=1), PAST_GRACE])
def test_at_up_to_five_minutes_ago_means_now(ago):
    assert parse({"user": ALICE, "text": "x", "at": (NOW - ago).isoformat()}).at is None


@pytest.mark.parametrize("ago", [PAST_GRACE + timedelta(seconds=1), timedelta(days=1)])
def test_at_further_back_is_refused(ago):
    error = refused({"user": ALICE, "text": "x", "at": (NOW - ago).isoformat()})
    assert error.field == "at" and "past" in error.message


def test_at_ahead_is_kept_in_utc_up_to_366_days():
    at = parse({"user": ALICE, "text": "x", "at": "2026-11-24T14:30:00+01:00"}).at
    assert at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
    assert parse({"user": ALICE, "text": "x", "at": (NOW + MAX_AHEAD).isoformat()}).at == NOW + MAX_AHEAD


@pytest.mark.parametrize("ahead", [MAX_AHEAD + timedelta(seconds=1), timedelta(days=400)])
def test_at_more_than_366_days_ahead_is_refused(ahead):
    error = refused({"user": ALICE, "text": "x", "at": (NOW + ahead).isoformat().replace("+00:00", "Z")})
    assert error.field == "at" and "366 days" in error.message


# --- idempotency ---------------------------------------------------------------------------


def test_idempotency_key_in_the_body_must_match_the_header():
    body = {"user": ALICE, "text": "x", "idempotencyKey": "order-1042"}
    error = refused(body, idempotency_key="order-1043")
    assert error.field == "idempotencyKey" and "Idempotency-Key header" in error.message
    assert parse(body, idempotency_key="order-1042").idempotency_key == "order-1042"
    assert parse(body).idempotency_key == "order-1042"
    assert parse({"user": ALICE, "text": "x"}, idempotency_key="h").idempotency_key == "h"


def test_request_hash_ignores_key_order_and_the_idempotency_key():
    one = parse({"user": ALICE, "text": "x", "card": CARD, "idempotencyKey": "a"})
    reordered_card = dict(reversed(list(CARD.items())))
    two = parse({"card": reordered_card, "text": "x", "user": {"id": "alice", "channelId": "emulator"}})
    assert one.request_hash == two.request_hash
    assert parse({"user": ALICE, "text": "y"}).request_hash != one.request_hash
    assert parse({"user": BOB, "text": "x", "card": CARD}).request_hash != one.request_hash
