"""Replies with Adaptive Cards and suggested actions, each with a plain-text fallback
(built as proactive messages are: models.card_json).

Buttons send ``{"nudge": <action>, "number": N, ...}`` back, as the delivered reminder's
and alert's cards do (scheduler/messages.py); the bot runs them like the typed command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, ActionTypes, CardAction, SuggestedActions

from dialogs.formatting import shorten
from models.alerts import AlertView
from models.card_json import adaptive_card, card_message
from models.markdown import escape_markdown
from models.reminders import ReminderView

# A list card shows this many entries; "More" shows the next ones.
PAGE_SIZE = 10
# A reminder's text as a list or button title: long texts end at a word, with "…".
TITLE_LENGTH = 80

def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def button(title: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": title, "data": data}


def card_reply(
    plain: str,
    body: list[dict[str, Any]],
    actions: Sequence[dict[str, Any]] = (),
    suggestions: Sequence[str] = (),
) -> Activity:
    """A message showing an Adaptive Card built from ``body`` and ``actions``; ``plain`` says
    the same for clients that can't show it."""
    reply = Activity().deserialize(card_message(adaptive_card(body, actions), plain))
    if suggestions:
        reply.suggested_actions = suggested(suggestions)
    return reply


def text_reply(text: str, suggestions: Sequence[str] = ()) -> Activity:
    """A markdown text message, with ``suggestions`` as buttons that send their own title."""
    reply = MessageFactory.text(text)
    reply.text_format = "markdown"
    if suggestions:
        reply.suggested_actions = suggested(suggestions)
    return reply


def suggested(titles: Sequence[str]) -> SuggestedActions:
    return SuggestedActions(
        actions=[CardAction(type=ActionTypes.im_back, title=title, value=title) for title in titles]
    )


def fact_set(facts: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]}


def item(
    title: str, lines: Sequence[str], actions: Sequence[dict[str, Any]] = (), subtle: bool = False
) -> dict[str, Any]:
    """One entry of a list card: a bold title, detail lines, and its own small buttons."""
    items: list[dict[str, Any]] = [text_block(title, weight="Bolder", isSubtle=subtle)]
    items += [text_block(line, isSubtle=True, spacing="Small") for line in lines]
    if actions:
        items.append({"type": "ActionSet", "actions": list(actions)})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


# --- reminders ------------------------------------------------------------------------


def reminder_set_card(view: ReminderView, when: str) -> Activity:
    """The confirmation of a new reminder: what, when, how often; a button to undo it."""
    if view.recurring:
        plain = f"✅ Reminder #{view.number} set: {view.text}, {view.description}. First one: {when}."
        facts = [("What", escape_markdown(view.text)), ("Repeats", view.description), ("First one", when)]
    else:
        plain = f"✅ Reminder #{view.number} set: {view.text}, on {when}."
        facts = [("What", escape_markdown(view.text)), ("When", when)]
    return card_reply(
        plain,
        [text_block(f"✅ Reminder #{view.number} set", weight="Bolder", size="Medium"), fact_set(facts)],
        [button("Cancel it", {"nudge": "cancel", "number": view.number})],
        suggestions=("my reminders",),
    )


def reminders_card(
    views: Sequence[ReminderView],
    plain: str,
    when: Callable[[ReminderView], str],
    *,
    total: int | None = None,
    more: dict[str, Any] | None = None,
) -> Activity:
    """The "my reminders" list: one entry per reminder with Pause/Resume and Cancel buttons.

    ``views`` is one page; ``total`` the count of all of them; ``more`` the value of the *More*
    button that shows the next page (None on the last page).
    """
    entries = []
    for view in views:
        lines = [f"Next: {when(view)}"]
        if view.recurring:
            lines.append(f"Repeats {view.description}")
        if view.state == "paused":
            lines.append("Paused")
        title = f"#{view.number} {escape_markdown(shorten(view.text, TITLE_LENGTH))}"
        entries.append((title, lines, view.number, view.state == "paused"))
    return _list_card(
        plain, "Your reminders", entries, pause="pause", resume="resume", cancel="cancel", total=total, more=more
    )


def _list_card(
    plain: str,
    heading: str,
    entries: Sequence[tuple[str, list[str], int, bool]],
    *,
    pause: str,
    resume: str,
    cancel: str,
    total: int | None = None,
    more: dict[str, Any] | None = None,
) -> Activity:
    """A list of (title, detail lines, number, paused) entries, each with a Pause or Resume
    button and a Cancel button sending the ``nudge`` actions named; a *More* button when
    ``more`` is given."""
    count = len(entries) if total is None else total
    body = [text_block(f"{heading} ({count})", weight="Bolder", size="Medium")]
    for title, lines, number, paused in entries:
        toggle = button("Resume", {"nudge": resume, "number": number}) if paused else (
            button("Pause", {"nudge": pause, "number": number})
        )
        body.append(item(title, lines, [toggle, button("Cancel", {"nudge": cancel, "number": number})], subtle=paused))
    if more is None:
        return card_reply(plain, body)
    return card_reply(plain, body, [button("More", more)], suggestions=("more",))


def confirm_card(question: str, action: str) -> Activity:
    """A yes/no question about a destructive ``action``: Yes and No buttons, and typed
    "yes"/"no" as suggested actions."""
    return card_reply(
        question,
        [text_block(question, wrap=True)],
        [
            button("Yes", {"nudge": "confirm", "action": action, "answer": "yes"}),
            button("No", {"nudge": "confirm", "action": action, "answer": "no"}),
        ],
        suggestions=("yes", "no"),
    )


def choice_card(question: str, choices: Sequence[tuple[str, dict[str, Any]]]) -> Activity:
    """A question answered by pressing one of ``choices`` (title, button value)."""
    lines = [question] + [f"- {title}" for title, _ in choices]
    return card_reply("\n".join(lines), [text_block(question)], [button(title, value) for title, value in choices])


# --- price alerts ---------------------------------------------------------------------


def alert_set_card(view: AlertView, plain: str, facts: Sequence[tuple[str, str]], note: str | None) -> Activity:
    """The confirmation of a new price alert, with a button to cancel it."""
    body = [
        text_block(f"🔔 Alert #{view.number} set", weight="Bolder", size="Medium"),
        text_block(view.condition_text()),
        fact_set(facts),
    ]
    if note:
        body.append(text_block(note, isSubtle=True))
    return card_reply(
        plain, body, [button("Cancel it", {"nudge": "alert-cancel", "number": view.number})],
        suggestions=("my alerts",),
    )


def alerts_card(
    views: Sequence[AlertView],
    plain: str,
    lines: Callable[[AlertView], list[str]],
    *,
    total: int | None = None,
    more: dict[str, Any] | None = None,
) -> Activity:
    """The "my alerts" list (one page of it): one entry per alert with Pause/Resume and Cancel
    buttons, and *More* when ``more`` is given."""
    entries = [
        (f"#{view.number} {view.condition_text()}", lines(view), view.number, view.state == "paused")
        for view in views
    ]
    return _list_card(
        plain, "Your price alerts", entries, pause="alert-disable", resume="alert-resume", cancel="alert-cancel",
        total=total, more=more,
    )


def as_reply(reply: str | Activity) -> Activity:
    """A reply given as plain text or as a finished activity."""
    return reply if isinstance(reply, Activity) else text_reply(reply)
