"""NudgeBot and its dialogs under botbuilder's TestAdapter, with a fixed clock.

The bot runs its real turn code (user and conversation upserts, dialog state in the
database, reminder rows) against a migrated SQLite file; only the channel is the
TestAdapter and the time is pinned, so every reply can be compared to the exact string.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

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
ZONE = "First, which time zone are you in? For example Europe/Prague or America/New_York."
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
        "I don't know that time zone. Please give an IANA name like Europe/Prague, America/New_York or Asia/Tokyo."
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
    assert [shown_text(a.serialize()) for a in await bot.send(activity)] == ["Your time zone is Etc/GMT-1. To change it, say \"set my timezone to Europe/Prague\" (or yours)."]
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

    assert await bot.say("cancel #1") == ["🗑️ Cancelled reminder #1: a."]
    row = await bot.row(1)
    assert (row.state, row.next_run_at) == ("cancelled", None)
    assert await bot.say("cancel 1") == ['You have no reminder #1. Say "my reminders" to see them.']
    assert await bot.say("cancel all") == ["Cancelled 1 reminder."]
    assert [r.state for r in await bot.rows()] == ["cancelled", "cancelled"]
    assert await bot.say("cancel all") == ["You have no reminders to cancel."]


async def test_snooze_moves_a_one_off_either_way(bot):
    await bot.say("remind me to a in 1 hour")  # 14:00 CET

    assert await bot.say("snooze 1 30m") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:30 CET."]
    assert (await bot.row(1)).next_run_at == NOW + timedelta(minutes=30)
    assert await bot.say("snooze 1 2h") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 15:00 CET."]
    assert (await bot.row(1)).next_run_at == NOW + timedelta(hours=2)
    assert bot.pokes[-1] == NOW + timedelta(hours=2)


async def test_snooze_keeps_an_earlier_occurrence_of_a_recurring_reminder(bot):
    await bot.say("every 30 minutes remind me to drink")
    first = (await bot.row(1)).next_run_at

    assert await bot.say("snooze 1 10m") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:10 CET."]
    assert await bot.say("snooze 1 2h") == ["😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:10 CET."]
    assert first > NOW + timedelta(minutes=10)


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
    assert await bot.press({"nudge": "snooze", "number": 1, "minutes": 10}) == [
        "😴 Snoozed reminder #1 until Tue 24 Nov 2026 13:10 CET."
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
    assert await bot.press({"nudge": "cancel", "number": 1}) == ["🗑️ Cancelled reminder #1: stretch."]
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
    assert await bot.say("cancel 1") == [r"🗑️ Cancelled reminder #1: send \*\*Q3\*\* \<b\>numbers\</b\>."]
