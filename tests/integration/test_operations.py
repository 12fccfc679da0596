"""What operators watch: /metrics (Prometheus) and /healthz (database and scheduler), and the
scheduler riding out a database outage."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app import ENGINE, SESSIONMAKER
from models.db import make_sessionmaker, open_engine
from models.tables import Conversation, User
from tests.support.factories import make_reminder
from tests.support.waiting import eventually


# Nothing listens on port 9: every connection is refused at once.
DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/nudge"


def base(running_bot) -> str:
    return running_bot.url.removesuffix("/api/messages")


def sample(metrics_text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics_text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match[1].split(","))) == wanted:
            return float(match[2])
    return None


async def test_metrics_count_deliveries_and_their_lateness(running_bot):
    user = running_bot.user()
    assert await user.join(running_bot.http) == 201
    await user.say(running_bot.http, "remind me to stretch in 1 second")
    await running_bot.channel.wait_for_text("⏰ Reminder #1: stretch", timeout=10)

    async def scraped():
        async with running_bot.http.get(base(running_bot) + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            body = await response.text()
        return body if sample(body, "nudge_deliveries_total", kind="reminder", outcome="sent") else None

    body = await eventually(scraped)
    assert sample(body, "nudge_deliveries_total", kind="reminder", outcome="sent") == 1.0
    assert sample(body, "nudge_delivery_lateness_seconds_count", kind="reminder") == 1.0
    assert sample(body, "nudge_delivery_lateness_seconds_bucket", kind="reminder", le="1.0") == 1.0
    assert sample(body, "nudge_delivery_duration_seconds_count", kind="reminder") == 1.0
    assert re.search(r"^nudge_outbox_in_flight \d+\.0$", body, re.MULTILINE)


async def test_healthz_reports_database_and_scheduler(running_bot, tmp_path):
    async with running_bot.http.get(base(running_bot) + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"database": "ok", "scheduler": "running", "in_flight": 0}
    app = running_bot.app
    working = app[ENGINE]
    broken = open_engine(DEAD_DATABASE)
    app[ENGINE] = broken  # stands in for a database that stopped answering
    try:
        async with running_bot.http.get(base(running_bot) + "/healthz") as response:
            assert response.status == 503
            assert (await response.json())["database"] == "unavailable"
    finally:
        app[ENGINE] = working
        await broken.dispose()


async def test_scheduler_rides_out_a_database_outage_and_sends_what_came_due(running_bot):
    user = running_bot.user(user_id="outage-user")
    assert await user.join(running_bot.http) == 201
    await running_bot.channel.wait_for(lambda r: r.conversation_id == user.conversation_id)
    scheduler = running_bot.scheduler
    working = scheduler._sessionmaker
    dead_engine = open_engine(DEAD_DATABASE)
    # The database goes away: a pass fails (APScheduler's listener re-arms the wake job),
    # the scheduler keeps running.
    scheduler._sessionmaker = scheduler.outbox._sessionmaker = make_sessionmaker(dead_engine)
    try:
        with pytest.raises(OSError):
            await scheduler.run_due()
        assert scheduler.running
    finally:
        scheduler._sessionmaker = scheduler.outbox._sessionmaker = working
        await dead_engine.dispose()
    # Meanwhile a reminder came due; with the database back it is sent.
    now = datetime.now(UTC)
    async with running_bot.app[SESSIONMAKER].begin() as session:
        conversation = (await session.execute(
            select(Conversation).join(User, User.id == Conversation.user_pk).where(User.user_id == "outage-user")
        )).scalar_one()
        session.add(make_reminder(user_pk=conversation.user_pk, conversation_pk=conversation.id, number=1,
                                  text="after the outage", schedule={"type": "date", "run_at": now.isoformat()},
                                  next_run_at=now))
    scheduler.poke(now)
    await running_bot.channel.wait_for_text("after the outage", timeout=10)
