"""The chat as a user of the Emulator sees it: creating, listing and changing reminders.

Every test talks to the bot over real HTTP (on SQLite and PostgreSQL) and checks three
things: the replies the fake channel received, the rows in the database, and, where a
reminder is due within seconds, the proactive message that delivers it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.chat import Chat

PRAGUE = ZoneInfo("Europe/Prague")
# "Tue 24 Nov 2026 13:05 CET": how confirmations show a local time.
LOCAL_TIME = r"\w{3} \d{1,2} \w{3} \d{4} \d\d:\d\d"


def close_to(moment: datetime | None, expected: datetime, slack: float = 5.0) -> bool:
    return moment is not None and abs((moment - expected).total_seconds()) <= slack


def shown(moment: datetime, zone: ZoneInfo) -> str:
    """An instant written the way the bot shows it, computed here independently of the bot."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b} {local.year} {local:%H:%M} {local.tzname()}"


async def test_step_by_step_asks_when_reprompts_then_delivers(running_bot):
    chat = Chat(running_bot)

    turn = await chat.say("remind me to stretch")
    assert turn.status == 201
    assert turn.replies == [
        'When should I remind you? For example "in 10 minutes", "tomorrow at 9am", "every weekday at 8:30".'
    ]

    turn = await chat.say("blah blah")
    assert len(turn.replies) == 1
    assert "couldn't find a time" in turn.text and '"in 10 minutes"' in turn.text
    assert await chat.reminders() == []

    turn = await chat.say("in 3 seconds")
    [row] = await chat.reminders()
    assert turn.text == f"✅ Reminder #1 set: stretch, on {shown(row.next_run_at, PRAGUE)}.", turn.text
    assert (row.number, row.text, row.state) == (1, "stretch", "active")
    assert close_to(row.next_run_at, datetime.now(UTC) + timedelta(seconds=3))

    delivered = await running_bot.channel.wait_for_text("⏰ Reminder #1: stretch", timeout=6)
    assert delivered.conversation_id == chat.user.conversation_id and delivered.reply_to is None
    [occurrence] = await chat.wait_until_recorded()
    assert occurrence.due_at == row.next_run_at
    assert (await chat.reminder(1)).state == "done"


async def test_time_without_text_asks_what(running_bot):
    chat = Chat(running_bot)

    turn = await chat.say("remind me in 10 minutes")
    assert turn.replies == ["What should I remind you about?"]
    assert await chat.reminders() == []

    asked = datetime.now(UTC)
    turn = await chat.say("water the plants")
    assert turn.text.startswith("✅ Reminder #1 set: water the plants, on "), turn.text
    [row] = await chat.reminders()
    assert row.text == "water the plants"
    assert close_to(row.next_run_at, asked + timedelta(minutes=10))


def next_weekday_0830(now: datetime) -> datetime:
    """The first 08:30 in Prague on a Monday to Friday strictly after ``now``, in UTC."""
    local = now.astimezone(PRAGUE)
    first = local.replace(hour=8, minute=30, second=0, microsecond=0, fold=0)
    while first <= local or first.weekday() >= 5:
        first = (first + timedelta(days=1)).replace(hour=8, minute=30)
    return first.astimezone(UTC)


async def test_recurring_reminder_confirms_description_and_first_local_time(running_bot):
    chat = Chat(running_bot)
    before = datetime.now(UTC)
    turn = await chat.say("every weekday at 8:30 remind me to stand up")
    after = datetime.now(UTC)

    [row] = await chat.reminders()
    # The bot read its clock somewhere in between; either answer is right if 08:30 fell inside.
    assert row.next_run_at in {next_weekday_0830(before), next_weekday_0830(after)}, (row.next_run_at, before)
    assert turn.replies == [
        f"✅ Reminder #1 set: stand up, every weekday at 08:30. First one: {shown(row.next_run_at, PRAGUE)}."
    ]
    assert row.text == "stand up" and row.timezone == "Europe/Prague"
    assert row.schedule["type"] == "cron"


async def test_list_cancel_and_cancel_all(running_bot):
    chat = Chat(running_bot)
    assert "Reminder #1 set: a" in (await chat.say("remind me to a in 1 hour")).text
    assert "Reminder #2 set: b" in (await chat.say("remind me to b in 2 hours")).text
    assert "Reminder #3 set: c" in (await chat.say("remind me to c in 3 hours")).text

    listing = (await chat.say("my reminders")).text
    lines = listing.splitlines()
    assert lines[0] == "Your reminders:"
    assert [re.match(r"- (#\d+ \w+): next ", line).group(1) for line in lines[1:]] == ["#1 a", "#2 b", "#3 c"]

    assert (await chat.say("cancel 1")).replies == ['🗑️ Cancelled reminder #1: a. Say "undo" to bring it back.']
    row = await chat.reminder(1)
    assert (row.state, row.next_run_at) == ("cancelled", None)
    listing = (await chat.say("my reminders")).text
    assert "#1 a" not in listing and "#2 b" in listing and "#3 c" in listing

    # A cancelled reminder is gone for the user: cancelling it again names no reminder.
    assert (await chat.say("cancel 1")).replies == ['You have no reminder #1. Say "my reminders" to see them.']

    # Cancelling everything asks first; nothing changes until "yes".
    assert (await chat.say("cancel all")).replies == ["Cancel all 2 reminders? Nothing is cancelled until you say yes."]
    assert [r.state for r in await chat.reminders()] == ["cancelled", "active", "active"]
    assert (await chat.say("yes")).replies == ['🗑️ Cancelled 2 reminders. Say "undo" to bring them back.']
    assert [r.state for r in await chat.reminders()] == ["cancelled"] * 3
    assert (await chat.say("my reminders")).replies == [
        'You have no reminders. Try "remind me to stretch in 10 minutes".'
    ]
    assert (await chat.say("cancel all")).replies == ["You have no reminders to cancel."]


async def test_pause_and_resume(running_bot):
    chat = Chat(running_bot)
    await chat.say("remind me to a in 1 hour")
    await chat.say("remind me to b in 2 hours")
    due = (await chat.reminder(2)).next_run_at

    assert (await chat.say("pause 2")).replies == ['⏸️ Paused reminder #2: b. Say "resume 2" to restart it.']
    assert (await chat.reminder(2)).state == "paused"
    assert (await chat.reminder(1)).state == "active"
    assert "#2 b: next " in (listing := (await chat.say("my reminders")).text) and "(paused)" in listing
    assert "Reminder #2 is paused, so it can't be paused." in (await chat.say("pause 2")).text

    turn = await chat.say("resume 2")
    assert turn.replies == [f"▶️ Resumed reminder #2: b, next {shown(due, PRAGUE)}."]
    row = await chat.reminder(2)
    assert (row.state, row.next_run_at) == ("active", due)
    assert "(paused)" not in (await chat.say("my reminders")).text


async def test_snooze_and_done_after_delivery_by_card_buttons_and_text(running_bot):
    chat = Chat(running_bot)
    await chat.say("remind me to stretch in 2 seconds")
    delivered = await running_bot.channel.wait_for_text("⏰ Reminder #1: stretch", timeout=6)
    await chat.wait_until_recorded()
    assert (await chat.reminder(1)).state == "done"
    snooze_10, snooze_60, done = (a["data"] for a in delivered.activity["attachments"][0]["content"]["actions"])
    assert snooze_10 == {"nudge": "snooze", "number": 1, "minutes": 10}
    assert done == {"nudge": "done", "number": 1}

    pressed = datetime.now(UTC)
    turn = await chat.press(snooze_10)
    row = await chat.reminder(1)
    assert row.state == "active" and close_to(row.next_run_at, pressed + timedelta(minutes=10))
    assert turn.replies == [f"😴 Snoozed reminder #1 until {shown(row.next_run_at, PRAGUE)}."]

    # The typed command moves it again, later this time.
    typed = datetime.now(UTC)
    turn = await chat.say("snooze 1 1h")
    row = await chat.reminder(1)
    assert close_to(row.next_run_at, typed + timedelta(hours=1))
    assert turn.replies == [f"😴 Snoozed reminder #1 until {shown(row.next_run_at, PRAGUE)}."]

    turn = await chat.press(done)
    assert turn.replies == ["👍 Done: #1 stretch."]
    [occurrence] = await chat.occurrences()
    assert occurrence.acknowledged_at is not None


async def test_help_interrupts_a_dialog_which_then_still_waits(running_bot):
    chat = Chat(running_bot)
    assert "When should I remind you?" in (await chat.say("remind me to stretch")).text

    turn = await chat.say("help")
    assert turn.replies == [
        'I\'m setting up a reminder. Answer my question, or say "cancel" to stop. '
        'Times can look like "in 10 minutes", "tomorrow at 9am", "every weekday at 8:30". '
        'Any other command ("my reminders", "my alerts", a new reminder) works too and drops this '
        'question; say "help" again after it for everything I can do.'
    ]
    assert await chat.reminders() == []

    turn = await chat.say("in 3 seconds")
    assert "✅ Reminder #1 set: stretch, on " in turn.text
    assert [r.text for r in await chat.reminders()] == ["stretch"]


async def test_cancel_ends_a_dialog_and_stores_nothing(running_bot):
    chat = Chat(running_bot)
    assert "When should I remind you?" in (await chat.say("remind me to stretch")).text

    assert (await chat.say("cancel")).replies == ["OK, cancelled. Nothing was changed."]
    assert await chat.reminders() == []

    # The dialog is gone: a time now starts a new reminder instead of answering the old one.
    assert (await chat.say("in 3 seconds")).replies == ["What should I remind you about?"]
    assert await chat.reminders() == []


async def test_time_zone_is_asked_once_when_the_channel_gives_none(running_bot):
    chat = Chat(running_bot, local_timezone=None)

    turn = await chat.say("remind me to x in 5 minutes")
    assert turn.replies == ["First, which time zone are you in? For example London, New York, PST or UTC+2."]
    assert await chat.reminders() == []

    turn = await chat.say("Europe/Prague", replies=2)
    assert turn.replies[0] == "Got it, your time zone is Europe/Prague."
    [row] = await chat.reminders()
    assert turn.replies[1] == f"✅ Reminder #1 set: x, on {shown(row.next_run_at, PRAGUE)}.", turn.replies
    user = await chat.db_user()
    assert (user.timezone, user.timezone_source) == ("Europe/Prague", "user")
    assert [r.timezone for r in await chat.reminders()] == ["Europe/Prague"]

    turn = await chat.say("remind me to y in 5 minutes")
    assert len(turn.replies) == 1 and turn.text.startswith("✅ Reminder #2 set: y, on "), turn.replies


async def test_unknown_time_zone_answer_is_asked_again(running_bot):
    chat = Chat(running_bot, local_timezone=None)
    await chat.say("remind me to x in 5 minutes")

    turn = await chat.say("Mars/Olympus_Mons")
    assert turn.replies == [
        'I don\'t know that time zone. Name a city ("London", "New York"), an abbreviation ("PST", "CET"), '
        'an offset ("UTC+2") or an IANA name ("Europe/Prague").'
    ]
    assert (await chat.db_user()).timezone is None and await chat.reminders() == []


async def test_zone_from_local_timestamp_offset(running_bot):
    chat = Chat(running_bot, local_timezone=None, local_timestamp="2026-11-24T13:00:00.000+01:00")

    assert (await chat.say("my timezone")).replies == [
        "Your time zone is UTC+01:00 (your device's UTC offset, without daylight saving time). "
        'Say "set my timezone to <your city>", e.g. "set my timezone to London", to fix that.'
    ]
    user = await chat.db_user()
    assert (user.timezone, user.timezone_source) == ("Etc/GMT-1", "offset")

    # Shown as an offset, never as "Etc/GMT-1" (whose sign reads backwards); a city is offered once.
    turn = await chat.say("remind me to x in 5 minutes", replies=2)
    assert re.fullmatch(rf"✅ Reminder #1 set: x, on {LOCAL_TIME} UTC\+01:00\.", turn.replies[0]), turn.replies
    assert turn.replies[1].startswith("I only know your UTC offset (UTC+01:00)")
    turn = await chat.say("remind me to y in 5 minutes")
    assert len(turn.replies) == 1 and "Etc/GMT" not in turn.text


async def test_set_time_zone_changes_the_user_and_later_confirmations(running_bot):
    chat = Chat(running_bot)  # Web Chat-like: localTimezone Europe/Prague on every message

    turn = await chat.say("set my timezone to America/New_York")
    assert turn.replies == ["🌍 Your time zone is now America/New_York. Reminders are shown in it."]
    user = await chat.db_user()
    assert (user.timezone, user.timezone_source) == ("America/New_York", "user")

    asked = datetime.now(UTC)
    turn = await chat.say("remind me to call in 10 minutes")
    [row] = await chat.reminders()
    assert row.timezone == "America/New_York"
    assert turn.text == f"✅ Reminder #1 set: call, on {shown(row.next_run_at, ZoneInfo('America/New_York'))}.", turn.text
    assert close_to(row.next_run_at, asked + timedelta(minutes=10))

    # What the user said outranks the channel's localTimezone on later messages.
    assert (await chat.say("my timezone")).replies == ["Your time zone is America/New_York. To change it, say \"set my timezone to Europe/Prague\" (or yours)."]

    turn = await chat.say("set my timezone to Nowhere/Land")
    assert 'I don\'t know the time zone "Nowhere/Land"' in turn.text
    assert (await chat.db_user()).timezone == "America/New_York"


async def test_channel_refusing_the_delivery_is_recorded_and_kept(running_bot):
    chat = Chat(running_bot)
    assert "Reminder #1 set: stretch" in (await chat.say("remind me to stretch in 2 seconds")).text
    running_bot.channel.fail_with = 403

    # A 403 while no other send to the channel succeeds is not blamed on the conversation:
    # recorded with its status and kept pending for another attempt (test_channel_circuit.py).
    [occurrence] = await chat.wait_until_recorded("pending")
    assert (occurrence.status, occurrence.http_status, occurrence.sent_at, occurrence.attempts) == (
        "pending", 403, None, 1)
    assert occurrence.last_error
    assert not [t for t in running_bot.channel.texts() if t.startswith("⏰")]
