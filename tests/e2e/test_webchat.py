"""The bot in the official Web Chat UI, in headless Chromium, over a local Direct Line emulator.

Each test opens Web Chat as a new user and asserts on what that user sees in the transcript
(read from Web Chat's DOM), plus the database rows and HTTP answers behind it. The bot is a
real ``app.py`` process; see ``conftest.py`` and ``harness.py`` for the set-up.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.schedule import format_local
from models.tables import Alert, Conversation, Occurrence, Reminder, User
from tests.e2e.harness import ARTIFACTS, E2E_DIR, NOTIFY_KEY, PRICES_KEY
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

ZONE = "Europe/Prague"  # the browser's time zone (the driver opens every page in it)
# A proactive message must show in the browser by its due time plus this: the page polls
# Direct Line every 250 ms; the rest is the scheduler, the send and Web Chat's rendering,
# on a 2-core machine that may be running benchmarks too.
ON_TIME_MARGIN = 3.0
WELCOME = "I'm Nudge"
REMINDER_BUTTONS = ["Snooze 10 min", "Snooze 1 h", "Done"]
DELIVERED = "Snooze 10 min"  # the button that tells a delivered reminder from its confirmation


# --- the database behind what the user sees ------------------------------------------------


async def db_user(db, user_id: str) -> User | None:
    async with db() as session:
        return (await session.execute(select(User).where(User.user_id == user_id))).scalar_one_or_none()


async def reminder(db, user_id: str, number: int) -> Reminder:
    async with db() as session:
        return (
            await session.execute(
                select(Reminder).join(User, User.id == Reminder.user_pk)
                .where(User.user_id == user_id, Reminder.number == number)
            )
        ).scalar_one()


async def occurrences(db, reminder_id: int) -> list[Occurrence]:
    async with db() as session:
        rows = await session.execute(select(Occurrence).where(Occurrence.reminder_id == reminder_id))
        return list(rows.scalars())


async def delivered(db, user_id: str, number: int) -> Occurrence:
    """The reminder's one occurrence, once the bot has recorded it as sent."""

    async def sent() -> Occurrence | None:
        rows = await occurrences(db, (await reminder(db, user_id, number)).id)
        return rows[0] if len(rows) == 1 and rows[0].status == "sent" else None

    return await eventually(sent, timeout=10)


async def push_prices(http, bot, *ticks: tuple[str, float]) -> dict:
    now = datetime.now(UTC).isoformat()
    async with http.post(
        bot.url + "/api/prices",
        json=[{"symbol": symbol, "price": price, "time": now} for symbol, price in ticks],
        headers={"Authorization": f"Bearer {PRICES_KEY}"},
    ) as response:
        assert response.status == 202, await response.text()
        return await response.json()


# --- the scenarios ---------------------------------------------------------------------------
# Assertions name what the user must see (the reminder's text, its local time, a card and its
# buttons), not the exact wording or layout of a reply, so a reply may move from text to a card.


async def test_welcome_shows_when_the_user_joins(webchat, db, driver):
    seen = await webchat.wait_for(WELCOME)
    assert seen.entry.index == 0 and seen.entry.sender == "bot"
    assert [e.sender for e in seen.transcript] == ["bot"]
    # The join stored the conversation, with the emulator as the channel to send to later.
    user = await db_user(db, webchat.user)
    async with db() as session:
        conversation = (await session.execute(select(Conversation).where(Conversation.user_pk == user.id))).scalar_one()
    assert conversation.service_url == driver.url and conversation.active


async def test_reminder_in_plain_words_is_confirmed_in_local_time(webchat, db):
    await webchat.wait_for(WELCOME)
    await webchat.say("remind me to water the plants in 10 minutes")
    seen = await webchat.wait_for("Reminder #1 set")

    row = await reminder(db, webchat.user, 1)
    assert (row.text, row.state, row.timezone) == ("water the plants", "active", ZONE)
    assert abs(row.next_run_at - (datetime.now(UTC) + timedelta(minutes=10))) < timedelta(seconds=30)
    # What and when, the time in the zone Web Chat reported (localTimezone), as the row has it.
    assert "water the plants" in seen.entry.plain
    assert format_local(row.next_run_at, ZONE) in seen.entry.plain
    user = await db_user(db, webchat.user)
    assert (user.timezone, user.timezone_source) == (ZONE, "channel")
    assert [e.sender for e in seen.transcript] == ["bot", "user", "bot"]
    assert seen.transcript[1].plain == "remind me to water the plants in 10 minutes"


async def test_proactive_reminder_shows_on_time_with_its_card(webchat, db):
    await webchat.wait_for(WELCOME)
    await webchat.say("remind me to stretch in 3 seconds")
    await webchat.wait_for("Reminder #1 set")

    seen = await webchat.wait_for("Reminder #1: stretch", button=DELIVERED, timeout=20)
    occurrence = await delivered(db, webchat.user, 1)
    due = occurrence.due_at.timestamp()
    assert due - 0.2 <= seen.at <= due + ON_TIME_MARGIN, f"shown {seen.at - due:+.2f}s from its due time"
    # Its Adaptive Card rendered, with the buttons.
    assert len(seen.entry.cards) == 1 and "Reminder #1: stretch" in seen.entry.cards[0]
    assert set(REMINDER_BUTTONS) <= set(seen.entry.buttons), seen.entry.buttons
    row = await reminder(db, webchat.user, 1)
    assert row.state == "done" and row.next_run_at is None


async def test_card_buttons_snooze_and_done(webchat, db):
    await webchat.wait_for(WELCOME)
    await webchat.say("remind me to drink water in 2 seconds")
    await webchat.wait_for("Reminder #1 set")
    await webchat.say("remind me to stand up in 3 seconds")
    await webchat.wait_for("Reminder #2 set")
    await webchat.wait_for("Reminder #1: drink water", button=DELIVERED, timeout=20)
    await webchat.wait_for("Reminder #2: stand up", button=DELIVERED, timeout=20)
    await delivered(db, webchat.user, 1)
    await delivered(db, webchat.user, 2)

    before, clicked_at = await webchat.bot_count(), datetime.now(UTC)
    await webchat.click("Snooze 10 min", on="Reminder #1: drink water")
    answer = (await webchat.reply_after(before)).entry
    snoozed = await reminder(db, webchat.user, 1)
    assert snoozed.state == "active"
    assert timedelta(minutes=9, seconds=55) <= snoozed.next_run_at - clicked_at <= timedelta(minutes=10, seconds=30)
    assert "snoozed" in answer.plain.lower() and format_local(snoozed.next_run_at, ZONE) in answer.plain, answer.plain

    before = await webchat.bot_count()
    await webchat.click("Done", on="Reminder #2: stand up")
    answer = (await webchat.reply_after(before)).entry
    assert "done" in answer.plain.lower() and "stand up" in answer.plain, answer.plain
    [occurrence] = await occurrences(db, (await reminder(db, webchat.user, 2)).id)
    assert occurrence.acknowledged_at is not None
    # A button press is a message with a value and no text: no empty bubble from the user.
    assert [e.plain for e in await webchat.transcript() if e.sender == "user"] == [
        "remind me to drink water in 2 seconds", "remind me to stand up in 3 seconds"
    ]


async def test_edit_rename_and_undo(webchat, db):
    await webchat.wait_for(WELCOME)
    await webchat.say("remind me to call Anna in 2 hours")
    await webchat.wait_for("Reminder #1 set")

    # "tomorrow" is read in the browser's zone; computed on both sides of the message, in case
    # the local date changes while it is on its way.
    def tomorrow_at_1730() -> datetime:
        local = datetime.now(ZoneInfo(ZONE)) + timedelta(days=1)
        return local.replace(hour=17, minute=30, second=0, microsecond=0).astimezone(UTC)

    expected = {tomorrow_at_1730()}
    before = await webchat.bot_count()
    await webchat.say("move 1 to tomorrow at 17:30")
    answer = (await webchat.reply_after(before)).entry
    expected.add(tomorrow_at_1730())
    moved = await reminder(db, webchat.user, 1)
    assert moved.next_run_at in expected and moved.text == "call Anna"
    assert "Moved reminder #1" in answer.plain and format_local(moved.next_run_at, ZONE) in answer.plain, answer.plain

    await webchat.say("rename 1 to call the dentist")
    await webchat.wait_for("Renamed reminder #1")
    assert (await reminder(db, webchat.user, 1)).text == "call the dentist"

    await webchat.say("undo")
    seen = await webchat.wait_for("Undone")
    assert "call Anna" in seen.entry.plain, seen.entry.plain
    row = await reminder(db, webchat.user, 1)
    assert (row.text, row.next_run_at, row.state) == ("call Anna", moved.next_run_at, "active")
    async with db() as session:
        rows = (await session.execute(
            select(Reminder).join(User, User.id == Reminder.user_pk).where(User.user_id == webchat.user)
        )).scalars().all()
    assert len(rows) == 1  # the edits made no reminder of their own


async def test_a_new_request_interrupts_a_pending_question(webchat, db, bot, http):
    await webchat.wait_for(WELCOME)
    # A level no other test's prices reach: this alert stays armed in the shared bot.
    await push_prices(http, bot, ("ETH", 3500.0))
    await webchat.say("remind me to stretch")
    await webchat.wait_for("When should I remind you?")

    # A command answers, and a complete alert ends the question without reusing any of it.
    await webchat.say("my reminders")
    await webchat.wait_for("You have no reminders")
    await webchat.say("remind me to stretch")
    await webchat.wait_for("When should I remind you?", count=2)
    await webchat.say("alert me when ETH goes above 9000")
    seen = await webchat.wait_for("Alert #1 set")
    assert "ETH goes above 9,000" in seen.entry.plain

    user = await db_user(db, webchat.user)
    async with db() as session:
        alerts = (await session.execute(select(Alert).where(Alert.user_pk == user.id))).scalars().all()
        reminders = (await session.execute(select(Reminder).where(Reminder.user_pk == user.id))).scalars().all()
    assert [(a.symbol, a.condition, a.threshold) for a in alerts] == [("ETH", "above", 9000.0)]
    assert reminders == []
    # The question is gone: a time now is not taken as its answer.
    before = await webchat.bot_count()
    await webchat.say("in 10 minutes")
    await webchat.reply_after(before)
    async with db() as session:
        assert (await session.execute(select(Reminder).where(Reminder.user_pk == user.id))).scalars().all() == []


async def test_price_alert_fires_on_a_pushed_tick_and_its_card_renders(webchat, db, bot, http):
    await webchat.wait_for(WELCOME)
    await push_prices(http, bot, ("ETH", 3500.0))
    await webchat.say("alert me when ETH goes above 3600")
    seen = await webchat.wait_for("Alert #1 set")
    assert "ETH goes above 3,600" in seen.entry.plain and "3,500" in seen.entry.plain  # with the price now

    assert (await push_prices(http, bot, ("ETH", 3650.25)))["fired"] == 1
    seen = await webchat.wait_for("Alert #1: ETH goes above 3,600", button="Re-arm")
    [card] = seen.entry.cards
    assert "Alert #1: ETH goes above 3,600" in card and "3,650.25" in card
    user = await db_user(db, webchat.user)
    async with db() as session:
        alert = (await session.execute(select(Alert).where(Alert.user_pk == user.id))).scalar_one()
    assert (alert.symbol, alert.state, alert.fire_count) == ("ETH", "done", 1)


async def test_notify_broadcast_shows_in_the_transcript(webchat, bot, http):
    await webchat.wait_for(WELCOME)
    body = {"broadcast": True, "textFormat": "markdown",
            "text": "**Maintenance** tonight at 22:00: Nudge may be away for _10 minutes_."}
    async with http.post(bot.url + "/api/notify", json=body, headers={"X-Api-Key": "wrong-key-wrong-key"}) as response:
        assert response.status == 401
    async with http.post(bot.url + "/api/notify", json=body, headers={"Authorization": f"Bearer {NOTIFY_KEY}"}) as response:
        assert response.status == 202
        notification = await response.json()

    seen = await webchat.wait_for("Maintenance tonight at 22:00")
    assert seen.entry.plain == "Maintenance tonight at 22:00: Nudge may be away for 10 minutes."
    assert "<strong>Maintenance</strong>" in seen.entry.html and "<em>10 minutes</em>" in seen.entry.html

    async def reported():
        async with http.get(bot.url + notification["links"]["self"], headers={"X-Api-Key": NOTIFY_KEY}) as response:
            report = await response.json()
        return report if report["status"] == "done" else None

    report = await eventually(reported, timeout=10)
    assert [t["status"] for t in report["targets"] if t["userId"] == webchat.user] == ["sent"]


@pytest.mark.viewport(width=900, height=1080)
async def test_full_conversation_for_the_readme(webchat, http, bot):
    """Welcome, a reminder set and delivered with its card, a price alert and its card, in one
    window: artifacts/webchat.png, copied to docs/webchat.png with NUDGE_E2E_UPDATE_DOCS=1."""
    await webchat.wait_for(WELCOME)
    await push_prices(http, bot, ("BTC", 68250.0))
    await webchat.say("remind me to stretch in 3 seconds")
    await webchat.wait_for("Reminder #1 set")
    reminder_card = (await webchat.wait_for("Reminder #1: stretch", button=DELIVERED, timeout=20)).entry
    await webchat.say("alert me when BTC goes above 70000")
    await webchat.wait_for("Alert #1 set")
    assert (await push_prices(http, bot, ("BTC", 70120.5)))["fired"] == 1
    alert_card = (await webchat.wait_for("Alert #1: BTC goes above 70,000", button="Re-arm")).entry
    assert reminder_card.cards and alert_card.cards
    await webchat.screenshot(ARTIFACTS / "webchat.png")
    if os.environ.get("NUDGE_E2E_UPDATE_DOCS") == "1":
        shutil.copyfile(ARTIFACTS / "webchat.png", E2E_DIR.parents[1] / "docs" / "webchat.png")
