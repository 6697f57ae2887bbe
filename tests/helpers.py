"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any


def rendered(blocks: Any) -> str:
    """Only what Slack renders as text in `blocks` (not button values or ids)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"}:
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)
