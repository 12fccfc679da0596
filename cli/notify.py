"""Command-line client of the notify API, for operators and for external systems' scripts.

    python -m cli.notify --user emulator:abc --text "Your order shipped"
    python -m cli.notify --broadcast --text "Maintenance at 22:00" --at 2026-11-24T21:30:00Z
    python -m cli.notify --status 4cb41a13bf5d486ea1007e932f14681e
    python -m cli.notify --cancel 4cb41a13bf5d486ea1007e932f14681e

The key comes from ``NUDGE_API_KEY`` (never a flag, so it doesn't show in process lists or
shell history); the bot's address from ``--url`` or ``NUDGE_URL`` (default
``http://127.0.0.1:3978``). The server's JSON answer is printed on stdout.

Exit codes: 0 done; 1 the server refused the request (4xx; its error is printed on
stderr); 2 bad command line or missing key; 3 the server could not be reached or failed
(5xx), so retrying may help (pass ``--idempotency-key`` to make a retry safe).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
DEFAULT_URL = "http://127.0.0.1:3978"
NOTIFICATION_ID = re.compile(r"[0-9a-f]{32}")
# Channel ids are lower-case words (emulator, directline, msteams); a Teams conversation id
# ("19:abc@thread.tacv2") starts with digits, so it is not mistaken for CHANNEL:ID.
CHANNEL_PREFIX = re.compile(r"([a-z][a-z0-9_-]*):(.+)", re.DOTALL)
SEND_FLAGS = ("user", "conversation", "broadcast", "text", "markdown", "summary", "card", "suggest", "at", "idempotency_key")


class Usage(Exception):
    """A problem with the command line, found after argparse."""


def _identity(value: str, flag: str) -> dict[str, str]:
    # Channel ids never contain ":", user ids may (Teams: "29:1a2b..."): split on the first.
    channel, sep, rest = value.partition(":")
    if not sep or not channel or not rest:
        raise Usage(f"{flag} takes channelId:id, e.g. emulator:abc (got {value!r})")
    return {"channelId": channel, "id": rest}


def _conversation(value: str) -> str | dict[str, str]:
    match = CHANNEL_PREFIX.fullmatch(value)
    return {"channelId": match[1], "id": match[2]} if match else value


def build_body(args: argparse.Namespace) -> dict[str, Any]:
    """The request body the flags describe."""
    body: dict[str, Any] = {}
    if args.broadcast:
        if args.user or args.conversation:
            raise Usage("--broadcast can't be combined with --user or --conversation")
        body["broadcast"] = True
    if args.user:
        body["users"] = [_identity(user, "--user") for user in args.user]
    if args.conversation:
        body["conversations"] = [_conversation(c) for c in args.conversation]
    if not body:
        raise Usage("say whom to message: --user, --conversation or --broadcast")
    if args.text is not None:
        body["text"] = args.text
    if args.markdown:
        body["textFormat"] = "markdown"
    if args.summary is not None:
        body["summary"] = args.summary
    if args.card is not None:
        try:
            with open(args.card, encoding="utf-8") as handle:
                body["card"] = json.load(handle)
        except OSError as exc:
            raise Usage(f"--card: can't read {args.card}: {exc.strerror}") from None
        except ValueError as exc:
            raise Usage(f"--card: {args.card} is not JSON: {exc}") from None
    if args.suggest:
        body["suggestedActions"] = list(args.suggest)
    if args.at is not None:
        body["at"] = args.at
    if "text" not in body and "card" not in body:
        raise Usage("give --text or --card")
    return body


def _check_settings(base: str, key: str) -> None:
    """Mistakes no retry can fix, caught before anything is sent."""
    if not base.startswith(("http://", "https://")):
        raise Usage(f"--url / NUDGE_URL must start with http:// or https:// (got {base!r})")
    if not key.isascii() or not key.isprintable():
        raise Usage("NUDGE_API_KEY has characters that can't be sent in a header (a pasted quote?)")


def _request(method: str, url: str, key: str, body: dict | None, headers: dict[str, str], timeout: float):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (operator-given URL)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cli.notify",
        description="Ask the Nudge bot to message users (key in NUDGE_API_KEY).",
    )
    p.add_argument("--url", default=os.environ.get("NUDGE_URL", DEFAULT_URL), help="the bot's base URL")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--status", metavar="ID", help="show a notification's delivery status")
    action.add_argument("--cancel", metavar="ID", help="cancel what has not been sent yet")
    p.add_argument("--user", action="append", metavar="CHANNEL:ID", help="a user (repeatable)")
    p.add_argument(
        "--conversation", action="append", metavar="[CHANNEL:]ID",
        help="a conversation (repeatable); CHANNEL is a lower-case word such as msteams",
    )
    p.add_argument("--broadcast", action="store_true", help="every active conversation")
    p.add_argument("--text", help="the message")
    p.add_argument("--markdown", action="store_true", help="the text is markdown")
    p.add_argument("--summary", help="short text for notifications and channels without cards")
    p.add_argument("--card", metavar="FILE", help="an Adaptive Card (JSON file) to attach")
    p.add_argument("--suggest", action="append", metavar="TEXT", help="a suggested reply button (repeatable)")
    p.add_argument("--at", metavar="ISO_TIME", help="send at this time (e.g. 2026-11-24T18:00:00Z) instead of now")
    p.add_argument("--idempotency-key", help="makes a retried request safe: the same key within 24 h sends once")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    key = os.environ.get("NUDGE_API_KEY", "")
    if not key:
        print("error: set NUDGE_API_KEY to one of the bot's NOTIFY_API_KEYS", file=sys.stderr)
        return EXIT_USAGE
    base = args.url.rstrip("/")
    headers: dict[str, str] = {}
    try:
        _check_settings(base, key)
        if args.status or args.cancel:
            notification_id = args.status or args.cancel
            if not NOTIFICATION_ID.fullmatch(notification_id):
                raise Usage("a notification id is 32 hex digits (as printed when it was sent)")
            extra = [f"--{name.replace('_', '-')}" for name in SEND_FLAGS if getattr(args, name)]
            if extra:
                raise Usage(f"--status and --cancel take no other options (got {', '.join(extra)})")
            method, url, body = ("GET" if args.status else "DELETE"), f"{base}/api/notify/{notification_id}", None
        else:
            method, url, body = "POST", f"{base}/api/notify", build_body(args)
            if args.idempotency_key:
                key_value = args.idempotency_key
                if not (0 < len(key_value) <= 255 and all(" " <= ch <= "~" for ch in key_value)):
                    raise Usage("--idempotency-key must be 1 to 255 printable ASCII characters")
                headers["Idempotency-Key"] = key_value
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        status, raw = _request(method, url, key, body, headers, args.timeout)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: could not reach {base}: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except ValueError as exc:  # a malformed URL or a value that can't be encoded: retrying won't help
        print(f"error: bad request settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = {"error": raw.decode("utf-8", "replace")[:500]}
    if status < 400:
        # ASCII escapes: a console that can't show every character must not turn a sent
        # message into a failure (and a resend).
        print(json.dumps(answer, indent=2, ensure_ascii=True))
        targets = answer.get("targets") if isinstance(answer, dict) and method == "POST" else None
        unknown = targets.get("unknown") if isinstance(targets, dict) else None
        if isinstance(unknown, list) and unknown:
            print(f"warning: {len(unknown)} target(s) unknown to the bot; the rest were accepted", file=sys.stderr)
        return EXIT_OK
    message = answer.get("error") if isinstance(answer, dict) else None
    print(f"error: HTTP {status}: {message or answer}", file=sys.stderr)
    return EXIT_UNAVAILABLE if status >= 500 else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
