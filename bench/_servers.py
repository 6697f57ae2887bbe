"""The two servers `ack.py` measures, each under uvicorn in its own subprocess on a free localhost
port with the same settings: Switchboard (`bot.web.create_app`, scheduler off, the Web API pointed
at the local Slack emulator) and a bare Bolt AsyncApp behind FastAPI whose only listener acks
`/whoowns`; and how busy each one is.

Run as a script (by `start_server`) it is the server subprocess: `_servers.py switchboard|bare PORT`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from fastapi import FastAPI, Request, Response

SIGNING_SECRET = "bench-signing-secret"
SERVER_START_TIMEOUT = 60.0
# After its warm-up a server counts as settled once it uses under this share of a CPU while idle.
SETTLED_CPU_SHARE = 0.05
SETTLE_INTERVAL = 0.5
SETTLE_TIMEOUT = 60.0


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
        [sys.executable, str(Path(__file__).resolve()), name, str(port)],
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


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
