"""The directories `ack.py` loads and the queries it sends.

The kind case: plausible, distinct area names ("Billing reconciliation") and the mix of exact
names, aliases, typos and single words people type. The hard case: names sharing words ("Area 17
checkout": a quarter of the directory shares each common word) beside one distinct area, and
typos people make of them ("chekout 812", "bilings"), every query distinct.
"""

from __future__ import annotations

import functools
import random
from typing import Any

TEAM_ID = "T0SWITCH"

DOMAINS = [
    "Billing", "Invoicing", "Payments", "Checkout", "Pricing", "Subscriptions", "Refunds", "Tax",
    "Search", "Recommendations", "Notifications", "Email", "SMS", "Push", "Onboarding", "Signup",
    "Login", "SSO", "Permissions", "Roles", "Audit", "Compliance", "Privacy", "Consent", "Analytics",
    "Reporting", "Dashboards", "Exports", "Imports", "Sync", "Webhooks", "Integrations", "Slack",
    "Calendar", "Scheduling", "Booking", "Inventory", "Catalog", "Orders", "Shipping", "Returns",
    "Fulfilment", "Warehouse", "Vendors", "Contracts", "Quotes", "Leads", "Accounts", "Contacts",
    "Campaigns", "Referrals", "Loyalty", "Coupons", "Gift cards", "Reviews", "Ratings", "Comments",
    "Messaging", "Chat", "Video", "Voice", "Media", "Uploads", "Storage", "Backups", "Archive",
    "Localization", "Translation", "Accessibility", "Theming", "Branding", "Mobile", "Desktop",
    "Browser extension", "Public API", "SDK", "CLI", "Docs", "Help center", "Status page",
    "Support tickets", "Knowledge base", "Community", "Forums", "Events", "Webinars", "Surveys",
    "Feedback", "Experiments", "Feature flags", "Billing portal", "Admin console", "Workspace",
    "Teams", "Projects", "Tasks", "Timesheets", "Expenses", "Payroll", "Benefits", "Hiring",
]  # fmt: skip
FACETS = [
    "API", "UI", "service", "pipeline", "jobs", "database", "cache", "gateway", "worker", "queue",
    "settings", "limits", "alerts", "metrics", "logs", "search index", "exports", "imports",
    "migrations", "permissions", "templates", "webhooks", "reports", "widgets", "editor", "viewer",
    "scheduler", "importer", "exporter", "sync", "mobile app", "web app", "backend", "frontend",
    "SDK", "docs", "onboarding", "billing", "pricing", "experiments", "emails", "notifications",
    "calendar", "audit log", "access", "tokens", "sessions", "storage", "uploads", "previews",
    "thumbnails", "translations", "accessibility", "performance", "reliability", "security",
    "privacy", "compliance", "retention", "archival", "backups", "recovery", "rate limits", "quotas",
    "usage", "invoices", "refunds", "disputes", "payouts", "ledger", "reconciliation", "tax rules",
    "currency", "localization", "timezones", "holidays", "routing", "matching", "ranking",
    "recommendations", "spam filter", "moderation", "reputation", "badges", "leaderboards",
    "streaks", "reminders", "digests", "summaries", "insights", "forecasts", "budgets", "approvals",
    "workflows", "automations", "rules", "triggers", "actions", "connectors", "playbooks",
]  # fmt: skip
# Past DOMAINS x FACETS names, each pair again per qualifier: "Billing reconciliation (EU)".
QUALIFIERS = ["EU", "US", "APAC", "LATAM", "enterprise", "self-serve", "mobile", "legacy", "v2", "beta"]
KINDS = ["product_area", "feature", "service", "process", "doc"]
TEAMS = ["Payments", "Growth", "Core", "Platform", "Data", "Mobile", "Trust", "Infra", "Docs"]


def directory(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` distinct, plausible areas: "Billing reconciliation", alias "billing-recon", …"""
    pairs = [(d, f) for d in DOMAINS for f in FACETS]
    rng.shuffle(pairs)
    names = [(domain, facet, f"{domain} {facet}") for domain, facet in pairs]
    for qualifier in QUALIFIERS:
        names += [(domain, facet, f"{domain} {facet} ({qualifier})") for domain, facet in pairs]
    if count > len(names):
        raise SystemExit(f"--areas can be at most {len(names)}")
    areas = []
    for n, (domain, facet, name) in enumerate(names[:count]):
        short = "".join(word[0] for word in name.split()).lower()
        areas.append(
            {
                "name": name,
                "slug": f"{name.lower().replace(' ', '-').replace('(', '').replace(')', '')}",
                "aliases": [f"{short}-{n}", f"{domain.lower()}-{facet.split()[0].lower()}"],
                "kind": KINDS[n % len(KINDS)],
                "description": f"The {facet} behind {domain.lower()}, run by {TEAMS[n % len(TEAMS)]}.",
                "owner": f"U{n:08d}",
                "team": TEAMS[n % len(TEAMS)],
                "backups": [f"U{(n + 1) % count:08d}"],
            }
        )
    return areas


def typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard: a dropped, doubled or swapped letter."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    slip = rng.choice(("drop", "double", "swap"))
    if slip == "drop":
        return text[:i] + text[i + 1 :]
    if slip == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def queries(areas: list[dict[str, Any]], count: int, rng: random.Random) -> list[str]:
    """70% exact names or aliases (any case), 30% typos or a single word of a name."""
    found = []
    for _ in range(count):
        area = rng.choice(areas)
        roll = rng.random()
        if roll < 0.45:
            found.append(area["name"].lower() if rng.random() < 0.5 else area["name"])
        elif roll < 0.70:
            found.append(rng.choice(area["aliases"]))
        elif roll < 0.88:
            found.append(typo(area["name"].lower(), rng))
        else:
            found.append(rng.choice(area["name"].split()).lower())
    return found


COMMON_WORDS = ["checkout", "billing", "search", "notifications"]
DISTINCT_AREA = "Payments page"


def shared_words_directory(count: int) -> list[dict[str, Any]]:
    """`count` areas named "Area 17 checkout", a quarter per common word, and one distinct area."""
    areas = []
    for n in range(count):
        word = COMMON_WORDS[n % len(COMMON_WORDS)]
        areas.append(
            {
                "name": f"Area {n} {word}",
                "slug": f"area-{n}-{word}",
                "aliases": [f"{word}-{n}"],
                "kind": KINDS[n % len(KINDS)],
                "description": f"The {word} flow for accounts of cohort {n % 50}.",
                "owner": f"U{n:08d}",
                "team": TEAMS[n % len(TEAMS)],
            }
        )
    areas.append({"name": DISTINCT_AREA, "owner": "U0PAYMENT", "team": "Payments", "kind": "feature"})
    return areas


def shared_word_typos(areas: int, count: int, rng: random.Random) -> list[str]:
    """`count` distinct queries as people mistype them: "chekout 812", "bilings", "812 serach"."""
    found: dict[str, None] = {}
    for _ in range(50 * count):
        if len(found) == count:
            break
        word = typo(rng.choice(COMMON_WORDS), rng)
        if rng.random() < 0.3:
            word = typo(word, rng)  # two slips: "bilings"
        roll = rng.random()
        if roll < 0.7:
            query = f"{word} {rng.randrange(areas)}"
        elif roll < 0.9:
            query = f"{rng.randrange(areas)} {word}"
        else:
            query = word
        found.setdefault(query, None)
    return rng.sample(list(found), len(found))


def _same_line(line: int, _loc: object) -> int:
    return line


async def seed(database_url: str, areas: list[dict[str, Any]]) -> None:
    """Migrate the database and add the areas through the importer's validation and upsert.

    That is `switchboard owners import` without reading a YAML file, which alone would take
    longer than the whole benchmark for 10,000 areas.
    """
    from bot.core import migrate
    from bot.core.db import create_engine, create_session_factory
    from bot.core.settings import load_settings
    from bot.core.uow import unit_of_work
    from bot.ownership.importers import ImportFormat, ParsedArea, ParsedDirectory
    from bot.ownership.importers.validation import area_values, validate_area
    from bot.ownership.sync import import_directory

    parsed = []
    for line, raw in enumerate(areas, start=1):
        area, problems = validate_area(raw, locate=functools.partial(_same_line, line))
        if area is None:
            raise SystemExit(f"generated area {raw['name']!r} is invalid: {problems}")
        parsed.append(ParsedArea(line=line, slug=area.resolved_slug(), values=area_values(area)))
    await migrate.upgrade_async(database_url)
    settings = load_settings(database_url=database_url, _env_file=None)
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await import_directory(
                session=session,
                settings=settings,
                team_id=TEAM_ID,
                directory=ParsedDirectory(format=ImportFormat.YAML, areas=parsed),
            )
    finally:
        await engine.dispose()
