"""Feedback queries at scale: a filtered page, full-text search and a 100,000-row CSV export.

Creates a scratch PostgreSQL database, applies the migrations, loads 1,000,000 feedback items
(asyncpg COPY, secondary indexes rebuilt after the load as a bulk import would), then times the
same service calls the admin API makes:

- a filtered page: `list_feedback` with area/kind/importance/customer/since combinations, first
  pages and keyset follow-up pages, 50 items each;
- full-text search: `list_feedback` with `q` (websearch syntax, GIN index), 50 items;
- the CSV export of 100,000 rows: the generator behind `GET /feedback.csv`, consumed to the end;
- the statistics behind `GET /stats` (every section) over its default eight weeks, a year and
  two years, each beside a baseline timed in the same run: the same report with the feedback and
  themes sections computed as before the rollups (grouping every item of the window by its
  week, and every linked item of all time by theme and customer), on the same data and indexes.
  Both answers are compared, and the run fails if they differ. The data set has no launches, so
  their sections cost next to nothing.

The items have 120 areas, 1,500 themes and 20,000 customers, popularity skewed (a few themes and
customers account for much of the feedback, as in a real workspace), a fifth of the customer
names spelt in lower case. COPY does not fire the rollups' triggers (they are disabled for the
load, then the rollups are filled from the items in one statement each, as the migration does),
and the table is vacuumed after the load, as autovacuum does after a bulk insert.

    .venv/bin/python bench/feedback_queries.py
    .venv/bin/python bench/feedback_queries.py --rows 200000 --queries 100

The database is dropped at the end, also on failure. Targets: p95 under 100 ms for page and search,
under 200 ms for the eight-week statistics; the exit status is 0 when all are met and both
statistics answers agree, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Date, and_, case, cast, func, literal_column, select
from sqlalchemy import text as sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.analytics import launch_queries  # noqa: E402
from bot.analytics import queries as stats_queries  # noqa: E402
from bot.analytics.schema import FeedbackStatsOut, StatsOut, ThemeStatOut, WeekOut  # noqa: E402
from bot.analytics.window import Window, default_window  # noqa: E402
from bot.core import migrate  # noqa: E402
from bot.core.db import create_engine, create_session_factory  # noqa: E402
from bot.core.uow import unit_of_work  # noqa: E402
from bot.feedback import queries as feedback_queries  # noqa: E402
from bot.feedback.api import CSV_BATCH, _csv_stream  # noqa: E402
from bot.feedback.schema import FeedbackFilters, KeysetPosition  # noqa: E402
from bot.ownership.stats import ownership_health  # noqa: E402
from models import Area, Feedback, Importance, Theme, rollups  # noqa: E402

TEAM = "T0BENCH"
OTHER_TEAM = "T0OTHER"
TARGET_MS = 100.0
STATS_TARGET_MS = 200.0
STATS_QUERIES = 100
CHUNK = 50_000
PAGE = 50
AREAS = 120
THEMES = 1_500
CUSTOMERS = 20_000
KINDS = ["bug", "request", "praise", "question", "other"]
KIND_WEIGHTS = [30, 40, 10, 15, 5]
IMPORTANCE = ["low", "medium", "high", "critical"]
IMPORTANCE_WEIGHTS = [25, 50, 22, 3]
STATUSES = ["new", "triaged", "shipped", "declined"]
COMMON = (
    "the customer wants to export report dashboard invoice billing search filter login sso user admin "
    "page slow error crash mobile app api integration csv pdf email notification permission role team "
    "workspace account plan upgrade sync calendar import data chart table column sort bulk settings"
).split()
RARE = (
    "reconciliation webhook saml scim idempotency throttling localization accessibility screenreader "
    "timezone daylight sandbox quarantine retention gdpr hipaa audit ledger escrow payout chargeback "
    "sharding failover latency backpressure pagination watermark thumbnail transcoding geofence"
).split()
FILLER = (
    "is are was it this that we our they when with for on in to of and but not very really please".split()
)


@dataclass
class Timing:
    name: str
    samples: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def line(self) -> str:
        return (
            f"{self.name:<28} n={len(self.samples):<5} p50={self.percentile(50):7.1f} ms  "
            f"p95={self.percentile(95):7.1f} ms  max={max(self.samples):7.1f} ms"
        )

    def percentiles(self) -> str:
        return (
            f"{self.name:<28} n={len(self.samples):<5} p50={self.percentile(50):7.1f} ms  "
            f"p95={self.percentile(95):7.1f} ms  p99={self.percentile(99):7.1f} ms"
        )


def _zipf(count: int) -> list[float]:
    """Cumulative weights 1/rank: the first few of `count` are picked far more often."""
    return list(itertools.accumulate(1 / rank for rank in range(1, count + 1)))


THEME_WEIGHTS = _zipf(THEMES)
CUSTOMER_WEIGHTS = _zipf(CUSTOMERS)


def _skewed(rng: random.Random, values: list[Any], cumulative: list[float]) -> Any:
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _customer(rng: random.Random) -> str | None:
    if rng.random() >= 0.8:
        return None
    name = f"Customer {_skewed(rng, CUSTOMER_NAMES, CUSTOMER_WEIGHTS)}"
    # The same customer typed another way: the statistics count it once.
    return name.lower() if rng.random() < 0.2 else name


CUSTOMER_NAMES = [f"{n:05d}" for n in range(CUSTOMERS)]


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _text(rng: random.Random) -> str:
    words = rng.choices(COMMON, k=rng.randint(4, 14)) + rng.choices(FILLER, k=rng.randint(3, 12))
    if rng.random() < 0.08:
        words.append(rng.choice(RARE))
    rng.shuffle(words)
    return " ".join(words).capitalize()


def _records(
    count: int, *, seed: int, area_ids: list[int], theme_ids: list[int], start: datetime
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = (datetime.now(UTC) - start).total_seconds()
    for n in range(count):
        created = start + timedelta(seconds=span * (n / count) + rng.random())
        team = OTHER_TEAM if rng.random() < 0.1 else TEAM
        yield (
            team,
            _text(rng),
            rng.choices(KINDS, KIND_WEIGHTS)[0],
            rng.choices(IMPORTANCE, IMPORTANCE_WEIGHTS)[0],
            _customer(rng),
            rng.choice(["enterprise", "mid-market", "smb"]),
            rng.choice(area_ids) if rng.random() < 0.85 else None,
            json.dumps(rng.sample(["ux", "perf", "api", "mobile", "security"], k=rng.randint(0, 2))),
            _skewed(rng, theme_ids, THEME_WEIGHTS) if rng.random() < 0.3 else None,
            rng.choice(["shortcut", "reaction", "command", "api"]),
            f"C{rng.randrange(400):07d}",
            f"{1_600_000_000 + n}.{rng.randrange(1_000_000):06d}",
            f"U{rng.randrange(2000):07d}",
            f"U{rng.randrange(300):07d}",
            rng.choices(STATUSES, [60, 30, 7, 3])[0],
            created,
            created,
        )


COLUMNS = [
    "team_id",
    "text",
    "kind",
    "importance",
    "customer",
    "segment",
    "area_id",
    "tags",
    "theme_id",
    "source",
    "channel",
    "message_ts",
    "author",
    "reporter",
    "status",
    "created_at",
    "updated_at",
]


async def load(dsn: str, rows: int) -> tuple[list[str], float]:
    """Areas, themes and `rows` feedback items; returns area slugs and seconds spent."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        area_ids = []
        slugs = []
        for n in range(AREAS):
            slug = f"area-{n:02d}"
            area_ids.append(
                await connection.fetchval(
                    """INSERT INTO areas (team_id, slug, name, aliases, kind, description, backups, links,
                       tags, source, confirm_every_days, owner_status, created_at, updated_at, owner)
                       VALUES ($1, $2, $3, '[]', 'product_area', '', '[]', '[]', '[]', 'bench', 90,
                       'active', $4, $4, $5) RETURNING id""",
                    TEAM,
                    slug,
                    f"Area {n}",
                    now,
                    f"U{n:07d}",
                )
            )
            slugs.append(slug)
        theme_ids = [
            await connection.fetchval(
                """INSERT INTO themes (team_id, title, description, status, created_at, updated_at)
                   VALUES ($1, $2, '', 'open', $3, $3) RETURNING id""",
                TEAM,
                f"Theme {n}",
                now,
            )
            for n in range(THEMES)
        ]
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'feedback'"
            " AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        for trigger in rollups.POSTGRES_TRIGGERS:
            await connection.execute(f"ALTER TABLE feedback DISABLE TRIGGER {trigger}")
        source = _records(
            rows, seed=7, area_ids=area_ids, theme_ids=theme_ids, start=now - timedelta(days=730)
        )
        loaded = 0
        while loaded < rows:
            batch = [record for _, record in zip(range(CHUNK), source, strict=False)]
            await connection.copy_records_to_table("feedback", records=batch, columns=COLUMNS)
            loaded += len(batch)
            print(f"  loaded {loaded:,} items ({time.perf_counter() - started:.0f} s)", flush=True)
        for index in indexes:
            await connection.execute(index["indexdef"])
        for statement in rollups.backfill("postgresql"):
            await connection.execute(statement)
        for trigger in rollups.POSTGRES_TRIGGERS:
            await connection.execute(f"ALTER TABLE feedback ENABLE TRIGGER {trigger}")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return slugs, time.perf_counter() - started


async def timed(
    name: str,
    runs: int,
    query: Callable[[int], Awaitable[Any]],
    after_warmup: Callable[[], None] = lambda: None,
) -> Timing:
    for n in range(min(5, runs)):  # warm-up: connections, plans, caches
        await query(n)
    after_warmup()
    samples = []
    for n in range(runs):
        started = time.perf_counter()
        await query(n)
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(name, samples)


async def feedback_before(
    *, session: Any, team_id: str, since: Any, until: Any, now: datetime
) -> FeedbackStatsOut:
    """The feedback section as it was computed before: areas joined to every item, then grouped."""
    window = Window(since=since, until=until)
    # The Monday of each item's UTC week, computed from its timestamp.
    week = cast(
        func.date_trunc(
            literal_column("'week'"), func.timezone(literal_column("'UTC'"), Feedback.created_at)
        ),
        Date,
    )
    critical = func.sum(case((Feedback.importance == Importance.CRITICAL, 1), else_=0))
    rows = await session.execute(
        select(week, Feedback.kind, Area.slug, func.count(), critical)
        .select_from(Feedback)
        .outerjoin(Area, Area.id == Feedback.area_id)
        .where(
            Feedback.team_id == team_id,
            Feedback.created_at >= window.start,
            Feedback.created_at < window.end,
        )
        .group_by(week, Feedback.kind, Area.slug)
    )
    kinds: dict[Any, dict[str, int]] = {w: dict.fromkeys(stats_queries.KINDS, 0) for w in window.weeks()}
    areas: dict[Any, dict[str, int]] = {w: defaultdict(int) for w in window.weeks()}
    critical_total = 0
    for raw_week, kind, slug, count, critical_count in rows:
        monday = raw_week
        kinds[monday][kind] += count
        areas[monday][slug or stats_queries.UNASSIGNED] += count
        critical_total += int(critical_count or 0)
    by_week = [
        WeekOut(
            week=w, total=sum(kinds[w].values()), by_kind=kinds[w], by_area=stats_queries._ranked(areas[w])
        )
        for w in kinds
    ]
    return FeedbackStatsOut(by_week=by_week, total=sum(w.total for w in by_week), critical=critical_total)


async def themes_before(
    *, session: Any, team_id: str, since: Any, until: Any, now: datetime
) -> list[ThemeStatOut]:
    """The themes section as it was computed before: every linked item grouped by theme and customer."""
    window = Window(since=since, until=until)
    customer = func.lower(Feedback.customer)
    per_customer = (
        select(
            Feedback.theme_id,
            customer.label("customer"),
            func.count().label("items"),
            func.min(Feedback.created_at).label("first_at"),
        )
        .where(Feedback.team_id == team_id, Feedback.theme_id.is_not(None))
        .group_by(Feedback.theme_id, customer)
        .subquery()
    )
    first_at = per_customer.c.first_at
    is_new = and_(per_customer.c.customer.is_not(None), first_at >= window.start, first_at < window.end)
    totals = await session.execute(
        select(
            per_customer.c.theme_id,
            func.sum(per_customer.c["items"]),
            func.count(per_customer.c.customer),
            func.sum(case((is_new, 1), else_=0)),
        ).group_by(per_customer.c.theme_id)
    )
    counts = {theme_id: (int(n), int(c), int(new)) for theme_id, n, c, new in totals}
    themes = await session.execute(
        select(Theme.id, Theme.title, Theme.status).where(
            Theme.team_id == team_id, Theme.merged_into_id.is_(None)
        )
    )
    shown = [
        ThemeStatOut(id=id_, title=title, status=status, items=n, customers=c, new_customers=new)
        for id_, title, status in themes
        if id_ in counts
        for n, c, new in [counts[id_]]
    ]
    shown.sort(key=lambda t: (-t.customers, -t.items, t.id))
    return shown[: stats_queries.TOP_THEMES]


async def report_before(*, session: Any, team_id: str, since: Any, until: Any, now: datetime) -> StatsOut:
    """`stats_report` with the feedback and themes sections computed as before (the baseline)."""
    window = {"session": session, "team_id": team_id, "since": since, "until": until, "now": now}
    feedback = await feedback_before(**window)
    themes = await themes_before(**window)
    launches, standups = await launch_queries.launch_stats(**window)
    health = await ownership_health(session=session, team_id=team_id, now=now)
    return StatsOut(
        team_id=team_id,
        since=since,
        until=until,
        generated_at=now,
        feedback=feedback,
        themes=themes,
        launches=launches,
        standups=standups,
        ownership=stats_queries.ownership_section(health),
    )


async def time_stats(factory: Any, queries: int) -> tuple[Timing, bool]:
    """The whole `/stats` answer over eight weeks, a year and two years, each beside the baseline.

    Returns the eight-week timing and whether every window's answer equals the baseline's.
    """
    now = datetime.now(UTC)
    today = now.date()
    windows = [
        ("8 weeks", default_window(today=today)),
        ("1 year", Window(since=today - timedelta(days=364), until=today)),
        ("2 years", Window(since=today - timedelta(days=730), until=today)),
    ]
    runs = min(queries, STATS_QUERIES)
    answers: dict[str, Any] = {}

    def section(name: str, query: Any, window: Window) -> Callable[[int], Awaitable[Any]]:
        async def measured(_n: int) -> None:
            async with unit_of_work(factory) as session:
                answers[name] = await query(
                    session=session, team_id=TEAM, since=window.since, until=window.until, now=now
                )

        return measured

    eight_weeks: Timing | None = None
    agree = True
    for label, window in windows:
        count = runs if label == "8 weeks" else max(1, runs // 4)
        print(f"/stats over {label} ({window.since} to {window.until}), {count} runs each:")
        # Alternated by run, so that drift (other load on the machine) hits both alike.
        before: list[float] = []
        after: list[float] = []
        for query in (report_before, stats_queries.stats_report):
            for n in range(3):  # warm-up: connections, plans, caches
                await section(query.__name__, query, window)(n)
        for n in range(count):
            for query, samples in ((report_before, before), (stats_queries.stats_report, after)):
                started = time.perf_counter()
                await section(query.__name__, query, window)(n)
                samples.append((time.perf_counter() - started) * 1000)
        same = answers["report_before"] == answers["stats_report"]
        agree = agree and same
        print("  " + Timing("baseline (before)", before).percentiles())
        print("  " + Timing("stats_report", after).percentiles())
        print(f"  same answer: {'yes' if same else 'NO'}")
        if label == "8 weeks":
            eight_weeks = Timing(f"stats, {label} (all)", after)
            sections: tuple[tuple[str, Any], ...] = (
                ("feedback section", stats_queries.feedback_stats),
                ("themes section", stats_queries.theme_stats),
            )
            for name, query in sections:
                print(
                    "  " + (await timed(name, max(1, runs // 4), section(name, query, window))).percentiles()
                )
    assert eight_weeks is not None
    return eight_weeks, agree


async def run(admin_url: str, rows: int, queries: int) -> int:
    name = f"switchboard_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_admin_dsn(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(url)
    try:
        await migrate.upgrade_async(url)
        print(f"Loading {rows:,} feedback items into {name} …")
        slugs, seconds = await load(_admin_dsn(url), rows)
        print(f"Loaded in {seconds:.1f} s (COPY, then index builds, rollups and VACUUM ANALYZE)\n")
        factory = create_session_factory(engine)
        rng = random.Random(11)
        since = datetime.now(UTC) - timedelta(days=90)

        def page_filters(n: int) -> FeedbackFilters:
            shape = n % 5
            if shape == 0:
                return FeedbackFilters(area=rng.choice(slugs))
            if shape == 1:
                return FeedbackFilters(area=rng.choice(slugs), kind=rng.choice(KINDS))
            if shape == 2:
                return FeedbackFilters(importance="critical", since=since)
            if shape == 3:
                return FeedbackFilters(customer=f"Customer {rng.randrange(CUSTOMERS):05d}")
            return FeedbackFilters(kind=rng.choice(KINDS), status="new")

        async def filtered_page(n: int) -> None:
            async with unit_of_work(factory) as session:
                filters = page_filters(n)
                first = await feedback_queries.list_feedback(
                    session=session, team_id=TEAM, filters=filters, limit=PAGE + 1
                )
                if n % 2 and len(first) > PAGE:
                    last = first[PAGE - 1].feedback
                    await feedback_queries.list_feedback(
                        session=session,
                        team_id=TEAM,
                        filters=filters,
                        after=KeysetPosition(created_at=last.created_at, id=last.id),
                        limit=PAGE + 1,
                    )

        searches: list[tuple[str, str]] = [
            *(("rare word", word) for word in RARE),
            *(("common word", word) for word in COMMON[:12]),
            *(("common + rare words", f"{rng.choice(COMMON)} {rng.choice(RARE)}") for _ in range(12)),
            *(("phrase", f'"{a} {b}"') for a, b in zip(COMMON[:6], COMMON[10:16], strict=True)),
            ("operators", "export -csv"),
            ("operators", "sso OR saml"),
            ("operators", "dashboard -slow"),
        ]
        by_shape: dict[str, list[float]] = {}

        async def search(n: int) -> None:
            shape, q = searches[n % len(searches)]
            started = time.perf_counter()
            async with unit_of_work(factory) as session:
                await feedback_queries.list_feedback(
                    session=session,
                    team_id=TEAM,
                    filters=FeedbackFilters(q=q, area=rng.choice(slugs) if n % 7 == 0 else None),
                    limit=PAGE + 1,
                )
            by_shape.setdefault(shape, []).append((time.perf_counter() - started) * 1000)

        page = await timed("filtered page (50 items)", queries, filtered_page)
        print(page.line())
        text = await timed("full-text search (50 items)", queries, search, by_shape.clear)
        print(text.line())
        for shape, samples in by_shape.items():
            print("  " + Timing(shape, samples).line())

        stats_timing, stats_agree = await time_stats(factory, queries)

        export_rows = min(100_000, rows // 2)
        async with engine.connect() as connection:
            boundary = (
                await connection.execute(
                    sql(
                        "SELECT created_at FROM feedback WHERE team_id = :team "
                        "ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                    ),
                    {"team": TEAM, "n": export_rows - 1},
                )
            ).scalar_one()

        class _Runtime:
            session_factory = factory

        started = time.perf_counter()
        lines = 0
        size = 0
        export_filters = FeedbackFilters(since=boundary)
        async with unit_of_work(factory) as session:
            first = await feedback_queries.export_batch(
                session=session, team_id=TEAM, filters=export_filters, after=None, limit=CSV_BATCH
            )
        async for chunk in _csv_stream(_Runtime(), TEAM, export_filters, first):  # type: ignore[arg-type]
            size += len(chunk)
            lines += chunk.count("\r\n")
        export_seconds = time.perf_counter() - started
        print(
            f"{'CSV export':<28} rows={lines - 1:,}  {size / 1e6:.1f} MB  in {export_seconds:.2f} s "
            f"({(lines - 1) / export_seconds:,.0f} rows/s)"
        )
        ok = page.percentile(95) < TARGET_MS and text.percentile(95) < TARGET_MS
        print(f"\nTarget p95 < {TARGET_MS:.0f} ms for page and search: {'met' if ok else 'NOT met'}")
        stats_ok = stats_timing.percentile(95) < STATS_TARGET_MS
        print(f"Target p95 < {STATS_TARGET_MS:.0f} ms for 8-week stats: {'met' if stats_ok else 'NOT met'}")
        if not stats_agree:
            print("The statistics differ from the baseline's: see 'same answer' above.")
        return 0 if ok and stats_ok and stats_agree else 1
    finally:
        await engine.dispose()
        admin = await asyncpg.connect(_admin_dsn(admin_url))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"Dropped {name}.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHBOARD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="An existing database on the server to create the scratch database from.",
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300, help="Timed runs per query kind.")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.postgres, args.rows, args.queries)))


if __name__ == "__main__":
    main()
