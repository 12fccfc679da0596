"""The lean proactive sender: the Bot Connector REST call over one pooled aiohttp session.

The stock path, ``CloudAdapter.continue_conversation``, builds two msrest clients for every
message (each with a new ``requests.Session``) and sends with blocking ``requests`` in a
worker thread: about 130 messages/s on this project's machines. This sender makes the
request the SDK would make for a proactive message, ``POST {serviceUrl}/v3/conversations/
{conversationId}/activities``, with the bearer token of the SDK's own credentials (obtained
through ``BotFrameworkAuthentication.create_connector_factory``, the SDK's extension point),
over one keep-alive connection pool, so a send costs a coroutine instead of a thread.

Inbound turns still go through the SDK. The activity is addressed like
``TurnContext.send_activity`` addresses a proactive one (from the bot, to the user, in the
stored conversation), except that it carries no ``replyToId``: Web Chat holds a message
whose parent it never saw for 5 s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL
from botbuilder.schema import Activity
from botframework.connector.auth import AppCredentials, BotFrameworkAuthentication, ClaimsIdentity

from models import jsoncodec
from scheduler.delivery import DeliveryResult

logger = logging.getLogger(__name__)

USER_AGENT = "Microsoft-BotFramework/3.1 (BotBuilder Python/4.17.1; Nudge lean sender)"
# A token is asked of the SDK's credentials (which cache it themselves, with msal) at most
# this often; a 401 from a channel drops it at once.
TOKEN_REUSE_SECONDS = 300.0
CONNECT_TIMEOUT_SECONDS = 10.0


def retry_after_seconds(raw: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds, or an HTTP date."""
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def outgoing_activity(reference: dict[str, Any], payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body of the send, addressed as ``TurnContext.send_activity``
    addresses a proactive message: from the bot, to the user, in the stored conversation.

    Plain dictionaries from end to end: msrest's model round trips cost more CPU than the
    HTTP call.
    """
    conversation = reference.get("conversation") or {}
    conversation_id = conversation.get("id")
    service_url = reference.get("serviceUrl")
    if not conversation_id or not service_url:
        raise ValueError("the reference has no conversation id or serviceUrl")
    body = {key: value for key, value in payload.items() if key not in ("id", "replyToId")}
    body["channelId"] = reference.get("channelId")
    body["serviceUrl"] = service_url
    body["conversation"] = conversation
    body["from"] = reference.get("bot")
    body["recipient"] = reference.get("user")
    if reference.get("locale"):
        body["locale"] = reference["locale"]
    if body.get("type") == "message":
        body.setdefault("inputHint", "acceptingInput")
    url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
    return url, body


class ConnectorSender:
    """Sends proactive activities with aiohttp, authenticated like the SDK.

    Args:
        auth: the adapter's ``BotFrameworkAuthentication`` (credentials come from it).
        claims_identity: the bot's identity, as ``CloudAdapter.create_claims_identity(app_id)``.
        app_id: the bot's Microsoft App ID ("" for local use without credentials).
        connections: most open connections in all; per host as well.
    """

    # A send is a coroutine: the outbox may cancel it when it runs past the timeout.
    cancellable = True

    def __init__(
        self,
        *,
        auth: BotFrameworkAuthentication,
        claims_identity: ClaimsIdentity,
        app_id: str,
        connections: int = 64,
    ) -> None:
        self._auth = auth
        self._claims_identity = claims_identity
        self._app_id = app_id or ""
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._credentials: AppCredentials | None = None
        self._token: str | None = None
        self._token_at = 0.0
        self._token_lock = asyncio.Lock()

    async def start(self) -> None:
        """Open the connection pool (inside the running loop)."""
        connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=self._connections)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": USER_AGENT},
            raise_for_status=False,
            # The outbox bounds every send with its own timeout: no second timer per request.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _authorization(self, service_url: str) -> str | None:
        if not self._app_id:
            return None  # local use with the Emulator: the SDK sends no token either
        async with self._token_lock:
            if self._token is None or time.monotonic() - self._token_at > TOKEN_REUSE_SECONDS:
                if self._credentials is None:
                    factory = self._auth.create_connector_factory(self._claims_identity)
                    client = await factory.create(service_url, None)
                    self._credentials = client.config.credentials
                # msal may fetch over the network: keep that off the event loop.
                self._token = await asyncio.to_thread(self._credentials.get_access_token)
                self._token_at = time.monotonic()
            return f"Bearer {self._token}"

    def _forget_token(self) -> None:
        self._token = None

    async def send(self, reference: dict[str, Any], activity: dict[str, Any] | Activity) -> DeliveryResult:
        """Send ``activity`` (its JSON, or the model) into the stored conversation
        ``reference``; never raises for a channel or network failure (the outbox's timeout
        bounds the whole call)."""
        if self._session is None:
            return DeliveryResult(ok=False, error="sender is not started")
        payload = activity.serialize() if isinstance(activity, Activity) else activity
        try:
            url, body = outgoing_activity(reference, payload)
        except Exception as exc:  # a stored reference that can't address anything
            return DeliveryResult(ok=False, status=400, error=f"bad conversation reference: {exc!r}"[:500])
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            authorization = await self._authorization(url)
        except Exception as exc:  # the token service failed: like a 401, worth a retry
            logger.error("could not get a token for proactive sends: %s", type(exc).__name__)
            return DeliveryResult(ok=False, status=401, error=f"no token: {type(exc).__name__}")
        if authorization:
            headers["Authorization"] = authorization
        try:
            # encoded=True: the id is sent percent-encoded as the SDK sends it, not re-normalised.
            async with self._session.post(
                URL(url, encoded=True), data=jsoncodec.dumps_bytes(body), headers=headers
            ) as response:
                if 200 <= response.status < 300:
                    await response.read()
                    return DeliveryResult(ok=True)
                detail = (await response.text(errors="replace"))[:300]
                if response.status == 401:
                    self._forget_token()
                return DeliveryResult(
                    ok=False,
                    status=response.status,
                    error=f"HTTP {response.status}: {detail}",
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
