"""What ``POST /api/messages`` accepts before an activity reaches the bot or the database.

A real channel sends identifiers as short strings of valid Unicode. Anything else (a number
where an id belongs, a lone UTF-16 surrogate that JSON's ``\\ud800`` escape can smuggle in, an id
longer than its column, a control character) is refused with 400 naming the field, instead of
failing later inside the turn, in the JSON codec or in the database driver.

The schema is a pydantic model of only the fields Nudge reads or stores; every other field is
allowed and passed through untouched. Lengths come from the table columns, so the limit the
server states is the one the database holds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from models.tables import Conversation, User

__all__ = ["ID_LIMITS", "activity_problem", "lone_surrogate_path"]


def _column_length(column) -> int:
    return column.type.length


#: Longest identifier of each kind the database stores (models/tables.py).
ID_LIMITS = {
    "channelId": _column_length(User.__table__.c.channel_id),
    "from.id": _column_length(User.__table__.c.user_id),
    "from.aadObjectId": _column_length(User.__table__.c.aad_object_id),
    "conversation.id": _column_length(Conversation.__table__.c.conversation_id),
    "serviceUrl": _column_length(Conversation.__table__.c.service_url),
}
# Stored only inside the conversation reference; bounded so a reference stays small.
_OTHER_ID = 256
_SHORT = 64
# Channels write names freely; they are shortened when stored, so only a sanity bound here.
_NAME = 1024

# C0 controls and DEL never appear in a channel's identifiers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _identifier(limit: int):
    return Annotated[
        str,
        StringConstraints(strict=True, min_length=1, max_length=limit),
        AfterValidator(_no_controls),
    ]


def _text(limit: int):
    return Annotated[str, StringConstraints(strict=True, max_length=limit)]


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return _no_controls(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class _Account(_Model):
    id: _identifier(ID_LIMITS["from.id"])
    name: _text(_NAME) | None = None
    aadObjectId: _identifier(ID_LIMITS["from.aadObjectId"]) | None = None
    role: _text(_SHORT) | None = None


class _Recipient(_Model):
    id: _identifier(_OTHER_ID) | None = None
    name: _text(_NAME) | None = None


class _Conversation(_Model):
    id: _identifier(ID_LIMITS["conversation.id"])
    name: _text(_NAME) | None = None
    tenantId: _identifier(_SHORT) | None = None
    conversationType: _identifier(_SHORT) | None = None
    isGroup: bool | None = None


class InboundActivity(_Model):
    """The identifiers of an inbound activity, as a real channel sends them."""

    type: _identifier(_SHORT)
    channelId: _identifier(ID_LIMITS["channelId"]) | None = None
    serviceUrl: Annotated[_identifier(ID_LIMITS["serviceUrl"]), AfterValidator(_http_url)]
    from_: _Account = Field(alias="from")
    conversation: _Conversation
    recipient: _Recipient | None = None
    id: _identifier(_OTHER_ID) | None = None
    replyToId: _identifier(_OTHER_ID) | None = None
    locale: _identifier(_SHORT) | None = None
    localTimezone: _identifier(_SHORT) | None = None
    text: _text(1_000_000) | None = None
    name: _identifier(_OTHER_ID) | None = None


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """The JSON path of the first string holding a lone UTF-16 surrogate, or None.

    ``json.loads`` turns ``"\\ud800"`` into a Python string no UTF-8 codec can write; every key
    and string of the body is checked, as any of them may be stored or echoed.
    """
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return where or "body"
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{key}" if where else str(key)
                try:
                    str(key).encode("utf-8")
                except UnicodeEncodeError:
                    return where or "body"
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", inner) for index, inner in enumerate(item))
    return None


def _field_name(location: tuple[Any, ...]) -> str:
    parts = ["from" if part == "from_" else str(part) for part in location if not isinstance(part, int)]
    # Drop pydantic's markers for annotated and union branches ("function-after[...]", "str").
    kept = [part for part in parts if not part.startswith(("function-", "constrained-")) and part not in ("str", "bool")]
    return ".".join(kept) or "body"


def _describe(error: dict[str, Any]) -> str:
    field = _field_name(error["loc"])
    kind = error["type"]
    limit = (error.get("ctx") or {}).get("max_length")
    if kind == "missing":
        return f"activity needs {field}"
    if kind == "string_too_long" and limit is not None:
        return f"{field} must be a string of at most {limit} characters"
    if kind == "string_too_short":
        return f"{field} must not be empty"
    if kind in ("string_type", "model_type", "model_attributes_type", "bool_type", "dict_type"):
        wanted = {"string_type": "a string", "bool_type": "true or false"}.get(kind, "an object")
        return f"{field} must be {wanted}"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{field} {message}"


def activity_problem(payload: dict[str, Any]) -> str | None:
    """Why an inbound activity (the parsed JSON body) can't be processed, or None when it can.

    The answer names the field: "conversation.id must be a string of at most 512 characters".
    """
    surrogate = lone_surrogate_path(payload)
    if surrogate is not None:
        return f"{surrogate} is not valid Unicode (a lone surrogate)"
    try:
        InboundActivity.model_validate(payload)
    except ValidationError as exc:
        return _describe(exc.errors(include_url=False)[0])
    return None
