"""Nudge: settings, HTTP handlers, start-up and shutdown, and the entry point.

Run ``python app.py``; the bot listens on ``http://HOST:PORT/api/messages``.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import math
import os
from collections.abc import AsyncIterator
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
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from dialogs.bot import NudgeBot
from models.bot_storage import SqlStorage
from models.db import (
    database_url_from_env,
    make_sessionmaker,
    open_engine,
    upgrade_database,
)
from models.alerts import Alerts
from models.reminders import Reminders
from scheduler.alerts import AlertEngine, IngestFailed
from scheduler.delivery import Deliverer
from scheduler.engine import ReminderScheduler
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


def _keys(raw: str) -> tuple[str, ...]:
    """API keys from a comma-separated list (several, so keys can be rotated)."""
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    if any(len(key) < 16 for key in keys):
        raise SystemExit("every API key must be at least 16 characters long")
    return keys


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
        delivery_lease_seconds=float(_int("DELIVERY_LEASE_SECONDS", 120, minimum=40)),
        send_timeout_seconds=float(_int("SEND_TIMEOUT_SECONDS", 20)),
        max_alerts_per_user=_int("MAX_ALERTS_PER_USER", 100),
        price_api_keys=_keys(os.environ.get("PRICES_API_KEYS", "")),
        price_max_age_seconds=float(_int("PRICE_MAX_AGE_SECONDS", 300)),
        price_max_symbols=_int("PRICE_MAX_SYMBOLS", 100),
        price_feed_env={k: v for k, v in os.environ.items() if k.startswith("PRICE_FEED")},
    )
    try:
        feed_from_env(settings.price_feed_env)  # only to refuse bad settings before starting
    except ValueError as exc:
        raise SystemExit(f"bad price feed setting: {exc}") from None
    if settings.delivery_lease_seconds < 2 * settings.send_timeout_seconds:
        raise SystemExit("DELIVERY_LEASE_SECONDS must be at least twice SEND_TIMEOUT_SECONDS")
    return settings


PRICES_MAX_BODY_BYTES = 64 * 1024
SEND_CONCURRENCY = 32

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", NudgeBot)
SCHEDULER = web.AppKey("scheduler", ReminderScheduler)
REMINDERS = web.AppKey("reminders", Reminders)
ALERT_ENGINE = web.AppKey("alert_engine", AlertEngine)


# --- start-up and shutdown, in this order (cleanup runs in reverse) -------------------


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.migrate_on_start:
        await upgrade_database(settings.database_url)
    engine = open_engine(settings.database_url)
    app[ENGINE] = engine
    app[SESSIONMAKER] = make_sessionmaker(engine)
    yield
    await engine.dispose()


async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(settings))

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        logger.error("unhandled error in a turn: %r", error, exc_info=error)
        try:
            await turn_context.send_activity("Sorry, something went wrong on my side. Please try again.")
        except Exception:  # the channel may be the thing that failed
            logger.warning("could not tell the user about the error")

    adapter.on_turn_error = on_turn_error
    sessionmaker = app[SESSIONMAKER]
    scheduler = ReminderScheduler(
        sessionmaker=sessionmaker,
        deliverer=Deliverer(adapter, settings.APP_ID),
        concurrency=SEND_CONCURRENCY,
        resync_seconds=settings.scheduler_resync_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        send_timeout=settings.send_timeout_seconds,
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
    app[ADAPTER] = adapter
    app[SCHEDULER] = scheduler
    app[REMINDERS] = reminders
    app[ALERT_ENGINE] = alert_engine
    app[BOT] = NudgeBot(
        sessionmaker=sessionmaker,
        conversation_state=ConversationState(SqlStorage(sessionmaker)),
        reminders=reminders,
        alerts=alerts,
    )
    yield
    await alert_engine.feed.close()


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    # The SDK sends proactive messages with blocking calls in the loop's default thread
    # pool; size it for the outbox's concurrency plus the threads a dead channel may hold.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=2 * SEND_CONCURRENCY + 8, thread_name_prefix="send")
    )
    scheduler = app[SCHEDULER]
    alert_engine = app[ALERT_ENGINE]
    await alert_engine.start()
    await scheduler.start()
    scheduler.add_periodic("price-feed", alert_engine.poll, alert_engine.feed.interval_seconds)
    scheduler.add_periodic("alert-housekeeping", alert_engine.housekeeping, 30)
    if not app[SETTINGS].price_api_keys:
        logger.info("POST /api/prices is disabled: PRICES_API_KEYS is not set")
    yield
    await scheduler.shutdown()


# --- HTTP handlers ---------------------------------------------------------------------


def _error(status: HTTPStatus, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# Longest identifiers stored (see models/tables.py); longer ones can't be a real channel's.
_ID_LIMITS = {"channelId": 64, "from.id": 256, "conversation.id": 512, "serviceUrl": 1024}


def _activity_problem(activity: Activity) -> str | None:
    """Why an inbound activity can't be processed, or None when it can."""
    if activity.conversation is None or not activity.conversation.id or not activity.service_url:
        return "activity needs conversation.id and serviceUrl"
    if activity.from_property is None or not activity.from_property.id:
        return "activity needs from.id"
    values = {
        "channelId": activity.channel_id,
        "from.id": activity.from_property.id if activity.from_property else None,
        "conversation.id": activity.conversation.id,
        "serviceUrl": activity.service_url,
    }
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > _ID_LIMITS[name] or "\x00" in value:
            return f"{name} must be a string of at most {_ID_LIMITS[name]} characters"
    if not activity.service_url.startswith(("http://", "https://")):
        return "serviceUrl must be an http(s) URL"
    return None


async def messages(request: web.Request) -> web.Response:
    """``POST /api/messages``: one inbound activity from a channel or the Emulator."""
    if request.content_type != "application/json":
        return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(HTTPStatus.BAD_REQUEST, "body is not valid JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
        return _error(HTTPStatus.BAD_REQUEST, "body must be an activity object with a type")
    try:
        activity = Activity().deserialize(payload)
    except Exception:
        return _error(HTTPStatus.BAD_REQUEST, "body is not a valid activity")
    problem = _activity_problem(activity)
    if problem:
        return _error(HTTPStatus.BAD_REQUEST, problem)
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
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError):
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
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "prices could not be recorded; try again")
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


async def healthz(request: web.Request) -> web.Response:
    scheduler = request.app[SCHEDULER]
    return web.json_response({"scheduler": "running" if scheduler.running else "stopped"})


def create_app(settings: Settings) -> web.Application:
    """Build the aiohttp application; does no I/O (that happens in the cleanup contexts)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.extend([database_ctx, bot_ctx, scheduler_ctx])
    app.router.add_post("/api/messages", messages)
    app.router.add_post("/api/prices", prices)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Nudge bot.")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_from_env()
    logger.info("Nudge listening on http://%s:%s/api/messages", settings.host, settings.port)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


if __name__ == "__main__":
    main()
