"""The chat's short commands: what ``parse_command`` makes of each message, and what it leaves alone."""

from __future__ import annotations

import pytest

from dialogs.commands import Command, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # help
        ("help", Command("help")),
        ("Help!", Command("help")),
        ("?", Command("help")),
        ("commands", Command("help")),
        ("What can you do?", Command("help")),
        # list
        ("my reminders", Command("list")),
        ("My reminders.", Command("list")),
        ("reminders", Command("list")),
        ("list", Command("list")),
        ("list my reminders", Command("list")),
        ("show reminders", Command("list")),
        ("  show   my reminders  ", Command("list")),
        # cancel all
        ("cancel all", Command("cancel_all")),
        ("Cancel all my reminders", Command("cancel_all")),
        ("delete all reminders", Command("cancel_all")),
        ("remove all", Command("cancel_all")),
        # cancel one
        ("cancel 3", Command("cancel", number=3)),
        ("cancel #3", Command("cancel", number=3)),
        ("CANCEL  3.", Command("cancel", number=3)),
        ("delete reminder 12", Command("cancel", number=12)),
        ("remove 3", Command("cancel", number=3)),
        ("cancel 123456789", Command("cancel", number=123456789)),
        # pause, resume, done
        ("pause 2", Command("pause", number=2)),
        ("Pause reminder 2", Command("pause", number=2)),
        ("resume 2", Command("resume", number=2)),
        ("unpause #2", Command("resume", number=2)),
        ("done 3", Command("done", number=3)),
        ("ack 3", Command("done", number=3)),
        ("dismiss 3!", Command("done", number=3)),
        # snooze: ten minutes unless told
        ("snooze 1", Command("snooze", number=1, minutes=10)),
        ("snooze 1 1h", Command("snooze", number=1, minutes=60)),
        ("snooze 1 for 30 minutes", Command("snooze", number=1, minutes=30)),
        ("snooze 1 2 hours", Command("snooze", number=1, minutes=120)),
        ("snooze 1 15m", Command("snooze", number=1, minutes=15)),
        ("snooze #4 1 hr", Command("snooze", number=4, minutes=60)),
        ("snooze reminder 4 5 min", Command("snooze", number=4, minutes=5)),
        ("snooze 1 0m", Command("snooze", number=1, minutes=0)),  # refused later, with a reason
        # snooze without a number: the reminder delivered last; days too
        ("snooze", Command("snooze", minutes=10)),
        ("snooze 10m", Command("snooze", minutes=10)),
        ("snooze for an hour", Command("snooze", minutes=60)),
        ("snooze 4 2 days", Command("snooze", number=4, minutes=2880)),
        ("snooze 3 for 1 day", Command("snooze", number=3, minutes=1440)),
        ("snooze last 1h", Command("snooze", target="last", minutes=60)),
        # by "last"
        ("cancel last", Command("cancel", target="last")),
        ("delete the last one", Command("cancel", target="last")),
        ("cancel it", Command("cancel", target="last")),
        ("pause the last reminder", Command("pause", target="last")),
        # by text
        ("cancel the dentist reminder", Command("find_cancel", argument="dentist")),
        ("cancel my meeting", Command("find_cancel", argument="meeting")),
        ("delete the call mom reminders", Command("find_cancel", argument="call mom")),
        # edit and reschedule
        ("move 3 to 5pm", Command("edit", number=3, argument="5pm", field="when")),
        ("move 3 to friday", Command("edit", number=3, argument="friday", field="when")),
        ("reschedule #3 to tomorrow at 9", Command("edit", number=3, argument="tomorrow at 9", field="when")),
        ("move last to 6pm", Command("edit", target="last", argument="6pm", field="when")),
        ("change 3 to every monday at 9", Command("edit", number=3, argument="every monday at 9")),
        ("change reminder 13 to tomorrow at 5pm", Command("edit", number=13, argument="tomorrow at 5pm")),
        ("edit 13 to 19:00", Command("edit", number=13, argument="19:00")),
        ("rename 3 to Call the Dentist", Command("edit", number=3, argument="Call the Dentist", field="text")),
        ("edit 3", Command("edit", number=3, field="ask")),
        ("change reminder 3", Command("edit", number=3, field="ask")),
        # undo
        ("undo", Command("undo")),
        ("Undo that!", Command("undo")),
        # time zone
        ("my timezone", Command("show_timezone")),
        ("timezone", Command("show_timezone")),
        ("time zone", Command("show_timezone")),
        ("what's my timezone?", Command("show_timezone")),
        ("what is my time zone", Command("show_timezone")),
        ("set my timezone to America/New_York", Command("set_timezone", argument="America/New_York")),
        ("Set My Timezone To America/New_York", Command("set_timezone", argument="America/New_York")),
        ("my timezone is Europe/Prague", Command("set_timezone", argument="Europe/Prague")),
        ("timezone: Asia/Tokyo", Command("set_timezone", argument="Asia/Tokyo")),
        ("set timezone europe/prague", Command("set_timezone", argument="europe/prague")),
        ("set my timezone to New York", Command("set_timezone", argument="New York")),
        ("change my timezone to UTC+2", Command("set_timezone", argument="UTC+2")),
        # not commands: reminders, chat, and numbers that cannot name a reminder
        ("remind me to stretch in 10 minutes", None),
        ("remind me to cancel 3 meetings", None),
        ("every weekday at 8:30 remind me to stand up", None),
        ("cancel", None),
        ("done", None),
        ("pause", None),
        ("help me", None),
        ("cancel 3 please", Command("cancel", number=3)),  # a polite ending changes nothing
        ("cancel all 3", None),
        ("cancel all alerts", None),
        ("cancel everything", Command("cancel_all")),
        ("edit", None),
        ("move 3", Command("edit", number=3, field="ask")),
        ("remind me to move 3 boxes to the attic", None),
        ("list of groceries", None),
        ("fly me to the moon", None),
        ("🙂🙂", None),
        ("", None),
        ("   ", None),
        ("cancel 1234567890", None),
        ("cancel 99999999999999999999", None),
        ("cancel -1", None),
        ("cancel 1.5", None),
        ("snooze 1 -5m", None),
        ("snooze 1 1h30m", None),
        ("snooze 1 1000000m", Command("snooze", number=1, minutes=1000000)),  # refused later, with a reason
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected
