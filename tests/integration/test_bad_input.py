"""Bad input, in the chat and on the HTTP endpoint: a clear answer, and nothing changes.

Each chat case starts from a user who already has one reminder, so "nothing changes" means
something: that reminder's row is compared before and after, as are the table counts.
"""

from __future__ import annotations

import json

import pytest

from app import Settings
from dialogs.bot import HELP
from tests.support.chat import Chat, reminder_rows, table_counts

EMPTY = 'I got an empty message. Say "help" to see what I can do.'
NOT_UNDERSTOOD = 'Sorry, I didn\'t understand that. Try "remind me to stretch in 10 minutes", or say "help".'
NO_SUCH = 'You have no reminder #999. Say "my reminders" to see them.'


@pytest.fixture
def bot_settings(database_url: str) -> Settings:
    # A small limit so that reaching it takes two reminders.
    return Settings(database_url=database_url, max_reminders_per_user=2)


@pytest.fixture
async def chat(running_bot) -> Chat:
    """A user with reminder #1 ("existing", in an hour)."""
    chat = Chat(running_bot)
    assert "✅ Reminder #1 set: existing" in (await chat.say("remind me to existing in 1 hour")).text
    return chat


async def unchanged(chat: Chat):
    """A snapshot of the database to compare with after the request."""
    return await reminder_rows(chat.bot.sessionmaker), await table_counts(chat.bot.sessionmaker)


BAD_MESSAGES = [
    ("empty", "", EMPTY),
    ("whitespace", "  \n\t  ", EMPTY),
    (
        "5000-characters",
        "remind me to " + "x" * 4987,
        "That message is 5000 characters long; I read at most 1000. Nothing was changed.",
    ),
    ("emoji-only", "🙂🙂", NOT_UNDERSTOOD),
    ("unknown-command", "fly me to the moon", NOT_UNDERSTOOD),
    ("cancel-unknown-number", "cancel 999", NO_SUCH),
    ("cancel-huge-number", "cancel 99999999999999999999", NOT_UNDERSTOOD),
    ("pause-unknown-number", "pause 999", NO_SUCH),
    ("resume-unknown-number", "resume 999", NO_SUCH),
    ("snooze-unknown-number", "snooze 999", NO_SUCH),
    ("resume-not-paused", "resume 1", "Reminder #1 is active, not paused."),
    ("snooze-too-long", "snooze 1 999999h", "You can snooze for between 1 minute and 7 days."),
    (
        "past-time",
        "remind me to x on 2020-01-01 at 10:00",
        'Wed 1 Jan 2020 10:00 is already in the past. Give me a time in the future, e.g. "tomorrow at 9am".',
    ),
    (
        "every-second",
        "every 1 second drink water",
        'The shortest repeat I can do is every minute. Try "every 1 minute" or "every 30 minutes".',
    ),
    (
        "unknown-zone",
        "set my timezone to Mars/Olympus_Mons",
        'I don\'t know the time zone "Mars/Olympus_Mons". Name a city ("London", "New York"), an '
        'abbreviation ("PST", "CET"), an offset ("UTC+2") or an IANA name ("Europe/Prague").',
    ),
]

BAD_BUTTONS = [
    ("number-as-text", {"nudge": "snooze", "number": "1"}, "That button doesn't name a reminder I know."),
    ("number-bool", {"nudge": "done", "number": True}, "That button doesn't name a reminder I know."),
    ("number-huge", {"nudge": "done", "number": 10**12}, "That button doesn't name a reminder I know."),
    ("unknown-action", {"nudge": "launch", "number": 1}, "I don't know that button."),
    ("unknown-reminder", {"nudge": "snooze", "number": 999, "minutes": 10}, NO_SUCH),
    ("minutes-huge", {"nudge": "snooze", "number": 1, "minutes": 10**30}, "You can snooze for between 1 minute and 7 days."),
    ("minutes-negative", {"nudge": "snooze", "number": 1, "minutes": -5}, "You can snooze for between 1 minute and 7 days."),
]

# The cases share one bot per backend (starting one per case would double the suite's time);
# each runs in a fresh conversation of the same user, so no case sees another's dialog.


async def test_bad_message_gets_a_clear_answer_and_changes_nothing(chat, subtests):
    for case, text, expected in BAD_MESSAGES:
        with subtests.test(case):
            before = await unchanged(chat)

            turn = await chat.new_conversation().say(text)

            assert turn.status == 201
            assert turn.replies[0] == expected, turn.replies
            assert await unchanged(chat) == before
            assert (await chat.db_user()).timezone == "Europe/Prague"


async def test_bad_card_payload_gets_a_clear_answer_and_changes_nothing(chat, subtests):
    for case, value, expected in BAD_BUTTONS:
        with subtests.test(case):
            before = await unchanged(chat)

            turn = await chat.press(value)

            assert turn.status == 201
            assert turn.replies == [expected]
            assert await unchanged(chat) == before


async def test_past_time_stores_nothing_and_asks_again(chat):
    turn = await chat.say("remind me to x on 2020-01-01 at 10:00")
    assert turn.replies[1:] == [
        'When should I remind you? For example "in 10 minutes", "tomorrow at 9am", "every weekday at 8:30".'
    ]
    assert [r.text for r in await chat.reminders()] == ["existing"]

    # The answer is checked too: a past answer is refused and the question stays open.
    turn = await chat.say("on 2020-01-02 at 10:00")
    assert "is already in the past" in turn.text
    assert [r.text for r in await chat.reminders()] == ["existing"]


async def test_emoji_in_the_reminder_text_are_kept(chat, running_bot):
    text = "🎉 party 👩‍💻 ship it 🚀"  # with a zero-width-joiner sequence

    turn = await chat.say(f"remind me to {text} in 2 seconds")

    assert turn.text.startswith(f"✅ Reminder #2 set: {text}, on "), turn.text
    assert (await chat.reminder(2)).text == text
    delivered = await running_bot.channel.wait_for_text("⏰ Reminder #2", timeout=6)
    assert delivered.text == f"⏰ Reminder #2: {text}"
    await chat.wait_until_recorded()


async def test_control_characters_are_dropped_from_the_reminder_text(chat):
    # PostgreSQL refuses NUL in text; the bot must not fail on it.
    turn = await chat.say("remind me to call\x00 Anna\x07 in 1 hour")

    assert turn.text.startswith("✅ Reminder #2 set: call Anna, on "), turn.replies
    assert (await chat.reminder(2)).text == "call Anna"


async def test_per_user_limit_refuses_the_third_reminder(chat):
    assert "✅ Reminder #2 set: second" in (await chat.say("remind me to second in 2 hours")).text
    before = await unchanged(chat)

    turn = await chat.say("remind me to third in 3 hours")

    assert turn.replies == [
        'You already have 2 active reminders, which is the limit. Cancel some first ("my reminders" lists them).'
    ]
    assert await unchanged(chat) == before
    assert len(await chat.reminders()) == 2

    # Only live reminders count: after a cancel there is room again.
    await chat.say("cancel 1")
    assert "✅ Reminder #3 set: third" in (await chat.say("remind me to third in 3 hours")).text


async def test_the_limit_is_per_user(chat, running_bot):
    assert "✅ Reminder #2 set: second" in (await chat.say("remind me to second in 2 hours")).text
    other = Chat(running_bot)
    assert "✅ Reminder #1 set: mine" in (await other.say("remind me to mine in 2 hours")).text


def _post_kwargs(case: str, message: dict) -> dict:
    """``ClientSession.post`` arguments for one kind of bad request built from a good message."""

    def without(key: str) -> dict:
        return {k: v for k, v in message.items() if k != key}

    return {
        "malformed-json": {"data": b'{"type": "message", "text": ', "headers": {"Content-Type": "application/json"}},
        "text-plain": {"data": json.dumps(message), "headers": {"Content-Type": "text/plain"}},
        "no-content-type": {"data": json.dumps(message).encode(), "skip_auto_headers": ["Content-Type"]},
        "json-list": {"json": [message]},
        "no-type": {"json": without("type")},
        "no-conversation": {"json": without("conversation")},
        "no-service-url": {"json": without("serviceUrl")},
        "too-big": {"json": {**message, "text": "x" * (300 * 1024)}},
    }[case]


BAD_REQUESTS = [
    ("malformed-json", 400),
    ("text-plain", 415),
    ("no-content-type", 415),
    ("json-list", 400),
    ("no-type", 400),
    ("no-conversation", 400),
    ("no-service-url", 400),
    ("too-big", 413),
]


async def test_bad_http_request_is_refused_and_the_bot_keeps_working(chat, running_bot, subtests):
    for case, status in BAD_REQUESTS:
        with subtests.test(case):
            before = await unchanged(chat)
            sent = len(running_bot.channel.received)

            kwargs = _post_kwargs(case, chat.user.message("help"))
            async with running_bot.http.post(running_bot.url, **kwargs) as response:
                body = await response.json()

            assert response.status == status
            assert body["error"]
            assert len(running_bot.channel.received) == sent  # no reply to a refused request
            assert await unchanged(chat) == before
            assert (await chat.say("help")).replies == [HELP]
