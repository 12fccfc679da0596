"""The phrasing corpus: realistic chat messages with the outcome each one must have.

An independent oracle for ``dialogs.timeparse.parse_reminder`` and ``dialogs.alert_parse.parse_alert``
(run by ``tests/unit/test_corpus.py``). Every expected instant is written by hand, never computed by
the code under test, as ``"<UTC> = <weekday> <local wall clock>"``: "2027-06-16 07:25 = Wed 09:25" is
07:25 UTC, which is Wednesday 09:25 in the case's zone. The corpus test checks that both halves agree
(with zoneinfo), so a slip in an offset shows up as a broken case rather than as a wrong oracle.

Each case carries its own ``now`` (a local wall-clock time in the case's zone), so no case depends on
the real date. The instants used:

* ``MORNING``  Wed 16 Jun 2027 09:15 (northern summer: Prague +2, New York -4, Sydney +10)
* ``EVENING``  Tue 16 Nov 2027 22:40 (northern winter: Prague +1, New York -5, Sydney +11)
* ``SPRING``   Sun 28 Mar 2027 00:30, Prague still on CET; at 02:00 CET the clocks go to 03:00 CEST
* ``SPRING_EVE`` Sat 27 Mar 2027 18:00, the evening before that change
* ``AUTUMN``   Sun 31 Oct 2027 00:30 CEST; at 03:00 CEST the clocks go back to 02:00 CET
* ``AUTUMN_EVE`` Sat 30 Oct 2027 18:00, the evening before that change
* ``YEAR_END`` Fri 31 Dec 2027 23:30
* ``LEAP``     Tue 29 Feb 2028 10:00
* ``US_DST``   Sat 13 Mar 2027 20:00 (New York springs forward on Sun 14 Mar at 02:00)
* ``AU_DST``   Sat 3 Apr 2027 20:00 (Sydney falls back on Sun 4 Apr at 03:00 AEDT)

Expectations:

* ``once(first, what)``: a one-off reminder at ``first`` whose text is ``what`` (a tuple lists equivalent
  texts); nothing fires after it.
* ``rec(first, what, *nexts)``: a recurring reminder; ``nexts`` are the following fire times, taken from
  the stored spec in the reminder's zone; a trailing ``END`` means no further occurrence.
* ``anyof(r1, r2)``: several fair readings (with ``ambiguous``): any of them is right.
* ``alert(symbol, condition, threshold, ...)`` / ``alerts(a, b)``: one price alert, or several from one
  message.
* ``ASK``: the parser must not create anything (a question or a refusal is right).
* ``COMMAND`` / ``CHAT``: a management command or small talk; the parser must not produce a complete
  reminder or alert from it (the router may claim it first).

``ambiguous=True`` marks phrasings where a question is as good as an answer (several readings are
fair): such a case may list several acceptable outcomes (``first`` as a tuple) and is left out of the
correct-rate, but a complete answer outside the accepted ones still counts as silently wrong.
``or_refuse=True`` accepts a clear refusal as well as the reminder (a far date beyond a stated limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MORNING = "2027-06-16 09:15"
EVENING = "2027-11-16 22:40"
SPRING = "2027-03-28 00:30"
SPRING_EVE = "2027-03-27 18:00"
AUTUMN = "2027-10-31 00:30"
AUTUMN_EVE = "2027-10-30 18:00"
YEAR_END = "2027-12-31 23:30"
LEAP = "2028-02-29 10:00"
US_DST = "2027-03-13 20:00"
AU_DST = "2027-04-03 20:00"

PRG = "Europe/Prague"
NY = "America/New_York"
KOL = "Asia/Kolkata"
SYD = "Australia/Sydney"
UTC_ = "UTC"
LON = "Europe/London"
LA = "America/Los_Angeles"

END = None


@dataclass(frozen=True)
class Reminder:
    """A reminder the message must create.

    Attributes:
        first: the first fire time as "UTC = Day HH:MM local", or a tuple of acceptable ones.
        what: the reminder text, or a tuple of equivalent texts.
        nexts: the following fire times (same notation); a trailing None: no more after them.
        recurring: whether it repeats (a one-off must have nothing after ``first``).
        label_tz: the zone the local halves are written in, when not the case's (a zone named in
            the message: "at 3pm London time").
    """

    first: str | tuple[str, ...]
    what: str | tuple[str, ...]
    nexts: tuple[str | None, ...] = ()
    recurring: bool = False
    label_tz: str | None = None


@dataclass(frozen=True)
class AnyOf:
    """Several fair readings of one message; any of them (or a question) is right."""

    options: tuple[Reminder, ...]


@dataclass(frozen=True)
class Alert:
    """One price alert: ``condition`` is above/below/cross/move/window (a tuple: any of them)."""

    symbol: str
    condition: str | tuple[str, ...]
    threshold: float
    direction: str | None = None
    repeat: bool | None = None


@dataclass(frozen=True)
class Alerts:
    """Several alerts from one message ("BTC above 70000 or below 60000")."""

    items: tuple[Alert, ...]


@dataclass(frozen=True)
class Nothing:
    """Nothing may be created: ``what`` is "ask", "command" or "chat".

    ``fields`` (commands only): what a router that claims the command must have read, as
    (attribute, value) pairs, e.g. (("number", 4), ("minutes", 2880)) for "snooze 4 2 days";
    an attribute the router's result does not have is not checked.
    """

    what: str
    fields: tuple[tuple[str, object], ...] = ()


ASK = Nothing("ask")
COMMAND = Nothing("command")
CHAT = Nothing("chat")



def cmd(**fields: object) -> Nothing:
    """A command whose router result must carry these attribute values."""
    return Nothing("command", tuple(sorted(fields.items())))


Expect = Reminder | AnyOf | Alert | Alerts | Nothing


@dataclass(frozen=True)
class Case:
    """One phrasing and its expected outcome."""

    text: str
    expect: Expect
    now: str
    tz: str
    kind: str
    ambiguous: bool = False
    or_refuse: bool = False
    note: str = field(default="", compare=False)


def once(first: str | tuple[str, ...], what: str | tuple[str, ...], *, label_tz: str | None = None) -> Reminder:
    return Reminder(first=first, what=what, recurring=False, label_tz=label_tz)


def rec(first: str, what: str | tuple[str, ...], *nexts: str | None, label_tz: str | None = None) -> Reminder:
    return Reminder(first=first, what=what, nexts=tuple(nexts), recurring=True, label_tz=label_tz)


def anyof(*options: Reminder) -> AnyOf:
    return AnyOf(tuple(options))


def alert(
    symbol: str,
    condition: str | tuple[str, ...],
    threshold: float,
    direction: str | None = None,
    repeat: bool | None = None,
) -> Alert:
    return Alert(symbol, condition, threshold, direction, repeat)


def alerts(*items: Alert) -> Alerts:
    return Alerts(tuple(items))


CASES: list[Case] = []


def add(kind: str, now: str, tz: str, *rows: tuple, **flags: bool) -> None:
    """Append ``(text, expect)`` or ``(text, expect, {flags})`` rows of one kind, ``now`` and zone."""
    for row in rows:
        text, expect, *rest = row
        extra = dict(flags)
        if rest:
            extra.update(rest[0])
        CASES.append(Case(text=text, expect=expect, now=now, tz=tz, kind=kind, **extra))


AMB = {"ambiguous": True}
REFUSE_OK = {"or_refuse": True}

# ==============================================================================================
# Batch 1: plain one-off reminders, Prague, Wed 16 Jun 2027 09:15 CEST (07:15 UTC).
# ==============================================================================================

add(
    "oneoff", MORNING, PRG,
    ("remind me to call mom at 5pm", once("2027-06-16 15:00 = Wed 17:00", "call mom")),
    ("remind me at 5pm to call mom", once("2027-06-16 15:00 = Wed 17:00", "call mom")),
    ("at 17:30 remind me to water the plants", once("2027-06-16 15:30 = Wed 17:30", "water the plants")),
    ("remind me to take out the bins tomorrow at 7am", once("2027-06-17 05:00 = Thu 07:00", "take out the bins")),
    ("tomorrow at 8:45 remind me to bring the umbrella", once("2027-06-17 06:45 = Thu 08:45", "bring the umbrella")),
    ("remind me to submit the report on Friday at 10am", once("2027-06-18 08:00 = Fri 10:00", "submit the report")),
    ("remind me on monday at 9:30 to book the car service", once("2027-06-21 07:30 = Mon 09:30", "book the car service")),
    ("Remind me to pick up the dry cleaning today at 6pm", once("2027-06-16 16:00 = Wed 18:00", "pick up the dry cleaning")),
    ("remind me to buy milk at noon", once("2027-06-16 10:00 = Wed 12:00", "buy milk")),
    ("remind me to pay the electricity bill on 1 July at 10:00", once("2027-07-01 08:00 = Thu 10:00", "pay the electricity bill")),
    ("remind me on July 4th at 11am to call grandpa", once("2027-07-04 09:00 = Sun 11:00", "call grandpa")),
    ("remind me to renew my passport on 2027-09-15 at 09:00", once("2027-09-15 07:00 = Wed 09:00", "renew my passport")),
    ("remind me about Anna's birthday on 12 August at 8am", once("2027-08-12 06:00 = Thu 08:00", "Anna's birthday")),
    ("remind me that the plumber comes tomorrow at 2pm", once("2027-06-17 12:00 = Thu 14:00", "the plumber comes")),
    ("remind me to stretch at 14:05", once("2027-06-16 12:05 = Wed 14:05", "stretch")),
    ("call the bank tomorrow at 11", once("2027-06-17 09:00 = Thu 11:00", "call the bank"), AMB),
    ("remind me to check the oven at 9:40", once("2027-06-16 07:40 = Wed 09:40", "check the oven")),
    ("remind me next tuesday at 3pm to send the invoice", once("2027-06-22 13:00 = Tue 15:00", "send the invoice")),
    ("please remind me to feed the cat at 7pm", once("2027-06-16 17:00 = Wed 19:00", "feed the cat")),
    ("remind me to email Jiri on Thursday at 16:00", once("2027-06-17 14:00 = Thu 16:00", "email Jiri")),
    ("remind me to get a haircut on Saturday at 10am!", once("2027-06-19 08:00 = Sat 10:00", "get a haircut")),
    ("remind me to move the car at 11:15 am", once("2027-06-16 09:15 = Wed 11:15", "move the car")),
    ("remind me at half past four to leave for the station", once("2027-06-16 14:30 = Wed 16:30", "leave for the station"), AMB),
    ("remind me to call the vet on the 21st at 9am", once("2027-06-21 07:00 = Mon 09:00", "call the vet")),
    ("remind me to cancel the free trial on 30 June at 20:00", once("2027-06-30 18:00 = Wed 20:00", "cancel the free trial")),
    ("remind me the day after tomorrow at 10am to water the garden", once("2027-06-18 08:00 = Fri 10:00", "water the garden")),
)

# Relative times: "in N units", Prague morning and New York evening.
add(
    "relative", MORNING, PRG,
    ("remind me to stretch in 10 minutes", once("2027-06-16 07:25 = Wed 09:25", "stretch")),
    ("remind me in 2 hours to check the laundry", once("2027-06-16 09:15 = Wed 11:15", "check the laundry")),
    ("in 45 minutes remind me to take the pizza out", once("2027-06-16 08:00 = Wed 10:00", "take the pizza out")),
    ("remind me in an hour to call back", once("2027-06-16 08:15 = Wed 10:15", "call back")),
    ("remind me in 3 days to follow up with the landlord", once("2027-06-19 07:15 = Sat 09:15", "follow up with the landlord")),
    ("remind me to check the tracking number in 1 week", once("2027-06-23 07:15 = Wed 09:15", "check the tracking number")),
    ("remind me in 90 seconds to flip the pancake", once("2027-06-16 07:16:30 = Wed 09:16", "flip the pancake")),
    ("remind me in 1 hour and 30 minutes to leave", once("2027-06-16 08:45 = Wed 10:45", "leave")),
    ("remind me in half an hour to take my meds", once("2027-06-16 07:45 = Wed 09:45", "take my meds")),
    ("remind me to stand up in 25 min", once("2027-06-16 07:40 = Wed 09:40", "stand up")),
    ("in 2h remind me to back up the laptop", once("2027-06-16 09:15 = Wed 11:15", "back up the laptop")),
    ("remind me in 2 weeks to review the budget", once("2027-06-30 07:15 = Wed 09:15", "review the budget")),
    ("remind me in a month to cancel the subscription", once("2027-07-16 07:15 = Fri 09:15", "cancel the subscription")),
    ("remind me in 15 minutes", ASK),
    ("remind me to drink water in 5 mins", once("2027-06-16 07:20 = Wed 09:20", "drink water")),
)
add(
    "relative", EVENING, NY,
    ("remind me in 30 minutes to turn off the heater", once("2027-11-17 04:10 = Tue 23:10", "turn off the heater")),
    ("remind me in 2 hours to check on the bread dough", once("2027-11-17 05:40 = Wed 00:40", "check on the bread dough")),
    ("in 8 hours remind me to move the laundry", once("2027-11-17 11:40 = Wed 06:40", "move the laundry")),
    ("remind me in 1 day to call the insurance", once("2027-11-18 03:40 = Wed 22:40", "call the insurance")),
    ("remind me in 10 min to lock the door", once("2027-11-17 03:50 = Tue 22:50", "lock the door")),
)

# ==============================================================================================
# Batch 2: recurring schedules in several zones; DST change days; year end; leap day.
# ==============================================================================================

add(
    "recurring", MORNING, PRG,
    ("every day at 7am drink water", rec("2027-06-17 05:00 = Thu 07:00", "drink water", "2027-06-18 05:00 = Fri 07:00", "2027-06-19 05:00 = Sat 07:00")),
    ("every weekday at 8:30 remind me to stand up", rec("2027-06-17 06:30 = Thu 08:30", "stand up", "2027-06-18 06:30 = Fri 08:30", "2027-06-21 06:30 = Mon 08:30")),
    ("remind me every monday at 9am to plan the week", rec("2027-06-21 07:00 = Mon 09:00", "plan the week", "2027-06-28 07:00 = Mon 09:00", "2027-07-05 07:00 = Mon 09:00")),
    ("every 2 hours drink water", rec("2027-06-16 09:15 = Wed 11:15", "drink water", "2027-06-16 11:15 = Wed 13:15", "2027-06-16 13:15 = Wed 15:15")),
    ("every 30 minutes check the oven", rec("2027-06-16 07:45 = Wed 09:45", "check the oven", "2027-06-16 08:15 = Wed 10:15", "2027-06-16 08:45 = Wed 10:45")),
    ("every hour stretch", rec("2027-06-16 08:15 = Wed 10:15", "stretch", "2027-06-16 09:15 = Wed 11:15", "2027-06-16 10:15 = Wed 12:15")),
    ("remind me to pay rent on the 1st of every month at 10:00", rec("2027-07-01 08:00 = Thu 10:00", "pay rent", "2027-08-01 08:00 = Sun 10:00", "2027-09-01 08:00 = Wed 10:00")),
    ("every sunday at 20:00 call grandma", rec("2027-06-20 18:00 = Sun 20:00", "call grandma", "2027-06-27 18:00 = Sun 20:00", "2027-07-04 18:00 = Sun 20:00")),
    ("every weekend at 10am go for a run", rec("2027-06-19 08:00 = Sat 10:00", "go for a run", "2027-06-20 08:00 = Sun 10:00", "2027-06-26 08:00 = Sat 10:00")),
    ("daily at 22:00 take the pill", rec("2027-06-16 20:00 = Wed 22:00", "take the pill", "2027-06-17 20:00 = Thu 22:00", "2027-06-18 20:00 = Fri 22:00")),
    ("every tuesday and thursday at 18:30 gym", rec("2027-06-17 16:30 = Thu 18:30", "gym", "2027-06-22 16:30 = Tue 18:30", "2027-06-24 16:30 = Thu 18:30")),
    ("every morning at 6:45 walk the dog", rec("2027-06-17 04:45 = Thu 06:45", "walk the dog", "2027-06-18 04:45 = Fri 06:45", "2027-06-19 04:45 = Sat 06:45")),
    ("every day at noon lunch break", rec("2027-06-16 10:00 = Wed 12:00", "lunch break", "2027-06-17 10:00 = Thu 12:00", "2027-06-18 10:00 = Fri 12:00")),
    ("every 15th of the month at 9am pay the credit card", rec("2027-07-15 07:00 = Thu 09:00", "pay the credit card", "2027-08-15 07:00 = Sun 09:00", "2027-09-15 07:00 = Wed 09:00")),
    ("every friday at 5pm submit the timesheet", rec("2027-06-18 15:00 = Fri 17:00", "submit the timesheet", "2027-06-25 15:00 = Fri 17:00", "2027-07-02 15:00 = Fri 17:00")),
    ("every 3 days water the cactus", anyof(
        rec("2027-06-19 07:15 = Sat 09:15", "water the cactus", "2027-06-22 07:15 = Tue 09:15", "2027-06-25 07:15 = Fri 09:15"),
        rec("2027-06-17 07:00 = Thu 09:00", "water the cactus", "2027-06-20 07:00 = Sun 09:00", "2027-06-23 07:00 = Wed 09:00"),
    ), AMB),
    ("every 3 days at 9am water the cactus", rec("2027-06-17 07:00 = Thu 09:00", "water the cactus", "2027-06-20 07:00 = Sun 09:00", "2027-06-23 07:00 = Wed 09:00")),
    ("hourly check the server", rec("2027-06-16 08:15 = Wed 10:15", "check the server", "2027-06-16 09:15 = Wed 11:15", "2027-06-16 10:15 = Wed 12:15")),
    ("remind me to take my vitamins every day at 8:00", rec("2027-06-17 06:00 = Thu 08:00", "take my vitamins", "2027-06-18 06:00 = Fri 08:00", "2027-06-19 06:00 = Sat 08:00")),
    ("remind me every evening at 21:30 to plan tomorrow", rec("2027-06-16 19:30 = Wed 21:30", "plan tomorrow", "2027-06-17 19:30 = Thu 21:30", "2027-06-18 19:30 = Fri 21:30"), AMB),
)
add(
    "recurring", MORNING, KOL,
    ("remind me at 6pm to call Priya", once("2027-06-16 12:30 = Wed 18:00", "call Priya")),
    ("every day at 7am yoga", rec("2027-06-17 01:30 = Thu 07:00", "yoga", "2027-06-18 01:30 = Fri 07:00", "2027-06-19 01:30 = Sat 07:00")),
    ("remind me tomorrow at 10:30 to pay the EMI", once("2027-06-17 05:00 = Thu 10:30", "pay the EMI")),
    ("in 20 minutes check the chai", once("2027-06-16 04:05 = Wed 09:35", "check the chai")),
    ("every weekday at 9:45 mark attendance", rec("2027-06-16 04:15 = Wed 09:45", "mark attendance", "2027-06-17 04:15 = Thu 09:45", "2027-06-18 04:15 = Fri 09:45")),
)
add(
    "recurring", MORNING, SYD,
    ("remind me at 3pm to pick up the kids", once("2027-06-16 05:00 = Wed 15:00", "pick up the kids")),
    ("every day at 6am check the surf", rec("2027-06-16 20:00 = Thu 06:00", "check the surf", "2027-06-17 20:00 = Fri 06:00", "2027-06-18 20:00 = Sat 06:00")),
    ("tomorrow at 9am call the accountant", once("2027-06-16 23:00 = Thu 09:00", "call the accountant")),
    ("remind me in 2 hours to move the car", once("2027-06-16 01:15 = Wed 11:15", "move the car")),
)
add(
    "recurring", MORNING, UTC_,
    ("remind me at 13:00 to deploy", once("2027-06-16 13:00 = Wed 13:00", "deploy")),
    ("every monday at 08:00 send the weekly report", rec("2027-06-21 08:00 = Mon 08:00", "send the weekly report", "2027-06-28 08:00 = Mon 08:00", "2027-07-05 08:00 = Mon 08:00")),
    ("in 5 minutes ping the team", once("2027-06-16 09:20 = Wed 09:20", "ping the team")),
)
add(
    "recurring", MORNING, NY,
    ("remind me to call the dentist at 2pm", once("2027-06-16 18:00 = Wed 14:00", "call the dentist")),
    ("every friday at 4:30pm water the office plants", rec("2027-06-18 20:30 = Fri 16:30", "water the office plants", "2027-06-25 20:30 = Fri 16:30", "2027-07-02 20:30 = Fri 16:30")),
    ("remind me on saturday at 10am to mow the lawn", once("2027-06-19 14:00 = Sat 10:00", "mow the lawn")),
    ("tomorrow at 7:15am gym", once("2027-06-17 11:15 = Thu 07:15", "gym")),
)

add(
    "oneoff", EVENING, PRG,
    ("remind me tomorrow at 8 to call the school", once("2027-11-17 07:00 = Wed 08:00", "call the school"), AMB),
    ("remind me at 23:15 to turn off the TV", once("2027-11-16 22:15 = Tue 23:15", "turn off the TV")),
    ("remind me in 30 minutes to go to bed", once("2027-11-16 22:10 = Tue 23:10", "go to bed")),
    ("remind me at 7am to defrost the chicken", once("2027-11-17 06:00 = Wed 07:00", "defrost the chicken")),
    ("every night at 23:00 take the pill", rec("2027-11-16 22:00 = Tue 23:00", "take the pill", "2027-11-17 22:00 = Wed 23:00", "2027-11-18 22:00 = Thu 23:00")),
    ("remind me on friday at 9am to pay the nanny", once("2027-11-19 08:00 = Fri 09:00", "pay the nanny")),
    ("every weekday at 8am take vitamins", rec("2027-11-17 07:00 = Wed 08:00", "take vitamins", "2027-11-18 07:00 = Thu 08:00", "2027-11-19 07:00 = Fri 08:00")),
    ("tonight at 11pm check the back door", once("2027-11-16 22:00 = Tue 23:00", "check the back door")),
    ("remind me to put the bins out at 6:30 tomorrow morning", once("2027-11-17 05:30 = Wed 06:30", "put the bins out")),
)

# DST: Prague springs forward on Sun 28 Mar 2027 (02:00 CET -> 03:00 CEST, 01:00 UTC).
add(
    "dst", SPRING_EVE, PRG,
    ("every day at 9am take vitamins", rec("2027-03-28 07:00 = Sun 09:00", "take vitamins", "2027-03-29 07:00 = Mon 09:00", "2027-03-30 07:00 = Tue 09:00")),
    ("every day at 8pm close the windows", rec("2027-03-27 19:00 = Sat 20:00", "close the windows", "2027-03-28 18:00 = Sun 20:00", "2027-03-29 18:00 = Mon 20:00")),
    ("every sunday at 10am call mum", rec("2027-03-28 08:00 = Sun 10:00", "call mum", "2027-04-04 08:00 = Sun 10:00", "2027-04-11 08:00 = Sun 10:00")),
    ("every 2 days at 9am water the plants", rec("2027-03-28 07:00 = Sun 09:00", "water the plants", "2027-03-30 07:00 = Tue 09:00", "2027-04-01 07:00 = Thu 09:00")),
    ("remind me tomorrow at 9:30 to go to the market", once("2027-03-28 07:30 = Sun 09:30", "go to the market")),
    ("remind me in 12 hours to check the sourdough", once("2027-03-28 05:00 = Sun 07:00", "check the sourdough")),
    ("every weekday at 7:30 leave for work", rec("2027-03-29 05:30 = Mon 07:30", "leave for work", "2027-03-30 05:30 = Tue 07:30", "2027-03-31 05:30 = Wed 07:30")),
)
add(
    "dst", SPRING, PRG,
    ("every day at 7am go for a run", rec("2027-03-28 05:00 = Sun 07:00", "go for a run", "2027-03-29 05:00 = Mon 07:00", "2027-03-30 05:00 = Tue 07:00")),
    ("remind me tomorrow at 9am to call the office", once(("2027-03-28 07:00 = Sun 09:00", "2027-03-29 07:00 = Mon 09:00"), "call the office"), AMB),
    ("remind me in 3 hours to check the boiler", once("2027-03-28 02:30 = Sun 04:30", "check the boiler")),
    ("remind me in 2 hours to check the bread", once("2027-03-28 01:30 = Sun 03:30", "check the bread")),
    ("remind me at 3am to check the clocks", once("2027-03-28 01:00 = Sun 03:00", "check the clocks")),
    ("remind me at 2:30am to feed the baby", once(("2027-03-28 01:30 = Sun 03:30", "2027-03-28 01:00 = Sun 03:00"), "feed the baby"), AMB),
    ("remind me at 8am to buy croissants", once("2027-03-28 06:00 = Sun 08:00", "buy croissants")),
    ("every hour check the incubator", rec("2027-03-28 00:30 = Sun 01:30", "check the incubator", "2027-03-28 01:30 = Sun 03:30", "2027-03-28 02:30 = Sun 04:30")),
)
# DST: Prague falls back on Sun 31 Oct 2027 (03:00 CEST -> 02:00 CET, 01:00 UTC).
add(
    "dst", AUTUMN_EVE, PRG,
    ("every day at 9am take vitamins", rec("2027-10-31 08:00 = Sun 09:00", "take vitamins", "2027-11-01 08:00 = Mon 09:00", "2027-11-02 08:00 = Tue 09:00")),
    ("every day at 2:30 take the meds", rec(("2027-10-31 00:30 = Sun 02:30", "2027-10-31 01:30 = Sun 02:30"), "take the meds", "2027-11-01 01:30 = Mon 02:30", "2027-11-02 01:30 = Tue 02:30")),
    ("every weekday at 7:30 commute", rec("2027-11-01 06:30 = Mon 07:30", "commute", "2027-11-02 06:30 = Tue 07:30", "2027-11-03 06:30 = Wed 07:30")),
    ("every day at 8pm close the windows", rec("2027-10-30 18:00 = Sat 20:00", "close the windows", "2027-10-31 19:00 = Sun 20:00", "2027-11-01 19:00 = Mon 20:00")),
    ("remind me tomorrow at 9:30 to go to the market", once("2027-10-31 08:30 = Sun 09:30", "go to the market")),
    ("remind me in 12 hours to check the sourdough", once("2027-10-31 04:00 = Sun 05:00", "check the sourdough")),
    ("every 2 days at 9am water the plants", rec("2027-10-31 08:00 = Sun 09:00", "water the plants", "2027-11-02 08:00 = Tue 09:00", "2027-11-04 08:00 = Thu 09:00")),
)
add(
    "dst", AUTUMN, PRG,
    ("remind me in 3 hours to check the oven", once("2027-10-31 01:30 = Sun 02:30", "check the oven")),
    ("remind me at 9am to go for a walk", once("2027-10-31 08:00 = Sun 09:00", "go for a walk")),
    ("remind me at 2:30 am to feed the baby", once(("2027-10-31 00:30 = Sun 02:30", "2027-10-31 01:30 = Sun 02:30"), "feed the baby"), AMB),
    ("remind me tomorrow at 10am to call the office", once(("2027-10-31 09:00 = Sun 10:00", "2027-11-01 09:00 = Mon 10:00"), "call the office"), AMB),
    ("every day at 23:00 lights off", rec("2027-10-31 22:00 = Sun 23:00", "lights off", "2027-11-01 22:00 = Mon 23:00", "2027-11-02 22:00 = Tue 23:00")),
    ("every hour drink water", rec("2027-10-30 23:30 = Sun 01:30", "drink water", "2027-10-31 00:30 = Sun 02:30", "2027-10-31 01:30 = Sun 02:30")),
)
# DST elsewhere: New York springs forward on Sun 14 Mar 2027; Sydney falls back on Sun 4 Apr 2027.
add(
    "dst", US_DST, NY,
    ("every day at 8am coffee", rec("2027-03-14 12:00 = Sun 08:00", "coffee", "2027-03-15 12:00 = Mon 08:00", "2027-03-16 12:00 = Tue 08:00")),
    ("remind me tomorrow at 9am to call dad", once("2027-03-14 13:00 = Sun 09:00", "call dad")),
    ("in 12 hours take the roast out", once("2027-03-14 13:00 = Sun 09:00", "take the roast out")),
    ("every day at 9pm write in the journal", rec("2027-03-14 02:00 = Sat 21:00", "write in the journal", "2027-03-15 01:00 = Sun 21:00", "2027-03-16 01:00 = Mon 21:00")),
)
add(
    "dst", AU_DST, SYD,
    ("every day at 7am go for a swim", rec("2027-04-03 21:00 = Sun 07:00", "go for a swim", "2027-04-04 21:00 = Mon 07:00", "2027-04-05 21:00 = Tue 07:00")),
    ("tomorrow at 8am call the plumber", once("2027-04-03 22:00 = Sun 08:00", "call the plumber")),
    ("every day at 9pm lock up", rec("2027-04-03 10:00 = Sat 21:00", "lock up", "2027-04-04 11:00 = Sun 21:00", "2027-04-05 11:00 = Mon 21:00")),
)

# Year end: Fri 31 Dec 2027 23:30.
add(
    "year_end", YEAR_END, PRG,
    ("remind me in 1 hour to text happy new year", once("2027-12-31 23:30 = Sat 00:30", "text happy new year")),
    ("remind me tomorrow at 10am to go for a new year walk", once("2028-01-01 09:00 = Sat 10:00", "go for a new year walk")),
    ("remind me at 23:55 to open the champagne", once("2027-12-31 22:55 = Fri 23:55", "open the champagne")),
    ("every monday at 9am weekly review", rec("2028-01-03 08:00 = Mon 09:00", "weekly review", "2028-01-10 08:00 = Mon 09:00", "2028-01-17 08:00 = Mon 09:00"), AMB),
    ("remind me on 2 january at 9am to return the gifts", once("2028-01-02 08:00 = Sun 09:00", "return the gifts")),
    ("remind me on december 31 at 8pm to book next year's party", once("2028-12-31 19:00 = Sun 20:00", "book next year's party"), AMB),
    ("every day at 9am meditate", rec("2028-01-01 08:00 = Sat 09:00", "meditate", "2028-01-02 08:00 = Sun 09:00", "2028-01-03 08:00 = Mon 09:00")),
    ("on the 1st of every month at 9am pay rent", rec("2028-01-01 08:00 = Sat 09:00", "pay rent", "2028-02-01 08:00 = Tue 09:00", "2028-03-01 08:00 = Wed 09:00")),
    ("remind me in 2 days to take down the decorations", once("2028-01-02 22:30 = Sun 23:30", "take down the decorations")),
    ("at 11:59pm remind me to make a wish", once("2027-12-31 22:59 = Fri 23:59", "make a wish")),
    ("remind me on 31 Jan at noon to file taxes", once("2028-01-31 11:00 = Mon 12:00", "file taxes")),
    ("remind me next friday at 6pm to plan the trip", once(("2028-01-07 17:00 = Fri 18:00",), "plan the trip"), AMB),
)
add(
    "year_end", YEAR_END, NY,
    ("in 45 minutes call the family", once("2028-01-01 05:15 = Sat 00:15", "call the family")),
    ("tomorrow at noon brunch with Sam", once("2028-01-01 17:00 = Sat 12:00", "brunch with Sam")),
)
add(
    "year_end", YEAR_END, KOL,
    ("remind me at 10am tomorrow to visit the temple", once("2028-01-01 04:30 = Sat 10:00", "visit the temple")),
)
add(
    "year_end", YEAR_END, SYD,
    ("in 30 minutes watch the fireworks", once("2027-12-31 13:00 = Sat 00:00", "watch the fireworks")),
)

# Leap day: Tue 29 Feb 2028 10:00.
add(
    "leap", LEAP, PRG,
    ("remind me on 1 march at 9am to pay rent", once("2028-03-01 08:00 = Wed 09:00", "pay rent")),
    ("remind me tomorrow at 8am to send the invoice", once("2028-03-01 07:00 = Wed 08:00", "send the invoice")),
    ("remind me in 1 year to renew the domain", once(("2029-02-28 09:00 = Wed 10:00", "2029-03-01 09:00 = Thu 10:00"), "renew the domain"), AMB),
    ("every year on 29 february at 9am celebrate the leap day", rec("2032-02-29 08:00 = Sun 09:00", "celebrate the leap day"), AMB),
    ("remind me in 3 days to check the invoice", once("2028-03-03 09:00 = Fri 10:00", "check the invoice")),
    ("every month on the 29th at 10am water the bonsai", rec("2028-03-29 08:00 = Wed 10:00", "water the bonsai", "2028-04-29 08:00 = Sat 10:00", "2028-05-29 08:00 = Mon 10:00")),
    ("every day at 9am stretch", rec("2028-03-01 08:00 = Wed 09:00", "stretch", "2028-03-02 08:00 = Thu 09:00", "2028-03-03 08:00 = Fri 09:00")),
    ("remind me today at 4pm to leave early", once("2028-02-29 15:00 = Tue 16:00", "leave early")),
)
add(
    "leap", LEAP, NY,
    ("remind me at 4pm to leave early", once("2028-02-29 21:00 = Tue 16:00", "leave early")),
    ("remind me on march 1st at 8:30am to call the bank", once("2028-03-01 13:30 = Wed 08:30", "call the bank")),
)

# ==============================================================================================
# Batch 3 (issue 13, "half-parsed compound schedules"; deliver 4): several times a day, weekday
# sets with exceptions, nth / last weekday, last day of the month, fortnightly, yearly, ends.
# Prague, Wed 16 Jun 2027 09:15 CEST.
# ==============================================================================================

add(
    "compound", MORNING, PRG,
    ("every day at 7am and 7pm brush teeth", rec("2027-06-16 17:00 = Wed 19:00", "brush teeth", "2027-06-17 05:00 = Thu 07:00", "2027-06-17 17:00 = Thu 19:00")),
    ("every weekday at 9am except friday stand-up meeting", rec("2027-06-17 07:00 = Thu 09:00", "stand-up meeting", "2027-06-21 07:00 = Mon 09:00", "2027-06-22 07:00 = Tue 09:00")),
    ("first monday of each month at 9am team sync", rec("2027-07-05 07:00 = Mon 09:00", "team sync", "2027-08-02 07:00 = Mon 09:00", "2027-09-06 07:00 = Mon 09:00")),
    ("biweekly on friday at 4pm check payroll", anyof(
        rec("2027-06-18 14:00 = Fri 16:00", "check payroll", "2027-07-02 14:00 = Fri 16:00", "2027-07-16 14:00 = Fri 16:00"),
        rec("2027-06-25 14:00 = Fri 16:00", "check payroll", "2027-07-09 14:00 = Fri 16:00", "2027-07-23 14:00 = Fri 16:00"),
    )),
    ("every other week on tuesday at 10am clean the fridge", anyof(
        rec("2027-06-22 08:00 = Tue 10:00", "clean the fridge", "2027-07-06 08:00 = Tue 10:00", "2027-07-20 08:00 = Tue 10:00"),
        rec("2027-06-29 08:00 = Tue 10:00", "clean the fridge", "2027-07-13 08:00 = Tue 10:00", "2027-07-27 08:00 = Tue 10:00"),
    )),
    ("fortnightly on monday at 8:00 put the recycling out", anyof(
        rec("2027-06-21 06:00 = Mon 08:00", "put the recycling out", "2027-07-05 06:00 = Mon 08:00", "2027-07-19 06:00 = Mon 08:00"),
        rec("2027-06-28 06:00 = Mon 08:00", "put the recycling out", "2027-07-12 06:00 = Mon 08:00", "2027-07-26 06:00 = Mon 08:00"),
    )),
    ("every 2 weeks on saturday at 10am go to the farmers market", anyof(
        rec("2027-06-19 08:00 = Sat 10:00", "go to the farmers market", "2027-07-03 08:00 = Sat 10:00", "2027-07-17 08:00 = Sat 10:00"),
        rec("2027-06-26 08:00 = Sat 10:00", "go to the farmers market", "2027-07-10 08:00 = Sat 10:00", "2027-07-24 08:00 = Sat 10:00"),
    )),
    ("last friday of every month at 5pm team drinks", rec("2027-06-25 15:00 = Fri 17:00", "team drinks", "2027-07-30 15:00 = Fri 17:00", "2027-08-27 15:00 = Fri 17:00")),
    ("on the last day of every month at 18:00 send the invoices", rec("2027-06-30 16:00 = Wed 18:00", "send the invoices", "2027-07-31 16:00 = Sat 18:00", "2027-08-31 16:00 = Tue 18:00")),
    ("every day at 8am, 1pm and 6pm take the pills", rec("2027-06-16 11:00 = Wed 13:00", "take the pills", "2027-06-16 16:00 = Wed 18:00", "2027-06-17 06:00 = Thu 08:00")),
    ("every monday, wednesday and friday at 7am go to the gym", rec("2027-06-18 05:00 = Fri 07:00", "go to the gym", "2027-06-21 05:00 = Mon 07:00", "2027-06-23 05:00 = Wed 07:00")),
    ("every weekday except wednesday at 8:15 daily stand-up", rec("2027-06-17 06:15 = Thu 08:15", "daily stand-up", "2027-06-18 06:15 = Fri 08:15", "2027-06-21 06:15 = Mon 08:15")),
    ("every second tuesday of the month at 19:00 book club", rec("2027-07-13 17:00 = Tue 19:00", "book club", "2027-08-10 17:00 = Tue 19:00", "2027-09-14 17:00 = Tue 19:00")),
    ("every year on 12 august at 9am Anna's birthday", rec("2027-08-12 07:00 = Thu 09:00", "Anna's birthday", "2028-08-12 07:00 = Sat 09:00", "2029-08-12 07:00 = Sun 09:00")),
    ("every day at 9am until 20 june water the seedlings", rec("2027-06-17 07:00 = Thu 09:00", "water the seedlings", "2027-06-18 07:00 = Fri 09:00", "2027-06-19 07:00 = Sat 09:00", "2027-06-20 07:00 = Sun 09:00", END)),
    ("every day at 8pm for 3 days take the antibiotics", rec("2027-06-16 18:00 = Wed 20:00", "take the antibiotics", "2027-06-17 18:00 = Thu 20:00", "2027-06-18 18:00 = Fri 20:00", END)),
    ("every monday at 10am for 3 weeks do the physio exercises", rec("2027-06-21 08:00 = Mon 10:00", "do the physio exercises", "2027-06-28 08:00 = Mon 10:00", "2027-07-05 08:00 = Mon 10:00", END)),
    ("remind me to drink water every hour, 3 times", rec("2027-06-16 08:15 = Wed 10:15", "drink water", "2027-06-16 09:15 = Wed 11:15", "2027-06-16 10:15 = Wed 12:15", END)),
    ("every friday at 4pm until 2 july submit the timesheet", rec("2027-06-18 14:00 = Fri 16:00", "submit the timesheet", "2027-06-25 14:00 = Fri 16:00", "2027-07-02 14:00 = Fri 16:00", END)),
    ("twice a day at 9am and 9pm take the eye drops", rec("2027-06-16 19:00 = Wed 21:00", "take the eye drops", "2027-06-17 07:00 = Thu 09:00", "2027-06-17 19:00 = Thu 21:00")),
    ("on the 1st and 15th of every month at 9am pay the bills", rec("2027-07-01 07:00 = Thu 09:00", "pay the bills", "2027-07-15 07:00 = Thu 09:00", "2027-08-01 07:00 = Sun 09:00")),
    ("every weekday at 9am and 2pm check the inbox", rec("2027-06-16 12:00 = Wed 14:00", "check the inbox", "2027-06-17 07:00 = Thu 09:00", "2027-06-17 12:00 = Thu 14:00")),
    ("on the 3rd friday of every month at 12:00 lunch with the team", rec("2027-06-18 10:00 = Fri 12:00", "lunch with the team", "2027-07-16 10:00 = Fri 12:00", "2027-08-20 10:00 = Fri 12:00")),
    ("last monday of the month at 9am file the expense report", rec("2027-06-28 07:00 = Mon 09:00", "file the expense report", "2027-07-26 07:00 = Mon 09:00", "2027-08-30 07:00 = Mon 09:00")),
    ("every weekday at 7am and 7pm feed the fish", rec("2027-06-16 17:00 = Wed 19:00", "feed the fish", "2027-06-17 05:00 = Thu 07:00", "2027-06-17 17:00 = Thu 19:00")),
    ("every day except sunday at 6:30 open the shop", rec("2027-06-17 04:30 = Thu 06:30", "open the shop", "2027-06-18 04:30 = Fri 06:30", "2027-06-19 04:30 = Sat 06:30")),
    ("every saturday and sunday at 9am sleep in, no alarm", rec("2027-06-19 07:00 = Sat 09:00", "sleep in, no alarm", "2027-06-20 07:00 = Sun 09:00", "2027-06-26 07:00 = Sat 09:00")),
    ("every 3 hours between 9am and 9pm drink water", anyof(
        rec("2027-06-16 10:00 = Wed 12:00", "drink water", "2027-06-16 13:00 = Wed 15:00", "2027-06-16 16:00 = Wed 18:00"),
        rec("2027-06-16 10:15 = Wed 12:15", "drink water", "2027-06-16 13:15 = Wed 15:15", "2027-06-16 16:15 = Wed 18:15"),
    ), AMB),
    ("every quarter on the 1st at 9am file the VAT return", rec("2027-07-01 07:00 = Thu 09:00", "file the VAT return", "2027-10-01 07:00 = Fri 09:00", "2028-01-01 08:00 = Sat 09:00"), AMB),
    ("every weekday except holidays at 8am stand-up", ASK),
    ("every monday at 9am and tuesdays too water the plants", rec("2027-06-21 07:00 = Mon 09:00", "water the plants", "2027-06-22 07:00 = Tue 09:00", "2027-06-28 07:00 = Mon 09:00"), AMB),
    ("every day at 7am and sometimes at 8 stretch", ASK),
)
# Ends across a DST change: the last firing is on the far side of it.
add(
    "compound", SPRING_EVE, PRG,
    ("every day at 9am for 3 days take the tablets", rec("2027-03-28 07:00 = Sun 09:00", "take the tablets", "2027-03-29 07:00 = Mon 09:00", "2027-03-30 07:00 = Tue 09:00", END)),
    ("every day at 7am and 7pm until 29 march feed the neighbour's cat", rec("2027-03-27 18:00 = Sat 19:00", "feed the neighbour's cat", "2027-03-28 05:00 = Sun 07:00", "2027-03-28 17:00 = Sun 19:00", "2027-03-29 05:00 = Mon 07:00", "2027-03-29 17:00 = Mon 19:00", END)),
    ("last sunday of every month at 10am call grandpa", rec("2027-03-28 08:00 = Sun 10:00", "call grandpa", "2027-04-25 08:00 = Sun 10:00", "2027-05-30 08:00 = Sun 10:00")),
)
add(
    "compound", AUTUMN_EVE, PRG,
    # No "every": a one-off on the 31st is as fair a reading as a monthly rule.
    ("last day of the month at 20:00 pay the rent", anyof(
        rec("2027-10-31 19:00 = Sun 20:00", "pay the rent", "2027-11-30 19:00 = Tue 20:00", "2027-12-31 19:00 = Fri 20:00"),
        once("2027-10-31 19:00 = Sun 20:00", "pay the rent"),
    ), AMB),
    ("on the last day of every month at 20:00 pay the rent", rec("2027-10-31 19:00 = Sun 20:00", "pay the rent", "2027-11-30 19:00 = Tue 20:00", "2027-12-31 19:00 = Fri 20:00")),
    ("every 2 weeks on sunday at 9am call the parents", anyof(
        rec("2027-10-31 08:00 = Sun 09:00", "call the parents", "2027-11-14 08:00 = Sun 09:00", "2027-11-28 08:00 = Sun 09:00"),
        rec("2027-11-07 08:00 = Sun 09:00", "call the parents", "2027-11-21 08:00 = Sun 09:00", "2027-12-05 08:00 = Sun 09:00"),
    )),
)

# Price alerts, the known symbols BTC, ETH, AAPL, MSFT, EUR/USD.
add(
    "alert", MORNING, PRG,
    ("alert me when BTC goes above 70000", alert("BTC", "above", 70000)),
    ("tell me if AAPL drops below 180", alert("AAPL", "below", 180)),
    ("notify me when ETH is over 4k", alert("ETH", "above", 4000)),
    ("alert me if MSFT falls under $400", alert("MSFT", "below", 400)),
    ("let me know when bitcoin crosses 75,000", alert("BTC", "cross", 75000)),
    ("alert me when EUR/USD goes below 1.05", alert("EUR/USD", "below", 1.05)),
    ("BTC above 72000", alert("BTC", "above", 72000)),
    ("alert me every time ETH drops below 3000", alert("ETH", "below", 3000, repeat=True)),
    ("alert me when AAPL moves 5%", alert("AAPL", "move", 5)),
    ("tell me if BTC rises 3%", alert("BTC", "move", 3, direction="up")),
    ("alert me if ETH drops 10% within 1 hour", alert("ETH", "window", 10, direction="down")),
    ("warn me when apple stock goes above 200", alert("AAPL", "above", 200)),
    ("alert me when eurusd is above 1.10", alert("EUR/USD", "above", 1.10)),
    ("alert me if MSFT > 450", alert("MSFT", "above", 450)),
    ("alert me if BTC < 60k", alert("BTC", "below", 60000)),
    ("set an alert for ETH above 3,800", alert("ETH", "above", 3800)),
    ("alert me when bitcoin goes over 100k", alert("BTC", "above", 100000)),
    ("let me know if microsoft dips below 380", alert("MSFT", "below", 380)),
    ("alert me once ETH falls below 2500", alert("ETH", "below", 2500, repeat=False)),
    ("tesla above 300", ASK),
    ("alert me when BTC", ASK),
    ("alert me when DOGE goes above 1", ASK),
    ("alert me if BTC goes above", ASK),
    ("alert me when ETH moves", ASK),
    ("alert me when BTC is above 0", ASK),
    ("alert me when gold goes above 2000", ASK),
    ("alert me if BTC drops 150%", ASK),
)
add(
    "compound", MORNING, PRG,
    ("BTC above 70000 or below 60000", alerts(alert("BTC", "above", 70000), alert("BTC", "below", 60000))),
    ("alert me if ETH goes above 4000 or drops below 3000", alerts(alert("ETH", "above", 4000), alert("ETH", "below", 3000))),
    ("tell me when AAPL goes over 200 or under 170", alerts(alert("AAPL", "above", 200), alert("AAPL", "below", 170))),
    ("alert me if BTC above 70000 or below", ASK),
    ("alert me when MSFT is above 450 and ETH below 3000", alerts(alert("MSFT", "above", 450), alert("ETH", "below", 3000)), AMB),
)

# ==============================================================================================
# Batch 4 (issue 13, "a pending question swallows a complete new request"): complete requests
# and management commands as people send them mid-conversation; each must stand on its own.
# ==============================================================================================

add(
    "interrupt", MORNING, PRG,
    ("tell me if AAPL drops below 175", alert("AAPL", "below", 175)),
    ("actually, remind me to call Tom at 4pm", once("2027-06-16 14:00 = Wed 16:00", "call Tom")),
    ("no wait, remind me at 6pm to leave the office", once("2027-06-16 16:00 = Wed 18:00", "leave the office")),
    ("never mind, alert me when BTC goes above 71000", alert("BTC", "above", 71000)),
    ("forget it. remind me tomorrow at 9am to call the bank", once("2027-06-17 07:00 = Thu 09:00", "call the bank")),
    ("every 30 seconds spam", ASK),
    ("my alerts", COMMAND),
    ("my reminders", COMMAND),
    ("help", COMMAND),
    ("cancel", COMMAND),
    ("stop", COMMAND),
    ("show my reminders", COMMAND),
    ("list alerts", COMMAND),
    ("what can you do?", COMMAND),
    ("remind me to water the plants in 20 minutes", once("2027-06-16 07:35 = Wed 09:35", "water the plants")),
    ("ETH below 3000", alert("ETH", "below", 3000)),
    ("set a reminder for 5pm to call the garage", once("2027-06-16 15:00 = Wed 17:00", "call the garage")),
    ("oh and remind me in 1 hour to check the oven", once("2027-06-16 08:15 = Wed 10:15", "check the oven")),
    ("prices", COMMAND),
    ("cancel that", COMMAND),
)

# ==============================================================================================
# Batch 5 (issue 13, "no edit or reschedule; trying creates junk"; "snooze"; "changing the time
# zone"; "crash"): commands the router must take. The parser alone must at least not turn them
# into a reminder called "edit" or "move 13".
# ==============================================================================================

add(
    "edit", MORNING, PRG,
    ("edit 13 to 19:00", cmd(number=13)),
    ("move 13 to friday", cmd(number=13)),
    ("change reminder 13 to tomorrow at 5pm", cmd(number=13)),
    ("move 3 to 5pm", cmd(number=3)),
    ("change 3 to every monday at 9", cmd(number=3)),
    ("rename 3 to call the dentist", cmd(number=3)),
    ("edit 3", cmd(number=3)),
    ("reschedule 4 to next tuesday at 10am", cmd(number=4)),
    ("push 5 to 8pm", cmd(number=5)),
    ("move the dentist reminder to friday at 3pm", COMMAND),
    ("change my last reminder to 6pm", COMMAND),
    ("move last to tomorrow", COMMAND),
    ("postpone 2 by an hour", cmd(number=2)),
    ("change alert 2 to 75000", cmd(number=2)),
    ("edit alert 1", cmd(number=1)),
    ("set alert 3 to below 60000", cmd(number=3)),
    ("undo", COMMAND),
    ("cancel the dentist reminder", COMMAND),
    ("cancel last", COMMAND),
    ("delete the gym reminder", COMMAND),
    ("change 7 to every weekday at 8:30", cmd(number=7)),
    ("move #12 to 9 tomorrow", cmd(number=12)),
    ("edit reminder 5 text to buy oat milk", cmd(number=5)),
    ("make 4 repeat every day", cmd(number=4)),
    ("change the time of reminder 6 to 7pm", cmd(number=6)),
    ("cancel 3", cmd(number=3)),
)
add(
    "snooze", MORNING, PRG,
    ("snooze 10m", cmd(minutes=10)),
    ("snooze", COMMAND),
    ("snooze 4 2 days", cmd(number=4, minutes=2880)),
    ("snooze 3 for 1 hour", cmd(number=3, minutes=60)),
    ("snooze 10 min", cmd(minutes=10)),
    ("snooze for 2 hours", cmd(minutes=120)),
    ("snooze 2 30m", cmd(number=2, minutes=30)),
    ("snooze until tomorrow", COMMAND),
    ("snooze 5 till 6pm", COMMAND),
    ("snooze it for 15 minutes", cmd(minutes=15)),
    ("snooze 1 day", cmd(minutes=1440)),
    ("snooze 7 1d", cmd(number=7, minutes=1440)),
    ("snooze alert 2 for 1 hour", cmd(number=2, minutes=60)),
    ("remind me again in 10 minutes", COMMAND),
    ("snooze 3 for 99999999 days", COMMAND),
    ("snooze 20 minutes please", cmd(minutes=20)),
    ("snooze 6 until 8am", COMMAND),
    ("snooze 1h", cmd(minutes=60)),
)
add(
    "tz_change", MORNING, PRG,
    ("set my timezone to PST", COMMAND),
    ("set my timezone to london", COMMAND),
    ("set my timezone to UTC+2", COMMAND),
    ("timezone Europe/Prague", COMMAND),
    ("my timezone is New York", COMMAND),
    ("change my time zone to CET", COMMAND),
    ("I'm in Sydney now", COMMAND),
    ("set tz to IST", COMMAND),
    ("i moved to london", COMMAND),
    ("set timezone to GMT-5", COMMAND),
    ("use Asia/Kolkata as my time zone", COMMAND),
    ("what's my timezone?", COMMAND),
    ("time zone", COMMAND),
    ("set my timezone to America/New_York", COMMAND),
    ("switch me to eastern time", COMMAND),
    ("my time zone is UTC-05:00", COMMAND),
    ("set my time zone to tokyo", COMMAND),
)
add(
    "overflow", MORNING, PRG,
    ("remind me in 99999999999999999999 minutes", ASK),
    ("remind me in 99999999999999999999 minutes to stretch", ASK),
    ("remind me in 10000 years to open the capsule", ASK),
    ("every 99999999999 days water the plants", ASK),
    ("remind me in 0 minutes to stretch", ASK),
    ("remind me in -5 minutes to stretch", ASK),
    ("every 0 hours drink water", ASK),
    ("remind me on 32 January at 9am to pay rent", ASK),
    ("remind me at 25:00 to call Eva", ASK),
    ("remind me at 13pm to call Eva", ASK),
    ("remind me on 30 February at 9am to pay rent", ASK),
    ("remind me on 29 february 2029 at 9am to check the calendar", ASK),
    ("every 10 seconds check the server", ASK),
    ("remind me in 999999 weeks to retire", ASK),
    ("remind me on 31 june at 10am to file the report", ASK),
    ("remind me in 99999999999999999999999999999999 seconds to blink", ASK),
    ("remind me at 9:75 to call Eva", ASK),
    ("every 1e9 hours stretch", ASK),
    ("remind me in 1,000,000,000 days to wake up", ASK),
    ("snooze 1 99999999999999 minutes", COMMAND),
    ("remind me on the 0th of july at 9am to pay rent", ASK),
)

# ==============================================================================================
# Batch 6 (deliver 5, "time zones and dates in the message ignored"): a zone named in the message
# applies to that reminder. The local half of each label is in the named zone (label_tz).
# ==============================================================================================

add(
    "zones", MORNING, PRG,
    ("remind me at 3pm London time to call the client", once("2027-06-16 14:00 = Wed 15:00", "call the client", label_tz=LON)),
    ("remind me at 10:00 UTC+2 to call Kyiv", once("2027-06-16 08:00 = Wed 10:00", "call Kyiv", label_tz="Etc/GMT-2")),
    ("remind me at noon New York time to call the bank", once("2027-06-16 16:00 = Wed 12:00", "call the bank", label_tz=NY)),
    ("at 8pm IST remind me to call mom", anyof(
        once("2027-06-16 14:30 = Wed 20:00", "call mom", label_tz=KOL),
        once("2027-06-16 19:00 = Wed 20:00", "call mom", label_tz="Europe/Dublin"),
    ), AMB),
    ("every day at 9am London time join the standup", rec("2027-06-16 08:00 = Wed 09:00", "join the standup", "2027-06-17 08:00 = Thu 09:00", "2027-06-18 08:00 = Fri 09:00", label_tz=LON)),
    ("every monday at 10am eastern time sync with the New York office", rec("2027-06-21 14:00 = Mon 10:00", "sync with the New York office", "2027-06-28 14:00 = Mon 10:00", "2027-07-05 14:00 = Mon 10:00", label_tz=NY)),
    ("remind me tomorrow at 9:00 GMT to send the report", once("2027-06-17 09:00 = Thu 09:00", "send the report", label_tz=UTC_)),
    ("remind me at 14:00 UTC to deploy the release", once("2027-06-16 14:00 = Wed 14:00", "deploy the release", label_tz=UTC_)),
    ("remind me at 6pm Sydney time to call Jack", once("2027-06-16 08:00 = Wed 18:00", "call Jack", label_tz=SYD)),
    ("remind me at 9am Pacific time to join the all-hands", once("2027-06-16 16:00 = Wed 09:00", "join the all-hands", label_tz=LA)),
)
add(
    "zones", EVENING, PRG,
    ("remind me at 9am PST to join the call", once("2027-11-17 17:00 = Wed 09:00", "join the call", label_tz=LA)),
    ("remind me at 3pm EST to call the office", once("2027-11-17 20:00 = Wed 15:00", "call the office", label_tz=NY)),
    ("remind me tomorrow at 10am London time to pay the invoice", once("2027-11-17 10:00 = Wed 10:00", "pay the invoice", label_tz=LON)),
    ("remind me at 7am IST to call the Bangalore team", anyof(
        once("2027-11-17 01:30 = Wed 07:00", "call the Bangalore team", label_tz=KOL),
        once("2027-11-17 07:00 = Wed 07:00", "call the Bangalore team", label_tz="Europe/Dublin"),
    ), AMB),
    ("remind me at 08:00 CET to book the train", once("2027-11-17 07:00 = Wed 08:00", "book the train", label_tz=PRG)),
)
add(
    "zones", EVENING, NY,
    ("remind me at 17:00 CET to call Prague", once("2027-11-17 16:00 = Wed 17:00", "call Prague", label_tz=PRG)),
    ("remind me at 9am Tokyo time to call Kenji", once("2027-11-18 00:00 = Thu 09:00", "call Kenji", label_tz="Asia/Tokyo")),
    # "tomorrow" is Wednesday for the user, already Thursday in UTC: either reading is fair.
    ("remind me tomorrow at noon UTC to rotate the keys", anyof(
        once("2027-11-17 12:00 = Wed 12:00", "rotate the keys", label_tz=UTC_),
        once("2027-11-18 12:00 = Thu 12:00", "rotate the keys", label_tz=UTC_),
    ), AMB),
)
add(
    "zones", MORNING, NY,
    ("remind me at 7pm CEST to watch the match", once("2027-06-16 17:00 = Wed 19:00", "watch the match", label_tz=PRG)),
    ("remind me at 9am Berlin time to call Lena", once("2027-06-17 07:00 = Thu 09:00", "call Lena", label_tz="Europe/Berlin")),
)
add(
    "zones", SPRING_EVE, PRG,
    ("every day at 9am New York time call the US team", rec("2027-03-28 13:00 = Sun 09:00", "call the US team", "2027-03-29 13:00 = Mon 09:00", "2027-03-30 13:00 = Tue 09:00", label_tz=NY)),
)
add(
    "zones", MORNING, UTC_,
    ("remind me at 6pm in Sydney to call Jack", once("2027-06-17 08:00 = Thu 18:00", "call Jack", label_tz=SYD)),
)

# Day parts (deliver 5): evening means 17:00 or later, not 16:00; a question is fair too.
EVENING_TIMES = tuple(f"2027-06-16 {h - 2:02d}:00 = Wed {h}:00" for h in (17, 18, 19, 20))
TONIGHT_TIMES = tuple(f"2027-06-16 {h - 2:02d}:00 = Wed {h}:00" for h in (19, 20, 21, 22))
MORNING_TIMES = tuple(f"2027-06-17 {h - 2:02d}:00 = Thu {h:02d}:00" for h in (7, 8, 9))
AFTERNOON_TIMES = tuple(f"2027-06-16 {h - 2:02d}:00 = Wed {h}:00" for h in (13, 14, 15))
add(
    "day_parts", MORNING, PRG,
    ("remind me this evening to call dad", once(EVENING_TIMES, "call dad")),
    ("remind me tonight to take out the trash", once(TONIGHT_TIMES, "take out the trash")),
    ("remind me tomorrow morning to call the garage", once(MORNING_TIMES, "call the garage")),
    ("remind me this afternoon to ship the parcel", once(AFTERNOON_TIMES, "ship the parcel")),
    ("tomorrow evening remind me to pack the suitcase", once(tuple(f"2027-06-17 {h - 2:02d}:00 = Thu {h}:00" for h in (17, 18, 19, 20)), "pack the suitcase")),
    ("remind me in the evening to water the plants", once(EVENING_TIMES, "water the plants")),
    ("remind me tonite to lock the car", once(TONIGHT_TIMES, "lock the car")),
    ("remind me at lunchtime to call the school", once(("2027-06-16 10:00 = Wed 12:00", "2027-06-16 10:30 = Wed 12:30", "2027-06-16 11:00 = Wed 13:00"), "call the school")),
    ("remind me this evening at 7 to call dad", once("2027-06-16 17:00 = Wed 19:00", "call dad")),
    ("remind me tomorrow morning at 7:30 to call the garage", once("2027-06-17 05:30 = Thu 07:30", "call the garage")),
    ("remind me tonight at 9 to take the pill", once("2027-06-16 19:00 = Wed 21:00", "take the pill")),
    ("remind me tomorrow afternoon at 3 to pick up the parcel", once("2027-06-17 13:00 = Thu 15:00", "pick up the parcel")),
    ("every evening at 6 walk the dog", rec("2027-06-16 16:00 = Wed 18:00", "walk the dog", "2027-06-17 16:00 = Thu 18:00", "2027-06-18 16:00 = Fri 18:00")),
    ("remind me at 8 tonight to call Eva", once("2027-06-16 18:00 = Wed 20:00", "call Eva")),
    ("remind me at 5 in the afternoon to leave", once("2027-06-16 15:00 = Wed 17:00", "leave")),
    ("remind me at 7 in the morning to go running", once("2027-06-17 05:00 = Thu 07:00", "go running")),
    ("remind me at midnight to turn off the router", once("2027-06-16 22:00 = Thu 00:00", "turn off the router")),
    ("remind me tomorrow at midday to send the offer", once("2027-06-17 10:00 = Thu 12:00", "send the offer")),
    ambiguous=True,
)
add(
    "day_parts", EVENING, PRG,
    ("remind me this evening to call dad", ASK, AMB),
    ("remind me tomorrow morning at 6:45 to catch the train", once("2027-11-17 05:45 = Wed 06:45", "catch the train")),
    ("remind me tonight at 11 to switch off the heating", once("2027-11-16 22:00 = Tue 23:00", "switch off the heating")),
)
add(
    "day_parts", EVENING, NY,
    ("remind me tomorrow morning to call the pharmacy", once(tuple(f"2027-11-17 {h + 5:02d}:00 = Wed {h:02d}:00" for h in (7, 8, 9)), "call the pharmacy"), AMB),
)

# ==============================================================================================
# Batch 7 (deliver 7, "typo and slang tolerance"; small talk; issue 13's "weak spots").
# Prague, Wed 16 Jun 2027 09:15 CEST unless noted.
# ==============================================================================================

add(
    "typos", MORNING, PRG,
    ("rmeind me to call mom at 5pm", once("2027-06-16 15:00 = Wed 17:00", "call mom")),
    ("remind me to call the bank tomorow at 10am", once("2027-06-17 08:00 = Thu 10:00", "call the bank")),
    ("remind me tmrw at 9am to pay rent", once("2027-06-17 07:00 = Thu 09:00", "pay rent")),
    ("remind me tmrw at 9 to pay rent", once("2027-06-17 07:00 = Thu 09:00", "pay rent"), AMB),
    ("remind me in 10 mins to check the pasta", once("2027-06-16 07:25 = Wed 09:25", "check the pasta")),
    ("remind me in 2 hrs to move the car", once("2027-06-16 09:15 = Wed 11:15", "move the car")),
    ("remind me @ 6pm to call Tom", once("2027-06-16 16:00 = Wed 18:00", "call Tom")),
    ("remind me to call Tom @ 18:30", once("2027-06-16 16:30 = Wed 18:30", "call Tom")),
    ("remind me tonite at 10pm to lock the door", once("2027-06-16 20:00 = Wed 22:00", "lock the door")),
    ("remidn me to buy bread at 4pm", once("2027-06-16 14:00 = Wed 16:00", "buy bread")),
    ("remind me 2morrow at 8am to go jogging", once("2027-06-17 06:00 = Thu 08:00", "go jogging")),
    ("remind me tommorow at 9am to call the vet", once("2027-06-17 07:00 = Thu 09:00", "call the vet")),
    ("remind me in 5min to stir the soup", once("2027-06-16 07:20 = Wed 09:20", "stir the soup")),
    ("remind me in 1hr to call back", once("2027-06-16 08:15 = Wed 10:15", "call back")),
    ("remind me in 20 minuts to check the oven", once("2027-06-16 07:35 = Wed 09:35", "check the oven")),
    ("reminde me at 7pm to feed the cat", once("2027-06-16 17:00 = Wed 19:00", "feed the cat")),
    ("remind me tmr at 8:30 to bring the keys", once("2027-06-17 06:30 = Thu 08:30", "bring the keys"), AMB),
    ("remind me thurs at 3pm to pick up the suit", once("2027-06-17 13:00 = Thu 15:00", "pick up the suit")),
    ("remind me wed at 6pm to call grandma", once(("2027-06-16 16:00 = Wed 18:00", "2027-06-23 16:00 = Wed 18:00"), "call grandma"), AMB),
    ("pls remind me 2 call mum at 8pm", once("2027-06-16 18:00 = Wed 20:00", ("call mum", "2 call mum")), AMB),
    ("remind me to call mom at 5 pm.", once("2027-06-16 15:00 = Wed 17:00", "call mom")),
    ("REMIND ME TO CALL MOM AT 5PM", once("2027-06-16 15:00 = Wed 17:00", "CALL MOM")),
    ("remind me to take my meds at 9p", once("2027-06-16 19:00 = Wed 21:00", "take my meds"), AMB),
    ("remind me @ noon to eat something", once("2027-06-16 10:00 = Wed 12:00", "eat something")),
    ("remind me in 15 minutes 2 stretch", once("2027-06-16 07:30 = Wed 09:30", ("stretch", "2 stretch")), AMB),
    ("remind me in 3 hours to check the oven pls", once("2027-06-16 10:15 = Wed 12:15", ("check the oven", "check the oven pls"))),
    ("remind me in 45 secs to turn the egg", once("2027-06-16 07:15:45 = Wed 09:15", "turn the egg")),
    ("remind me to ring the plumber tmrw morning at 8", once("2027-06-17 06:00 = Thu 08:00", "ring the plumber")),
    ("remind me nxt monday at 10am to renew the permit", once("2027-06-21 08:00 = Mon 10:00", "renew the permit")),
    ("remind me evry day at 8am to take vitamins", rec("2027-06-17 06:00 = Thu 08:00", "take vitamins", "2027-06-18 06:00 = Fri 08:00", "2027-06-19 06:00 = Sat 08:00")),
)
add(
    "chat", MORNING, PRG,
    ("hi", CHAT), ("hello", CHAT), ("thanks", CHAT), ("thank you!", CHAT), ("what time is it", CHAT),
    ("good morning", CHAT), ("how are you?", CHAT), ("ok", CHAT), ("cool", CHAT), ("lol", CHAT),
    ("who are you", CHAT), ("👍", CHAT), ("bye", CHAT), ("yes", CHAT), ("no", CHAT),
    ("what's the date today?", CHAT), ("are you a bot?", CHAT), ("nice one", CHAT), ("good night", CHAT),
    ("see you tomorrow", CHAT), ("thanks, see you at 5", CHAT), ("have a nice weekend", CHAT),
    ("what day is it tomorrow?", CHAT), ("I have a meeting at 3pm", once("2027-06-16 13:00 = Wed 15:00", "I have a meeting"), AMB),
    ("it's my birthday on friday", CHAT),
)
add(
    "weak", MORNING, PRG,
    ("remind me next week to call the plumber", once("2027-06-21 07:00 = Mon 09:00", "call the plumber"), AMB),
    ("ping me if BTC hits 80000", alert("BTC", ("above", "cross"), 80000)),
    ("ping me when ETH hits 5000", alert("ETH", ("above", "cross"), 5000)),
    ("tell me when AAPL reaches 210", alert("AAPL", ("above", "cross"), 210)),
    ("alert me once BTC breaks 75000", alert("BTC", ("above", "cross"), 75000)),
    ("ping me if MSFT goes under 390", alert("MSFT", "below", 390)),
    ("let me know when bitcoin hits 65k", alert("BTC", ("below", "cross"), 65000)),
    ("cancel the last one", COMMAND),
    ("undo that", COMMAND),
    ("cancel my dentist reminder", COMMAND),
    ("cancel all alerts", COMMAND),
    ("cancel all", COMMAND),
    ("my reminders pls", COMMAND),
    ("show me my alerts", COMMAND),
    ("delete everything", COMMAND),
    ("remind me to call Eva this evening", once(EVENING_TIMES, "call Eva"), AMB),
    ("remind me about the dentist next week", once("2027-06-21 07:00 = Mon 09:00", "the dentist"), AMB),
    ("nudge me at 4pm to take a break", once("2027-06-16 14:00 = Wed 16:00", "take a break")),
    ("ping me at 11:30 to join the call", once("2027-06-16 09:30 = Wed 11:30", "join the call")),
    ("don't let me forget to call Eva at 6pm", once("2027-06-16 16:00 = Wed 18:00", ("call Eva", "don't let me forget to call Eva")), AMB),
    ("can you remind me to buy flowers tomorrow at 5pm?", once("2027-06-17 15:00 = Thu 17:00", "buy flowers")),
    ("could you please remind me at 8pm to call grandma", once("2027-06-16 18:00 = Wed 20:00", "call grandma")),
    ("set a reminder to renew the parking permit on friday at 9am", once("2027-06-18 07:00 = Fri 09:00", "renew the parking permit")),
    ("create a reminder for tomorrow at 10am: dentist", once("2027-06-17 08:00 = Thu 10:00", "dentist")),
)
add(
    "asks", MORNING, PRG,
    ("remind me to call mom", ASK),
    ("remind me", ASK),
    ("remind me to call mom yesterday at 5pm", ASK),
    ("remind me today at 8am to water the plants", ASK),
    ("remind me on 1 June 2027 at 9am to pay rent", ASK),
    ("remind me at some point to fix the bike", ASK),
    ("remind me soon to call Eva", ASK),
    ("remind me later to call Eva", ASK),
    ("remind me before the meeting to print the slides", ASK),
    ("remind me when I get home to feed the cat", ASK),
    ("remind me every now and then to drink water", ASK),
    ("remind me at 5pm or 6pm to call the garage", ASK),
    ("remind me sometime next month to renew the insurance", ASK),
    ("remind me in a few minutes to check the rice", once(tuple(f"2027-06-16 07:{m} = Wed 09:{m}" for m in (17, 18, 19, 20)), "check the rice"), AMB),
    ("remind me in a bit to stretch", ASK),
    ("remind me every so often to stand up", ASK),
    ("remind me on monday or tuesday to call the bank", ASK),
    ("remind me at 5 to call mom", once("2027-06-16 15:00 = Wed 17:00", "call mom"), AMB),
    ("remind me at 7 to go for a run", once(("2027-06-16 17:00 = Wed 19:00", "2027-06-17 05:00 = Thu 07:00"), "go for a run"), AMB),
    ("remind me at 8am to take the pill", once("2027-06-17 06:00 = Thu 08:00", "take the pill"), AMB),
    ("remind me after lunch to call the accountant", ASK, AMB),
    ("remind me to call mom at", ASK),
    ("remind me to call mom on", ASK),
    ("at 5pm", ASK),
    ("tomorrow", ASK),
    ("every day", ASK),
    ("remind me to pay the bill on the 31st at 9am", ASK, AMB),
)

# ==============================================================================================
# Batch 8 (issue 13, "dates in the message misread"; deliver 4, "explicit years"): a stated year is
# kept, never shifted; far dates are either kept or refused clearly (or_refuse), and past dates ask.
# ==============================================================================================

add(
    "years", MORNING, PRG,
    ("remind me on Jan 1 2226 at 9am to open the time capsule", once("2226-01-01 08:00 = Sun 09:00", "open the time capsule"), REFUSE_OK),
    ("remind me on 15 March 2029 at 10am to renew the lease", once("2029-03-15 09:00 = Thu 10:00", "renew the lease")),
    ("remind me in 2 years to replace the water filter", once("2029-06-16 07:15 = Sat 09:15", "replace the water filter")),
    ("remind me on 2028-01-15 at 08:00 to book the flights", once("2028-01-15 07:00 = Sat 08:00", "book the flights")),
    ("remind me on 12/25/2027 at 8am to call the family", once("2027-12-25 07:00 = Sat 08:00", "call the family")),
    ("remind me on 03/04/2028 at 9am to pay the tax", once(("2028-04-03 07:00 = Mon 09:00", "2028-03-04 08:00 = Sat 09:00"), "pay the tax"), AMB),
    ("remind me on 5 May 2030 at noon to celebrate", once("2030-05-05 10:00 = Sun 12:00", "celebrate")),
    ("remind me in 10 years to open the letter", once("2037-06-16 07:15 = Tue 09:15", "open the letter"), REFUSE_OK),
    ("remind me on 1 January 3000 at 9am to check on humanity", once("3000-01-01 08:00 = Wed 09:00", "check on humanity"), REFUSE_OK),
    ("remind me on new year's day at 10am to go swimming", once("2028-01-01 09:00 = Sat 10:00", "go swimming"), AMB),
    ("remind me on christmas eve at 6pm to call grandma", once("2027-12-24 17:00 = Fri 18:00", "call grandma"), AMB),
    ("remind me next year on 1 march at 9am to file the taxes", once("2028-03-01 08:00 = Wed 09:00", "file the taxes")),
    ("remind me on the 4th of july 2028 at noon to light the BBQ", once("2028-07-04 10:00 = Tue 12:00", "light the BBQ")),
    ("remind me in 18 months to check the warranty", once("2028-12-16 08:15 = Sat 09:15", "check the warranty")),
    ("remind me on 16 June 2028 at 9am to renew the gym membership", once("2028-06-16 07:00 = Fri 09:00", "renew the gym membership")),
    ("remind me on 31 dec 2031 at 23:00 to make a toast", once("2031-12-31 22:00 = Wed 23:00", "make a toast")),
    ("remind me on 10 June 2027 at 9am to pay the invoice", ASK),
    ("remind me on 16 june 2026 at 9am to water the lawn", ASK),
    ("remind me on 1 jan 2030 at 9am to start the diet", once("2030-01-01 08:00 = Tue 09:00", "start the diet")),
    ("every year on 1 july at 9am pay the car insurance", rec("2027-07-01 07:00 = Thu 09:00", "pay the car insurance", "2028-07-01 07:00 = Sat 09:00", "2029-07-01 07:00 = Sun 09:00")),
)
add(
    "years", LEAP, NY,
    ("remind me on March 10 2028 at 9am to file taxes", once("2028-03-10 14:00 = Fri 09:00", "file taxes")),
    ("remind me on March 13 2028 at 9am to call the IRS", once("2028-03-13 13:00 = Mon 09:00", "call the IRS")),
)
add(
    "years", YEAR_END, PRG,
    ("remind me on 1 January at 9am to call grandma", once("2028-01-01 08:00 = Sat 09:00", "call grandma")),
    ("remind me on 31 December at 9am to review the year", once("2028-12-31 08:00 = Sun 09:00", "review the year")),
    ("remind me on 1 jan 2027 at 9am to make resolutions", ASK),
    ("remind me on 31 december 2027 at 23:45 to count down", once("2027-12-31 22:45 = Fri 23:45", "count down")),
)
add(
    "leap", LEAP, PRG,
    ("remind me on 29 february 2032 at 9am to celebrate again", once("2032-02-29 08:00 = Sun 09:00", "celebrate again")),
    ("remind me on 28 february at 9am to pay the rent", once("2029-02-28 08:00 = Wed 09:00", "pay the rent")),
    ("every day at 9pm stretch", rec("2028-02-29 20:00 = Tue 21:00", "stretch", "2028-03-01 20:00 = Wed 21:00", "2028-03-02 20:00 = Thu 21:00")),
    ("on the last day of every month at 9am pay rent", rec("2028-03-31 07:00 = Fri 09:00", "pay rent", "2028-04-30 07:00 = Sun 09:00", "2028-05-31 07:00 = Wed 09:00")),
    ("remind me in 1 week to water the orchid", once("2028-03-07 09:00 = Tue 10:00", "water the orchid")),
    ("remind me tomorrow at noon to file the report", once("2028-03-01 11:00 = Wed 12:00", "file the report")),
)
add(
    "leap", LEAP, KOL,
    ("remind me at 6pm to call Ravi", once("2028-02-29 12:30 = Tue 18:00", "call Ravi")),
)

# ==============================================================================================
# Batch 9: more zones and instants for the same kinds, and texts that carry numbers, names that are
# also month or day words, and "and" that joins the text rather than two times.
# ==============================================================================================

add(
    "compound", MORNING, NY,
    ("every weekday at 7am and 5pm check the mailbox", rec("2027-06-16 21:00 = Wed 17:00", "check the mailbox", "2027-06-17 11:00 = Thu 07:00", "2027-06-17 21:00 = Thu 17:00")),
    ("first friday of every month at 6pm game night", rec("2027-07-02 22:00 = Fri 18:00", "game night", "2027-08-06 22:00 = Fri 18:00", "2027-09-03 22:00 = Fri 18:00")),
    ("every other friday at 5pm payday drinks", anyof(
        rec("2027-06-18 21:00 = Fri 17:00", "payday drinks", "2027-07-02 21:00 = Fri 17:00", "2027-07-16 21:00 = Fri 17:00"),
        rec("2027-06-25 21:00 = Fri 17:00", "payday drinks", "2027-07-09 21:00 = Fri 17:00", "2027-07-23 21:00 = Fri 17:00"),
    )),
    ("last weekday of the month at 4pm close the books", anyof(
        rec("2027-06-30 20:00 = Wed 16:00", "close the books", "2027-07-30 20:00 = Fri 16:00", "2027-08-31 20:00 = Tue 16:00"),
        once("2027-06-30 20:00 = Wed 16:00", "close the books"),
    ), AMB),
    ("every month on the last weekday at 4pm close the books", rec("2027-06-30 20:00 = Wed 16:00", "close the books", "2027-07-30 20:00 = Fri 16:00", "2027-08-31 20:00 = Tue 16:00")),
)
add(
    "zones", MORNING, NY,
    ("remind me at 9am PT to call Seattle", once("2027-06-16 16:00 = Wed 09:00", "call Seattle", label_tz=LA)),
    ("remind me at 3pm GMT to call London", anyof(
        once("2027-06-16 15:00 = Wed 15:00", "call London", label_tz=UTC_),
        once("2027-06-16 14:00 = Wed 15:00", "call London", label_tz=LON),
    ), AMB),
)
add(
    "typos", MORNING, NY,
    ("tmrw @ 8am remind me to call the vet", once("2027-06-17 12:00 = Thu 08:00", "call the vet")),
    ("remind me in 90 mins to pick up Sam", once("2027-06-16 14:45 = Wed 10:45", "pick up Sam")),
)
add(
    "recurring", MORNING, NY,
    ("remind me every 45 minutes to stretch", rec("2027-06-16 14:00 = Wed 10:00", "stretch", "2027-06-16 14:45 = Wed 10:45", "2027-06-16 15:30 = Wed 11:30")),
)
add(
    "alert", MORNING, NY,
    ("ping me if AAPL goes above 195", alert("AAPL", "above", 195)),
    ("notify me every time BTC crosses 70000", alert("BTC", "cross", 70000, repeat=True)),
)
add(
    "recurring", EVENING, KOL,
    ("remind me tomorrow at 6am to go for a walk", once("2027-11-17 00:30 = Wed 06:00", "go for a walk")),
    ("every day at 10pm switch off the geyser", rec("2027-11-17 16:30 = Wed 22:00", "switch off the geyser", "2027-11-18 16:30 = Thu 22:00", "2027-11-19 16:30 = Fri 22:00")),
    ("remind me in 30 mins to call Arjun", once("2027-11-16 17:40 = Tue 23:10", "call Arjun")),
    ("remind me at 11pm to lock the gate", once("2027-11-16 17:30 = Tue 23:00", "lock the gate")),
    ("every sunday at 9am clean the house", rec("2027-11-21 03:30 = Sun 09:00", "clean the house", "2027-11-28 03:30 = Sun 09:00", "2027-12-05 03:30 = Sun 09:00")),
)
add(
    "recurring", EVENING, SYD,
    ("remind me tomorrow at 7am to put the bins out", once("2027-11-16 20:00 = Wed 07:00", "put the bins out")),
    ("every weekday at 8:30am catch the ferry", rec("2027-11-16 21:30 = Wed 08:30", "catch the ferry", "2027-11-17 21:30 = Thu 08:30", "2027-11-18 21:30 = Fri 08:30")),
    ("remind me in 1 hour to take the washing in", once("2027-11-16 12:40 = Tue 23:40", "take the washing in")),
    ("remind me on saturday at 10am to go to the markets", once("2027-11-19 23:00 = Sat 10:00", "go to the markets")),
    ("every day at 6pm water the garden", rec("2027-11-17 07:00 = Wed 18:00", "water the garden", "2027-11-18 07:00 = Thu 18:00", "2027-11-19 07:00 = Fri 18:00")),
)
add(
    "recurring", EVENING, UTC_,
    ("remind me at 08:00 to renew the certificate", once("2027-11-17 08:00 = Wed 08:00", "renew the certificate")),
    ("every 2 hours check the backups", rec("2027-11-17 00:40 = Wed 00:40", "check the backups", "2027-11-17 02:40 = Wed 02:40", "2027-11-17 04:40 = Wed 04:40")),
    ("every day at 23:00 rotate the logs", rec("2027-11-16 23:00 = Tue 23:00", "rotate the logs", "2027-11-17 23:00 = Wed 23:00", "2027-11-18 23:00 = Thu 23:00")),
)
add(
    "text", MORNING, PRG,
    ("remind me at 5pm to call mom and dad", once("2027-06-16 15:00 = Wed 17:00", "call mom and dad")),
    ("remind me at 6pm to buy 2 tickets", once("2027-06-16 16:00 = Wed 18:00", "buy 2 tickets")),
    ("remind me to read chapter 7 at 8pm", once("2027-06-16 18:00 = Wed 20:00", "read chapter 7")),
    ("remind me to call room 101 at 3pm", once("2027-06-16 13:00 = Wed 15:00", "call room 101")),
    ("remind me to book a table for 4 at 7pm", once("2027-06-16 17:00 = Wed 19:00", "book a table for 4")),
    ("remind me to watch the 9pm news at 8:55pm", once("2027-06-16 18:55 = Wed 20:55", "watch the 9pm news"), AMB),
    ("remind me to pay 300 to Eva on friday at noon", once("2027-06-18 10:00 = Fri 12:00", "pay 300 to Eva")),
    ("remind me about the meeting with May on monday at 9am", once("2027-06-21 07:00 = Mon 09:00", "the meeting with May")),
    ("remind me to call April at 4pm", once("2027-06-16 14:00 = Wed 16:00", "call April")),
    ("remind me to send the photos to Grace and Tom at 7pm", once("2027-06-16 17:00 = Wed 19:00", "send the photos to Grace and Tom")),
    ("remind me to buy milk, eggs and bread at 6pm", once("2027-06-16 16:00 = Wed 18:00", "buy milk, eggs and bread")),
    ("remind me to email Mr. Novak at 10:30", once("2027-06-16 08:30 = Wed 10:30", "email Mr. Novak")),
    ("remind me to check https://example.com/status at 11am", once("2027-06-16 09:00 = Wed 11:00", "check https://example.com/status")),
    ("remind me to take 2 pills at 9pm", once("2027-06-16 19:00 = Wed 21:00", "take 2 pills")),
    ("remind me to ring Ana 🎂 at 8am tomorrow", once("2027-06-17 06:00 = Thu 08:00", "ring Ana 🎂")),
    ("remind me to prepare the Q3 report on friday at 9am", once("2027-06-18 07:00 = Fri 09:00", "prepare the Q3 report")),
    ("remind me to water the plants in the kitchen at 6pm", once("2027-06-16 16:00 = Wed 18:00", "water the plants in the kitchen")),
)
add(
    "interrupt", MORNING, PRG,
    ("ignore that. alert me when ETH goes above 4200", alert("ETH", "above", 4200)),
    ("sorry, I meant remind me tomorrow at 8am to call the plumber", once("2027-06-17 06:00 = Thu 08:00", "call the plumber")),
    ("help me set a reminder", ASK),
    ("my alerts please", COMMAND),
    ("show prices", COMMAND),
    ("what's the price of BTC?", COMMAND),
    ("delete alert 2", cmd(number=2)),
    ("pause 4", cmd(number=4)),
    ("resume reminder 4", cmd(number=4)),
)

# ==============================================================================================
# Held-out batch (issue 13): 171 phrasings written from what people mean before the corpus or the
# parser was read, then measured untuned (/tmp/heldout/before.txt). One expectation was corrected
# after the run: "at 10 UTC+2" said at 08:30 UTC is 22:00 UTC+2 (10:00 had passed), as for a bare
# local hour. HELD_P / HELD_PN: Prague, Tue 9 Feb 2027 09:30 / 12:00; US_DST: New York the evening
# before the change; HELD_U: UTC, New Year's Eve afternoon.
# ==============================================================================================

HELD_P = "2027-02-09 09:30"
HELD_PN = "2027-02-09 12:00"
HELD_U = "2026-12-31 15:00"

add(
    "oneoff", HELD_P, PRG,
    ('remind me to call mum at 5pm', once('2027-02-09 16:00 = Tue 17:00', 'call mum')),
    ('remind me at 14:30 to take the pills', once('2027-02-09 13:30 = Tue 14:30', 'take the pills')),
    ('tomorrow at 8 dentist', once('2027-02-10 07:00 = Wed 08:00', 'dentist')),
    ('remind me on friday at 10am to submit the report', once('2027-02-12 09:00 = Fri 10:00', 'submit the report')),
    ('on 14 february at 9 buy flowers', once('2027-02-14 08:00 = Sun 09:00', 'buy flowers')),
    ('remind me on March 3rd at 11:15 to renew passport', once('2027-03-03 10:15 = Wed 11:15', 'renew passport')),
    ('at noon lunch with Pavel', once('2027-02-09 11:00 = Tue 12:00', 'lunch with Pavel')),
    ('remind me to water the plants at 18:00', once('2027-02-09 17:00 = Tue 18:00', 'water the plants')),
    ('tomorrow morning 7:45 catch the train', once('2027-02-10 06:45 = Wed 07:45', 'catch the train')),
    ('on 20/2 at 10 pay rent', once('2027-02-20 09:00 = Sat 10:00', 'pay rent')),
    ('remind me at midnight to check the server', once('2027-02-09 23:00 = Wed 00:00', 'check the server')),
    ('remind me to pick up the kids at 3:30pm', once('2027-02-09 14:30 = Tue 15:30', 'pick up the kids')),
    ('remind me at 10 to call Bob', once('2027-02-09 09:00 = Tue 10:00', 'call Bob')),
    ('remind me at 5 to leave', once('2027-02-09 16:00 = Tue 17:00', 'leave')),
    ('on 5 March 2028 at 10 renew the lease', once('2028-03-05 09:00 = Sun 10:00', 'renew the lease')),
    ('in 2 years renew the passport', once('2029-02-09 08:30 = Fri 09:30', 'renew the passport')),
    ('on monday at 9 team meeting', once('2027-02-15 08:00 = Mon 09:00', 'team meeting')),
    ('next wednesday at 3pm haircut', anyof(once('2027-02-17 14:00 = Wed 15:00', 'haircut'), once('2027-02-10 14:00 = Wed 15:00', 'haircut')), AMB),
    ('thursday 11:00 dentist', once('2027-02-11 10:00 = Thu 11:00', 'dentist')),
    ('remind me on sat at 10 to clean the bike', once('2027-02-13 09:00 = Sat 10:00', 'clean the bike')),
    ('remind me tuesday at 8 to call Tom', ASK),
)
add(
    "oneoff", HELD_U, UTC_,
    ('remind me at 23:59 to open champagne', once('2026-12-31 23:59 = Thu 23:59', 'open champagne')),
    ('tomorrow at 10 call grandma', once('2027-01-01 10:00 = Fri 10:00', 'call grandma')),
    ('on 2 january at 9am back to work', once('2027-01-02 09:00 = Sat 09:00', 'back to work')),
    ('remind me on 5 jan 2027 at 8 to file taxes', once('2027-01-05 08:00 = Tue 08:00', 'file taxes')),
    ('friday at 12 lunch', once('2027-01-01 12:00 = Fri 12:00', 'lunch')),
)
add(
    "oneoff", US_DST, NY,
    ('tomorrow at 9am brunch with Sam', once('2027-03-14 13:00 = Sun 09:00', 'brunch with Sam')),
    ('at 11pm take out the trash', once('2027-03-14 04:00 = Sat 23:00', 'take out the trash')),
    ('remind me at 2:30am tomorrow to check the clocks', anyof(once('2027-03-14 07:30 = Sun 03:30', 'check the clocks'), once('2027-03-14 07:00 = Sun 03:00', 'check the clocks')), AMB),
    ('monday 8am gym', once('2027-03-15 12:00 = Mon 08:00', 'gym')),
    ('sunday at 10 call mom', once('2027-03-14 14:00 = Sun 10:00', 'call mom')),
    ('remind me on saturday at 9am to mow the lawn', once('2027-03-20 13:00 = Sat 09:00', 'mow the lawn')),
)
add(
    "relative", HELD_P, PRG,
    ('remind me in 10 minutes to check the oven', once('2027-02-09 08:40 = Tue 09:40', 'check the oven')),
    ('in 2 hours call the bank', once('2027-02-09 10:30 = Tue 11:30', 'call the bank')),
    ('in half an hour stretch', once('2027-02-09 09:00 = Tue 10:00', 'stretch')),
    ('remind me in 3 days to return the book', once('2027-02-12 08:30 = Fri 09:30', 'return the book')),
    ('in a week follow up with HR', once('2027-02-16 08:30 = Tue 09:30', 'follow up with HR')),
    ('in 90 mins leave for the airport', once('2027-02-09 10:00 = Tue 11:00', 'leave for the airport')),
    ('remind me in 1h30m to move the car', once('2027-02-09 10:00 = Tue 11:00', 'move the car')),
    ('in 2 weeks dentist checkup', once('2027-02-23 08:30 = Tue 09:30', 'dentist checkup')),
)
add(
    "relative", US_DST, NY,
    ('in 8 hours take the medicine', once('2027-03-14 09:00 = Sun 05:00', 'take the medicine')),
    ('remind me in 1 day to call dad', anyof(once('2027-03-15 00:00 = Sun 20:00', 'call dad'), once('2027-03-15 01:00 = Sun 21:00', 'call dad')), AMB),
)
add(
    "relative", HELD_U, UTC_,
    ('in 45 minutes order pizza', once('2026-12-31 15:45 = Thu 15:45', 'order pizza')),
)
add(
    "day_parts", HELD_P, PRG,
    ('this evening call Jana', once(('2027-02-09 16:00 = Tue 17:00', '2027-02-09 16:30 = Tue 17:30', '2027-02-09 17:00 = Tue 18:00', '2027-02-09 17:30 = Tue 18:30', '2027-02-09 18:00 = Tue 19:00'), 'call Jana')),
    ('tonight take out the bins', once(('2027-02-09 18:00 = Tue 19:00', '2027-02-09 18:30 = Tue 19:30', '2027-02-09 19:00 = Tue 20:00', '2027-02-09 19:30 = Tue 20:30', '2027-02-09 20:00 = Tue 21:00'), 'take out the bins')),
    ('tomorrow morning check email', once(('2027-02-10 06:00 = Wed 07:00', '2027-02-10 06:30 = Wed 07:30', '2027-02-10 07:00 = Wed 08:00', '2027-02-10 07:30 = Wed 08:30', '2027-02-10 08:00 = Wed 09:00'), 'check email')),
    ('tomorrow afternoon pick up the parcel', once(('2027-02-10 12:00 = Wed 13:00', '2027-02-10 12:30 = Wed 13:30', '2027-02-10 13:00 = Wed 14:00', '2027-02-10 13:30 = Wed 14:30', '2027-02-10 14:00 = Wed 15:00', '2027-02-10 14:30 = Wed 15:30', '2027-02-10 15:00 = Wed 16:00'), 'pick up the parcel')),
    ('this afternoon call the plumber', once(('2027-02-09 12:00 = Tue 13:00', '2027-02-09 12:30 = Tue 13:30', '2027-02-09 13:00 = Tue 14:00', '2027-02-09 13:30 = Tue 14:30', '2027-02-09 14:00 = Tue 15:00', '2027-02-09 14:30 = Tue 15:30', '2027-02-09 15:00 = Tue 16:00'), 'call the plumber')),
    ('tomorrow at 7 in the evening gym', once('2027-02-10 18:00 = Wed 19:00', 'gym')),
    ('at 8 tonight movie', once('2027-02-09 19:00 = Tue 20:00', 'movie')),
    ('tomorrow at 6 in the morning run', once('2027-02-10 05:00 = Wed 06:00', 'run')),
    ('friday evening drinks with the team', once(('2027-02-12 16:00 = Fri 17:00', '2027-02-12 16:30 = Fri 17:30', '2027-02-12 17:00 = Fri 18:00', '2027-02-12 17:30 = Fri 18:30', '2027-02-12 18:00 = Fri 19:00'), 'drinks with the team')),
)
add(
    "day_parts", US_DST, NY,
    ('tomorrow morning call the plumber', once(('2027-03-14 11:00 = Sun 07:00', '2027-03-14 11:30 = Sun 07:30', '2027-03-14 12:00 = Sun 08:00', '2027-03-14 12:30 = Sun 08:30', '2027-03-14 13:00 = Sun 09:00'), 'call the plumber')),
    ('tonight at 10 lock the doors', once('2027-03-14 03:00 = Sat 22:00', 'lock the doors')),
)
add(
    "oneoff", HELD_PN, PRG,
    ('on tuesday at 10 stand-up', ASK),
    ('on tuesday at 15:00 review', once('2027-02-09 14:00 = Tue 15:00', 'review'), AMB),
    ('wednesday at 9 yoga', once('2027-02-10 08:00 = Wed 09:00', 'yoga')),
)
add(
    "recurring", HELD_P, PRG,
    ('every day at 8 take vitamins', rec('2027-02-10 07:00 = Wed 08:00', 'take vitamins', '2027-02-11 07:00 = Thu 08:00', '2027-02-12 07:00 = Fri 08:00')),
    ('every weekday at 9:15 stand-up', rec('2027-02-10 08:15 = Wed 09:15', 'stand-up', '2027-02-11 08:15 = Thu 09:15', '2027-02-12 08:15 = Fri 09:15', '2027-02-15 08:15 = Mon 09:15')),
    ('every monday at 10 weekly report', rec('2027-02-15 09:00 = Mon 10:00', 'weekly report', '2027-02-22 09:00 = Mon 10:00', '2027-03-01 09:00 = Mon 10:00')),
    ('every 2 hours drink water', rec('2027-02-09 10:30 = Tue 11:30', 'drink water', '2027-02-09 12:30 = Tue 13:30', '2027-02-09 14:30 = Tue 15:30')),
    ('remind me every morning at 7 to meditate', rec('2027-02-10 06:00 = Wed 07:00', 'meditate', '2027-02-11 06:00 = Thu 07:00', '2027-02-12 06:00 = Fri 07:00')),
    ('every sunday at 18:00 plan the week', rec('2027-02-14 17:00 = Sun 18:00', 'plan the week', '2027-02-21 17:00 = Sun 18:00', '2027-02-28 17:00 = Sun 18:00')),
    ('every month on the 1st at 9 pay rent', rec('2027-03-01 08:00 = Mon 09:00', 'pay rent', '2027-04-01 07:00 = Thu 09:00', '2027-05-01 07:00 = Sat 09:00')),
    ("every year on 14 feb at 8 valentine's gift", rec('2027-02-14 07:00 = Sun 08:00', "valentine's gift", '2028-02-14 07:00 = Mon 08:00')),
    ('every 15 minutes check the build', rec('2027-02-09 08:45 = Tue 09:45', 'check the build', '2027-02-09 09:00 = Tue 10:00', '2027-02-09 09:15 = Tue 10:15')),
    ('daily at 21:00 journal', rec('2027-02-09 20:00 = Tue 21:00', 'journal', '2027-02-10 20:00 = Wed 21:00', '2027-02-11 20:00 = Thu 21:00')),
    ('every tuesday and thursday at 18:30 badminton', rec('2027-02-09 17:30 = Tue 18:30', 'badminton', '2027-02-11 17:30 = Thu 18:30', '2027-02-16 17:30 = Tue 18:30')),
    ('every weekend at 10 call parents', rec('2027-02-13 09:00 = Sat 10:00', 'call parents', '2027-02-14 09:00 = Sun 10:00', '2027-02-20 09:00 = Sat 10:00')),
    ('every other friday at 16:00 timesheet', rec('2027-02-12 15:00 = Fri 16:00', 'timesheet', '2027-02-26 15:00 = Fri 16:00', '2027-03-12 15:00 = Fri 16:00')),
)
add(
    "recurring", US_DST, NY,
    ('every day at 9am standup', rec('2027-03-14 13:00 = Sun 09:00', 'standup', '2027-03-15 13:00 = Mon 09:00', '2027-03-16 13:00 = Tue 09:00')),
    ('every day at 7pm call home', rec('2027-03-14 23:00 = Sun 19:00', 'call home', '2027-03-15 23:00 = Mon 19:00')),
    ('every hour stretch', rec('2027-03-14 02:00 = Sat 21:00', 'stretch', '2027-03-14 03:00 = Sat 22:00', '2027-03-14 04:00 = Sat 23:00')),
    ('every weekday at 8:30 stand up', rec('2027-03-15 12:30 = Mon 08:30', 'stand up', '2027-03-16 12:30 = Tue 08:30', '2027-03-17 12:30 = Wed 08:30')),
)
add(
    "recurring", HELD_U, UTC_,
    ('every day at 9 take a walk', rec('2027-01-01 09:00 = Fri 09:00', 'take a walk', '2027-01-02 09:00 = Sat 09:00', '2027-01-03 09:00 = Sun 09:00')),
    ('every month on the last day at 17:00 invoices', rec('2026-12-31 17:00 = Thu 17:00', 'invoices', '2027-01-31 17:00 = Sun 17:00', '2027-02-28 17:00 = Sun 17:00')),
    ('every year on 1 january at 0:00 happy new year', rec('2027-01-01 00:00 = Fri 00:00', 'happy new year', '2028-01-01 00:00 = Sat 00:00')),
    ('fortnightly on monday at 10 one-on-one with boss', rec('2027-01-04 10:00 = Mon 10:00', 'one-on-one with boss', '2027-01-18 10:00 = Mon 10:00', '2027-02-01 10:00 = Mon 10:00')),
)
add(
    "compound", HELD_P, PRG,
    ('every day at 9 and 17 take pills', rec('2027-02-09 16:00 = Tue 17:00', 'take pills', '2027-02-10 08:00 = Wed 09:00', '2027-02-10 16:00 = Wed 17:00')),
    ('at 9 and 17 every day check mail', rec('2027-02-09 16:00 = Tue 17:00', 'check mail', '2027-02-10 08:00 = Wed 09:00', '2027-02-10 16:00 = Wed 17:00')),
    ('every weekday at 9 except friday standup', rec('2027-02-10 08:00 = Wed 09:00', 'standup', '2027-02-11 08:00 = Thu 09:00', '2027-02-15 08:00 = Mon 09:00')),
    ('first monday of every month at 9 team breakfast', rec('2027-03-01 08:00 = Mon 09:00', 'team breakfast', '2027-04-05 07:00 = Mon 09:00', '2027-05-03 07:00 = Mon 09:00')),
    ('last friday of the month at 16 retro', rec('2027-02-26 15:00 = Fri 16:00', 'retro', '2027-03-26 15:00 = Fri 16:00', '2027-04-30 14:00 = Fri 16:00')),
    ('every 2 months on the 15th at 10 change the filter', rec('2027-02-15 09:00 = Mon 10:00', 'change the filter', '2027-04-15 08:00 = Thu 10:00', '2027-06-15 08:00 = Tue 10:00')),
    ('mon wed fri at 7 gym', rec('2027-02-10 06:00 = Wed 07:00', 'gym', '2027-02-12 06:00 = Fri 07:00', '2027-02-15 06:00 = Mon 07:00')),
    ('every day at 8am, 1pm and 8pm meds', rec('2027-02-09 12:00 = Tue 13:00', 'meds', '2027-02-09 19:00 = Tue 20:00', '2027-02-10 07:00 = Wed 08:00')),
    ('biweekly on thursday at 14:00 sprint review', rec('2027-02-11 13:00 = Thu 14:00', 'sprint review', '2027-02-25 13:00 = Thu 14:00', '2027-03-11 13:00 = Thu 14:00')),
    ('last weekday of the month at 17 submit hours', rec('2027-02-26 16:00 = Fri 17:00', 'submit hours', '2027-03-31 15:00 = Wed 17:00', '2027-04-30 15:00 = Fri 17:00'), AMB),
    ('every second tuesday of the month at 19:00 book club', rec('2027-02-09 18:00 = Tue 19:00', 'book club', '2027-03-09 18:00 = Tue 19:00', '2027-04-13 17:00 = Tue 19:00')),
    ('every day at 8 until friday vitamins', rec('2027-02-10 07:00 = Wed 08:00', 'vitamins', '2027-02-11 07:00 = Thu 08:00', '2027-02-12 07:00 = Fri 08:00', END)),
    ('every monday at 9 for 3 weeks physio', rec('2027-02-15 08:00 = Mon 09:00', 'physio', '2027-02-22 08:00 = Mon 09:00', '2027-03-01 08:00 = Mon 09:00', END)),
    ('every hour 5 times drink water', anyof(rec('2027-02-09 09:30 = Tue 10:30', 'drink water', '2027-02-09 10:30 = Tue 11:30', '2027-02-09 11:30 = Tue 12:30', '2027-02-09 12:30 = Tue 13:30', '2027-02-09 13:30 = Tue 14:30', END), rec('2027-02-09 09:00 = Tue 10:00', 'drink water', '2027-02-09 10:00 = Tue 11:00', '2027-02-09 11:00 = Tue 12:00', '2027-02-09 12:00 = Tue 13:00', '2027-02-09 13:00 = Tue 14:00', END)), AMB),
    ('every day at 7 until 9pm', ASK),
    ('every evening at 8pm for 10 days stretch', rec('2027-02-09 19:00 = Tue 20:00', 'stretch', '2027-02-10 19:00 = Wed 20:00', '2027-02-11 19:00 = Thu 20:00', '2027-02-12 19:00 = Fri 20:00', '2027-02-13 19:00 = Sat 20:00', '2027-02-14 19:00 = Sun 20:00', '2027-02-15 19:00 = Mon 20:00', '2027-02-16 19:00 = Tue 20:00', '2027-02-17 19:00 = Wed 20:00', '2027-02-18 19:00 = Thu 20:00', END)),
)
add(
    "compound", US_DST, NY,
    ('every saturday and sunday at 9am pancakes', rec('2027-03-14 13:00 = Sun 09:00', 'pancakes', '2027-03-20 13:00 = Sat 09:00', '2027-03-21 13:00 = Sun 09:00')),
    ('every weekday at 7am and 5pm check the mailbox', rec('2027-03-15 11:00 = Mon 07:00', 'check the mailbox', '2027-03-15 21:00 = Mon 17:00', '2027-03-16 11:00 = Tue 07:00')),
)
add(
    "compound", HELD_U, UTC_,
    ('every day at 9 until 3 january stand-up', rec('2027-01-01 09:00 = Fri 09:00', 'stand-up', '2027-01-02 09:00 = Sat 09:00', '2027-01-03 09:00 = Sun 09:00', END)),
)
add(
    "zones", HELD_P, PRG,
    ('at 3pm London time call the office', once('2027-02-09 15:00 = Tue 16:00', 'call the office')),
    ('tomorrow at 9am PST webinar', once('2027-02-10 17:00 = Wed 18:00', 'webinar')),
    ('at 17:00 CET deploy', once('2027-02-09 16:00 = Tue 17:00', 'deploy')),
    ('tomorrow at 10 UTC sync', once('2027-02-10 10:00 = Wed 11:00', 'sync')),
    ('at 8pm New York time call Mike', once('2027-02-10 01:00 = Wed 02:00', 'call Mike')),
    ('every day at 9 Tokyo time check the markets', rec('2027-02-10 00:00 = Wed 01:00', 'check the markets', '2027-02-11 00:00 = Thu 01:00')),
    ('at 10 UTC+2 call Olena', once('2027-02-09 20:00 = Tue 21:00', 'call Olena')),
)
add(
    "zones", US_DST, NY,
    ('tomorrow at 9am London time call the bank', once('2027-03-14 09:00 = Sun 05:00', 'call the bank')),
    ('at 6pm PST tomorrow catch up with Ana', anyof(once('2027-03-15 01:00 = Sun 21:00', 'catch up with Ana'), once('2027-03-15 02:00 = Sun 22:00', 'catch up with Ana')), AMB),
)
add(
    "zones", HELD_U, UTC_,
    ('at 18:00 Prague time dinner', once('2026-12-31 17:00 = Thu 17:00', 'dinner')),
)
add(
    "typos", HELD_P, PRG,
    ('rmeind me to call Eva at 4pm', once('2027-02-09 15:00 = Tue 16:00', 'call Eva')),
    ('tomorow at 9 doctor', once('2027-02-10 08:00 = Wed 09:00', 'doctor')),
    ('tmrw 8am gym', once('2027-02-10 07:00 = Wed 08:00', 'gym')),
    ('remind me in 5 mins to check tea', once('2027-02-09 08:35 = Tue 09:35', 'check tea')),
    ('in 2 hrs leave', once('2027-02-09 10:30 = Tue 11:30', 'leave')),
    ('tmrw @ 6pm call mum', once('2027-02-10 17:00 = Wed 18:00', 'call mum')),
    ('tonite at 9 netflix', once('2027-02-09 20:00 = Tue 21:00', 'netflix')),
    ('remind me 2morrow at 7 to walk the dog', once('2027-02-10 06:00 = Wed 07:00', 'walk the dog')),
    ('reminde me at 1pm lunch', once('2027-02-09 12:00 = Tue 13:00', 'lunch')),
    ('pls remind me at 4 to call the vet', once('2027-02-09 15:00 = Tue 16:00', 'call the vet')),
    ('in 20 min tea', once('2027-02-09 08:50 = Tue 09:50', 'tea')),
    ('remind me thurs at 10 to book tickets', once('2027-02-11 09:00 = Thu 10:00', 'book tickets')),
)
add(
    "alert", HELD_P, PRG,
    ('alert me when BTC goes above 70000', alert('BTC', 'above', 70000)),
    ('tell me if AAPL drops below 180', alert('AAPL', 'below', 180)),
    ('ping me if ETH hits 4000', alert('ETH', ('above', 'below', 'cross'), 4000)),
    ('BTC above 70000 or below 60000', alerts(alert('BTC', 'above', 70000), alert('BTC', 'below', 60000))),
    ('let me know when MSFT is over 450', alert('MSFT', 'above', 450)),
    ('notify me if EUR/USD falls under 1.05', alert('EUR/USD', 'below', 1.05)),
    ('ETH moves 5%', alert('ETH', 'move', 5, 'any')),
    ('alert me if BTC drops 10%', alert('BTC', 'move', 10, 'down')),
    ('tell me when AAPL rises 3%', alert('AAPL', 'move', 3, 'up')),
    ('alert me when btc > 75k', alert('BTC', 'above', 75000)),
    ('eth below 3k', alert('ETH', 'below', 3000)),
    ('BTC crosses 65000', alert('BTC', 'cross', 65000)),
    ('alert me when AAPL goes above 200 every time', alert('AAPL', 'above', 200)),
    ('tesla above 300', ASK),
    ('alert me if msft drops below 400 or goes above 500', alerts(alert('MSFT', 'below', 400), alert('MSFT', 'above', 500))),
    ('alert me when ETH is above 4000 for 7 days', alert('ETH', 'above', 4000)),
    ('alert me', ASK),
    ('BTC above', ASK),
)
add(
    "edit", HELD_P, PRG,
    ('my reminders', COMMAND),
    ('show my alerts', COMMAND),
    ('what reminders do I have?', COMMAND),
    ('cancel 3', COMMAND),
    ('cancel last', COMMAND),
    ('delete reminder 4', COMMAND),
    ('cancel the dentist reminder', COMMAND),
    ('move 2 to 5pm', COMMAND),
    ('change 2 to every monday at 9', COMMAND),
    ('rename 2 to call the dentist', COMMAND),
    ('snooze 10m', COMMAND),
    ('snooze 3 2 days', COMMAND),
    ('undo', COMMAND),
    ('cancel all alerts', COMMAND),
    ('set my timezone to London', COMMAND),
    ('change alert 2 to 75000', COMMAND),
    ('pause 3', COMMAND),
    ('help', COMMAND),
)
add(
    "chat", HELD_P, PRG,
    ('hi', CHAT),
    ('thanks!', CHAT),
    ('what time is it', CHAT),
    ('good morning', CHAT),
)
add(
    "asks", HELD_P, PRG,
    ('remind me to stretch', ASK),
    ('remind me in 10 minutes', ASK),
    ('on 3/4 at 9 call the bank', once('2027-04-03 07:00 = Sat 09:00', 'call the bank'), AMB),
    ('every day at 7am except holidays brush teeth', ASK),
    ('remind me sometime next week to call Ann', ASK),
    ('remind me after lunch to call back', once(('2027-02-09 12:00 = Tue 13:00', '2027-02-09 12:30 = Tue 13:30', '2027-02-09 13:00 = Tue 14:00', '2027-02-09 13:30 = Tue 14:30'), 'call back'), AMB),
    ('remind me in 99999999999999999999 minutes to stretch', ASK),
    ('on Jan 1 2226 at 9 anniversary', ASK),
    ('remind me yesterday at 5 to call Eva', ASK),
    ('remind me on 30 february to pay the bill', ASK),
    ('every 10 seconds spam', ASK),
    ('remind me at 25:00 to sleep', ASK),
)

# The kinds the held-out batch found, in other wording (written with the fixes).
add(
    "compound", HELD_P, PRG,
    ("every day at 6, 14 and 22 feed the cat", rec("2027-02-09 13:00 = Tue 14:00", "feed the cat", "2027-02-09 21:00 = Tue 22:00", "2027-02-10 05:00 = Wed 06:00")),
    ("at 10 and 16 on weekdays stretch", rec("2027-02-09 09:00 = Tue 10:00", "stretch", "2027-02-09 15:00 = Tue 16:00", "2027-02-10 09:00 = Wed 10:00")),
    ("at 8am, 12 and 18 every day drink water", rec("2027-02-09 11:00 = Tue 12:00", "drink water", "2027-02-09 17:00 = Tue 18:00", "2027-02-10 07:00 = Wed 08:00")),
    ("at 9 and 5 every day take pills", ASK),
    ("every day at 10 and 2 dogs walk", ASK),
    ("every 4 months on the 1st at 8 service the car", rec("2027-03-01 07:00 = Mon 08:00", "service the car", "2027-07-01 06:00 = Thu 08:00", "2027-11-01 07:00 = Mon 08:00")),
    ("every other month on the 20th renew the permit", rec("2027-02-20 08:00 = Sat 09:00", "renew the permit", "2027-04-20 07:00 = Tue 09:00", "2027-06-20 07:00 = Sun 09:00")),
    ("every 2 months on the 31st pay the fee", ASK),
    ("every 5 months on the 3rd check the tyres", ASK),
    ("every day at 8 until 7am stretch", ASK),
    ("remind me on tue at 7 to go to the gym", ASK),
    ("this tuesday at 10 call the office", once("2027-02-09 09:00 = Tue 10:00", "call the office")),
    ("remind me on tuesday at 8pm to call Eva", once("2027-02-09 19:00 = Tue 20:00", "call Eva")),
)
add(
    "zones", US_DST, NY,
    ("tomorrow at 10am Paris time call Claire", once("2027-03-14 09:00 = Sun 05:00", "call Claire")),
    ("tomorrow at 8 UTC standup notes", once("2027-03-14 08:00 = Sun 04:00", "standup notes")),
)
add(
    "edit", HELD_P, PRG,
    ("stop reminding me about water", cmd(argument="water")),
    ("stop reminding me to stretch", cmd(argument="stretch")),
    ("do I have any reminders?", cmd(name="list")),
    ("what alerts do I have?", cmd(name="list")),
)
