"""Reusable Block Kit pieces (pure functions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)

from bot.core.text import strip_broadcasts, truncate

SECTION_TEXT_LIMIT = 3000


def section(text: str, **kwargs: object) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)), **kwargs)  # type: ignore[arg-type]


# `section`'s JSON but for its text, validated once.
_SECTION_JSON = SectionBlock(text=MarkdownTextObject(text="-")).to_dict()


def section_json(text: str) -> dict[str, Any]:
    """`section(text).to_dict()`: a block built per answer, where serialising Block Kit (it
    validates every object again) would cost more than finding the answer."""
    return {**_SECTION_JSON, "text": {**_SECTION_JSON["text"], "text": truncate(text, SECTION_TEXT_LIMIT)}}


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(t, 2000)) for t in texts])


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, 75), emoji=True)


def text_input(
    action_id: str, *, initial: str | None = None, multiline: bool = False, max_length: int = 3000
) -> PlainTextInputElement:
    # Slack never parses a prefilled input, but whatever is saved from it is echoed later: defused
    # broadcasts read the same, and nothing the bot sends carries one (the tests scan every call).
    return PlainTextInputElement(
        action_id=action_id,
        initial_value=truncate(strip_broadcasts(initial), max_length) if initial else None,
        multiline=multiline,
        max_length=max_length,
    )


def slack_date(moment: datetime | None, *, fallback: str = "never") -> str:
    """A date Slack renders in each reader's own timezone."""
    if moment is None:
        return fallback
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}}|{moment:%Y-%m-%d}>"


def as_dicts(blocks: list[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in blocks]
