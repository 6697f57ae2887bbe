"""App Home: `app_home_opened` publishes a tab composed of sections that features register.

A feature adds its part with `@home_section(name, order=...)` on an async builder
`(session, team_id, user_id) -> list[Block]`. Sections appear by `order` (launches 10,
sign-offs 20, areas 30, feedback 40); a builder that fails is shown as unavailable and the rest
of the tab still renders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics.slack import attach_charts, has_charts, send_with_charts
from bot.core.db import SessionFactory
from bot.core.uow import session_factory_of, unit_of_work
from bot.home.views import home_view, section_unavailable
from bot.slack.workspace import workspace_of

log = logging.getLogger(__name__)

HomeSectionBuilder = Callable[[AsyncSession, str, str], Awaitable[list[Block]]]


@dataclass(frozen=True)
class HomeSection:
    name: str
    title: str
    order: int
    build: HomeSectionBuilder


HOME_SECTIONS: list[HomeSection] = []


def home_section(
    name: str, *, title: str, order: int = 100
) -> Callable[[HomeSectionBuilder], HomeSectionBuilder]:
    """Register a Home tab section builder; registering a name again replaces it."""

    def register(build: HomeSectionBuilder) -> HomeSectionBuilder:
        HOME_SECTIONS[:] = [s for s in HOME_SECTIONS if s.name != name]
        HOME_SECTIONS.append(HomeSection(name=name, title=title, order=order, build=build))
        HOME_SECTIONS.sort(key=lambda s: (s.order, s.name))
        return build

    return register


async def build_home(*, session_factory: SessionFactory, team_id: str, user_id: str) -> View:
    sections: list[list[Block]] = []
    for section in list(HOME_SECTIONS):
        # One unit of work per section: a failed query in one cannot abort the others' transaction.
        try:
            async with unit_of_work(session_factory) as session:
                sections.append(await section.build(session, team_id, user_id))
        except Exception:
            log.exception("home section %s failed for %s", section.name, user_id)
            sections.append(section_unavailable(section.title))
    return home_view(sections)


async def publish_home(
    client: AsyncWebClient, *, session_factory: SessionFactory, team_id: str, user_id: str
) -> None:
    """Build the tab, upload the charts its sections ask for (equal ones only once), publish it."""
    view = await build_home(session_factory=session_factory, team_id=team_id, user_id=user_id)
    blocks: list[Block] = list(view.blocks or [])
    if has_charts(blocks):
        blocks, _ = await attach_charts(client, blocks, team_id=team_id)
        view.blocks = blocks

    async def send(dicts: list[dict[str, Any]]) -> Any:
        return await client.views_publish(user_id=user_id, view={**view.to_dict(), "blocks": dicts})

    await send_with_charts(send, blocks)


async def on_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(
        client,
        session_factory=session_factory_of(context),
        team_id=workspace_of(context),
        user_id=str(event["user"]),
    )


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
