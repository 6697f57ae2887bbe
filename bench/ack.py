"""Acknowledgement latency of `/whoowns` against a 10,000-area directory, next to a bare Bolt app.

Both servers run under uvicorn in their own subprocess on a free localhost port, with the same
settings; one client (aiohttp, fixed concurrency) sends both the same signed requests, in
alternating rounds, after a warm-up and once each server has gone idle (how long that took is
printed: work finishing in the background, such as caches filled on first use). The Switchboard
side is the real app (`bot.web.create_app`) over a SQLite file database seeded through the service
layer, with the scheduler off and the Web API pointed at the local Slack emulator. The bare side is
an AsyncApp behind FastAPI whose only listener acks the command.

    .venv/bin/python bench/ack.py                  # defaults: 10,000 areas, 3,000 requests each
    .venv/bin/python bench/ack.py --requests 1000 --concurrency 8

Targets: Switchboard's throughput at least 0.8x the bare app's, and its p99 under 2x the bare p99.
The exit status is 0 when both targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from fastapi import FastAPI, Request, Response

SIGNING_SECRET = "bench-signing-secret"
TEAM_ID = "T0SWITCH"
THROUGHPUT_TARGET = 0.8
P99_TARGET = 2.0
SERVER_START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
# After its warm-up a server counts as settled once it uses under this share of a CPU while idle.
SETTLED_CPU_SHARE = 0.05
SETTLE_INTERVAL = 0.5
SETTLE_TIMEOUT = 60.0

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
KINDS = ["product_area", "feature", "service", "process", "doc"]
TEAMS = ["Payments", "Growth", "Core", "Platform", "Data", "Mobile", "Trust", "Infra", "Docs"]


# ---- directory and queries -------------------------------------------------------------------


def directory(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` distinct, plausible areas: "Billing reconciliation", alias "billing-recon", …"""
    pairs = [(d, f) for d in DOMAINS for f in FACETS]
    if count > len(pairs):
        raise SystemExit(f"--areas can be at most {len(pairs)}")
    rng.shuffle(pairs)
    areas = []
    for n, (domain, facet) in enumerate(pairs[:count]):
        name = f"{domain} {facet}"
        short = "".join(word[0] for word in name.split()).lower()
        areas.append(
            {
                "name": name,
                "slug": f"{name.lower().replace(' ', '-')}",
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


# ---- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(target: str, port: int) -> None:
    """Run in the server subprocess: the same uvicorn settings for both targets."""
    import uvicorn

    if target == "switchboard":
        from bot.core.settings import load_settings
        from bot.web import create_app

        app = create_app(load_settings(_env_file=None), manage_schema=True)
    else:
        app = bare_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def bare_app() -> Any:
    """A Bolt AsyncApp behind FastAPI whose only listener acks `/whoowns`."""
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    token = os.environ["SLACK_BOT_TOKEN"]
    bolt = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
    )

    @bolt.command("/whoowns")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)
    api = FastAPI()

    @api.post("/slack/events")
    async def events(request: Request) -> Response:
        return await handler.handle(request)

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str


def server_env(database_url: str, emulator_url: str) -> dict[str, str]:
    # Nothing from the caller's shell or a .env may switch the app into Socket Mode or OAuth.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SWITCHBOARD_", "DATABASE_"))}
    from bot.emulator.state import BOT_TOKEN

    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=emulator_url,
        SWITCHBOARD_SCHEDULER="off",
        LOG_LEVEL="WARNING",
    )
    return env


async def start_server(name: str, env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", name, "--port", str(port)],
        env=env,
        cwd=workdir,  # away from any .env in the repository
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} server exited with status {process.returncode}")
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return Server(name, process, url)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    raise SystemExit(f"{name} server did not answer /healthz within {SERVER_START_TIMEOUT:.0f}s")


def start_profiler(server: Server, output: str) -> subprocess.Popen[bytes]:
    """Sample the server with py-spy (pip install py-spy) until `stop_profiler`."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [pyspy, "record", "--pid", str(server.process.pid), "--format", "speedscope", "-o", output],
        stdout=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen[bytes]) -> None:
    profiler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()


def stop_server(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


# ---- load ------------------------------------------------------------------------------------


@dataclass
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def signed_requests(texts: list[str], response_url: str) -> list[SignedRequest]:
    """Every request signed up front, so the timed loop only sends bytes."""
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SIGNING_SECRET)
    stamp = str(int(time.time()))
    built = []
    for n, text in enumerate(texts):
        body = urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "bench",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": "U0ALICE",
                "user_name": "alice",
                "command": "/whoowns",
                "text": text,
                "api_app_id": "A0SWITCH",
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": f"{n}.bench",
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or "",
        }
        built.append(SignedRequest(body.encode(), headers))
    return built


async def settle(server: Server) -> float:
    """Wait until the server goes idle after its warm-up; return the seconds waited.

    Work a server finishes in the background after answering (say, caches it fills on first
    use) would otherwise land in the measured rounds, its own and the other server's alike.
    """
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_TIMEOUT:
        cpu = cpu_seconds(server.process)
        await asyncio.sleep(SETTLE_INTERVAL)
        if cpu_seconds(server.process) - cpu < SETTLE_INTERVAL * SETTLED_CPU_SHARE:
            break
    return time.monotonic() - started


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time a server process used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    latencies: list[float]
    elapsed: float
    errors: int
    cpu: float = 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / len(self.latencies) if self.latencies else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def merge(self, other: Result) -> Result:
        return Result(
            self.latencies + other.latencies,
            self.elapsed + other.elapsed,
            self.errors + other.errors,
            self.cpu + other.cpu,
        )


async def load(
    session: aiohttp.ClientSession, url: str, requests: list[SignedRequest], concurrency: int
) -> Result:
    """Send `requests` with `concurrency` in flight; every one must come back 200."""
    pending: Iterator[SignedRequest] = iter(requests)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for request in pending:
            started = time.perf_counter()
            try:
                async with session.post(url, data=request.body, headers=request.headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(latencies, time.perf_counter() - started, errors)


async def sample_answers(session: aiohttp.ClientSession, url: str, requests: list[SignedRequest]) -> str:
    """How Switchboard answered a few queries, to show the benchmark measured real answers."""
    kinds: dict[str, int] = {}
    for request in requests:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            text = (await response.json()).get("text", "")
        kind = text.split(" ")[0] if text else "empty"
        kind = {"No": "no match", "Several": "ambiguous"}.get(kind, "confident")
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))


# ---- main ----------------------------------------------------------------------------------


def report(name: str, result: Result) -> str:
    p50, p99 = result.percentile(0.50) * 1000, result.percentile(0.99) * 1000
    return (
        f"{name:<12} {result.throughput:9.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
        f"server CPU {result.cpu_per_request * 1000:5.2f} ms/req   errors {result.errors}"
    )


async def bench(args: argparse.Namespace) -> int:
    from bot.emulator.server import SlackEmulator

    rng = random.Random(args.seed)
    areas = directory(args.areas, rng)
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    started = time.monotonic()
    emulator = SlackEmulator()
    servers: list[Server] = []
    profiler: subprocess.Popen[bytes] | None = None
    try:
        await seed(database_url, areas)
        print(f"seeded {len(areas)} areas in {time.monotonic() - started:.1f}s")
        await emulator.start()
        env = server_env(database_url, emulator.url)
        for name in ("switchboard", "bare"):
            servers.append(await start_server(name, env, workdir))
        texts = queries(areas, args.warmup + args.requests, rng)
        requests = signed_requests(texts, emulator.response_url("bench"))
        warmup, measured = requests[: args.warmup], requests[args.warmup :]
        rounds = [measured[i :: args.rounds] for i in range(args.rounds)]
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        results: dict[str, Result] = {}
        settled: dict[str, float] = {}
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for server in servers:
                await load(session, server.url + "/slack/events", warmup, args.concurrency)
                settled[server.name] = await settle(server)
            profiler = start_profiler(servers[0], args.profile) if args.profile else None
            # Alternate rounds so that drift (CPU boost, other load) hits both targets alike.
            for batch in rounds:
                for server in servers:
                    cpu = cpu_seconds(server.process)
                    result = await load(session, server.url + "/slack/events", batch, args.concurrency)
                    result.cpu = cpu_seconds(server.process) - cpu
                    previous = results.get(server.name)
                    results[server.name] = previous.merge(result) if previous else result
            if profiler is not None:
                stop_profiler(profiler)
                profiler = None
            answers = await sample_answers(session, servers[0].url + "/slack/events", measured[:200])
    finally:
        if profiler is not None:
            stop_profiler(profiler)
        for server in servers:
            stop_server(server)
        await emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    app, bare = results["switchboard"], results["bare"]
    throughput_ratio = app.throughput / bare.throughput
    p99_ratio = app.percentile(0.99) / bare.percentile(0.99)
    met = throughput_ratio >= THROUGHPUT_TARGET and p99_ratio < P99_TARGET and not app.errors
    print(
        f"\n/whoowns over {args.areas} areas: {args.requests} signed requests per target after "
        f"{args.warmup} warm-up, concurrency {args.concurrency}, {args.rounds} alternating rounds"
    )
    print(report("bare Bolt", bare))
    print(report("switchboard", app))
    print(
        "idle after warm-up within "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in settled.items())
    )
    print(f"answers (first 200 queries): {answers}")
    print(
        f"throughput ratio {throughput_ratio:.2f}x (target >= {THROUGHPUT_TARGET}x) "
        f"{'ok' if throughput_ratio >= THROUGHPUT_TARGET else 'MISSED'}"
    )
    print(
        f"p99 ratio        {p99_ratio:.2f}x (target < {P99_TARGET}x) "
        f"{'ok' if p99_ratio < P99_TARGET else 'MISSED'}"
    )
    print(f"total {time.monotonic() - started:.0f}s")
    return 0 if met else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--areas", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3_000, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured requests per target first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measured rounds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", metavar="FILE", help="record the Switchboard server with py-spy (speedscope JSON)"
    )
    parser.add_argument("--serve", choices=["switchboard", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if min(args.areas, args.requests, args.concurrency, args.rounds) < 1 or args.warmup < 0:
        parser.error("--areas, --requests, --concurrency and --rounds must be positive")
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
