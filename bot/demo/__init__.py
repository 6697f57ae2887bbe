"""`switchboard demo`: the whole product end to end against the built-in Slack emulator."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.demo import feedback, launches, ownership, releases, tracking
from bot.demo.stage import Stage, open_stage

CHAPTERS: list[Callable[[Stage], Awaitable[None]]] = [
    ownership.run,
    feedback.run,
    launches.run,
    releases.run,
    tracking.run,
]


async def run_demo(out: TextIO = sys.stdout) -> int:
    """Play every chapter; returns the number of Slack Web API calls the app made."""
    with tempfile.TemporaryDirectory(prefix="switchboard-demo-") as workdir:
        async with open_stage(Path(workdir), out) as stage:
            stage.say("Switchboard demo: a local Slack emulator stands in for Slack; SQLite holds the data.")
            for chapter in CHAPTERS:
                await chapter(stage)
            stage.say(f"\nDone: Switchboard made {len(stage.emulator.calls)} Slack calls.")
            return len(stage.emulator.calls)


def main() -> None:
    asyncio.run(run_demo())
