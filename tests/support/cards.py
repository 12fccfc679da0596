"""Reading the bot's cards and suggested actions in tests."""

from __future__ import annotations

from botbuilder.schema import Activity


def card_of(activity: Activity) -> dict:
    """The Adaptive Card an activity carries (it must carry exactly one, and no text)."""
    data = activity.serialize()
    assert not data.get("text"), "a card reply must not repeat itself as a text bubble"
    [attachment] = data["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["fallbackText"] and data["summary"] and card["speak"] == card["fallbackText"]
    return card


def buttons(card: dict) -> list[tuple[str, dict]]:
    """Every Action.Submit in the card, in order: (title, data)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append((node["title"], node["data"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def suggestions(activity: Activity) -> list[str]:
    return [action.title for action in (activity.suggested_actions.actions if activity.suggested_actions else [])]
