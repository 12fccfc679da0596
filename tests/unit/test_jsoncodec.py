"""The JSON codec of the database columns and the sender: exact round trips, on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import jsoncodec
from models.db import make_sessionmaker, open_engine
from models.tables import Conversation, User, utcnow

AWKWARD = [
    {"amount": 2**70 + 1, "small": -(2**63), "big_unsigned": 2**64 - 1},  # beyond what orjson reads exactly
    {"text": "caf\u00e9 \U0001f600", "id": "29:1abcDEF_-0123456789012345678901234567890"},
    {"nested": [1, 2.5, None, True, False, {"deep": ["x"]}], "empty": {}, "list": []},
    {"float": 0.1, "exp": 1e300, "neg": -0.0},
]


@pytest.mark.parametrize("value", AWKWARD)
def test_text_round_trips_exactly(value):
    text = jsoncodec.dumps(value)
    assert jsoncodec.loads(text) == json.loads(text) == value
    assert jsoncodec.loads(jsoncodec.dumps_bytes(value)) == value


def test_a_body_with_a_lone_surrogate_is_still_valid_utf8_json():
    body = jsoncodec.dumps_bytes({"text": "broken \ud800 pair"})
    assert json.loads(body.decode("utf-8")) == {"text": "broken \ud800 pair"}


def test_what_orjson_refuses_falls_back_to_the_standard_library():
    assert jsoncodec.dumps({"s": "\ud800"}) == json.dumps({"s": "\ud800"})  # a lone surrogate
    assert jsoncodec.dumps({1: "x"}) == '{"1": "x"}'  # a non-string key, as json writes it
    assert jsoncodec.loads('{"n": NaN}')["n"] != jsoncodec.loads('{"n": NaN}')["n"]  # NaN, as json reads it
    assert jsoncodec.loads('{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}


async def test_json_columns_read_back_what_was_stored(migrated_url):
    engine = open_engine(migrated_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as session:
            user = User(channel_id="emulator", user_id="u1", updated_at=utcnow())
            session.add(user)
            await session.flush()
            for n, value in enumerate(AWKWARD):
                session.add(Conversation(
                    user_pk=user.id, channel_id="emulator", conversation_id=f"c{n}", service_url="http://127.0.0.1:1",
                    reference=value,
                    active=True, updated_at=utcnow(),
                ))
        async with sessionmaker() as session:
            stored = (await session.execute(select(Conversation.reference).order_by(Conversation.id))).scalars().all()
        assert stored == AWKWARD
    finally:
        await engine.dispose()
