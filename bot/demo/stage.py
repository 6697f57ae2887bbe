"""The demo's stage: the Slack emulator, the app on a scratch SQLite database, and a narrator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
from fastapi import FastAPI

from bot.core import migrate
from bot.core.runtime import Runtime
from bot.core.settings import load_settings
from bot.demo.render import describe_call
from bot.emulator.driver import SIGNING_SECRET, SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, BOT_USER_ID
from bot.scheduler.runner import JobRunner
from bot.web import create_app

PEOPLE = {
    "U0PRIYA": ("priya", "Product Ops"),
    "U0BEN": ("ben", "Billing engineering"),
    "U0CHLOE": ("chloe", "Docs"),
    "U0DIEGO": ("diego", "QA"),
    "U0EMMA": ("emma", "Support"),
    "U0FARID": ("farid", "Marketing"),
}
# The secret the demo's GitHub signs its webhook deliveries with.
GITHUB_SECRET = "demo-github-webhook-secret"
CHANNELS = {
    "C0GENERAL": "general",
    "C0SUPPORT": "support",
    "C0OWNERS": "ownership",
    "C0FEEDBACK": "product-feedback",
    "C0RELEASES": "releases",
    "C0RELEASESFR": "releases-fr",
}


@dataclass
class Stage:
    emulator: SlackEmulator
    app: FastAPI
    slack: SlackSender
    runtime: Runtime
    out: TextIO
    _seen: int = 0

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def chapter(self, title: str) -> None:
        self.say("\n" + "═" * 78 + f"\n{title}\n" + "═" * 78)

    def step(self, text: str) -> None:
        self.say(f"\n▶ {text}")

    def show_new(self, response: httpx.Response | None = None) -> None:
        """Print what people would see since the last call: the HTTP reply, then Slack calls."""
        if (
            response is not None
            and response.content
            and response.headers.get("content-type", "").startswith("application/json")
        ):
            body: dict[str, Any] = response.json()
            if body.get("blocks") or body.get("text"):
                from bot.emulator.state import Call

                reply = Call("response_url", {"response_type": body.get("response_type"), **body}, None)
                entry = describe_call(reply, self.emulator)
                if entry:
                    self.say(entry)
        for call in self.emulator.calls[self._seen :]:
            entry = describe_call(call, self.emulator)
            if entry:
                self.say(entry)
        self._seen = len(self.emulator.calls)

    async def run_scheduler(self) -> int:
        return await JobRunner(self.runtime).tick()


@asynccontextmanager
async def open_stage(workdir: Path, out: TextIO) -> AsyncIterator[Stage]:
    emulator = SlackEmulator()
    for user_id, (name, _team) in PEOPLE.items():
        emulator.add_user(user_id, name)
    for channel_id, name in CHANNELS.items():
        emulator.add_channel(channel_id, name, members=[BOT_USER_ID, *PEOPLE])
    await emulator.start()
    database_url = f"sqlite+aiosqlite:///{workdir / 'switchboard-demo.db'}"
    await migrate.upgrade_async(database_url)
    settings = load_settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emulator.url,
        ownership_channel="C0OWNERS",
        feedback_channel="C0FEEDBACK",
        switchboard_scheduler="off",
        github_webhook_secret=GITHUB_SECRET,
        release_draft_owner="U0PRIYA",
        release_draft_approver="U0BEN",
        _env_file=None,
    )
    app = create_app(settings, manage_schema=False, scheduler=False)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.demo") as http:
                yield Stage(emulator, app, SlackSender(http, emulator), app.state.runtime, out)
    finally:
        await emulator.stop()
