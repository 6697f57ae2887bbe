"""Directory import and export: Switchboard YAML, Backstage catalogs, CODEOWNERS, and the admin API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.core.errors import UserError
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.emulator.state import TEAM_ID
from bot.ownership import areas as area_service
from bot.ownership import importers
from bot.ownership.announcements import ANNOUNCE_WINDOW
from bot.ownership.importers import ImportFileError, ImportFormat
from bot.ownership.importers.owners import NOT_IN_MAP, NOT_IN_SLACK
from bot.ownership.schema import AreaPatch
from bot.ownership.sync import (
    MAX_ANNOUNCED_NEW_AREAS,
    ImportResult,
    export_directory,
    import_directory,
)
from models import Area, DirectoryVersion, Job
from tests.helpers import after_announce_window

FIXTURES = Path(__file__).parent / "fixtures"
TEAM = TEAM_ID


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def handle_map() -> dict[str, str]:
    return importers.load_handle_map(fixture("handles.yaml"))


async def run_import(
    runtime: Runtime,
    text: str,
    *,
    team: str = TEAM,
    format: ImportFormat | None = None,
    filename: str | None = None,
    handles: dict[str, str] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    directory = importers.parse(text, format=format, filename=filename)
    async with unit_of_work(runtime.session_factory) as session:
        return await import_directory(
            session=session,
            settings=runtime.settings,
            team_id=team,
            directory=directory,
            handle_map=handles,
            lookup_email=importers.slack_email_lookup(runtime.web_client(runtime.bot_token)),
            dry_run=dry_run,
        )


async def export(runtime: Runtime, team: str = TEAM) -> str:
    async with unit_of_work(runtime.session_factory) as session:
        text, _count = await export_directory(session=session, team_id=team)
    return text


async def snapshot(runtime: Runtime, team: str = TEAM) -> tuple[list[dict[str, Any]], int | None, int]:
    """Every stored column of every area, the directory version and the number of queued jobs."""
    async with unit_of_work(runtime.session_factory) as session:
        areas = (await session.scalars(select(Area).where(Area.team_id == team).order_by(Area.slug))).all()
        rows = [
            {column.key: getattr(area, column.key) for column in Area.__table__.columns} for area in areas
        ]
        version = await session.scalar(
            select(DirectoryVersion.version).where(DirectoryVersion.team_id == team)
        )
        jobs = await session.scalar(select(func.count()).select_from(Job))
    return rows, version, int(jobs or 0)


async def stored(runtime: Runtime, slug: str, team: str = TEAM) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        return await area_service.get_by_slug(session=session, team_id=team, slug=slug)


def channel_texts(emulator: SlackEmulator, channel: str) -> list[str]:
    return [str(message["text"]) for message in emulator.messages[channel]]


# ---- Switchboard YAML ------------------------------------------------------------------------


async def test_yaml_import_creates_areas_with_every_field(runtime: Runtime) -> None:
    result = await run_import(runtime, fixture("directory.yaml"))

    assert (sorted(result.created), result.updated, result.unchanged) == (
        ["billing", "bulk-export", "release-process"],
        [],
        [],
    )
    billing = await stored(runtime, "billing")
    assert (billing.name, billing.owner, billing.team, billing.channel) == (
        "Billing",
        "U0BOB",
        "Payments",
        "C0GENERAL",
    )
    assert billing.backups == ["U0CAROL"] and billing.aliases == ["invoices", "payments"]
    assert billing.links == [{"title": "Runbook", "url": "https://wiki.example.com/billing"}]
    assert billing.tags == ["revenue"] and billing.source == "yaml" and billing.last_confirmed_at is not None
    export_area = await stored(runtime, "bulk-export")
    assert export_area.kind == "feature" and "background" in export_area.description
    assert (await stored(runtime, "release-process")).confirm_every_days == 30


async def test_export_then_import_round_trips_and_changes_nothing(runtime: Runtime) -> None:
    await run_import(runtime, fixture("directory.yaml"))
    exported = await export(runtime)
    before = await snapshot(runtime)

    again = await run_import(runtime, exported)

    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 3)
    assert await snapshot(runtime) == before
    assert await export(runtime) == exported
    # Into an empty workspace, the export rebuilds the same directory.
    await run_import(runtime, exported, team="T0OTHER")
    assert await export(runtime, "T0OTHER") == exported


async def test_export_lists_areas_by_slug_with_fields_in_fixed_order(runtime: Runtime) -> None:
    await run_import(runtime, fixture("directory.yaml"))

    exported = await export(runtime)

    assert exported.index("slug: billing") < exported.index("slug: bulk-export")
    assert exported.index("slug: bulk-export") < exported.index("slug: release-process")
    first = exported[exported.index("- slug: billing") :].split("\n- ")[0]
    keys = [line.strip().split(":")[0] for line in first.splitlines() if not line.startswith("  ")]
    assert keys[0] == "- slug"
    assert "description: |" in exported


async def test_reimporting_the_same_file_bumps_nothing(runtime: Runtime) -> None:
    await run_import(runtime, fixture("directory.yaml"))
    before = await snapshot(runtime)

    result = await run_import(runtime, fixture("directory.yaml"))

    assert (result.created, result.updated, sorted(result.unchanged)) == (
        [],
        [],
        ["billing", "bulk-export", "release-process"],
    )
    # updated_at, the directory version and the announcement queue are all untouched.
    assert await snapshot(runtime) == before


async def test_changed_owner_updates_one_area_and_is_announced(
    runtime: Runtime, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await run_import(runtime, fixture("directory.yaml"))
    await run_jobs(after_announce_window())
    assert len(channel_texts(emulator, "C0OWNERS")) == 1
    rows_before, version_before, _ = await snapshot(runtime)
    changed = fixture("directory.yaml").replace("owner: U0BOB", "owner: U0DAVE")

    result = await run_import(runtime, changed)
    await run_jobs(after_announce_window() + ANNOUNCE_WINDOW)

    assert (result.updated, sorted(result.unchanged)) == (["billing"], ["bulk-export", "release-process"])
    rows_after, version_after, _ = await snapshot(runtime)
    assert version_after == (version_before or 0) + 1
    before = {row["slug"]: row for row in rows_before}
    after = {row["slug"]: row for row in rows_after}
    assert after["billing"]["owner"] == "U0DAVE"
    assert after["billing"]["updated_at"] > before["billing"]["updated_at"]
    assert after["bulk-export"] == before["bulk-export"]
    announcements = channel_texts(emulator, "C0OWNERS")
    assert len(announcements) == 2
    assert "*Billing* moved from <@U0BOB> to <@U0DAVE>" in announcements[-1]


async def test_bulk_import_announces_one_summary_not_each_new_area_but_owner_changes_are(
    runtime: Runtime, emulator: SlackEmulator, run_jobs: Any
) -> None:
    count = MAX_ANNOUNCED_NEW_AREAS + 1
    bulk = "areas:\n" + "".join(f"  - name: Area {i}\n    owner: U0BOB\n" for i in range(count))

    seeded = await run_import(runtime, bulk)
    changed = await run_import(runtime, bulk.replace("Area 7\n    owner: U0BOB", "Area 7\n    owner: U0DAVE"))
    await run_jobs(after_announce_window())

    assert (len(seeded.created), seeded.announced, seeded.unannounced_new) == (count, 0, count)
    assert (changed.updated, changed.announced) == (["area-7"], 1)
    assert channel_texts(emulator, "C0OWNERS") == [
        f":inbox_tray: {count} new areas were imported from a yaml file. Owners: <@U0BOB> ({count}). "
        "Ask `/whoowns <what>` to find any of them.",
        ":arrows_counterclockwise: *Area 7* moved from <@U0BOB> to <@U0DAVE>.",
    ]


async def test_clearing_an_owner_is_stored_but_not_announced(runtime: Runtime) -> None:
    await run_import(runtime, fixture("directory.yaml"))
    jobs_before = (await snapshot(runtime))[2]

    result = await run_import(runtime, "areas:\n  - slug: billing\n    name: Billing\n    owner: null\n")

    assert (result.updated, result.announced) == (["billing"], 0)
    assert (await stored(runtime, "billing")).owner is None
    assert (await snapshot(runtime))[2] == jobs_before


async def test_fields_left_out_of_a_mapping_keep_their_value(runtime: Runtime) -> None:
    await run_import(runtime, fixture("directory.yaml"))

    result = await run_import(runtime, "areas:\n  - slug: billing\n    name: Billing\n    team: Revenue\n")

    assert result.updated == ["billing"]
    billing = await stored(runtime, "billing")
    assert (billing.team, billing.owner, billing.channel, billing.backups) == (
        "Revenue",
        "U0BOB",
        "C0GENERAL",
        ["U0CAROL"],
    )


async def test_dry_run_counts_changes_and_writes_nothing(runtime: Runtime) -> None:
    await run_import(runtime, "areas:\n  - name: Billing\n    owner: U0ALICE\n")
    before = await snapshot(runtime)

    result = await run_import(runtime, fixture("directory.yaml"), dry_run=True)

    assert (sorted(result.created), result.updated, result.dry_run) == (
        ["bulk-export", "release-process"],
        ["billing"],
        True,
    )
    assert await snapshot(runtime) == before


# ---- malformed files ---------------------------------------------------------------------------


async def test_malformed_yaml_reports_its_line_and_imports_nothing(runtime: Runtime) -> None:
    await run_import(runtime, "areas:\n  - name: Billing\n    owner: U0ALICE\n")
    before = await snapshot(runtime)

    with pytest.raises(ImportFileError) as caught:
        await run_import(runtime, fixture("malformed.yaml"))

    assert str(caught.value) == "line 6: invalid YAML: mapping values are not allowed in this context"
    assert await snapshot(runtime) == before


async def test_one_invalid_area_rejects_the_whole_file(runtime: Runtime) -> None:
    await run_import(runtime, "areas:\n  - name: Billing\n    owner: U0ALICE\n")
    before = await snapshot(runtime)
    text = (
        "areas:\n"
        "  - name: Billing\n"
        "    owner: U0BOB\n"
        "  - name: Search\n"
        "    owner: U0CAROL\n"
        "  - name: Docs\n"
        "    owner: carol\n"
    )

    with pytest.raises(ImportFileError) as caught:
        await run_import(runtime, text)

    assert str(caught.value) == "line 7: owner: 'carol' must be a Slack user id such as U012AB3CD"
    assert await snapshot(runtime) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("areas: 3\n", "line 1: `areas` must be a list of areas"),
        ("- name: Billing\n", "line 1: expected a mapping with an `areas:` list at the top"),
        ("areas:\n  - Billing\n", "line 2: each area must be a mapping with at least a `name`"),
        ("areas: []\nowners: {}\n", "line 2: unknown top-level key `owners`"),
        ("", "line 1: the file is empty; expected an `areas:` list"),
        ("areas:\n  - name: A\n    colour: red\n", "line 3: unknown field `colour`"),
        ("areas:\n  - slug: x\n", "line 2: `name` is required"),
        (
            "areas:\n  - name: A\n    name: B\n",
            "line 3: invalid YAML: duplicate key `name` (first given on line 2)",
        ),
        (
            "areas:\n  - name: A\n  - name: B\n    slug: a\n",
            "line 3: slug `a` is already used by the area on line 2",
        ),
        (
            "areas:\n  - name: A\n    links:\n      - url: https://example.com\n      - url: not a url\n",
            "line 5: links[1].url: Input should be a valid URL",
        ),
        (
            "areas:\n  - name: A\n    channel: general\n",
            "line 3: channel: 'general' must be a Slack channel id",
        ),
        ("areas:\n  - name: A\n    confirm_every_days: 0\n", "line 3: confirm_every_days: Input should be"),
        ("areas:\n  - name: A\n    kind: planet\n", "line 3: kind: Input should be 'product_area'"),
    ],
)
def test_bad_yaml_files_say_which_line_and_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        importers.parse(text, format=ImportFormat.YAML)

    assert str(caught.value).startswith(message)


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = "areas:\n  - name: A\n    owner: bob\n  - name: B\n    backups: [U0BOB, eve]\n"

    with pytest.raises(ImportFileError) as caught:
        importers.parse(text)

    assert [p.line for p in caught.value.problems] == [3, 5]
    assert "backups[1]: 'eve' must be a Slack user id" in str(caught.value)


# ---- format detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "filename", "expected"),
    [
        ("directory.yaml", "directory.yaml", ImportFormat.YAML),
        ("catalog-info.yaml", "anything.yaml", ImportFormat.BACKSTAGE),
        ("CODEOWNERS", ".github/CODEOWNERS", ImportFormat.CODEOWNERS),
        ("CODEOWNERS", None, ImportFormat.CODEOWNERS),
        ("directory.yaml", None, ImportFormat.YAML),
    ],
)
def test_format_is_told_from_name_or_content(name: str, filename: str | None, expected: ImportFormat) -> None:
    assert importers.detect_format(fixture(name), filename) == expected


def test_unrecognisable_file_asks_for_the_format() -> None:
    with pytest.raises(ImportFileError, match="cannot tell the file's format"):
        importers.detect_format("owners:\n  billing: bob\n")


# ---- Backstage -------------------------------------------------------------------------------------


async def test_backstage_catalog_imports_every_entity_document(
    runtime: Runtime, emulator: SlackEmulator
) -> None:
    result = await run_import(
        runtime, fixture("catalog-info.yaml"), filename="catalog-info.yaml", handles=handle_map()
    )

    assert result.format == ImportFormat.BACKSTAGE
    assert sorted(result.created) == [
        "checkout-api",
        "payments",
        "payments-events",
        "payments-team",
        "saved-carts",
    ]
    assert result.unmapped_owners == []
    payments = await stored(runtime, "payments")
    assert (payments.name, payments.kind, payments.owner, payments.team) == (
        "Payments",
        "product_area",
        "U0BOB",
        "Payments Team",
    )
    assert (
        payments.tags == ["revenue", "pci"]
        and payments.description == "Everything that takes customers' money."
    )
    checkout = await stored(runtime, "checkout-api")
    # The owner is a User entity in the same file; its profile email is looked up in Slack.
    assert (checkout.name, checkout.kind, checkout.owner) == ("Checkout API", "service", "U0CAROL")
    assert checkout.links == [{"title": "Runbook", "url": "https://runbooks.example.com/checkout"}]
    assert [c["email"] for c in emulator.calls_to("users.lookupByEmail")] == ["carol@example.com"]
    carts = await stored(runtime, "saved-carts")
    assert (carts.kind, carts.owner, carts.team) == ("feature", "U0BOB", "Payments Team")
    events = await stored(runtime, "payments-events")
    assert (events.name, events.kind, events.owner) == ("payments-events", "service", "U0BOB")
    group = await stored(runtime, "payments-team")
    assert (group.name, group.kind, group.owner) == ("Payments Team", "team", "U0BOB")


async def test_backstage_reimport_is_a_no_op_and_keeps_fields_the_catalog_lacks(runtime: Runtime) -> None:
    await run_import(runtime, fixture("catalog-info.yaml"), handles=handle_map())
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.update_area(
            session=session, team_id=TEAM, slug="checkout-api", patch=AreaPatch(channel="C0GENERAL")
        )
    before = await snapshot(runtime)

    result = await run_import(runtime, fixture("catalog-info.yaml"), handles=handle_map())

    assert (result.created, result.updated, len(result.unchanged)) == ([], [], 5)
    assert await snapshot(runtime) == before
    assert (await stored(runtime, "checkout-api")).channel == "C0GENERAL"


async def test_backstage_owner_without_mapping_is_reported(runtime: Runtime) -> None:
    result = await run_import(runtime, fixture("catalog-info.yaml"))

    unmapped = {owner.handle: owner for owner in result.unmapped_owners}
    assert set(unmapped) == {"group:default/payments-team", "payments-team", "user:bob"}
    assert unmapped["group:default/payments-team"].areas == ["payments", "payments-team"]
    assert unmapped["user:bob"].reason == NOT_IN_MAP and unmapped["user:bob"].lines == [44]
    assert (await stored(runtime, "payments")).owner is None
    # carol is found through her User entity's email even without a handle map.
    assert (await stored(runtime, "checkout-api")).owner == "U0CAROL"


def test_backstage_entities_sharing_a_name_across_kinds_get_distinct_slugs() -> None:
    text = (
        "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: search\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: search\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Search_UI\n"
        "  namespace: web\nspec:\n  type: website\n  owner: search\n"
    )

    areas = importers.parse(text).areas

    assert [(a.slug, a.values["kind"]) for a in areas] == [
        ("search", "product_area"),
        ("search-group", "team"),
        ("web-search-ui", "service"),
    ]
    assert areas[2].values["team"] == "search"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nspec: {}\n",
            "line 1: entity has no `metadata.name`",
        ),
        ("apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: x\n", "line 1: entity has no `kind`"),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n---\n"
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: y\n  links:\n    - title: x\n",
            "line 11: `links[0].url` is required",
        ),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n"
            "spec:\n  owner: a:b:c\n",
            "line 6: `spec.owner` 'a:b:c' is not an entity reference",
        ),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n---\n"
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n",
            "line 6: entity `component:x` clashes with `component:x` on line 1",
        ),
    ],
)
def test_bad_backstage_entities_say_which_line(text: str, message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        importers.parse(text, format=ImportFormat.BACKSTAGE)

    assert str(caught.value).startswith(message)


# ---- CODEOWNERS --------------------------------------------------------------------------------------


async def test_codeowners_maps_handles_and_emails_and_reports_unmapped_team(
    runtime: Runtime, emulator: SlackEmulator
) -> None:
    result = await run_import(runtime, fixture("CODEOWNERS"), filename="CODEOWNERS", handles=handle_map())

    assert sorted(result.created) == ["all-files", "apps-billing", "apps-search", "docs"]
    assert [owner.as_dict() for owner in result.unmapped_owners] == [
        {
            "handle": "@acme/web",
            "reason": NOT_IN_MAP,
            "areas": ["apps-billing", "apps-search"],
            "lines": [4, 6],
        }
    ]
    catch_all = await stored(runtime, "all-files")
    assert (catch_all.name, catch_all.owner, catch_all.kind) == ("All files (*)", "U0ALICE", "service")
    billing = await stored(runtime, "apps-billing")
    # First owner → owner; the rest → backups, the email through users.lookupByEmail, the team left out.
    assert (billing.name, billing.owner, billing.backups) == (
        "Billing (/apps/billing/)",
        "U0ALICE",
        ["U0CAROL"],
    )
    assert billing.aliases == ["/apps/billing/"]
    assert (await stored(runtime, "docs")).owner == "U0DAVE"
    # The unmapped first owner is not replaced by a backup: the area has no owner.
    search = await stored(runtime, "apps-search")
    assert (search.owner, search.backups) == (None, ["U0ALICE"])
    looked_up = sorted(c["email"] for c in emulator.calls_to("users.lookupByEmail"))
    assert looked_up == ["carol@example.com", "dave@example.com"]


async def test_codeowners_reimport_changes_nothing(runtime: Runtime) -> None:
    await run_import(runtime, fixture("CODEOWNERS"), handles=handle_map())
    before = await snapshot(runtime)

    result = await run_import(runtime, fixture("CODEOWNERS"), handles=handle_map())

    assert (result.created, result.updated, len(result.unchanged)) == ([], [], 4)
    assert [owner.handle for owner in result.unmapped_owners] == ["@acme/web"]
    assert await snapshot(runtime) == before


async def test_unmapped_owner_keeps_the_owner_an_area_already_has(runtime: Runtime) -> None:
    await run_import(runtime, "areas:\n  - slug: apps-search\n    name: /apps/search/\n    owner: U0DAVE\n")

    result = await run_import(runtime, "/apps/search/ @acme/web @alice\n", handles=handle_map())

    assert result.updated == ["apps-search"]
    search = await stored(runtime, "apps-search")
    assert (search.owner, search.backups) == ("U0DAVE", ["U0ALICE"])


async def test_email_without_slack_user_is_reported(runtime: Runtime, emulator: SlackEmulator) -> None:
    emulator.add_user("U0GONE", "gone", email="gone@example.com", deleted=True)

    result = await run_import(runtime, "/a/ nobody@example.com\n/b/ gone@example.com\n")

    reasons = {owner.handle: owner.reason for owner in result.unmapped_owners}
    assert reasons["nobody@example.com"] == NOT_IN_SLACK
    assert "deactivated" in reasons["gone@example.com"]
    assert (await stored(runtime, "a")).owner is None


async def test_slack_refusing_email_lookups_stops_the_import(
    runtime: Runtime, emulator: SlackEmulator
) -> None:
    emulator.fail("users.lookupByEmail", error="missing_scope")

    with pytest.raises(UserError, match="users:read.email"):
        await run_import(runtime, fixture("CODEOWNERS"), handles=handle_map())

    assert (await snapshot(runtime))[0] == []


def test_codeowners_details() -> None:
    text = (
        "# comment\n"
        "[Docs] @docs-team\n"
        "/docs/\n"
        "/docs/api/ @alice\n"
        "/my\\ dir/ @bob\n"
        "/docs/ @carol  # later line wins\n"
        "docs @dave\n"
    )

    areas = importers.parse(text, format=ImportFormat.CODEOWNERS).areas

    assert [(a.slug, a.values["name"], a.owner_ref and a.owner_ref.handle) for a in areas] == [
        ("docs-api", "Docs api (/docs/api/)", "@alice"),
        ("my-dir", "My dir (/my dir/)", "@bob"),
        ("docs", "Docs (/docs/)", "@carol"),
        ("docs-2", "Docs (docs)", "@dave"),
    ]


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("src/checkout", "Checkout (src/checkout)"),
        ("*.tf", "Terraform files (*.tf)"),
        ("*", "All files (*)"),
        ("/apps/payments_api/**", "Payments api (/apps/payments_api/**)"),
        ("docs/*.md", "Markdown files in Docs (docs/*.md)"),
        ("**/*.xyz", "XYZ files (**/*.xyz)"),
        ("Makefile", "Makefile"),
    ],
)
def test_codeowners_names_areas_from_the_path_in_words_and_keeps_the_pattern_as_alias(
    pattern: str, name: str
) -> None:
    (area,) = importers.parse(f"{pattern} @alice\n", format=ImportFormat.CODEOWNERS).areas

    assert area.values["name"] == name
    assert area.create_defaults["aliases"] == [pattern]


def test_codeowners_line_with_a_non_owner_is_an_error() -> None:
    with pytest.raises(ImportFileError) as caught:
        importers.parse("* @alice\n/src/ alice\n", format=ImportFormat.CODEOWNERS)

    assert str(caught.value) == (
        "line 2: `alice` is not an owner; expected @user, @org/team or an email address"
    )


def test_handle_map_entries_must_be_slack_user_ids() -> None:
    with pytest.raises(ImportFileError) as caught:
        importers.load_handle_map("'@alice': U0ALICE\n'@bob': bob\n")

    assert str(caught.value) == "line 2: `@bob` must map to a Slack user id such as U012AB3CD"


# ---- admin API ----------------------------------------------------------------------------------------


async def test_api_import_answers_counts_and_reimport_changes_nothing(api: httpx.AsyncClient) -> None:
    body = fixture("directory.yaml").encode()
    headers = {"Content-Type": "application/yaml"}

    first = await api.put("/api/v1/areas:import", content=body, headers=headers)
    second = await api.put("/api/v1/areas:import", content=body, headers=headers)

    assert first.status_code == 200, first.text
    assert first.json() | {"created_slugs": None} == {
        "format": "yaml",
        "dry_run": False,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "announced": 3,
        "unannounced_new_areas": 0,
        "created_slugs": None,
        "updated_slugs": [],
        "unmapped_owners": [],
    }
    assert (second.json()["created"], second.json()["updated"], second.json()["unchanged"]) == (0, 0, 3)
    listed = await api.get("/api/v1/areas/billing")
    assert listed.status_code == 200 and listed.json()["owner"] == "U0BOB"


async def test_api_import_of_codeowners_lists_unmapped_owners(api: httpx.AsyncClient) -> None:
    response = await api.put(
        "/api/v1/areas:import?format=codeowners",
        content=fixture("CODEOWNERS").encode(),
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 4
    # Handles need the CLI's handle map; emails are found in Slack.
    assert [(o["handle"], o["areas"]) for o in body["unmapped_owners"]] == [
        ("@alice", ["all-files", "apps-billing", "apps-search"]),
        ("@acme/web", ["apps-billing", "apps-search"]),
    ]


async def test_api_malformed_file_is_422_with_its_line_and_writes_nothing(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    before = await snapshot(runtime)

    response = await api.put(
        "/api/v1/areas:import",
        content=fixture("malformed.yaml").encode(),
        headers={"Content-Type": "application/yaml"},
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_request",
        "message": "line 6: invalid YAML: mapping values are not allowed in this context",
    }
    assert await snapshot(runtime) == before


async def test_api_dry_run_writes_nothing(api: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await api.put(
        "/api/v1/areas:import?dry_run=true",
        content=fixture("directory.yaml").encode(),
        headers={"Content-Type": "application/x-yaml; charset=utf-8"},
    )

    assert response.status_code == 200 and response.json()["created"] == 3
    assert (await snapshot(runtime))[0] == []


async def test_api_refuses_other_content_types_and_missing_tokens(api: httpx.AsyncClient) -> None:
    as_json = await api.put("/api/v1/areas:import", json={"areas": []})
    assert as_json.status_code == 415 and as_json.json()["error"] == "unsupported_media_type"

    bad_format = await api.put(
        "/api/v1/areas:import?format=csv", content=b"areas: []", headers={"Content-Type": "text/plain"}
    )
    assert bad_format.status_code == 422

    del api.headers["Authorization"]
    anonymous = await api.put(
        "/api/v1/areas:import", content=b"areas: []", headers={"Content-Type": "application/yaml"}
    )
    assert anonymous.status_code == 401
