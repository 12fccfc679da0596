"""Nudge: settings, HTTP handlers, start-up and shutdown, and the entry point.

Run ``python app.py``; the bot listens on ``http://HOST:PORT/api/messages``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import hmac
import json
import logging
import math
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import jwt
from aiohttp import web
from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from dialogs.bot import NudgeBot
from dialogs.proactive import ProactiveRoute
from dialogs.turn_log import TurnLogMiddleware
from logs import FORMATS, AccessLogger, configure_logging
from models.bot_storage import SqlStorage
from models.db import (
    DATABASE_ERRORS,
    INVALID,
    TEMPORARY,
    TOO_LARGE,
    DatabaseTimeouts,
    DatabaseUnavailable,
    WriteHealth,
    database_error_kind,
    database_problem,
    database_url_from_env,
    make_sessionmaker,
    open_engine,
    prepare_database,
    probe_database,
    upgrade_database,
)
from models.alerts import Alerts
from models.notifications import (
    AlreadyDelivered,
    IdempotencyConflict,
    NotificationNotFound,
    Notifications,
    is_notification_id,
)
from models.inbound_activity import activity_problem
from models.notify_request import NotifyError, idempotency_key_problem
from models.reminders import Reminders
from scheduler.alerts import AlertEngine, IngestFailed
from scheduler.delivery import Deliverer
from scheduler.engine import ReminderScheduler
from scheduler.metrics import DeliveryMetrics
from scheduler.outbox import ConversationPacer
from scheduler.sender import ConnectorSender
from scheduler.feeds import PriceTick, feed_from_env, normalise_symbol

logger = logging.getLogger("nudge")


@dataclass(frozen=True)
class Settings:
    """Configuration, read from the environment (and ``.env``) by :func:`settings_from_env`.

    The upper-case attribute names are the ones ``ConfigurationBotFrameworkAuthentication``
    reads.
    """

    APP_ID: str = ""
    APP_PASSWORD: str = field(default="", repr=False)
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 3978
    max_reminders_per_user: int = 100
    max_body_bytes: int = 256 * 1024
    scheduler_resync_seconds: float = 30.0
    delivery_lease_seconds: float = 120.0
    send_timeout_seconds: float = 20.0
    migrate_on_start: bool = True
    max_alerts_per_user: int = 100
    price_api_keys: tuple[str, ...] = field(default=(), repr=False)
    price_max_age_seconds: float = 300.0
    price_push_max_ticks: int = 1000
    price_max_symbols: int = 100
    price_feed_env: dict[str, str] = field(default_factory=dict, repr=False)
    notify_api_keys: tuple[str, ...] = field(default=(), repr=False)
    notify_max_targets: int = 1000
    notify_max_body_bytes: int = 256 * 1024
    # "channelId:userId" of the systems allowed to send Direct Line "proactive" events.
    proactive_trusted_senders: tuple[str, ...] = ()
    # "connector": the lean aiohttp sender; "sdk": CloudAdapter.continue_conversation.
    delivery_sender: str = "connector"
    # Sends per second to one conversation after a burst (0: no limit).
    per_conversation_rate: float = 1.0
    per_conversation_burst: int = 5
    # Every database wait bounded (connect, statement, lock, idle in transaction, pool).
    database_timeouts: DatabaseTimeouts = field(default_factory=DatabaseTimeouts)
    # A scheduler step (claim, expansion, look-up) taking longer is abandoned; /healthz says
    # 503 when work has been due this long without a pass completing.
    scheduler_stall_seconds: float = 30.0


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise SystemExit(f"{name} must be a finite number >= 0, got {raw!r}")
    return value


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment."""
    value = _float(name, default)
    if value <= 0:
        raise SystemExit(f"{name} must be more than 0 seconds, got {value:g}")
    return value


def database_timeouts_from_env() -> DatabaseTimeouts:
    defaults = DatabaseTimeouts()
    return DatabaseTimeouts(
        connect=_seconds("DATABASE_CONNECT_TIMEOUT_SECONDS", defaults.connect),
        statement=_seconds("DATABASE_STATEMENT_TIMEOUT_SECONDS", defaults.statement),
        lock=_seconds("DATABASE_LOCK_TIMEOUT_SECONDS", defaults.lock),
        idle_in_transaction=_seconds("DATABASE_IDLE_TRANSACTION_TIMEOUT_SECONDS", defaults.idle_in_transaction),
        pool=_seconds("DATABASE_POOL_TIMEOUT_SECONDS", defaults.pool),
        keepalive=_seconds("DATABASE_KEEPALIVE_SECONDS", defaults.keepalive),
        sqlite_busy=_seconds("SQLITE_BUSY_TIMEOUT_SECONDS", defaults.sqlite_busy),
    )


def _keys(raw: str) -> tuple[str, ...]:
    """API keys from a comma-separated list (several, so keys can be rotated)."""
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    if any(len(key) < 16 for key in keys):
        raise SystemExit("every API key must be at least 16 characters long")
    return keys


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _senders(raw: str) -> tuple[str, ...]:
    """Trusted senders, "channelId:userId" each; a bare id means the Direct Line channel."""
    senders = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        channel, _, user = entry.partition(":") if ":" in entry else ("directline", "", entry)
        if not channel or not user:
            raise SystemExit(f"PROACTIVE_TRUSTED_SENDERS: {entry!r} is not channelId:userId")
        senders.append(f"{channel}:{user}")
    return tuple(senders)


def settings_from_env() -> Settings:
    """Read the settings from the environment; ``.env`` is loaded first if present."""
    database_url = database_url_from_env()  # loads .env
    settings = Settings(
        APP_ID=os.environ.get("MicrosoftAppId", ""),
        APP_PASSWORD=os.environ.get("MicrosoftAppPassword", ""),
        APP_TYPE=os.environ.get("MicrosoftAppType", "MultiTenant") or "MultiTenant",
        APP_TENANTID=os.environ.get("MicrosoftAppTenantId", ""),
        database_url=database_url,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=_int("PORT", 3978, minimum=0),
        max_reminders_per_user=_int("MAX_REMINDERS_PER_USER", 100),
        max_body_bytes=_int("MAX_BODY_BYTES", 256 * 1024),
        scheduler_resync_seconds=float(_int("SCHEDULER_RESYNC_SECONDS", 30)),
        delivery_lease_seconds=float(_int("DELIVERY_LEASE_SECONDS", 120, minimum=10)),
        send_timeout_seconds=float(_int("SEND_TIMEOUT_SECONDS", 20)),
        max_alerts_per_user=_int("MAX_ALERTS_PER_USER", 100),
        price_api_keys=_keys(os.environ.get("PRICES_API_KEYS", "")),
        price_max_age_seconds=float(_int("PRICE_MAX_AGE_SECONDS", 300)),
        price_max_symbols=_int("PRICE_MAX_SYMBOLS", 100),
        price_feed_env={k: v for k, v in os.environ.items() if k.startswith("PRICE_FEED")},
        notify_api_keys=_keys(os.environ.get("NOTIFY_API_KEYS", "")),
        notify_max_targets=_int("NOTIFY_MAX_TARGETS", 1000),
        notify_max_body_bytes=_int("NOTIFY_MAX_BODY_BYTES", 256 * 1024),
        proactive_trusted_senders=_senders(os.environ.get("PROACTIVE_TRUSTED_SENDERS", "")),
        delivery_sender=os.environ.get("DELIVERY_SENDER", "connector") or "connector",
        per_conversation_rate=_float("PER_CONVERSATION_RATE", 1.0),
        per_conversation_burst=_int("PER_CONVERSATION_BURST", 5),
        database_timeouts=database_timeouts_from_env(),
        scheduler_stall_seconds=_seconds("SCHEDULER_STALL_SECONDS", 30.0),
    )
    if settings.delivery_sender not in ("connector", "sdk"):
        raise SystemExit('DELIVERY_SENDER must be "connector" or "sdk"')
    try:
        feed_from_env(settings.price_feed_env)  # only to refuse bad settings before starting
    except ValueError as exc:
        raise SystemExit(f"bad price feed setting: {exc}") from None
    if settings.proactive_trusted_senders and not settings.APP_ID and settings.host not in LOOPBACK:
        # Without an app id /api/messages checks no token, so anyone could claim to be a
        # trusted sender and broadcast: allowed only where nobody else can connect.
        raise SystemExit(
            "PROACTIVE_TRUSTED_SENDERS needs MicrosoftAppId (channel authentication) unless HOST is a loopback address"
        )
    if settings.delivery_lease_seconds < 2 * settings.send_timeout_seconds:
        raise SystemExit("DELIVERY_LEASE_SECONDS must be at least twice SEND_TIMEOUT_SECONDS")
    timeouts = settings.database_timeouts
    if timeouts.longest_lock_hold >= settings.delivery_lease_seconds:
        # A stalled claim's row locks must go (the server ends its statement or its idle
        # session) before the lease would let another instance take its rows over.
        raise SystemExit(
            "DATABASE_STATEMENT_TIMEOUT_SECONDS + DATABASE_IDLE_TRANSACTION_TIMEOUT_SECONDS must be "
            "less than DELIVERY_LEASE_SECONDS"
        )
    if timeouts.lock > timeouts.statement:
        raise SystemExit("DATABASE_LOCK_TIMEOUT_SECONDS must not exceed DATABASE_STATEMENT_TIMEOUT_SECONDS")
    return settings


PRICES_MAX_BODY_BYTES = 64 * 1024
# Sends in flight at once (the SDK sender: worker threads; the connector sender: coroutines
# over pooled connections), and per channel (serviceUrl), so one dead channel can't hold them all.
SEND_CONCURRENCY = {"sdk": 32, "connector": 64}
PER_CHANNEL = {"sdk": 4, "connector": 32}
# SIGTERM to exit in under 10 s: open HTTP requests get this long, then the scheduler this.
SHUTDOWN_HTTP_SECONDS = 2.0
SHUTDOWN_SCHEDULER_SECONDS = 6.0

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", NudgeBot)
SCHEDULER = web.AppKey("scheduler", ReminderScheduler)
REMINDERS = web.AppKey("reminders", Reminders)
ALERT_ENGINE = web.AppKey("alert_engine", AlertEngine)
NOTIFICATIONS = web.AppKey("notifications", Notifications)
METRICS = web.AppKey("metrics", DeliveryMetrics)
WRITE_HEALTH = web.AppKey("write_health", WriteHealth)

OPENAPI_PATH = Path(__file__).parent / "docs" / "openapi.json"


# --- start-up and shutdown, in this order (cleanup runs in reverse) -------------------


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    url = settings.database_url
    prepare_database(url)
    if settings.migrate_on_start:
        try:
            await upgrade_database(url)
        except Exception as exc:  # the driver's own errors too (asyncpg's, raised unwrapped on connect)
            raise DatabaseUnavailable(database_problem(url, exc)) from exc
    engine = open_engine(url, timeouts=settings.database_timeouts)
    write_health = WriteHealth()
    write_health.watch(engine)
    app[WRITE_HEALTH] = write_health
    app[ENGINE] = engine
    app[SESSIONMAKER] = make_sessionmaker(engine)
    yield
    await engine.dispose()


async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(settings))

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, DATABASE_ERRORS) and database_error_kind(error) == TEMPORARY:
            # The database is away: say so (briefly: the channel may be slow too), and let
            # the error reach the middleware, which answers 503 with Retry-After.
            logger.error("a turn could not reach the database: %r", error)
            try:
                async with asyncio.timeout(2):
                    await turn_context.send_activity(DATABASE_AWAY_REPLY)
            except Exception:
                logger.warning("could not tell the user that the database is unavailable")
            raise error
        logger.error("unhandled error in a turn: %r", error, exc_info=error)
        try:
            await turn_context.send_activity("Sorry, something went wrong on my side. Please try again.")
        except Exception:  # the channel may be the thing that failed
            logger.warning("could not tell the user about the error")

    adapter.on_turn_error = on_turn_error
    adapter.use(TurnLogMiddleware())
    sessionmaker = app[SESSIONMAKER]
    if settings.delivery_sender == "sdk":
        deliverer = Deliverer(adapter, settings.APP_ID)
    else:
        deliverer = ConnectorSender(
            auth=adapter.bot_framework_authentication,
            claims_identity=adapter.create_claims_identity(settings.APP_ID),
            app_id=settings.APP_ID,
            connections=SEND_CONCURRENCY["connector"],
        )
        await deliverer.start()
    scheduler = ReminderScheduler(
        sessionmaker=sessionmaker,
        deliverer=deliverer,
        concurrency=SEND_CONCURRENCY[settings.delivery_sender],
        per_channel=PER_CHANNEL[settings.delivery_sender],
        pacer=ConversationPacer(settings.per_conversation_rate, settings.per_conversation_burst),
        metrics=app[METRICS],
        resync_seconds=settings.scheduler_resync_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        send_timeout=settings.send_timeout_seconds,
        stall_seconds=settings.scheduler_stall_seconds,
    )
    reminders = Reminders(
        sessionmaker=sessionmaker, on_due=scheduler.poke, max_live=settings.max_reminders_per_user
    )
    alert_engine = AlertEngine(
        sessionmaker=sessionmaker,
        outbox=scheduler.outbox,
        feed=feed_from_env(settings.price_feed_env),
        max_age_seconds=settings.price_max_age_seconds,
    )
    alerts = Alerts(
        sessionmaker=sessionmaker,
        quote=alert_engine.quote,
        known_symbols=alert_engine.known_symbols,
        on_change=alert_engine.refresh,
        max_live=settings.max_alerts_per_user,
        max_quote_age_seconds=settings.price_max_age_seconds,
    )
    notifications = Notifications(sessionmaker=sessionmaker, on_due=scheduler.poke)

    async def refresh_alerts(alert_ids: list[int]) -> None:
        for alert_id in alert_ids:
            await alert_engine.refresh(alert_id)

    # Alerts of a conversation found unreachable leave the index until the user writes again.
    scheduler.outbox.on_inactive = refresh_alerts
    app[ADAPTER] = adapter
    app[SCHEDULER] = scheduler
    app[REMINDERS] = reminders
    app[ALERT_ENGINE] = alert_engine
    app[NOTIFICATIONS] = notifications
    app[BOT] = NudgeBot(
        sessionmaker=sessionmaker,
        conversation_state=ConversationState(SqlStorage(sessionmaker)),
        reminders=reminders,
        alerts=alerts,
        on_alerts_resumed=refresh_alerts,
        proactive=ProactiveRoute(
            notifications=notifications,
            trusted_senders=frozenset(settings.proactive_trusted_senders),
            max_targets=settings.notify_max_targets,
        ),
    )
    yield
    await alert_engine.feed.close()
    if isinstance(deliverer, ConnectorSender):
        await deliverer.close()


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    # The SDK sends proactive messages with blocking calls in the loop's default thread
    # pool; size it for the outbox's concurrency plus the threads a dead channel may hold.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=2 * SEND_CONCURRENCY["sdk"] + 8, thread_name_prefix="send")
    )
    scheduler = app[SCHEDULER]
    alert_engine = app[ALERT_ENGINE]
    await alert_engine.start()
    await scheduler.start()
    scheduler.add_periodic("price-feed", alert_engine.poll, alert_engine.feed.interval_seconds)
    scheduler.add_periodic("alert-housekeeping", alert_engine.housekeeping, 30)
    if not app[SETTINGS].price_api_keys:
        logger.info("POST /api/prices is disabled: PRICES_API_KEYS is not set")
    if not app[SETTINGS].notify_api_keys:
        logger.warning("the notify API (/api/notify) is disabled: NOTIFY_API_KEYS is not set")
    yield
    await scheduler.shutdown(timeout=SHUTDOWN_SCHEDULER_SECONDS)


# --- HTTP handlers ---------------------------------------------------------------------


def _error(status: HTTPStatus, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# How soon a client should try again after a 503 for a database that is away.
RETRY_AFTER_SECONDS = 5
DATABASE_AWAY_REPLY = "Sorry, I can't reach my database right now, so I could not do that. Please try again in a minute."


def _unavailable(message: str) -> web.Response:
    """503 with ``Retry-After``: the database (or what stands for it) is away; try again."""
    return web.json_response(
        {"error": message}, status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def database_error_response(exc: BaseException, what: str) -> web.Response:
    """The answer to a request that met a database error while doing ``what``.

    A request the database can never take (too many values for one statement, a value it
    refuses) is the caller's to change: 413 or 400, never "try again". Everything else (down,
    starting up, busy, timed out, disk full) is 503 with ``Retry-After``.
    """
    kind = database_error_kind(exc)
    if kind == TOO_LARGE:
        logger.warning("%s: the request is too large for the database: %r", what, exc)
        return _error(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"{what}: the request is too large for the database; send fewer targets or less content",
        )
    if kind == INVALID:
        logger.warning("%s: the database refused a value: %r", what, exc)
        return _error(HTTPStatus.BAD_REQUEST, f"{what}: the database refused a value (too long or out of range)")
    logger.error("%s: the database is unavailable: %r", what, exc)
    return _unavailable(f"{what}: the database is unavailable; nothing was changed, try again")


@web.middleware
async def database_errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """A database error no handler answered (a chat turn's, say) is 503 with
    ``Retry-After`` (or 400/413 for a permanent one), never aiohttp's plain-text 500."""
    try:
        return await handler(request)
    except DATABASE_ERRORS as exc:
        return database_error_response(exc, f"{request.method} {request.path}")


async def messages(request: web.Request) -> web.Response:
    """``POST /api/messages``: one inbound activity from a channel or the Emulator."""
    if request.content_type != "application/json":
        return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    limit = request.app[SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
    if len(body) > limit:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
    if json_too_deep(body):
        return _error(HTTPStatus.BAD_REQUEST, f"body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(HTTPStatus.BAD_REQUEST, "body is not valid JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
        return _error(HTTPStatus.BAD_REQUEST, "body must be an activity object with a type")
    problem = activity_problem(payload)
    if problem:
        return _error(HTTPStatus.BAD_REQUEST, problem)
    try:
        activity = Activity().deserialize(payload)
    except Exception:
        return _error(HTTPStatus.BAD_REQUEST, "body is not a valid activity")
    adapter = request.app[ADAPTER]
    bot = request.app[BOT]
    try:
        response = await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, bot.on_turn
        )
    except (PermissionError, jwt.PyJWTError):
        # A missing, malformed or wrongly signed token: the SDK raises either kind.
        return _error(HTTPStatus.UNAUTHORIZED, "unauthorized")
    if response:
        return web.json_response(data=response.body, status=response.status)
    return web.Response(status=HTTPStatus.CREATED)


def _api_key_ok(request: web.Request, keys: tuple[str, ...]) -> bool:
    """Check ``Authorization: Bearer <key>`` or ``X-Api-Key`` against every key in constant time."""
    auth = request.headers.get("Authorization", "")
    offered = auth[7:].strip() if auth[:7].lower() == "bearer " else request.headers.get("X-Api-Key", "")
    # aiohttp keeps undecodable header bytes as surrogates; encode them back, don't fail.
    offered_bytes = offered.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:  # no early exit: the time taken doesn't tell which key matched
        matched |= hmac.compare_digest(offered_bytes, key.encode())
    return matched and bool(offered)


# Deeper JSON than any activity or request needs; refused before parsing, because Python's
# parser recurses once per level and a body of brackets could exhaust the stack.
MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if the JSON text nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case, decided at C speed
    depth = 0
    for token in _JSON_TOKENS.finditer(body):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


async def read_json_body(request: web.Request, limit: int) -> tuple[object, web.Response | None]:
    """Read a JSON body of at most ``limit`` bytes: (value, None) or (None, error response)."""
    if request.content_type != "application/json":
        return None, _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    if request.content_length is not None and request.content_length > limit:
        return None, _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes")
    try:
        body = await request.read()  # the whole body, however it was chunked
    except web.HTTPRequestEntityTooLarge:
        return None, _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes")
    if len(body) > limit:
        return None, _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes")
    if json_too_deep(body):
        return None, _error(HTTPStatus.BAD_REQUEST, f"body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
        return None, _error(HTTPStatus.BAD_REQUEST, "body is not valid JSON")


def parse_ticks(payload: object, *, now: datetime, max_ticks: int) -> list[PriceTick]:
    """Validate a pushed body: a list of {symbol, price, time}. Raises ValueError with the reason."""
    if not isinstance(payload, list):
        raise ValueError("body must be a JSON list of {symbol, price, time} objects")
    if not payload:
        raise ValueError("body must contain at least one tick")
    if len(payload) > max_ticks:
        raise ValueError(f"at most {max_ticks} ticks per request")
    ticks = []
    for i, item in enumerate(payload):
        if not isinstance(item, dict):
            raise ValueError(f"[{i}] must be an object")
        unknown = set(item) - {"symbol", "price", "time"}
        if unknown:
            raise ValueError(f"[{i}] has unknown fields: {', '.join(sorted(unknown))}")
        symbol = normalise_symbol(item.get("symbol")) if isinstance(item.get("symbol"), str) else None
        if symbol is None:
            raise ValueError(f"[{i}].symbol must be 1-15 characters of A-Z 0-9 . / -")
        price = item.get("price")
        try:
            price = float(price) if not isinstance(price, bool) and isinstance(price, (int, float)) else None
        except OverflowError:  # an integer with hundreds of digits
            price = None
        if price is None or not math.isfinite(price) or price <= 0:
            raise ValueError(f"[{i}].price must be a positive finite number")
        raw_time = item.get("time")
        if not isinstance(raw_time, str):
            raise ValueError(f"[{i}].time must be an ISO 8601 string with a UTC offset")
        try:
            at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"[{i}].time is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise ValueError(f"[{i}].time needs a UTC offset (e.g. 2026-11-24T12:00:00Z)")
        try:
            at = at.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError(f"[{i}].time is out of range") from None
        if at - now > timedelta(minutes=5):
            raise ValueError(f"[{i}].time is in the future")
        # A clock a little ahead must not make the symbol's later real ticks look old.
        ticks.append(PriceTick(symbol=symbol, price=price, at=min(at, now), source="push"))
    return ticks


async def prices(request: web.Request) -> web.Response:
    """``POST /api/prices``: an external system pushes ticks (API key required)."""
    settings = request.app[SETTINGS]
    if not settings.price_api_keys:
        return _error(HTTPStatus.NOT_FOUND, "price push is disabled (PRICES_API_KEYS is not set)")
    if not _api_key_ok(request, settings.price_api_keys):
        return _error(HTTPStatus.UNAUTHORIZED, "missing or wrong API key")
    payload, problem = await read_json_body(request, PRICES_MAX_BODY_BYTES)
    if problem is not None:
        return problem
    alert_engine = request.app[ALERT_ENGINE]
    now = datetime.now(UTC)
    try:
        ticks = parse_ticks(payload, now=now, max_ticks=settings.price_push_max_ticks)
    except ValueError as exc:
        return _error(HTTPStatus.BAD_REQUEST, str(exc))
    new = alert_engine.new_symbols(tick.symbol for tick in ticks)
    if new and len(alert_engine.known_symbols()) + len(new) > settings.price_max_symbols:
        return _error(
            HTTPStatus.BAD_REQUEST,
            f"at most {settings.price_max_symbols} symbols; not adding {', '.join(sorted(new))}",
        )
    try:
        result = await alert_engine.ingest(ticks)
    except IngestFailed:
        return _unavailable("prices could not be recorded; try again")
    # "ignored": older than a price already seen for the symbol (out of order or repeated).
    return web.json_response(
        {
            "accepted": result.accepted,
            "stale": result.stale,
            "ignored": len(ticks) - result.accepted - result.stale,
            "fired": result.fired,
        },
        status=HTTPStatus.ACCEPTED,
    )


def _field_error(status: HTTPStatus, field_name: str, message: str) -> web.Response:
    return web.json_response({"error": f"{field_name}: {message}", "field": field_name}, status=status)


def _notify_denied(request: web.Request) -> web.Response | None:
    """404 while the notify API is off, 401 without a valid key; None when allowed."""
    keys = request.app[SETTINGS].notify_api_keys
    if not keys:
        return _error(HTTPStatus.NOT_FOUND, "the notify API is disabled (NOTIFY_API_KEYS is not set)")
    if not _api_key_ok(request, keys):
        return _error(HTTPStatus.UNAUTHORIZED, "missing or wrong API key")
    return None




async def notify(request: web.Request) -> web.Response:
    """``POST /api/notify``: an external system asks the bot to message users."""
    denied = _notify_denied(request)
    if denied is not None:
        return denied
    settings = request.app[SETTINGS]
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        problem = idempotency_key_problem(key)
        if problem:
            return _field_error(HTTPStatus.BAD_REQUEST, "Idempotency-Key", problem)
    payload, problem = await read_json_body(request, settings.notify_max_body_bytes)
    if problem is not None:
        return problem
    notifications = request.app[NOTIFICATIONS]
    try:
        accepted = await notifications.accept(
            payload, idempotency_key=key, max_targets=settings.notify_max_targets, source="api", sender="api"
        )
    except NotifyError as exc:
        return web.json_response(exc.body(), status=HTTPStatus.BAD_REQUEST)
    except IdempotencyConflict:
        return _field_error(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "Idempotency-Key",
            "was used in the last 24 hours for a different request",
        )
    except DATABASE_ERRORS as exc:
        if database_error_kind(exc) == TEMPORARY:
            logger.error("could not store a notification: %r", exc)
            return _unavailable("the notification could not be stored; nothing was sent, try again")
        return database_error_response(exc, "the notification could not be stored")
    headers = {"Location": accepted.body["links"]["self"]}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.json_response(accepted.body, status=HTTPStatus.ACCEPTED, headers=headers)


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20 or not low <= int(raw) <= high:
        raise NotifyError(name, f"must be an integer from {low} to {high}")
    return int(raw)


async def _notification_call(request: web.Request, call) -> web.Response:
    """Key check, id check and error answers shared by GET and DELETE /api/notify/{id}."""
    denied = _notify_denied(request)
    if denied is not None:
        return denied
    notification_id = request.match_info["id"]
    if not is_notification_id(notification_id):
        return _error(HTTPStatus.NOT_FOUND, "no notification with that id")
    try:
        return web.json_response(await call(request.app[NOTIFICATIONS], notification_id))
    except NotifyError as exc:
        return web.json_response(exc.body(), status=HTTPStatus.BAD_REQUEST)
    except NotificationNotFound:
        return _error(HTTPStatus.NOT_FOUND, "no notification with that id")
    except AlreadyDelivered:
        return _error(HTTPStatus.CONFLICT, "every message of this notification has already gone out")
    except DATABASE_ERRORS as exc:
        if database_error_kind(exc) == TEMPORARY:
            logger.error("could not read or change a notification: %r", exc)
            return _unavailable("the database is unavailable; try again")
        return database_error_response(exc, "the notification could not be read or changed")


async def notify_status(request: web.Request) -> web.Response:
    """``GET /api/notify/{id}``: overall and per-target delivery status."""

    async def call(notifications: Notifications, notification_id: str) -> dict:
        limit = _query_int(request, "limit", 100, 1, 1000)
        after = _query_int(request, "after", 0, 0, 2**62)
        return await notifications.status(notification_id, limit=limit, after=after)

    return await _notification_call(request, call)


async def notify_cancel(request: web.Request) -> web.Response:
    """``DELETE /api/notify/{id}``: cancel what has not been sent yet."""

    async def call(notifications: Notifications, notification_id: str) -> dict:
        return await notifications.cancel(notification_id)

    return await _notification_call(request, call)


async def openapi(request: web.Request) -> web.FileResponse:
    """``GET /api/openapi.json``: the OpenAPI document of the notify API."""
    return web.FileResponse(OPENAPI_PATH)


HEALTH_PROBE_SECONDS = 2.0


async def database_health(app: web.Application) -> tuple[str, str | None]:
    """("ok", None), or ("unavailable" / "write failed", the reason).

    The probe reads, then writes and rolls back (a read-only database or a lock held too
    long shows); after a write was refused (disk full) within the last minute, the probe
    commits its write, so the answer turns "ok" as soon as writes work again.
    """
    write_health = app[WRITE_HEALTH]
    refused = write_health.problem()
    try:
        async with asyncio.timeout(HEALTH_PROBE_SECONDS):
            await probe_database(app[ENGINE], commit=refused is not None)
    except Exception as exc:  # any failure to answer is unhealthy, never a 500
        logger.warning("health check: database unavailable (%s)", type(exc).__name__)
        refused = write_health.problem() if refused is not None else None
        if refused is not None:
            return "write failed", refused
        if isinstance(exc, TimeoutError):
            return "unavailable", f"no answer within {HEALTH_PROBE_SECONDS:g} s"
        return "unavailable", (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    if refused is not None:
        write_health.cleared()
    return "ok", None


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 when the database answers and takes writes and the scheduler
    gets its work done, else 503 with the reasons under ``problems``."""
    scheduler = request.app[SCHEDULER]
    database, database_reason = await database_health(request.app)
    stalled = scheduler.stalled()
    body = {
        "database": database,
        "scheduler": ("stalled" if stalled else "running") if scheduler.running else "stopped",
        "in_flight": len(scheduler.outbox.in_flight),
    }
    circuits = scheduler.outbox.breaker.open_circuits()
    if circuits:
        # A channel refusing the bot is its configuration (or the tenant's policy), not this
        # process: reported, while the instance stays in the load balancer (200).
        body["channels_refusing"] = circuits
    problems = []
    if database_reason:
        problems.append(f"database {database}: {database_reason}")
    if stalled:
        problems.append(f"scheduler: {stalled}")
    elif not scheduler.running:
        problems.append("scheduler: stopped")
    if problems:
        body["problems"] = problems
        return web.json_response(
            body, status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    return web.json_response(body, status=HTTPStatus.OK)


def _health_gauges(app: web.Application) -> bytes:
    """The two health states /healthz reports from memory, as Prometheus gauges (no probe)."""
    stalled = 1.0 if app[SCHEDULER].stalled() else 0.0
    refused = 1.0 if app[WRITE_HEALTH].problem() else 0.0
    return (
        "# HELP nudge_scheduler_stalled 1 while work is due and no scheduler pass completes (see /healthz)\n"
        "# TYPE nudge_scheduler_stalled gauge\n"
        f"nudge_scheduler_stalled {stalled}\n"
        "# HELP nudge_database_write_refused 1 while a database write was refused in the last minute (disk full, read-only)\n"
        "# TYPE nudge_database_write_refused gauge\n"
        f"nudge_database_write_refused {refused}\n"
    ).encode()


async def metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: delivery counters and latency histograms, and the health gauges,
    Prometheus text format."""
    return web.Response(
        body=generate_latest(request.app[METRICS].registry) + _health_gauges(request.app),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


def create_app(settings: Settings) -> web.Application:
    """Build the aiohttp application; does no I/O (that happens in the cleanup contexts)."""
    # Each handler enforces its own limit; this is the largest of them.
    app = web.Application(
        client_max_size=max(settings.max_body_bytes, settings.notify_max_body_bytes, PRICES_MAX_BODY_BYTES),
        middlewares=[database_errors_middleware],
    )
    app[SETTINGS] = settings
    app[METRICS] = DeliveryMetrics()
    app.cleanup_ctx.extend([database_ctx, bot_ctx, scheduler_ctx])
    app.router.add_post("/api/messages", messages)
    app.router.add_post("/api/prices", prices)
    app.router.add_post("/api/notify", notify)
    app.router.add_get("/api/notify/{id}", notify_status)
    app.router.add_delete("/api/notify/{id}", notify_cancel)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def use_event_loop(name: str) -> None:
    """Run on uvloop (the default: the delivery path is CPU-bound on the loop, and uvloop's
    is faster) or on the standard library's loop (``EVENT_LOOP=asyncio``)."""
    if name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif name != "asyncio":
        raise SystemExit(f"EVENT_LOOP must be uvloop or asyncio, not {name!r}")


# The cyclic garbage collector's first generation runs after this many allocations (700 by
# default). Every send allocates hundreds of short-lived objects that reference counting
# frees, so at the default a fan-out spent 7% of the loop in collections that found little.
GC_GEN0_THRESHOLD = 20_000


async def settle_garbage_collector(_app: web.Application) -> None:
    """Once started: move everything built so far (modules, SDK objects, the app) out of
    the collector's sight with ``gc.freeze()``, and collect the young generation less often.
    Cycles are still collected; full collections no longer walk the start-up heap."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, middle, old)


class StartupFailed(Exception):
    """The bot can't start; ``str()`` is the one console line saying what failed and how to fix it."""


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts: a port that is taken is
    found before the database is migrated or a reminder can fire.

    Raises:
        StartupFailed: the address can't be bound.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise StartupFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc} (check HOST)") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "another process has it: stop it or set PORT" if exc.errno == errno.EADDRINUSE else "check HOST and PORT"
        raise StartupFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc} ({hint})") from exc
    return sock


async def serve(settings: Settings) -> None:
    """Bind, start (database, bot, scheduler), say where the bot listens, run until SIGTERM
    or SIGINT, then shut down in order.

    Raises:
        StartupFailed, DatabaseUnavailable: the port or the database could not be opened;
            nothing is left running.
    """
    sock = bind_socket(settings.host, settings.port)
    app = create_app(settings)
    app.on_startup.append(settle_garbage_collector)
    # SIGTERM: stop accepting, give open requests SHUTDOWN_HTTP_SECONDS, then the cleanup
    # contexts stop the scheduler (sends under way are recorded, the rest put back): under 10 s.
    runner = web.AppRunner(app, access_log_class=AccessLogger, shutdown_timeout=SHUTDOWN_HTTP_SECONDS)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()
        await web.SockSite(runner, sock).start()
        host, port = sock.getsockname()[:2]
        url_host = f"[{host}]" if ":" in host else host
        logger.info("Nudge listening on http://%s:%s/api/messages (open it in the Bot Framework Emulator)", url_host, port)
        await stop.wait()
        logger.info("stopping")
    finally:
        await runner.cleanup()
        sock.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Nudge bot.")
    parser.add_argument(
        "--log-level", default=os.environ.get("LOG_LEVEL", "INFO"),
        help="DEBUG, INFO (default; one line per turn and per delivery), WARNING, ERROR",
    )
    parser.add_argument(
        "--log-format", default=os.environ.get("LOG_FORMAT", "text"), choices=FORMATS,
        help="text (default) or json (one object per line)",
    )
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    use_event_loop(os.environ.get("EVENT_LOOP", "uvloop"))
    settings = settings_from_env()
    try:
        asyncio.run(serve(settings))
    except Exception as exc:
        # One line that says what to fix (ours say it themselves; anything else is named by
        # its type); the traceback only for whoever asked for DEBUG.
        said = isinstance(exc, (StartupFailed, DatabaseUnavailable))
        logger.error("start-up failed: %s", exc if said else f"{type(exc).__name__}: {exc}")
        logger.debug("start-up failure in detail", exc_info=exc)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
