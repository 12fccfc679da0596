"""NudgeBot and its dialogs under botbuilder's TestAdapter, with a fixed clock.

The bot runs its real turn code (user and conversation upserts, dialog state in the
database, reminder rows) against a migrated SQLite file; only the channel is the
TestAdapter and the time is pinned, so every reply can be compared to the exact string.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, InputHints
from sqlalchemy import select

from dialogs.bot import HELP, WELCOME, NudgeBot
from dialogs.create_reminder import HELP_TEXT
from models.bot_storage import SqlStorage
from models.db import make_sessionmaker, open_engine, upgrade_database
from models.reminders import Reminders
from models.tables import Occurrence, Reminder, User
from tests.support.cards import buttons, card_of, suggestions
from tests.support.fake_channel import shown_text

# Tuesday 24 November 2026, 13:00 in Prague (CET, UTC+1).
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

WHEN = 'When should I remind you? For example "in 10 minutes", "tomorrow at 9am", "every weekday at 8:30".'
WHAT = "What should I remind you about?"
ZONE = "First, which time zone are you in? For example London, New York, PST or UTC+2."
NO_TIME = 'Sorry, I couldn\'t find a time in that. Try "in 10 minutes", "tomorrow at 9am" or "every weekday at 8:30".'
CANCELLED = "OK, cancelled. Nothing was changed."


class Clock:
    """A settable clock: ``clock()`` returns ``clock.now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """The bot behind a TestAdapter, with its clock, database and scheduler pokes."""

    def __init__(self, sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.pokes: list[datetime] = []
        self.reminders = Reminders(
            sessionmaker=sessionmaker, on_due=self.pokes.append, clock=clock, max_live=3
        )
        self.bot = NudgeBot(
            sessionmaker=sessionmaker,
            conversation_state=ConversationState(SqlStorage(sessionmaker)),
            reminders=self.reminders,
        )
        self.adapter = TestAdapter(self.bot.on_turn)

    async def send(self, activity: Activity) -> list[Activity]:
        """Run one turn; return every activity the bot sent in it."""
        await self.adapter.receive_activity(activity)
        replies = list(self.adapter.activity_buffer)
        self.adapter.activity_buffer.clear()
        return replies

    async def say(self, text: str, *, zone: str | None = "Europe/Prague") -> list[str]:
        """Send a message as Web Chat would (with ``localTimezone``); return the reply texts."""
        return [shown_text(a.serialize()) for a in await self.send(message(text, zone=zone))]

    async def press(self, value: dict) -> list[str]:
        """Send what an Adaptive Card button sends."""
        return [shown_text(a.serialize()) for a in await self.send(message(None, value=value))]

    async def rows(self) -> list[Reminder]:
        async with self.sessionmaker() as session:
            return list((await session.execute(select(Reminder).order_by(Reminder.number))).scalars())

    async def row(self, number: int) -> Reminder:
        return next(r for r in await self.rows() if r.number == number)

    async def user(self) -> User:
        async with self.sessionmaker() as session:
            return (await session.execute(select(User))).scalar_one()


def message(text: str | None, *, zone: str | None = "Europe/Prague", value: dict | None = None) -> Activity:
    return Activity(type=ActivityTypes.message, text=text, value=value, local_timezone=zone)


@pytest.fixture
async def sessionmaker(tmp_path) -> AsyncIterator:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}"
    await upgrade_database(url)
    engine = open_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def bot(sessionmaker) -> Harness:
    return Harness(sessionmaker, Clock(NOW))


# --- creating a reminder -------------------------------------------------------------------


async def test_one_message_confirms_with_the_exact_local_time(bot):
    assert await bot.say("remind me to stretch in 10 minutes") == [
        "✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 13:10 CET."
    ]
    [row] = await bot.rows()
    assert (row.number, row.text, row.state, row.timezone) == (1, "stretch", "active", "Europe/Prague")
    assert row.next_run_at == NOW + timedelta(minutes=10)
    assert bot.pokes == [NOW + timedelta(minutes=10)]  # the scheduler is told at once


async def test_one_message_across_the_dst_change(sessionmaker):
    bot = Harness(sessionmaker, Clock(datetime(2026, 3, 28, 12, 0, tzinfo=UTC)))  # Sat, CET

    assert await bot.say("remind me tomorrow at 9am to call Anna") == [
        "✅ Reminder #1 set: call Anna, on Sun 29 Mar 2026 09:00 CEST."
    ]
    assert (await bot.row(1)).next_run_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


async def test_recurring_reminder_confirms_description_and_first_time(bot):
    assert await bot.say("every weekday at 8:30 remind me to stand up") == [
        "✅ Reminder #1 set: stand up, every weekday at 08:30. First one: Wed 25 Nov 2026 08:30 CET."
    ]
    row = await bot.row(1)
    assert row.schedule["type"] == "cron"
    assert row.next_run_at == datetime(2026, 11, 25, 7, 30, tzinfo=UTC)


async def test_step_by_step_asks_what(bot):
    assert await bot.say("remind me in 10 minutes") == [WHAT]
    assert await bot.rows() == []
    assert await bot.say("water   the plants") == ["✅ Reminder #1 set: water the plants, on Tue 24 Nov 2026 13:10 CET."]


async def test_step_by_step_asks_when_and_reprompts_on_an_unparseable_time(bot):
    assert await bot.say("remind me to stretch") == [WHEN]
    assert await bot.say("blah blah") == [NO_TIME]
    assert await bot.say("whenever you like") == [NO_TIME]
    assert await bot.rows() == []
    assert await bot.say("tomorrow at 9am") == ["✅ Reminder #1 set: stretch, on Wed 25 Nov 2026 09:00 CET."]


async def test_answer_to_when_may_drop_the_in(bot):
    await bot.say("remind me to stretch")
    assert await bot.say("10 minutes") == ["✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 13:10 CET."]


async def test_the_time_read_uses_the_clock_of_the_answer(bot):
    await bot.say("remind me to stretch")
    bot.clock.now = NOW + timedelta(hours=2)  # the user answers two hours later
    assert await bot.say("in 10 minutes") == ["✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 15:10 CET."]


async def test_past_time_is_rejected_then_asked_again(bot):
    assert await bot.say("remind me to x on 2020-01-01 at 10:00") == [
        'Wed 1 Jan 2020 10:00 is already in the past. Give me a time in the future, e.g. "tomorrow at 9am".',
        WHEN,
    ]
    assert await bot.say("yesterday at 10am") == [
        'Mon 23 Nov 2026 10:00 is already in the past. Give me a time in the future, e.g. "tomorrow at 9am".'
    ]
    assert await bot.rows() == [] and bot.pokes == []
    assert await bot.say("in 1 hour") == ["✅ Reminder #1 set: x, on Tue 24 Nov 2026 14:00 CET."]


async def test_too_frequent_repeat_is_rejected(bot):
    replies = await bot.say("every 1 second drink water")
    assert replies == ['The shortest repeat I can do is every minute. Try "every 1 minute" or "every 30 minutes".', WHEN]
    assert await bot.rows() == []


async def test_limit_is_checked_when_saving(bot):
    for n in range(1, 4):
        await bot.say(f"remind me to r{n} in {n} hours")
    assert await bot.say("remind me to one more in 5 hours") == [
        'You already have 3 active reminders, which is the limit. Cancel some first ("my reminders" lists them).'
    ]
    assert [r.text for r in await bot.rows()] == ["r1", "r2", "r3"]


# --- interruptions -------------------------------------------------------------------------


async def test_help_interrupts_and_the_dialog_still_waits(bot):
    assert await bot.say("remind me to stretch") == [WHEN]

    [help_reply] = await bot.send(message("help"))
    assert shown_text(help_reply.serialize()) == HELP_TEXT
    assert help_reply.input_hint == InputHints.expecting_input

    assert await bot.say("in 3 minutes") == ["✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 13:03 CET."]


@pytest.mark.parametrize("word", ["cancel", "Stop", "never mind."])
async def test_cancel_ends_the_dialog_and_stores_nothing(bot, word):
    assert await bot.say("remind me to stretch") == [WHEN]
    assert await bot.say(word) == [CANCELLED]
    assert await bot.rows() == []
    # Nothing waits any more: a time now starts a new reminder instead of answering.
    assert await bot.say("in 3 minutes") == [WHAT]


async def test_cancel_while_asking_what(bot):
    assert await bot.say("remind me in 10 minutes") == [WHAT]
    assert await bot.say("cancel") == [CANCELLED]
    assert await bot.say("my reminders") == ['You have no reminders. Try "remind me to stretch in 10 minutes".']


async def test_testflow_help_then_cancel(bot):
    # The same interruptions, written with botbuilder's TestFlow.
    flow = await bot.adapter.test(message("remind me to stretch"), WHEN)
    flow = await flow.test(message("?"), HELP_TEXT)
    flow = await flow.test(message("cancel"), CANCELLED)
    await flow.test(message("my reminders"), 'You have no reminders. Try "remind me to stretch in 10 minutes".')


# --- time zones ----------------------------------------------------------------------------


async def test_time_zone_is_asked_once_when_unknown(bot):
    assert await bot.say("remind me to x in 5 minutes", zone=None) == [ZONE]
    assert await bot.say("Mars/Olympus", zone=None) == [
        'I don\'t know that time zone. Name a city ("London", "New York"), an abbreviation ("PST", "CET"), '
        'an offset ("UTC+2") or an IANA name ("Europe/Prague").'
    ]
    assert await bot.rows() == []
    assert await bot.say("asia/tokyo", zone=None) == [
        "Got it, your time zone is Asia/Tokyo.",
        "✅ Reminder #1 set: x, on Tue 24 Nov 2026 21:05 JST.",
    ]
    user = await bot.user()
    assert (user.timezone, user.timezone_source) == ("Asia/Tokyo", "user")
    assert await bot.say("remind me to y in 5 minutes", zone=None) == [
        "✅ Reminder #2 set: y, on Tue 24 Nov 2026 21:05 JST."
    ]


async def test_cancel_while_asking_for_the_zone_stores_no_zone(bot):
    assert await bot.say("remind me to x in 5 minutes", zone=None) == [ZONE]
    assert await bot.say("cancel", zone=None) == [CANCELLED]
    assert (await bot.user()).timezone is None


async def test_zone_from_local_timestamp_offset(bot):
    activity = message("my timezone", zone=None)
    activity.local_timestamp = datetime.fromisoformat("2026-11-24T13:00:00+01:00")
    assert [shown_text(a.serialize()) for a in await bot.send(activity)] == [
        "Your time zone is UTC+01:00 (your device's UTC offset, without daylight saving time). "
        'Say "set my timezone to <your city>", e.g. "set my timezone to London", to fix that.'
    ]
    assert (await bot.user()).timezone_source == "offset"


async def test_user_set_zone_outranks_the_channel(bot):
    assert await bot.say("my timezone", zone=None) == [
        'I don\'t know your time zone yet. Say "set my timezone to Europe/Prague" (or yours).'
    ]
    assert await bot.say("set my timezone to america/new_york") == [
        "🌍 Your time zone is now America/New_York. Reminders are shown in it."
    ]
    # Later messages still carry localTimezone Europe/Prague; what the user said wins.
    assert await bot.say("remind me to call in 10 minutes") == [
        "✅ Reminder #1 set: call, on Tue 24 Nov 2026 07:10 EST."
    ]
    assert await bot.say("what's my timezone?") == ["Your time zone is America/New_York. To change it, say \"set my timezone to Europe/Prague\" (or yours)."]


# --- commands ------------------------------------------------------------------------------


async def test_list_pause_resume_cancel(bot):
    await bot.say("remind me to a in 1 hour")
    await bot.say("every day at 9 remind me to b")

    assert await bot.say("my reminders") == [
        "Your reminders:\n"
        "- #1 a: next Tue 24 Nov 2026 14:00 CET\n"
        "- #2 b: next Wed 25 Nov 2026 09:00 CET, every day at 09:00"
    ]
    assert await bot.say("pause 2") == ['⏸️ Paused reminder #2: b. Say "resume 2" to restart it.']
    assert (await bot.row(2)).state == "paused"
    assert (await bot.say("my reminders"))[0].endswith("every day at 09:00 (paused)")
    assert await bot.say("pause 2") == ["Reminder #2 is paused, so it can't be paused."]

    # Resumed two days later: the missed occurrences are skipped, not sent in a burst.
    bot.clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert await bot.say("resume 2") == ["▶️ Resumed reminder #2: b, next Fri 27 Nov 2026 09:00 CET."]
    row = await bot.row(2)
    assert (row.state, row.next_run_at) == ("active", datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    assert bot.pokes[-1] == row.next_run_at

    assert await bot.say("cancel #1") == ['🗑️ Cancelled reminder #1: a. Say "undo" to bring it back.']
    row = await bot.row(1)
    assert (row.state, row.next_run_at) == ("cancelled", None)
    assert await bot.say("cancel 1") == ['You have no reminder #1. Say "my reminders" to see them.']
    # Cancelling everything asks first.
    assert await bot.say("cancel all") == ["Cancel your 1 reminder? Nothing is cancelled until you say yes."]
    assert (await bot.row(2)).state == "active"
    assert await bot.say("yes") == ['🗑️ Cancelled 1 reminder. Say "undo" to bring it back.']
    assert [r.state for r in await bot.rows()] == ["cancelled", "cancelled"]
    assert await bot.say("cancel all") == ["You have no reminders to cancel."]


async def test_snooze_never_brings_a_reminder_forward(bot):
    await bot.say("remind me to a in 1 hour")  # 14:00 CET

    # Not due yet and due later than the snooze: it stays, and the reply says why.
    assert await bot.say("snooze 1 30m") == [
        "⏰ Reminder #1 isn't due until Tue 24 Nov 2026 14:00 CET, later than that snooze, so it stays then "
        '(a snooze never brings a reminder forward). To move it, say "move 1 to ...".'
    ]
    assert (await bot.row(1)).next_run_at == NOW + timedelta(hours=1)
    # A snooze past the due time postpones it.
    assert await bot.say("snooze 1 2h") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 15:00 CET."]
    assert (await bot.row(1)).next_run_at == NOW + timedelta(hours=2)
    assert bot.pokes[-1] == NOW + timedelta(hours=2)
    assert await bot.say("snooze 1 for 1 day") == ["😴 Snoozed reminder #1 until Wed 25 Nov 2026 13:00 CET."]
    assert await bot.say("snooze 1 2 days") == ["😴 Snoozed reminder #1 until Thu 26 Nov 2026 13:00 CET."]


async def test_snooze_of_a_recurring_reminder_not_delivered_yet_keeps_its_next_time(bot):
    await bot.say("every 30 minutes remind me to drink")
    first = (await bot.row(1)).next_run_at
    assert first > NOW + timedelta(minutes=10)

    [reply] = await bot.say("snooze 1 10m")
    assert reply.startswith("⏰ Reminder #1 isn't due until Tue 24 Nov 2026 13:30 CET")
    assert (await bot.row(1)).next_run_at == first


async def test_snooze_refusals(bot):
    await bot.say("remind me to a in 1 hour")
    await bot.say("pause 1")
    assert await bot.say("snooze 1") == ["Reminder #1 is paused, so it can't be snoozed."]
    assert await bot.say("snooze 1 0m") == ["You can snooze for between 1 minute and 7 days."]
    assert await bot.say("snooze 1 169h") == ["You can snooze for between 1 minute and 7 days."]
    assert (await bot.row(1)).state == "paused"


async def test_card_buttons_after_a_delivery(bot):
    # What the scheduler records when the reminder fires: the one-off is done, the
    # occurrence sent. (tests/integration/test_chat_commands.py does it with a real delivery.)
    await bot.say("remind me to stretch in 1 minute")
    async with bot.sessionmaker.begin() as session:
        row = (await session.execute(select(Reminder))).scalar_one()
        session.add(Occurrence(reminder_id=row.id, conversation_pk=row.conversation_pk, due_at=row.next_run_at,
                               payload={"type": "message"}, status="sent", claimed_at=row.next_run_at))
        row.state, row.last_run_at, row.next_run_at = "done", row.next_run_at, None
    bot.clock.now = NOW + timedelta(minutes=2)

    assert await bot.press({"nudge": "snooze", "number": 1, "minutes": 10}) == [
        "😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:12 CET."
    ]
    row = await bot.row(1)
    assert (row.state, row.next_run_at) == ("active", NOW + timedelta(minutes=12))
    assert bot.pokes[-1] == NOW + timedelta(minutes=12)

    assert await bot.press({"nudge": "done", "number": 1}) == ["👍 Done: #1 stretch."]
    async with bot.sessionmaker() as session:
        acknowledged = (await session.execute(select(Occurrence.acknowledged_at))).scalar_one()
    assert acknowledged == NOW + timedelta(minutes=2)
    # Done after a snooze ends the one-off: it must not come back at the snooze time.
    row = await bot.row(1)
    assert (row.state, row.next_run_at) == ("done", None)
    assert await bot.press({"nudge": "done", "number": 7}) == ["You have no reminder #7."]
    assert await bot.press({"nudge": "fly", "number": 1}) == ["I don't know that button."]


async def test_a_card_press_answers_a_button_even_during_a_dialog(bot):
    await bot.say("remind me to a in 1 hour")
    assert await bot.say("remind me to b") == [WHEN]
    assert await bot.press({"nudge": "pause", "number": 1}) == [
        '⏸️ Paused reminder #1: a. Say "resume 1" to restart it.'
    ]
    # The dialog was left alone and still takes the answer.
    assert await bot.say("in 2 hours") == ["✅ Reminder #2 set: b, on Tue 24 Nov 2026 15:00 CET."]


# --- other messages ------------------------------------------------------------------------


async def test_help_outside_a_dialog_lists_everything(bot):
    assert await bot.say("help") == [HELP]


async def test_welcome_when_the_user_joins(bot):
    join = Activity(
        type=ActivityTypes.conversation_update,
        members_added=[ChannelAccount(id="bot"), ChannelAccount(id="User1")],
    )
    assert [shown_text(a.serialize()) for a in await bot.send(join)] == [WELCOME]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("", 'I got an empty message. Say "help" to see what I can do.'),
        ("x" * 1001, "That message is 1001 characters long; I read at most 1000. Nothing was changed."),
        ("fly me to the moon", 'Sorry, I didn\'t understand that. Try "remind me to stretch in 10 minutes", or say "help".'),
    ],
)
async def test_messages_that_are_not_requests(bot, text, reply):
    assert await bot.say(text) == [reply]
    assert await bot.rows() == []


async def test_done_before_it_went_off_says_so(bot):
    await bot.say("remind me to water plants in 10 minutes")
    assert await bot.say("done 1") == ["Reminder #1 hasn't gone off yet, so there is nothing to mark done."]


async def test_a_new_request_replaces_an_open_question(bot):
    assert (await bot.say("remind me to stretch"))[-1].startswith("When should I remind you?")
    replies = await bot.say("remind me to call Anna in 1 hour")
    assert replies[-1].startswith("✅ Reminder #1 set: call Anna")


async def test_set_timezone_without_a_zone_explains_how(bot):
    replies = await bot.say("set my timezone to")
    assert "set my timezone to Europe/Prague" in replies[0]


# --- cards and suggested actions -------------------------------------------------------


async def test_a_new_reminder_is_confirmed_with_a_card_that_can_undo_it(bot):
    [reply] = await bot.send(message("remind me to stretch in 10 minutes"))
    card = card_of(reply)
    assert card["fallbackText"] == "✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 13:10 CET."
    facts = {fact["title"]: fact["value"] for block in card["body"] if block["type"] == "FactSet" for fact in block["facts"]}
    assert facts == {"What": "stretch", "When": "Tue 24 Nov 2026 13:10 CET"}
    assert buttons(card) == [("Cancel it", {"nudge": "cancel", "number": 1})]
    assert suggestions(reply) == ["my reminders"]
    assert await bot.press({"nudge": "cancel", "number": 1}) == ['🗑️ Cancelled reminder #1: stretch. Say "undo" to bring it back.']
    assert (await bot.row(1)).state == "cancelled"


async def test_my_reminders_is_a_card_whose_buttons_pause_resume_and_cancel(bot):
    await bot.say("remind me to stretch in 10 minutes")
    await bot.say("every weekday at 8:30 remind me to stand up")
    [reply] = await bot.send(message("my reminders"))
    card = card_of(reply)
    text = json.dumps(card, ensure_ascii=False)
    assert "#1 stretch" in text and "#2 stand up" in text and "Next: Tue 24 Nov 2026 13:10 CET" in text
    assert buttons(card) == [
        ("Pause", {"nudge": "pause", "number": 1}), ("Cancel", {"nudge": "cancel", "number": 1}),
        ("Pause", {"nudge": "pause", "number": 2}), ("Cancel", {"nudge": "cancel", "number": 2}),
    ]
    assert card["fallbackText"].startswith("Your reminders:\n- #1 stretch: next Tue 24 Nov 2026 13:10 CET")
    [paused] = await bot.press({"nudge": "pause", "number": 2})
    assert paused.startswith("⏸️ Paused reminder #2: stand up.")
    [reply] = await bot.send(message("my reminders"))
    assert ("Resume", {"nudge": "resume", "number": 2}) in buttons(card_of(reply))
    [resumed] = await bot.press({"nudge": "resume", "number": 2})
    assert resumed.startswith("▶️ Resumed reminder #2: stand up")
    assert (await bot.row(2)).state == "active"


async def test_no_python_reprs_or_raw_ids_in_what_the_bot_says(bot):
    replies = []
    for text in ("hello", "remind me to stretch in 10 minutes", "my reminders", "help", "cancel 99", "snooze 1 10m"):
        replies += await bot.send(message(text))
    for reply in replies:
        shown = json.dumps(reply.serialize(), ensure_ascii=False)
        for leak in ("None", "datetime(", "<", "object at", "Etc/GMT", "'nudge'"):
            assert leak not in shown.replace("<br>", ""), (leak, shown[:300])


async def test_where_a_choice_is_expected_the_bot_offers_buttons(bot):
    [welcome] = await bot.send(Activity(
        type=ActivityTypes.conversation_update,
        members_added=[ChannelAccount(id="user-1")],
        recipient=ChannelAccount(id="bot"),
    ))
    assert suggestions(welcome) == ["remind me to stretch in 1 minute", "alert me when BTC goes above 70000", "help"]
    [question] = await bot.send(message("remind me to stretch"))
    assert question.text == WHEN and suggestions(question) == ["in 10 minutes", "in 1 hour", "tomorrow at 9am"]
    # The suggestion, sent back as the user's answer, sets the reminder.
    [confirmed] = await bot.say("in 1 hour")
    assert confirmed == "✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 14:00 CET."
    [lost] = await bot.send(message("blah blah"))
    assert suggestions(lost) == ["my reminders", "my alerts", "help"]


async def test_done_after_snoozing_a_recurring_reminder_goes_back_to_its_schedule(bot):
    await bot.say("every day at 13:05 remind me to drink water")
    async with bot.sessionmaker.begin() as session:
        row = (await session.execute(select(Reminder))).scalar_one()
        fired_at = row.next_run_at  # 13:05 CET today
        session.add(Occurrence(reminder_id=row.id, conversation_pk=row.conversation_pk, due_at=fired_at,
                               payload={"type": "message"}, status="sent", claimed_at=fired_at))
        row.last_run_at, row.next_run_at = fired_at, fired_at + timedelta(days=1)
    bot.clock.now = fired_at + timedelta(minutes=1)
    await bot.press({"nudge": "snooze", "number": 1, "minutes": 10})
    assert (await bot.row(1)).next_run_at == fired_at + timedelta(minutes=11)
    assert await bot.press({"nudge": "done", "number": 1}) == ["👍 Done: #1 drink water."]
    row = await bot.row(1)
    assert (row.state, row.next_run_at) == ("active", fired_at + timedelta(days=1))


async def test_markdown_in_a_reminder_is_shown_as_written(bot):
    [reply] = await bot.send(message("remind me to send **Q3** <b>numbers</b> in 10 minutes"))
    card = card_of(reply)
    assert card["fallbackText"] == "✅ Reminder #1 set: send **Q3** <b>numbers</b>, on Tue 24 Nov 2026 13:10 CET."
    [what] = [f["value"] for block in card["body"] if block["type"] == "FactSet" for f in block["facts"] if f["title"] == "What"]
    assert what == r"send \*\*Q3\*\* \<b\>numbers\</b\>"
    assert await bot.say("cancel 1") == [r"🗑️ Cancelled reminder #1: send \*\*Q3\*\* \<b\>numbers\</b\>." + ' Say "undo" to bring it back.']


# --- issue 13: interruptions, edit, undo, confirmations, paging, small talk ------------------


class AlertHarness(Harness):
    """The bot with price alerts too: fake quotes for BTC and AAPL at the fixed clock."""

    def __init__(self, sessionmaker, clock: Clock) -> None:
        from dataclasses import dataclass as _dataclass

        from models.alerts import Alerts

        @_dataclass(frozen=True)
        class Quote:
            symbol: str
            price: float
            at: datetime
            source: str = "simulated"
            simulated: bool = True

        self.sessionmaker = sessionmaker
        self.clock = clock
        self.pokes = []
        self.reminders = Reminders(sessionmaker=sessionmaker, on_due=self.pokes.append, clock=clock, max_live=3)
        quotes = {"BTC": Quote("BTC", 68000.0, NOW), "AAPL": Quote("AAPL", 190.0, NOW)}

        async def changed(_alert_id: int) -> None:
            return None

        self.alerts = Alerts(
            sessionmaker=sessionmaker, quote=quotes.get, known_symbols=lambda: ("AAPL", "BTC"),
            on_change=changed, clock=clock, max_live=30,
        )
        self.bot = NudgeBot(
            sessionmaker=sessionmaker,
            conversation_state=ConversationState(SqlStorage(sessionmaker)),
            reminders=self.reminders,
            alerts=self.alerts,
        )
        self.adapter = TestAdapter(self.bot.on_turn)

    async def alert_rows(self):
        from models.tables import Alert

        async with self.sessionmaker() as session:
            return list((await session.execute(select(Alert).order_by(Alert.number))).scalars())


@pytest.fixture
def alert_bot(sessionmaker) -> AlertHarness:
    return AlertHarness(sessionmaker, Clock(NOW))


async def test_a_full_alert_request_ends_a_pending_symbol_question_and_reuses_none_of_it(alert_bot):
    replies = await alert_bot.say("tesla above 300")
    assert replies[-1].startswith("Which symbol?")
    [confirmed] = await alert_bot.say("tell me if AAPL drops below 180")
    assert confirmed.startswith("🔔 Alert #1 set: AAPL drops below 180"), confirmed
    [row] = await alert_bot.alert_rows()
    assert (row.symbol, row.condition, row.threshold) == ("AAPL", "below", 180.0)


async def test_my_alerts_and_my_reminders_answer_while_a_question_is_pending(alert_bot):
    assert (await alert_bot.say("tesla above 300"))[-1].startswith("Which symbol?")
    assert await alert_bot.say("my alerts") == ['You have no price alerts. Try "alert me when BTC goes above 70000".']
    assert await alert_bot.say("remind me to stretch") == [WHEN]
    assert await alert_bot.say("my reminders") == ['You have no reminders. Try "remind me to stretch in 10 minutes".']
    # The question was dropped: a time now is not an answer to it.
    assert await alert_bot.rows() == [] and await alert_bot.alert_rows() == []


async def test_a_full_reminder_ends_a_pending_question(bot):
    assert await bot.say("every 30 seconds spam") != []
    assert await bot.rows() == []
    [confirmed] = await bot.say("remind me to call Anna in 1 hour")
    assert confirmed == "✅ Reminder #1 set: call Anna, on Tue 24 Nov 2026 14:00 CET."
    assert [(r.text, r.schedule["type"]) for r in await bot.rows()] == [("call Anna", "date")]


async def test_a_command_during_a_question_runs_and_the_question_is_dropped(bot):
    await bot.say("remind me to a in 1 hour")
    assert await bot.say("remind me to b") == [WHEN]
    assert await bot.say("cancel 1") == ['🗑️ Cancelled reminder #1: a. Say "undo" to bring it back.']
    # "in 2 hours" is no longer an answer: it starts a reminder of its own, which asks what.
    assert await bot.say("in 2 hours") == [WHAT]
    assert [r.text for r in await bot.rows()] == ["a"]


async def test_help_during_a_question_answers_and_keeps_it(bot):
    assert await bot.say("remind me to b") == [WHEN]
    assert await bot.say("what can you do?") == [HELP_TEXT]
    assert await bot.say("in 1 hour") == ["✅ Reminder #1 set: b, on Tue 24 Nov 2026 14:00 CET."]


async def test_edit_commands_never_create_junk_reminders(bot):
    await bot.say("remind me to call Anna tomorrow at 9am")  # Wed 25 Nov 09:00 CET
    assert await bot.say("edit 13 to 19:00") == ['You have no reminder #13. Say "my reminders" to see them.']
    assert await bot.say("move 13 to friday") == ['You have no reminder #13. Say "my reminders" to see them.']
    assert await bot.say("change reminder 13 to tomorrow at 5pm") == [
        'You have no reminder #13. Say "my reminders" to see them.'
    ]
    assert [r.text for r in await bot.rows()] == ["call Anna"]


async def test_move_keeps_what_the_user_left_unsaid(bot):
    await bot.say("remind me to call Anna tomorrow at 9am")  # Wed 25 Nov 09:00 CET
    # A time without a day keeps the reminder's day.
    assert await bot.say("move 1 to 5pm") == [
        '✏️ Moved reminder #1 (call Anna) to Wed 25 Nov 2026 17:00 CET. Say "undo" to change it back.'
    ]
    assert (await bot.row(1)).next_run_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    # A day without a time keeps the reminder's time.
    assert await bot.say("move 1 to friday") == [
        '✏️ Moved reminder #1 (call Anna) to Fri 27 Nov 2026 17:00 CET. Say "undo" to change it back.'
    ]
    assert await bot.say("change reminder 1 to tomorrow at 5pm") == [
        '✏️ Moved reminder #1 (call Anna) to Wed 25 Nov 2026 17:00 CET. Say "undo" to change it back.'
    ]
    assert await bot.say("edit last to 19:00") == [
        '✏️ Moved reminder #1 (call Anna) to Wed 25 Nov 2026 19:00 CET. Say "undo" to change it back.'
    ]
    assert [r.text for r in await bot.rows()] == ["call Anna"]


async def test_change_recurrence_rename_and_undo(bot):
    await bot.say("remind me to call Anna tomorrow at 9am")
    assert await bot.say("change 1 to every monday at 9") == [
        "✏️ Reminder #1 (call Anna) now repeats every Monday at 09:00; next Mon 30 Nov 2026 09:00 CET. "
        'Say "undo" to change it back.'
    ]
    row = await bot.row(1)
    assert (row.schedule["type"], row.schedule["day_of_week"], row.next_run_at) == (
        "cron", "mon", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    )
    # A repeating reminder is not silently turned into a one-off.
    [refused] = await bot.say("move 1 to 5pm")
    assert refused.startswith("Reminder #1 repeats (every Monday at 09:00)") and "left it as it is" in refused
    assert (await bot.row(1)).schedule["type"] == "cron"
    # Text that is not a time is not stored as new text without "rename".
    [asked] = await bot.say("change 1 to call the dentist")
    assert asked.startswith('I couldn\'t read a time in "call the dentist", so reminder #1 is unchanged.')
    assert (await bot.row(1)).text == "call Anna"
    assert await bot.say("rename 1 to call the dentist") == [
        '✏️ Renamed reminder #1 to: call the dentist. Say "undo" to change it back.'
    ]
    assert (await bot.row(1)).text == "call the dentist"
    assert await bot.say("undo") == [
        "↩️ Undone: reminder #1 is back to call Anna, next Mon 30 Nov 2026 09:00 CET."
    ]
    assert (await bot.row(1)).text == "call Anna"
    assert await bot.say("undo") == ["There's nothing to undo."]


async def test_edit_as_a_short_dialog(bot):
    await bot.say("remind me to stretch in 1 hour")
    [question] = await bot.say("edit 1")
    assert question.startswith('What should I change about #1 "stretch" (next Tue 24 Nov 2026 14:00 CET)?')
    assert await bot.say("blah") == [
        'Please say a new time ("5pm", "every monday at 9"), "rename to ...", or "cancel".'
    ]
    assert await bot.say("tomorrow at 8am") == [
        '✏️ Moved reminder #1 (stretch) to Wed 25 Nov 2026 08:00 CET. Say "undo" to change it back.'
    ]
    await bot.say("edit 1")
    assert await bot.say("rename to stretch and breathe") == [
        '✏️ Renamed reminder #1 to: stretch and breathe. Say "undo" to change it back.'
    ]
    await bot.say("edit 1")
    assert await bot.say("cancel") == [CANCELLED]
    assert [(r.text, r.next_run_at) for r in await bot.rows()] == [
        ("stretch and breathe", datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    ]


async def test_undo_a_create_and_a_cancel(bot):
    await bot.say("remind me to stretch in 1 hour")
    assert await bot.say("undo") == ["↩️ Undone: reminder #1 (stretch) is cancelled."]
    assert (await bot.row(1)).state == "cancelled"
    await bot.say("remind me to water plants in 2 hours")
    assert await bot.say("cancel last") == ['🗑️ Cancelled reminder #2: water plants. Say "undo" to bring it back.']
    assert await bot.say("undo") == ["↩️ Undone: reminder #2 (water plants) is back."]
    row = await bot.row(2)
    assert (row.state, row.next_run_at) == ("active", NOW + timedelta(hours=2))


async def test_cancel_by_text_finds_one_or_asks_which(bot):
    await bot.say("remind me to call the dentist in 1 hour")
    await bot.say("remind me to buy milk in 2 hours")
    await bot.say("remind me to buy bread in 3 hours")
    assert await bot.say("cancel the dentist reminder") == [
        '🗑️ Cancelled reminder #1: call the dentist. Say "undo" to bring it back.'
    ]
    [reply] = await bot.send(message("cancel the buy reminder"))
    assert buttons(card_of(reply)) == [
        ("Cancel #2 buy milk", {"nudge": "cancel", "number": 2}),
        ("Cancel #3 buy bread", {"nudge": "cancel", "number": 3}),
    ]
    assert [r.state for r in await bot.rows()] == ["cancelled", "active", "active"]
    assert await bot.say("cancel the gym reminder") == [
        'None of your reminders mention "gym", so nothing was cancelled.'
    ]


async def test_cancel_all_asks_first_and_no_keeps_everything(bot):
    await bot.say("remind me to a in 1 hour")
    await bot.say("remind me to b in 2 hours")
    [question] = await bot.send(message("cancel all"))
    card = card_of(question)
    assert card["fallbackText"] == "Cancel all 2 reminders? Nothing is cancelled until you say yes."
    assert buttons(card) == [
        ("Yes", {"nudge": "confirm", "action": "cancel_all", "answer": "yes"}),
        ("No", {"nudge": "confirm", "action": "cancel_all", "answer": "no"}),
    ]
    assert suggestions(question) == ["yes", "no"]
    assert await bot.say("no") == ["OK, nothing was cancelled."]
    assert [r.state for r in await bot.rows()] == ["active", "active"]
    # Another message drops the question: a later "yes" confirms nothing.
    await bot.say("cancel all")
    await bot.say("my reminders")
    await bot.say("yes")
    assert [r.state for r in await bot.rows()] == ["active", "active"]
    # The button works like the typed answer.
    await bot.say("cancel all")
    assert await bot.press({"nudge": "confirm", "action": "cancel_all", "answer": "yes"}) == [
        '🗑️ Cancelled 2 reminders. Say "undo" to bring them back.'
    ]
    assert await bot.say("undo") == ["↩️ Undone: 2 reminders are back."]
    assert [r.state for r in await bot.rows()] == ["active", "active"]


async def test_cancel_all_alerts_asks_first(alert_bot):
    await alert_bot.say("alert me when BTC goes above 70000")
    await alert_bot.say("tell me if AAPL drops below 180")
    assert await alert_bot.say("cancel all alerts") == [
        "Cancel all 2 price alerts? Nothing is cancelled until you say yes."
    ]
    assert [a.state for a in await alert_bot.alert_rows()] == ["active", "active"]
    assert await alert_bot.say("yes") == ['🗑️ Cancelled 2 alerts. Say "undo" to bring them back.']
    assert [a.state for a in await alert_bot.alert_rows()] == ["cancelled", "cancelled"]


async def test_change_an_alert_threshold_and_undo(alert_bot):
    await alert_bot.say("alert me when BTC goes above 70000")
    assert await alert_bot.say("change alert 1 to 75000") == [
        '✏️ Alert #1 is now: BTC goes above 75,000 (was 70,000). Say "undo" to change it back.'
    ]
    assert (await alert_bot.alert_rows())[0].threshold == 75000.0
    assert (await alert_bot.say("change alert 1 to lots"))[0].startswith('I couldn\'t read a price in "lots"')
    assert await alert_bot.say("undo") == ["↩️ Undone: alert #1 is back to BTC goes above 70,000."]
    assert (await alert_bot.alert_rows())[0].threshold == 70000.0


async def test_long_lists_page_with_more(alert_bot):
    for n in range(23):
        await alert_bot.say(f"alert me when BTC goes above {70000 + n}")
    [first] = await alert_bot.send(message("my alerts"))
    card = card_of(first)
    assert card["fallbackText"].startswith("Your alerts (1–10 of 23):")
    assert card["fallbackText"].count("\n- #") == 10
    assert ("More", {"nudge": "more", "kind": "alerts", "offset": 10}) in buttons(card)
    [second] = await alert_bot.send(message("more"))
    assert card_of(second)["fallbackText"].startswith("Your alerts (11–20 of 23):")
    [third] = await alert_bot.send(message("more"))
    text = card_of(third)["fallbackText"]
    assert text.startswith("Your alerts (21–23 of 23):") and "more" not in text
    assert all(title != "More" for title, _ in buttons(card_of(third)))
    [pressed] = await alert_bot.send(message(None, value={"nudge": "more", "kind": "alerts", "offset": 10}))
    assert card_of(pressed)["fallbackText"].startswith("Your alerts (11–20 of 23):")


async def test_long_reminder_texts_end_at_a_word(bot):
    long = "call " + " ".join(["supercalifragilistic"] * 10)
    await bot.say(f"remind me to {long} in 1 hour")
    [reply] = await bot.send(message("my reminders"))
    titles = [b["items"][0]["text"] for b in card_of(reply)["body"] if b["type"] == "Container"]
    assert titles[0].endswith("supercalifragilistic…") and len(titles[0]) <= 84


async def test_bare_snooze_snoozes_the_reminder_delivered_last(bot):
    assert (await bot.say("snooze"))[0].startswith("None of your reminders has gone off yet")
    await bot.say("remind me to stretch in 1 minute")
    async with bot.sessionmaker.begin() as session:
        row = (await session.execute(select(Reminder))).scalar_one()
        session.add(Occurrence(reminder_id=row.id, conversation_pk=row.conversation_pk, due_at=row.next_run_at,
                               payload={"type": "message"}, status="sent", claimed_at=row.next_run_at))
        row.state, row.last_run_at, row.next_run_at = "done", row.next_run_at, None
    bot.clock.now = NOW + timedelta(minutes=2)
    assert await bot.say("snooze 10m") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:12 CET."]
    assert (await bot.row(1)).next_run_at == NOW + timedelta(minutes=12)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("hi", '👋 Hi! Tell me what to remind you about, like "remind me to stretch in 10 minutes", or say "help".'),
        ("Thank you!", "You're welcome! 🙂"),
        ("what time is it?", "🕒 It's Tue 24 Nov 2026 13:00 CET."),
        ("ok", '👍 Say "my reminders" to see what is coming up.'),
    ],
)
async def test_small_talk(bot, text, reply):
    assert await bot.say(text) == [reply]
    assert await bot.rows() == []


async def test_a_typo_gets_the_nearest_command_as_a_button(bot):
    [reply] = await bot.send(message("my remidners"))
    assert reply.text == 'Sorry, I didn\'t understand that. Did you mean "my reminders"?'
    assert suggestions(reply) == ["my reminders", "help"]


async def test_words_the_parser_did_not_understand_are_named_and_nothing_is_stored(bot):
    [question] = await bot.send(message("every day at 7am except holidays brush teeth"))
    assert question.text.startswith('I understood *every day at 07:00*; what about "except holidays"?')
    assert suggestions(question)[0] == "every day at 07:00"
    assert await bot.rows() == []
    assert (await bot.say("every day at 19:00"))[0].startswith("✅ Reminder #1 set: brush teeth, every day at 19:00")


async def test_a_new_zone_keeps_recurring_reminders_at_their_local_time(bot):
    await bot.say("every day at 21:00 remind me to read")
    await bot.say("remind me to stretch in 1 hour")
    assert await bot.say("set my timezone to America/New_York") == [
        "🌍 Your time zone is now America/New_York. Reminders are shown in it. "
        "Your 1 recurring reminder keeps its local times."
    ]
    row = await bot.row(1)
    assert row.timezone == "America/New_York"
    # 21:00 in New York (UTC−5) on Tue 24 Nov is 02:00 UTC on the 25th.
    assert row.next_run_at == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert (await bot.say("my reminders"))[0].splitlines()[2].startswith("- #1 read: next Tue 24 Nov 2026 21:00 EST")
    # The one-off keeps its instant.
    assert (await bot.row(2)).next_run_at == NOW + timedelta(hours=1)


async def test_a_zone_known_only_from_the_offset_is_shown_as_an_offset_and_a_city_offered_once(bot):
    def offset_message(text: str) -> Activity:
        activity = message(text, zone=None)
        activity.local_timestamp = datetime.fromisoformat("2026-11-24T08:00:00-05:00")
        return activity

    replies = [shown_text(a.serialize()) for a in await bot.send(offset_message("remind me to stretch in 1 hour"))]
    assert replies == [
        "✅ Reminder #1 set: stretch, on Tue 24 Nov 2026 08:00 UTC−05:00.",
        "I only know your UTC offset (UTC−05:00), so your reminders won't follow daylight saving time. "
        'Tell me your city, e.g. "set my timezone to London", to fix that.',
    ]
    replies = [shown_text(a.serialize()) for a in await bot.send(offset_message("remind me to sit in 2 hours"))]
    assert len(replies) == 1 and "Etc/GMT" not in replies[0]


async def test_more_ways_to_edit_and_snooze(bot):
    await bot.say("remind me to call the dentist tomorrow at 9am")  # Wed 25 Nov 09:00 CET
    assert await bot.say("postpone 1 by an hour") == [
        '✏️ Moved reminder #1 (call the dentist) to Wed 25 Nov 2026 10:00 CET. Say "undo" to change it back.'
    ]
    assert await bot.say("move the dentist reminder to friday at 3pm") == [
        '✏️ Moved reminder #1 (call the dentist) to Fri 27 Nov 2026 15:00 CET. Say "undo" to change it back.'
    ]
    assert await bot.say("change the time of reminder 1 to 7pm") == [
        '✏️ Moved reminder #1 (call the dentist) to Fri 27 Nov 2026 19:00 CET. Say "undo" to change it back.'
    ]
    # "every day" without a time keeps the reminder's time of day.
    assert await bot.say("make 1 repeat every day") == [
        "✏️ Reminder #1 (call the dentist) now repeats every day at 19:00; next Tue 24 Nov 2026 19:00 CET. "
        'Say "undo" to change it back.'
    ]
    assert await bot.say("edit reminder 1 text to call Dr Novak") == [
        '✏️ Renamed reminder #1 to: call Dr Novak. Say "undo" to change it back.'
    ]
    assert await bot.say("snooze 1 until 8pm") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 20:00 CET."]
    assert await bot.say("snooze 1 for 99999999 days") == ["You can snooze for between 1 minute and 7 days."]
    assert [r.text for r in await bot.rows()] == ["call Dr Novak"]


# Words the router and dialogs react to, so random messages reach their branches, not only the fallback.
_FUZZ_WORDS = (
    "move", "edit", "change", "rename", "snooze", "cancel", "undo", "yes", "no", "more", "all", "alerts",
    "alert", "last", "the", "reminder", "to", "by", "until", "remind", "me", "in", "at", "every", "day",
    "5pm", "friday", "1", "3", "99999999999", "10m", "2", "days", "set", "my", "timezone", "London",
    "UTC+2", "BTC", "above", "70k", "hi", "help", "edit 1", "#2", "🙂", "**", "\x00", "-5", "1e999",
)


async def test_no_message_makes_a_turn_raise(alert_bot):
    """Property: whatever a message says (up to 1,000 characters), the turn answers and doesn't raise."""
    import asyncio

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    await alert_bot.say("remind me to a in 1 hour")
    await alert_bot.say("every day at 9 remind me to b")
    await alert_bot.say("alert me when BTC goes above 70000")
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.one_of(
        st.text(max_size=1000),
        st.lists(st.sampled_from(_FUZZ_WORDS), min_size=1, max_size=8).map(" ".join),
    ))
    def one_turn(text: str) -> None:
        # hypothesis drives a plain function; each turn runs on the test's event loop.
        replies = asyncio.run_coroutine_threadsafe(alert_bot.say(text), loop).result(timeout=30)
        seen.append(text)
        assert replies, text  # answered (or asked again), never a crash

    await loop.run_in_executor(None, one_turn)
    assert len(seen) >= 100


async def test_a_new_zone_keeps_interval_starts_and_named_zones(bot):
    await bot.say("every 2 days at 21:00 remind me to water")  # an interval of whole days
    await bot.say("every day at 9am London time remind me to call London")
    london_before = (await bot.row(2)).next_run_at
    [reply] = await bot.say("set my timezone to America/New_York")
    assert reply.endswith("Your 1 recurring reminder keeps its local times."), reply
    row = await bot.row(1)
    local = row.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (21, 0)
    # "London time" was the user's own words: it stays London's 09:00.
    assert (await bot.row(2)).next_run_at == london_before


async def test_undo_after_the_edit_dialog(bot):
    await bot.say("remind me to stretch in 1 hour")
    await bot.say("edit 1")
    await bot.say("rename to stretch twice")
    assert await bot.say("undo") == ["↩️ Undone: reminder #1 is back to stretch, next Tue 24 Nov 2026 14:00 CET."]
    assert (await bot.row(1)).text == "stretch"


async def test_an_answer_with_words_besides_the_time_is_asked_again(bot):
    assert await bot.say("remind me to call mum") == [WHEN]
    # "see you tomorrow" holds a time, but it doesn't say when to remind: nothing is stored.
    assert await bot.say("see you tomorrow") == [
        'I can read a time in that, but not "see you", so I haven\'t set anything yet. When should I '
        'remind you? Just the time, for example "in 10 minutes", "tomorrow at 9am", "every weekday at 8:30".'
    ]
    assert await bot.rows() == []
    [reply] = await bot.say("tomorrow at 9am")
    assert reply.startswith("✅ Reminder #1 set: call mum, on Wed 25 Nov 2026 09:00")
    [row] = await bot.rows()
    assert row.next_run_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def test_small_talk_during_a_question_is_answered_and_the_question_waits(bot):
    assert await bot.say("remind me to call mum") == [WHEN]
    replies = await bot.say("what time is it")
    assert len(replies) == 2 and "13:00" in replies[0] and replies[1] == WHEN, replies
    assert await bot.rows() == []
    [reply] = await bot.say("in 10 minutes")
    assert reply.startswith("✅ Reminder #1 set: call mum")
    [row] = await bot.rows()
    assert row.next_run_at == NOW + timedelta(minutes=10)
