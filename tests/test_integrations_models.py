"""Tracker links and webhook deliveries are unique where the product needs them to be."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import create_engine, create_session_factory
from models import LinkState, Provider, Theme, ThemeLink, WebhookDelivery

TEAM = "T0TEAM"
AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        yield session
    await engine.dispose()


async def add_theme(session: AsyncSession, title: str = "Bulk export") -> Theme:
    theme = Theme(team_id=TEAM, title=title, created_at=AT, updated_at=AT)
    session.add(theme)
    await session.flush()
    return theme


def link(theme: Theme, key: str = "acme/app#123", team_id: str = TEAM) -> ThemeLink:
    return ThemeLink(
        team_id=team_id,
        theme_id=theme.id,
        provider=Provider.GITHUB,
        key=key,
        url=f"https://github.com/acme/app/issues/{key.split('#')[1]}",
        created_by="U0ALICE",
        created_at=AT,
        updated_at=AT,
    )


def delivery(delivery_id: str, provider: Provider = Provider.GITHUB) -> WebhookDelivery:
    return WebhookDelivery(team_id=TEAM, provider=provider, delivery_id=delivery_id, received_at=AT)


async def test_new_theme_link_starts_open_and_round_trips_with_aware_times(session: AsyncSession) -> None:
    theme = await add_theme(session)
    session.add(link(theme))
    await session.commit()
    stored = (await session.execute(select(ThemeLink))).scalar_one()
    assert stored.state == LinkState.OPEN
    assert (stored.provider, stored.key, stored.created_at) == ("github", "acme/app#123", AT)


async def test_same_issue_linked_twice_to_one_theme_is_refused(session: AsyncSession) -> None:
    theme = await add_theme(session)
    session.add(link(theme))
    await session.flush()
    session.add(link(theme))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_one_issue_may_be_linked_to_several_themes(session: AsyncSession) -> None:
    first, second = await add_theme(session, "Bulk export"), await add_theme(session, "CSV import")
    session.add_all([link(first), link(second)])
    await session.commit()
    assert len((await session.execute(select(ThemeLink))).scalars().all()) == 2


async def test_deleting_a_theme_deletes_its_links(session: AsyncSession) -> None:
    theme = await add_theme(session)
    session.add_all([link(theme), link(theme, "acme/app#124")])
    await session.commit()
    await session.execute(delete(Theme).where(Theme.id == theme.id))
    await session.commit()
    assert (await session.execute(select(ThemeLink))).scalars().all() == []


async def test_same_delivery_id_from_one_provider_is_recorded_once(session: AsyncSession) -> None:
    session.add(delivery("72d3162e-cc78-11e3-81ab-4c9367dc0958"))
    await session.commit()
    session.add(delivery("72d3162e-cc78-11e3-81ab-4c9367dc0958"))
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_same_delivery_id_from_two_providers_is_two_deliveries(session: AsyncSession) -> None:
    session.add_all([delivery("1364478", Provider.JIRA), delivery("1364478", Provider.GITHUB)])
    await session.commit()
    assert len((await session.execute(select(WebhookDelivery))).scalars().all()) == 2
