"""How much text a person may send Switchboard through Slack: Slack's own limits, checked before
any listener runs, so that an oversized or forged request gets a clear answer instead of an error
from Slack (or a 500) once the bot echoes it.

Pure functions of a request body; the Bolt middleware in `bot.slack.app` answers with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.text import without_controls

# Slack's limits: a message's text, a section's text, a plain_text input (and its `max_length`).
MESSAGE_TEXT_LIMIT = 40_000
SECTION_TEXT_LIMIT = 3000
INPUT_TEXT_LIMIT = 3000
# A slash command's text is echoed in a section or prefills an input: one section's worth.
COMMAND_TEXT_LIMIT = SECTION_TEXT_LIMIT
# Names, aliases and titles are at most 200 characters: a longer question cannot match better.
QUERY_LIMIT = 200


@dataclass(frozen=True)
class TooLong:
    """A field over its limit: where it is (the input block of a modal, if any) and by how much."""

    what: str
    limit: int
    length: int
    block_id: str | None = None

    def message(self) -> str:
        return (
            f":warning: That {self.what} is too long for Switchboard: {self.length:,} characters, "
            f"at most {self.limit:,}. Shorten it and try again."
        )

    def field_error(self) -> str:
        return f"Keep this under {self.limit:,} characters (it has {self.length:,})."


def query_too_long(query: str) -> TooLong | None:
    """A who-owns question longer than any name it could match."""
    return TooLong("question", QUERY_LIMIT, len(query)) if len(query) > QUERY_LIMIT else None


def _declared_limits(view: dict[str, Any]) -> dict[tuple[str, str], int]:
    """The `max_length` of each text input of a submitted view, by (block_id, action_id)."""
    limits: dict[tuple[str, str], int] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) else None
        if isinstance(element, dict) and element.get("type") == "plain_text_input":
            declared = element.get("max_length")
            limit = int(declared) if isinstance(declared, int) else INPUT_TEXT_LIMIT
            limits[(str(block.get("block_id")), str(element.get("action_id")))] = min(limit, INPUT_TEXT_LIMIT)
    return limits


def check_view(view: dict[str, Any]) -> TooLong | None:
    """Clean every typed value of a submitted view in place; the first one over its limit, if any."""
    limits = _declared_limits(view)
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        for action_id, state in (actions or {}).items():
            value = state.get("value") if isinstance(state, dict) else None
            if not isinstance(value, str):
                continue
            state["value"] = value = without_controls(value)
            limit = limits.get((block_id, action_id), INPUT_TEXT_LIMIT)
            if len(value) > limit:
                return TooLong("field", limit, len(value), block_id=block_id)
    return None


def check_command(command: dict[str, Any]) -> TooLong | None:
    """Clean a slash command's text in place; whether it is over Slack's limit."""
    text = without_controls(str(command.get("text") or ""))
    command["text"] = text
    return TooLong("command", COMMAND_TEXT_LIMIT, len(text)) if len(text) > COMMAND_TEXT_LIMIT else None


def check_message(message: dict[str, Any]) -> TooLong | None:
    """Clean the text of a message an event or shortcut carries, in place; whether it is too long."""
    text = message.get("text")
    if not isinstance(text, str):
        return None
    message["text"] = text = without_controls(text)
    return TooLong("message", MESSAGE_TEXT_LIMIT, len(text)) if len(text) > MESSAGE_TEXT_LIMIT else None
