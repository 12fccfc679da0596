"""What an external system may ask the bot to send: the notify request, validated.

Both routes (``POST /api/notify`` and a Direct Line ``proactive`` event) hand the same JSON
object to :func:`parse_notify_request`, which either returns a :class:`NotifyRequest` or
raises :class:`NotifyError` naming the field at fault. Nothing is stored or sent for a
request that fails here.

Targets are identities the bot already knows (a user, a conversation, everyone), never raw
addresses: the legacy ``reference`` contracts are read only for their channel and
conversation id, so a caller can't make the bot post, with its credentials, to a
``serviceUrl`` of the caller's choosing.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    AttachmentLayoutTypes,
    CardAction,
    SuggestedActions,
)

from models.card_json import ADAPTIVE_CARD


MAX_TEXT = 10_000
MAX_SUMMARY = 500
MAX_ATTACHMENTS = 10
MAX_ACTIONS = 10
MAX_ACTION_TEXT = 500
MAX_IDEMPOTENCY_KEY = 255
MAX_AHEAD = timedelta(days=366)
# An ``at`` a little in the past (clock skew, a retried request) is sent now; further back
# it is surely a mistake.
PAST_GRACE = timedelta(minutes=5)

_ID_LIMITS = {"channelId": 64, "user": 256, "conversation": 512}
TARGET_FIELDS = (
    "user", "users", "conversation", "conversations", "broadcast",
    "reference", "references", "conversationReference",
)
CONTENT_FIELDS = (
    "text", "message", "textFormat", "summary", "attachments", "attachmentLayout",
    "suggestedActions", "card",
)
OTHER_FIELDS = ("at", "appId", "idempotencyKey")
KNOWN_FIELDS = frozenset(TARGET_FIELDS + CONTENT_FIELDS + OTHER_FIELDS)
ACTION_TYPES = ("imBack", "messageBack", "postBack", "openUrl")


class NotifyError(ValueError):
    """A request that can't be accepted; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": str(self), "field": self.field}


@dataclass(frozen=True)
class Targets:
    """Who gets the message: everyone, or listed users and conversations.

    ``conversations`` holds (channel id or None for any channel, conversation id).
    """

    broadcast: bool = False
    users: tuple[tuple[str, str], ...] = ()
    conversations: tuple[tuple[str | None, str], ...] = ()

    def count(self) -> int:
        return len(self.users) + len(self.conversations)

    def to_json(self) -> dict[str, Any]:
        return {
            "broadcast": self.broadcast,
            "users": [list(user) for user in self.users],
            "conversations": [list(conversation) for conversation in self.conversations],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Targets:
        return cls(
            broadcast=bool(data.get("broadcast")),
            users=tuple((c, u) for c, u in data.get("users", [])),
            conversations=tuple((c, i) for c, i in data.get("conversations", [])),
        )


@dataclass(frozen=True)
class NotifyRequest:
    """A validated request: whom, what (a serialised message activity), and when."""

    targets: Targets
    activity: dict[str, Any]
    at: datetime | None
    idempotency_key: str | None
    request_hash: str = field(repr=False)


def _clean(value: str) -> str:
    """Drop control characters other than line breaks and tabs (PostgreSQL refuses NUL)."""
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _string(value: Any, name: str, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise NotifyError(name, "must be a string")
    if len(value) > limit:  # before cleaning, so the limit is the one the caller sees
        raise NotifyError(name, f"must be at most {limit} characters")
    value = _clean(value).strip()
    if not value:
        if not required:
            return None
        raise NotifyError(name, "must not be empty")
    return value


def _identifier(value: Any, name: str, kind: str) -> str:
    """An id as channels send it: non-empty, no control characters, at most the stored length."""
    limit = _ID_LIMITS[kind]
    if not isinstance(value, str) or not value:
        raise NotifyError(name, "must be a non-empty string")
    # Cs: half a surrogate pair (JSON can carry one) is no character a database can store.
    if len(value) > limit or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise NotifyError(name, f"must be at most {limit} characters, without control characters")
    return value


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotifyError(name, "must be an object")
    return value


def _list(value: Any, name: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise NotifyError(name, "must be a list")
    if len(value) > limit:
        raise NotifyError(name, f"must have at most {limit} items")
    return value


def _user(value: Any, name: str) -> tuple[str, str]:
    user = _object(value, name)
    unknown = set(user) - {"channelId", "id", "name", "role", "aadObjectId"}
    if unknown:
        raise NotifyError(f"{name}.{sorted(unknown)[0]}", "is not a known field")
    return (
        _identifier(user.get("channelId"), f"{name}.channelId", "channelId"),
        _identifier(user.get("id"), f"{name}.id", "user"),
    )


def _conversation(value: Any, name: str) -> tuple[str | None, str]:
    if isinstance(value, str):
        return None, _identifier(value, name, "conversation")
    conversation = _object(value, name)
    unknown = set(conversation) - {"channelId", "id"}
    if unknown:
        raise NotifyError(f"{name}.{sorted(unknown)[0]}", "is not a known field")
    channel = conversation.get("channelId")
    return (
        None if channel is None else _identifier(channel, f"{name}.channelId", "channelId"),
        _identifier(conversation.get("id"), f"{name}.id", "conversation"),
    )


def _reference(value: Any, name: str) -> tuple[str | None, str]:
    """The conversation a serialised ``ConversationReference`` points at (its only use here)."""
    reference = _object(value, name)
    conversation = _object(reference.get("conversation"), f"{name}.conversation")
    channel = reference.get("channelId")
    return (
        None if channel is None else _identifier(channel, f"{name}.channelId", "channelId"),
        _identifier(conversation.get("id"), f"{name}.conversation.id", "conversation"),
    )


def _targets(body: dict[str, Any], max_targets: int) -> Targets:
    if "broadcast" in body and not isinstance(body["broadcast"], bool):
        raise NotifyError("broadcast", "must be true or false")
    broadcast = body.get("broadcast") is True
    users: list[tuple[str, str]] = []
    conversations: list[tuple[str | None, str]] = []
    if "user" in body:
        users.append(_user(body["user"], "user"))
    if "users" in body:
        for i, item in enumerate(_list(body["users"], "users", max_targets)):
            users.append(_user(item, f"users[{i}]"))
    if "conversation" in body:
        conversations.append(_conversation(body["conversation"], "conversation"))
    if "conversations" in body:
        for i, item in enumerate(_list(body["conversations"], "conversations", max_targets)):
            conversations.append(_conversation(item, f"conversations[{i}]"))
    for name in ("reference", "conversationReference"):
        if name in body:
            conversations.append(_reference(body[name], name))
    if "references" in body:
        for i, item in enumerate(_list(body["references"], "references", max_targets)):
            conversations.append(_reference(item, f"references[{i}]"))
    listed = len(users) + len(conversations)
    if broadcast and listed:
        raise NotifyError("broadcast", "can't be combined with other targets")
    if not broadcast and not listed:
        if any(name in body for name in ("users", "conversations", "references")):
            raise NotifyError("targets", "the target lists are empty")
        raise NotifyError(
            "targets",
            "say whom to message: user, users, conversation, conversations, broadcast or reference",
        )
    if listed > max_targets:
        raise NotifyError("targets", f"at most {max_targets} targets per request, got {listed}")
    # Duplicates are harmless (each conversation gets the message once); drop them here.
    return Targets(
        broadcast=broadcast,
        users=tuple(dict.fromkeys(users)),
        conversations=tuple(dict.fromkeys(conversations)),
    )


MAX_URL = 2048


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise NotifyError(name, "must be a string")
    if len(value) > MAX_URL or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise NotifyError(name, f"must be at most {MAX_URL} characters, without control characters")
    if not value.lower().startswith(("https://", "http://", "data:")):
        raise NotifyError(name, "must be an http(s) or data: URL")
    return value


def _attachment(value: Any, name: str) -> Attachment:
    item = _object(value, name)
    unknown = set(item) - {"contentType", "content", "contentUrl", "name", "thumbnailUrl"}
    if unknown:
        raise NotifyError(f"{name}.{sorted(unknown)[0]}", "is not a known field")
    content_type = _string(item.get("contentType"), f"{name}.contentType", 255)
    content = item.get("content")
    if content is not None and not isinstance(content, (dict, str)):
        raise NotifyError(f"{name}.content", "must be an object or a string")
    if content_type == ADAPTIVE_CARD:
        _card(content, f"{name}.content")
    content_url = None if item.get("contentUrl") is None else _url(item["contentUrl"], f"{name}.contentUrl")
    if content is None and content_url is None:
        raise NotifyError(name, "needs content or contentUrl")
    return Attachment(
        content_type=content_type,
        content=content,
        content_url=content_url,
        name=_string(item.get("name"), f"{name}.name", 255, required=False),
        thumbnail_url=None
        if item.get("thumbnailUrl") is None
        else _url(item["thumbnailUrl"], f"{name}.thumbnailUrl"),
    )


def _card(value: Any, name: str) -> dict[str, Any]:
    card = _object(value, name)
    if card.get("type") != "AdaptiveCard":
        raise NotifyError(f"{name}.type", 'must be "AdaptiveCard"')
    if "body" in card and not isinstance(card["body"], list):
        raise NotifyError(f"{name}.body", "must be a list")
    if "actions" in card and not isinstance(card["actions"], list):
        raise NotifyError(f"{name}.actions", "must be a list")
    if "version" in card and not isinstance(card["version"], str):
        raise NotifyError(f"{name}.version", 'must be a string such as "1.3"')
    return card


def _action(value: Any, name: str) -> CardAction:
    if isinstance(value, str):
        title = _string(value, name, MAX_ACTION_TEXT)
        return CardAction(type="imBack", title=title, value=title)
    item = _object(value, name)
    unknown = set(item) - {"type", "title", "value", "text", "displayText", "image"}
    if unknown:
        raise NotifyError(f"{name}.{sorted(unknown)[0]}", "is not a known field")
    kind = item.get("type", "imBack")
    if kind not in ACTION_TYPES:
        raise NotifyError(f"{name}.type", f"must be one of {', '.join(ACTION_TYPES)}")
    title = _string(item.get("title"), f"{name}.title", MAX_ACTION_TEXT)
    raw = item.get("value", title)
    if kind == "openUrl":
        action_value: Any = _url(raw, f"{name}.value")
    elif isinstance(raw, str):
        action_value = _string(raw, f"{name}.value", MAX_ACTION_TEXT)
    elif isinstance(raw, dict) and kind in ("messageBack", "postBack"):
        action_value = raw
    else:
        raise NotifyError(f"{name}.value", "must be a string (or an object for messageBack/postBack)")
    return CardAction(
        type=kind,
        title=title,
        value=action_value,
        text=_string(item.get("text"), f"{name}.text", MAX_ACTION_TEXT, required=False),
        display_text=_string(item.get("displayText"), f"{name}.displayText", MAX_ACTION_TEXT, required=False),
        image=None if item.get("image") is None else _url(item["image"], f"{name}.image"),
    )


def _suggested_actions(value: Any) -> SuggestedActions:
    # Either the Bot Framework shape {"actions": [...]} or just the list of actions.
    if isinstance(value, dict):
        unknown = set(value) - {"actions", "to"}
        if unknown:
            raise NotifyError(f"suggestedActions.{sorted(unknown)[0]}", "is not a known field")
        items, name = value.get("actions"), "suggestedActions.actions"
    else:
        items, name = value, "suggestedActions"
    actions = [_action(item, f"{name}[{i}]") for i, item in enumerate(_list(items, name, MAX_ACTIONS))]
    if not actions:
        raise NotifyError(name, "must not be empty")
    return SuggestedActions(actions=actions)


def _content(body: dict[str, Any]) -> Activity:
    if "text" in body and "message" in body:
        raise NotifyError("message", 'give "text" or its older name "message", not both')
    text_field = "message" if "message" in body else "text"
    text = _string(body.get(text_field), text_field, MAX_TEXT, required=False)
    summary = _string(body.get("summary"), "summary", MAX_SUMMARY, required=False)
    text_format = body.get("textFormat")
    if text_format is not None and text_format not in ("markdown", "plain", "xml"):
        raise NotifyError("textFormat", 'must be "markdown", "plain" or "xml"')
    attachments = []
    if body.get("attachments") is not None:
        items = _list(body["attachments"], "attachments", MAX_ATTACHMENTS)
        attachments = [_attachment(item, f"attachments[{i}]") for i, item in enumerate(items)]
    if body.get("card") is not None:
        if len(attachments) >= MAX_ATTACHMENTS:
            raise NotifyError("card", f"at most {MAX_ATTACHMENTS} attachments, the card included")
        attachments.insert(0, Attachment(content_type=ADAPTIVE_CARD, content=_card(body["card"], "card")))
    layout = body.get("attachmentLayout")
    if layout is not None and layout not in ("list", "carousel"):
        raise NotifyError("attachmentLayout", 'must be "list" or "carousel"')
    suggested = None if body.get("suggestedActions") is None else _suggested_actions(body["suggestedActions"])
    if text is None and not attachments:
        raise NotifyError("text", "the message needs text, attachments or a card")
    activity = Activity(
        type=ActivityTypes.message,
        text=text,
        text_format=text_format,
        # Shown by channels that can't render cards, and in notifications.
        summary=summary or (text[:MAX_SUMMARY] if text and attachments else None),
        attachments=attachments or None,
        suggested_actions=suggested,
    )
    if len(attachments) > 1:
        # Several attachments side by side: a carousel unless the caller asked for a list.
        activity.attachment_layout = layout or AttachmentLayoutTypes.carousel
    elif layout:
        activity.attachment_layout = layout
    return activity


def parse_at(value: Any, *, now: datetime) -> datetime | None:
    """The requested delivery time: None for now; raises NotifyError if unusable."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise NotifyError("at", "must be an ISO 8601 time with a UTC offset, e.g. 2026-11-24T18:00:00Z")
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise NotifyError("at", "is not an ISO 8601 time (e.g. 2026-11-24T18:00:00Z)") from None
    if at.tzinfo is None:
        raise NotifyError("at", "needs a UTC offset (e.g. 2026-11-24T18:00:00Z or +01:00)")
    try:
        at = at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise NotifyError("at", "is out of range") from None
    if at < now - PAST_GRACE:
        raise NotifyError("at", "is in the past")
    if at - now > MAX_AHEAD:
        raise NotifyError("at", "may be at most 366 days ahead")
    return at if at > now else None


def idempotency_key_problem(key: str) -> str | None:
    """Why an Idempotency-Key can't be used, or None when it can."""
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        return f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
    if not all(" " <= ch <= "~" for ch in key):
        return "must be printable ASCII"
    return None


def request_hash(body: dict[str, Any]) -> str:
    """A fingerprint of what was asked, to tell a retry from a different request reusing a key."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay_identity(body: Any, header_key: str | None) -> tuple[str, str] | None:
    """(idempotency key, request hash) of a body, if it carries a usable key.

    Looked up before validation: a retry of an accepted request gets the first answer even
    when it would no longer validate (its ``at`` has passed meanwhile).
    """
    if not isinstance(body, dict):
        return None
    key = header_key if header_key is not None else body.get("idempotencyKey")
    if not isinstance(key, str) or idempotency_key_problem(key) or _structure_problem(body):
        return None
    return key, request_hash({k: v for k, v in body.items() if k != "idempotencyKey"})


MAX_DEPTH = 32


def _structure_problem(value: Any) -> str | None:
    """Nesting deeper than MAX_DEPTH, or a NaN/infinity (Python's JSON reads them; nothing
    downstream can). Walked without recursion, so no input can exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"must not nest deeper than {MAX_DEPTH} levels"
        if isinstance(item, float) and not math.isfinite(item):
            return "must not contain NaN or Infinity"
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


def parse_notify_request(
    body: Any,
    *,
    now: datetime,
    max_targets: int,
    idempotency_key: str | None = None,
) -> NotifyRequest:
    """Validate a notify body (and the Idempotency-Key header, if any).

    Args:
        body: the parsed JSON.
        now: the current aware UTC time (``at`` is checked against it).
        max_targets: the most users and conversations one request may list.
        idempotency_key: the ``Idempotency-Key`` header; the body's ``idempotencyKey``
            (the Direct Line route has no headers) is used when it is absent.

    Raises:
        NotifyError: the first problem found, naming its field.
    """
    if not isinstance(body, dict):
        raise NotifyError("body", "must be a JSON object")
    unknown = sorted(set(body) - KNOWN_FIELDS)
    if unknown:
        raise NotifyError(unknown[0], "is not a known field")
    problem = _structure_problem(body)
    if problem:
        raise NotifyError("body", problem)
    targets = _targets(body, max_targets)
    activity = _content(body)
    at = parse_at(body.get("at"), now=now)
    if "appId" in body and not isinstance(body["appId"], (str, type(None))):
        raise NotifyError("appId", "must be a string")  # accepted for old callers, not used
    body_key = body.get("idempotencyKey")
    if body_key is not None:
        if not isinstance(body_key, str) or idempotency_key_problem(body_key):
            raise NotifyError("idempotencyKey", idempotency_key_problem(str(body_key)) or "must be a string")
        if idempotency_key is not None and idempotency_key != body_key:
            raise NotifyError("idempotencyKey", "differs from the Idempotency-Key header")
    key = idempotency_key if idempotency_key is not None else body_key
    fingerprint = {k: v for k, v in body.items() if k != "idempotencyKey"}
    return NotifyRequest(
        targets=targets,
        activity=activity.serialize(),
        at=at,
        idempotency_key=key,
        request_hash=request_hash(fingerprint),
    )
