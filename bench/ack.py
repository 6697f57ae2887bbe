"""Acknowledgement latency of `/whoowns` over a 10,000-area directory, next to a bare Bolt app.

Two cases, each against its own directory: *kind*, distinct names ("Billing reconciliation") and
the queries people type for them, mostly exact; *hard*, 10,000 names sharing words ("Area 17
checkout": 2,500 names share each common word) beside one distinct area, and 20,000 distinct
typos of them ("chekout 812", "bilings"), so that no per-query cache makes the figure.

Both servers run under uvicorn in their own subprocess on a free localhost port, with the same
settings; one client (aiohttp, fixed concurrency) sends both the same signed requests, in
alternating rounds, after a warm-up and once each server has gone idle (how long that took is
printed: work finishing in the background, such as caches filled on first use). The Switchboard
side is the real app (`bot.web.create_app`) over a SQLite file database loaded by the importer
(`switchboard owners import` without the YAML file), with the scheduler off and the Web API
pointed at the local Slack emulator. The bare side is an AsyncApp behind FastAPI whose only
listener acks the command.

    .venv/bin/python bench/ack.py                  # both cases, 10,000 areas
    .venv/bin/python bench/ack.py --areas 100000   # both cases, 100,000 areas
    .venv/bin/python bench/ack.py --case hard --hard-requests 5000 --concurrency 8

Targets, for each case: Switchboard's throughput at least 0.9x the bare app's, and its p99 at most
1.5x the bare p99. The exit status is 0 when every case meets both, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
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
from _directory import TEAM_ID, directory, queries, seed, shared_word_typos, shared_words_directory
from _servers import (
    SIGNING_SECRET,
    Server,
    cpu_seconds,
    server_env,
    settle,
    start_profiler,
    start_server,
    stop_profiler,
    stop_server,
)

THROUGHPUT_TARGET = 0.9
P99_TARGET = 1.5
REQUEST_TIMEOUT = 30.0


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


@dataclass
class Case:
    """One directory and the queries sent against it."""

    name: str
    title: str
    areas: list[dict[str, Any]]
    texts: list[str]


@dataclass
class Outcome:
    case: Case
    app: Result
    bare: Result
    settled: dict[str, float]
    answers: str

    @property
    def throughput_ratio(self) -> float:
        return self.app.throughput / self.bare.throughput

    @property
    def p99_ratio(self) -> float:
        return self.app.percentile(0.99) / self.bare.percentile(0.99)

    @property
    def met(self) -> bool:
        return (
            self.throughput_ratio >= THROUGHPUT_TARGET
            and self.p99_ratio <= P99_TARGET
            and not self.app.errors
        )


def cases(args: argparse.Namespace) -> list[Case]:
    rng = random.Random(args.seed)
    kind = directory(args.areas, rng)
    shared = shared_words_directory(args.areas)
    return [
        Case(
            "kind",
            f"distinct names over {len(kind)} areas",
            kind,
            queries(kind, args.warmup + args.requests, rng),
        ),
        Case(
            "hard",
            f"typos of shared words over {len(shared)} areas ({len(shared) // 4} names share each word)",
            shared,
            shared_word_typos(args.areas, args.warmup + args.hard_requests, rng),
        ),
    ]


async def run_case(
    case: Case, bare: Server, emulator: Any, workdir: Path, args: argparse.Namespace
) -> Outcome:
    """Seed the case's database, start Switchboard on it, and measure it beside the bare app."""
    database_url = f"sqlite+aiosqlite:///{workdir / f'{case.name}.db'}"
    started = time.monotonic()
    await seed(database_url, case.areas)
    print(f"{case.name}: seeded {len(case.areas)} areas in {time.monotonic() - started:.1f}s", flush=True)
    app = await start_server("switchboard", server_env(database_url, emulator.url), workdir)
    servers = [app, bare]
    profiler: subprocess.Popen[bytes] | None = None
    try:
        requests = signed_requests(case.texts, emulator.response_url("bench"))
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
            if args.profile:
                profiler = start_profiler(app, f"{case.name}-{args.profile}")
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
            answers = await sample_answers(session, app.url + "/slack/events", measured[:200])
    finally:
        if profiler is not None:
            stop_profiler(profiler)
        stop_server(app)
    return Outcome(case, results["switchboard"], results["bare"], settled, answers)


def print_outcome(outcome: Outcome, args: argparse.Namespace) -> None:
    measured = len(outcome.case.texts) - args.warmup
    distinct = "distinct " if outcome.case.name == "hard" else ""
    print(
        f"\n{outcome.case.name}: /whoowns, {outcome.case.title}: {measured} {distinct}signed requests "
        f"per target after {args.warmup} warm-up, concurrency {args.concurrency}, "
        f"{args.rounds} alternating rounds"
    )
    print(report("bare Bolt", outcome.bare))
    print(report("switchboard", outcome.app))
    print(
        "idle after warm-up within "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in outcome.settled.items())
    )
    print(f"answers (first 200 queries): {outcome.answers}")
    print(
        f"throughput ratio {outcome.throughput_ratio:.2f}x (target >= {THROUGHPUT_TARGET}x) "
        f"{'ok' if outcome.throughput_ratio >= THROUGHPUT_TARGET else 'MISSED'}"
    )
    print(
        f"p99 ratio        {outcome.p99_ratio:.2f}x (target <= {P99_TARGET}x) "
        f"{'ok' if outcome.p99_ratio <= P99_TARGET else 'MISSED'}"
    )


async def bench(args: argparse.Namespace) -> int:
    from bot.emulator.server import SlackEmulator

    started = time.monotonic()
    chosen = [case for case in cases(args) if args.case in ("both", case.name)]
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    emulator = SlackEmulator()
    bare: Server | None = None
    outcomes = []
    try:
        await emulator.start()
        bare = await start_server(
            "bare", server_env(f"sqlite+aiosqlite:///{workdir / 'bare.db'}", emulator.url), workdir
        )
        for case in chosen:
            outcomes.append(await run_case(case, bare, emulator, workdir, args))
    finally:
        if bare is not None:
            stop_server(bare)
        await emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for outcome in outcomes:
        print_outcome(outcome, args)
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    return 0 if all(outcome.met for outcome in outcomes) else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--areas", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3_000, help="measured requests per target, kind case")
    parser.add_argument(
        "--hard-requests",
        type=int,
        default=20_000,
        help="measured requests per target, hard case (each query distinct)",
    )
    parser.add_argument("--case", choices=["both", "kind", "hard"], default="both")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured requests per target first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measured rounds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", metavar="FILE", help="record the Switchboard server with py-spy (speedscope JSON)"
    )
    args = parser.parse_args()
    if (
        min(args.areas, args.requests, args.hard_requests, args.concurrency, args.rounds) < 1
        or args.warmup < 0
    ):
        parser.error("--areas, --requests, --hard-requests, --concurrency and --rounds must be positive")
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
