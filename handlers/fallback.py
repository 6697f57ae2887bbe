"""Acknowledge whatever Slack sends that no feature handles."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

ANYTHING = re.compile(".*")


async def acknowledge(ack: AsyncAck) -> None:
    await ack()


async def no_options(ack: AsyncAck) -> None:
    await ack(options=[])


def register(app: AsyncApp) -> None:
    app.event(ANYTHING)(acknowledge)
    # Link buttons and overflow menus send block_actions too; Slack shows an error unless acked.
    app.action(ANYTHING)(acknowledge)
    app.options(ANYTHING)(no_options)
