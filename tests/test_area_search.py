"""The ownership lookup at scale: the word index finds typos and partial names in a large directory,
and the cached directory answers without queries yet sees every change."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncMappingResult

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.ownership import areas as area_service
from bot.ownership import cache as directory_cache
from bot.ownership.index import SCAN_ALL_KEYS, WORD_CANDIDATES, AreaIndex, IndexedArea, MatchKind
from bot.ownership.schema import AreaIn, AreaPatch
from models import Area

TEAM = "T0SWITCH"
DOMAINS = ["Billing", "Search", "Checkout", "Onboarding", "Payroll", "Webhooks", "Analytics", "Docs"]
FACETS = ["reconciliation", "exports", "permissions", "notifications", "dashboard", "scheduler", "ledger"]


def large_index() -> AreaIndex:
    """The named areas among thousands of others, so that lookups take the word-index path."""
    names = [f"{domain} {facet}" for domain, facet in itertools.product(DOMAINS, FACETS)]
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "vo", "ri", "pe", "zu", "do", "fa"]
    names += [
        f"{a}{b}{c} {d}{e}{f}".capitalize()
        for a, b, c, d, e, f in itertools.islice(itertools.product(syllables, repeat=6), 3000)
    ]
    areas = []
    for n, name in enumerate(names):
        slug = name.lower().replace(" ", "-")
        first, second = name.lower().split()
        areas.append(
            IndexedArea(
                id=n,
                slug=slug,
                name=name,
                keys=(name, slug, f"{first[:3]}-{second[:3]}-{n}"),
                description=f"The {second} of {first}.",
            )
        )
    index = AreaIndex.build(areas)
    assert len(index.key_texts) > SCAN_ALL_KEYS
    return index


@pytest.fixture(scope="module")
def index() -> AreaIndex:
    return large_index()


@pytest.mark.parametrize(
    "query",
    [
        "Billing reconciliation",  # exact name
        "billing-reconciliation",  # slug
        "bil-rec-0",  # alias
        "billing reconcilation",  # a letter dropped
        "billing reconcilliation",  # a letter doubled
        "billing reocnciliation",  # two letters swapped
        "bilbing reconciliation",  # a letter mistyped
        "billingreconciliation",  # words run together
        "the billing reconciliation team",  # filler words
    ],
)
def test_typos_and_variants_find_the_area_in_a_large_directory(index: AreaIndex, query: str) -> None:
    result = index.search(query)
    assert result.kind == MatchKind.CONFIDENT
    assert [m.name for m in result.matches] == ["Billing reconciliation"]


def test_partial_name_offers_the_closest_areas_first(index: AreaIndex) -> None:
    result = index.search("billing recon")
    assert result.matches[0].name == "Billing reconciliation"


def test_single_common_word_is_ambiguous(index: AreaIndex) -> None:
    result = index.search("exports")
    assert result.kind == MatchKind.AMBIGUOUS
    assert len(result.matches) == 3 and all("exports" in m.name for m in result.matches)


def test_nonsense_matches_nothing(index: AreaIndex) -> None:
    assert index.search("qqqzzz xxyy").kind == MatchKind.NONE


# ---- words shared by thousands of areas ------------------------------------------------------

COMMON_WORDS = ["checkout", "billing", "search", "notifications"]


def shared_words_index(count: int) -> AreaIndex:
    """ "Area 17 checkout", …: each common word is shared by a quarter of the directory."""
    areas = []
    for n in range(count):
        word = COMMON_WORDS[n % len(COMMON_WORDS)]
        name = f"Area {n} {word}"
        slug = f"area-{n}-{word}"
        areas.append(
            IndexedArea(id=n, slug=slug, name=name, keys=(name, slug), description=f"The {word} flow.")
        )
    areas.append(
        IndexedArea(
            id=count, slug="payments-page", name="Payments page", keys=("Payments page",), description=""
        )
    )
    return AreaIndex.build(areas)


@pytest.fixture(scope="module")
def shared() -> AreaIndex:
    return shared_words_index(10_000)


def test_typo_of_a_shared_word_with_a_rare_word_ranks_the_area_with_both_first(shared: AreaIndex) -> None:
    for query in ("chekout 812", "checkut 812", "812 checkout"):
        assert shared.search(query).matches[0].name == "Area 812 checkout", query


def test_word_two_slips_away_is_still_found_among_thousands(shared: AreaIndex) -> None:
    result = shared.search("bilings")
    assert result.kind == MatchKind.AMBIGUOUS
    assert [m.name for m in result.matches] == ["Area 1 billing", "Area 1001 billing", "Area 1005 billing"]


def test_distinct_name_beside_thousands_of_shared_words_is_confident(shared: AreaIndex) -> None:
    result = shared.search("payments page")
    assert (result.kind, [m.name for m in result.matches]) == (MatchKind.CONFIDENT, ["Payments page"])


def test_areas_weighed_per_query_do_not_grow_with_how_many_share_a_word() -> None:
    small, large = shared_words_index(2_000), shared_words_index(40_000)
    for query in ("chekout 812", "bilings", "checkout", "notifcations search"):
        weighed_small, weighed_large = len(small._word_weights(query)), len(large._word_weights(query))
        assert weighed_large <= 2 * WORD_CANDIDATES + 20, query
        assert weighed_large <= weighed_small + 20, query


def test_two_shared_words_and_no_rare_one_find_the_areas_having_both() -> None:
    areas = [
        IndexedArea(id=n, slug=f"a{n}", name=f"{first} {n}", keys=(f"{first} {n}",), description="")
        for n, first in enumerate(["billing"] * 600 + ["exports"] * 600)
    ]
    areas.append(
        IndexedArea(
            id=5000, slug="be", name="Zz billing exports", keys=("Zz billing exports",), description=""
        )
    )
    index = AreaIndex.build(areas)
    assert index.search("billing exports").matches[0].name == "Zz billing exports"


@pytest.mark.parametrize("query", ["x" * 1_000_000, "billing " * 200_000, "\x00" * 1000, "bill\x00ing"])
def test_huge_or_binary_query_is_answered_without_error(shared: AreaIndex, query: str) -> None:
    result = shared.search(query)
    assert result.kind in set(MatchKind)
    assert len(result.matches) <= 3


# ---- the cached directory ----------------------------------------------------------------------


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """SQL statements the app sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def billing(runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session,
            team_id=TEAM,
            data=AreaIn(name="Billing", owner="U0BOB", team="Payments", aliases=["invoices"]),
        )


def age_cache(runtime: Runtime) -> None:
    """As if INDEX_RECHECK_SECONDS had passed since the last check."""
    for entry in runtime.area_cache._entries.values():
        entry.checked_at -= directory_cache.INDEX_RECHECK_SECONDS


async def test_repeated_lookup_asks_the_database_nothing(
    slack: SlackSender, runtime: Runtime, billing: None
) -> None:
    assert (await slack.command("/whoowns", "billing")).status_code == 200

    with statements(runtime) as seen:
        response = await slack.command("/whoowns", "invoices")

    assert "<@U0BOB>" in str(response.json()["blocks"])
    assert seen == []


async def test_change_committed_in_this_process_is_answered_at_once(
    slack: SlackSender, runtime: Runtime, billing: None
) -> None:
    await slack.command("/whoowns", "billing")
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.get_by_slug(session=session, team_id=TEAM, slug="billing")
        area.owner_status = "deactivated"  # a confirmation job's write: no directory version bump

    response = await slack.command("/whoowns", "billing")

    assert "deactivated" in str(response.json()["blocks"])


async def test_change_by_another_replica_is_seen_after_the_recheck_interval(
    slack: SlackSender, runtime: Runtime, billing: None
) -> None:
    await slack.command("/whoowns", "billing")
    # Another process's write: plain SQL, so nothing in this process hears of it.
    async with runtime.engine.begin() as connection:
        await connection.execute(
            text("UPDATE areas SET owner = 'U0CAROL', updated_at = :now WHERE slug = 'billing'"),
            {"now": area_service.utcnow().replace(tzinfo=None)},
        )

    stale = await slack.command("/whoowns", "billing")
    age_cache(runtime)
    fresh = await slack.command("/whoowns", "billing")

    assert "<@U0BOB>" in str(stale.json()["blocks"])
    assert "<@U0CAROL>" in str(fresh.json()["blocks"])


async def test_rename_by_another_replica_is_found_under_its_new_name(
    slack: SlackSender, runtime: Runtime, billing: None
) -> None:
    await slack.command("/whoowns", "billing")
    async with runtime.engine.begin() as connection:
        await connection.execute(
            text("UPDATE areas SET name = 'Invoicing', updated_at = :now WHERE slug = 'billing'"),
            {"now": area_service.utcnow().replace(tzinfo=None)},
        )
    age_cache(runtime)

    response = await slack.command("/whoowns", "invoicing")

    assert response.json()["text"].startswith("Invoicing is owned by")


async def test_concurrent_cold_lookups_read_the_directory_once(runtime: Runtime, billing: None) -> None:
    cache = directory_cache.AreaIndexCache()

    async def lookup() -> directory_cache.CachedDirectory:
        async with unit_of_work(runtime.session_factory) as session:
            return await cache.directory(session=session, team_id=TEAM)

    with statements(runtime) as seen:
        directories = await asyncio.gather(*(lookup() for _ in range(8)))

    assert len({id(d) for d in directories}) == 1
    assert len([s for s in seen if "FROM areas" in s]) == 1


async def test_snapshots_are_detached_copies(runtime: Runtime, billing: None) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        directory = await runtime.area_cache.directory(session=session, team_id=TEAM)
    result, found = directory_cache.search_directory(directory=directory, query="billing")

    assert result.kind == MatchKind.CONFIDENT
    (area,) = found
    assert isinstance(area, Area) and area.owner == "U0BOB" and area.team == "Payments"
    async with unit_of_work(runtime.session_factory) as session:
        assert area not in session


async def test_reload_keeps_what_was_derived_from_unchanged_areas_only(
    runtime: Runtime, billing: None
) -> None:
    def owners(area: Area) -> list[str | None]:
        return [area.owner]

    async def read() -> directory_cache.CachedDirectory:
        async with unit_of_work(runtime.session_factory) as session:
            return await runtime.area_cache.directory(session=session, team_id=TEAM)

    before = await read()
    (billing_id,) = before.rows
    card = before.memo(billing_id, "card", owners)
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Search", owner="U0DAVE")
        )
    after = await read()
    search_id = next(area_id for area_id in after.rows if area_id != billing_id)
    stale = after.memo(search_id, "card", owners)
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.update_area(
            session=session, team_id=TEAM, slug="search", patch=AreaPatch(owner="U0CAROL")
        )
    latest = await read()

    assert before.retired and after.retired and not latest.retired
    assert latest.memos[billing_id]["card"] is card  # the reloads did not render Billing again
    assert stale == ["U0DAVE"] and latest.memo(search_id, "card", owners) == ["U0CAROL"]


def with_areas(*extra: tuple[str, str]) -> AreaIndex:
    """`large_index`'s areas and these (name, description), so that lookups take the word path."""
    base = large_index()
    areas = list(base.areas.values())
    for n, (name, description) in enumerate(extra, start=len(areas)):
        slug = "-".join(name.lower().replace("(", "").replace(")", "").split())
        areas.append(IndexedArea(id=n, slug=slug, name=name, keys=(name, slug), description=description))
    index = AreaIndex.build(areas)
    assert len(index.key_texts) > SCAN_ALL_KEYS
    return index


@pytest.mark.parametrize("query", ["billing eu", "Billing (EU)", "billing-eu", "billing  ( eu )"])
def test_punctuation_and_spacing_in_names_and_queries_read_alike(query: str) -> None:
    index = with_areas(("Billing (EU)", ""), ("Billing (US)", ""))
    result = index.search(query)
    assert (result.kind, [m.name for m in result.matches]) == (MatchKind.CONFIDENT, ["Billing (EU)"])


def test_a_description_still_finds_an_area_whose_name_says_nothing_of_it() -> None:
    index = with_areas(("Kalomi ledger", "Chargeback disputes raised by card networks."))
    result = index.search("chargeback disputes")
    assert result.matches and result.matches[0].name == "Kalomi ledger"
    assert 0 < result.matches[0].score <= 80  # a description counts at most 0.8 of a name


def test_a_name_matching_well_is_not_outscored_by_descriptions() -> None:
    index = with_areas(("Chargebacks", ""), ("Kalomi ledger", "Chargebacks."))
    result = index.search("chargebacks")
    assert (result.kind, [m.name for m in result.matches]) == (MatchKind.CONFIDENT, ["Chargebacks"])


async def test_a_directory_is_read_a_slice_at_a_time_with_the_event_loop_free_between(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for n in range(150):
            await area_service.create_area(
                session=session, team_id=TEAM, data=AreaIn(name=f"Area {n}", owner="U0BOB")
            )
    # Slices larger than what asyncpg fetches ahead (50 rows), so that each one is awaited.
    monkeypatch.setattr(directory_cache, "LOAD_SLICE_ROWS", 60)
    turns, seen_at_each_slice = 0, []
    streamed = AsyncMappingResult.partitions

    def watched(result: AsyncMappingResult, size: int | None = None) -> AsyncIterator[Any]:
        async def slices() -> AsyncIterator[Any]:
            async for rows in streamed(result, size):
                seen_at_each_slice.append((len(rows), turns))
                yield rows

        return slices()

    monkeypatch.setattr(AsyncMappingResult, "partitions", watched)
    runtime.area_cache.invalidate(TEAM)
    loading = True

    async def other_work() -> None:
        nonlocal turns
        while loading:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.ensure_future(other_work())
    async with unit_of_work(runtime.session_factory) as session:
        directory = await runtime.area_cache.directory(session=session, team_id=TEAM)
    loading = False
    await other
    assert len(directory.rows) == 150
    assert [size for size, _ in seen_at_each_slice] == [60, 60, 30]
    # Other work ran before each slice arrived.
    at = [seen for _, seen in seen_at_each_slice]
    assert all(later > earlier for earlier, later in itertools.pairwise(at)), at
