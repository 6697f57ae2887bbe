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
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from _directory import TEAM_ID, directory, queries, seed
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

THROUGHPUT_TARGET = 0.8
P99_TARGET = 2.0
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
    args = parser.parse_args()
    if min(args.areas, args.requests, args.concurrency, args.rounds) < 1 or args.warmup < 0:
        parser.error("--areas, --requests, --concurrency and --rounds must be positive")
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
