"""One Emulator user chatting with the running bot, turn by turn, plus database look-ups.

``Chat.say`` posts a message over real HTTP and returns the bot's replies to it: the
activities the fake channel received as replies to that message's id. Proactive reminders
are posted to the conversation itself (no reply id), so they never mix into a turn's replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from models.tables import Occurrence, Reminder, User
from tests.support.emulator import EmulatorUser
from tests.support.fake_channel import Received
from tests.support.waiting import eventually


@dataclass
class Turn:
    """The HTTP status of one posted activity and the texts the bot replied with."""

    status: int
    replies: list[str]

    @property
    def text(self) -> str:
        """All replies of the turn, one per line."""
        return "\n".join(self.replies)


class Chat:
    """A user talking to the bot served by the ``running_bot`` fixture.

    Args:
        bot: the ``RunningBot`` of the test.
        **user: passed to ``EmulatorUser`` (``local_timezone``, ``local_timestamp``, ...).
    """

    def __init__(self, bot, **user: Any) -> None:
        self.bot = bot
        self.user: EmulatorUser = bot.user(**user)

    @property
    def channel(self):
        return self.bot.channel

    def new_conversation(self) -> Chat:
        """The same user in a fresh conversation: same reminders, no dialog in progress."""
        return Chat(self.bot, user_id=self.user.user["id"], local_timezone=self.user.local_timezone)

    async def post(self, activity: dict[str, Any], *, replies: int = 1) -> Turn:
        """Post ``activity``; wait until the bot has sent at least ``replies`` replies to it."""
        status = await self.user.post(self.bot.http, activity)

        async def answered() -> list[Received] | None:
            found = [
                r
                for r in self.channel.received
                if r.conversation_id == self.user.conversation_id and r.reply_to == activity["id"]
            ]
            return found if len(found) >= replies else None

        found = await eventually(answered) if replies else []
        return Turn(status, [r.text for r in found])

    async def say(self, text: str, *, replies: int = 1) -> Turn:
        return await self.post(self.user.message(text), replies=replies)

    async def press(self, value: dict[str, Any]) -> Turn:
        """Send what an Adaptive Card ``Action.Submit`` button sends: a message with ``value``."""
        return await self.post(self.user.message(value=value))

    # --- the database as this user sees it ------------------------------------------------

    async def db_user(self) -> User:
        async with self.bot.sessionmaker() as session:
            return (
                await session.execute(select(User).where(User.user_id == self.user.user["id"]))
            ).scalar_one()

    async def reminders(self) -> list[Reminder]:
        """This user's reminder rows, by number."""
        async with self.bot.sessionmaker() as session:
            rows = await session.execute(
                select(Reminder)
                .join(User, User.id == Reminder.user_pk)
                .where(User.user_id == self.user.user["id"])
                .order_by(Reminder.number)
            )
            return list(rows.scalars())

    async def reminder(self, number: int) -> Reminder:
        return next(r for r in await self.reminders() if r.number == number)

    async def occurrences(self) -> list[Occurrence]:
        async with self.bot.sessionmaker() as session:
            return list((await session.execute(select(Occurrence).order_by(Occurrence.id))).scalars())

    async def wait_until_recorded(self, status: str = "sent", timeout: float = 6.0) -> list[Occurrence]:
        """Wait until there are occurrences and every one has ended with ``status``.

        Tests wait for this before they end, so that shutdown never meets a send in flight.
        """

        async def recorded() -> list[Occurrence] | None:
            rows = await self.occurrences()
            return rows if rows and all(r.status == status for r in rows) else None

        return await eventually(recorded, timeout=timeout)


async def table_counts(sessionmaker) -> dict[str, int]:
    """Row counts of the reminder tables, to show that a request changed nothing."""
    async with sessionmaker() as session:
        return {
            table.__tablename__: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (Reminder, Occurrence)
        }


async def reminder_rows(sessionmaker) -> list[tuple]:
    """Every reminder's visible state, to compare before and after a refused request."""
    async with sessionmaker() as session:
        rows = await session.execute(select(Reminder).order_by(Reminder.id))
        return [(r.number, r.text, r.state, r.next_run_at, r.schedule) for r in rows.scalars()]
