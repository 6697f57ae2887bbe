"""A TCP proxy that tests put between Switchboard and its database, to break the link on purpose.

Modes, switched at any time from the test (and from inside a database event hook: the switches
are plain calls):
- `pass_through()`: bytes flow both ways; a refused proxy listens again on the same port.
- `refuse()`: the database is down: open connections are reset, new ones are refused.
- `partition()`: the network goes silent: connections are accepted and kept, but nothing is
  forwarded either way, so the client waits for answers that never come.
- `reset()`: every open connection is reset (RST) at once; new ones still go through.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass, field
from enum import StrEnum

CHUNK = 65536


class Mode(StrEnum):
    PASS = "pass"
    REFUSE = "refuse"
    PARTITION = "partition"


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    pumps: list[asyncio.Task[None]] = field(default_factory=list)
    # A link that lost bytes in a partition can no longer carry the database's protocol.
    dropped: bool = False


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, as a crashed peer or a middlebox does, rather than an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = Mode.PASS
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port the first time and on the same one afterwards."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def pass_through(self) -> None:
        if self.mode is Mode.REFUSE:
            await self.start()
        else:
            for link in [link for link in self._links if link.dropped]:
                self._close(link)
        self.mode = Mode.PASS

    async def refuse(self) -> None:
        self.mode = Mode.REFUSE
        if self._server is not None:
            self._server.close()
            self._server = None
        self.reset()

    def partition(self) -> None:
        self.mode = Mode.PARTITION

    def reset(self) -> None:
        for link in list(self._links):
            self._close(link)

    async def close(self) -> None:
        await self.refuse()

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def _close(self, link: _Link, *, abort: bool = True) -> None:
        self._links.discard(link)
        for writer in (link.client, link.upstream):
            if writer is None:
                continue
            if abort:
                _reset(writer)
            else:
                writer.close()
        for pump in link.pumps:
            pump.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(client=writer)
        self._links.add(link)
        if self.mode is Mode.PASS:
            try:
                upstream_reader, link.upstream = await asyncio.open_connection(*self.target)
            except OSError:
                self._close(link)
                return
            link.pumps.append(asyncio.create_task(self._pump(upstream_reader, writer, link)))
        else:
            link.dropped = True
        link.pumps.append(asyncio.create_task(self._pump(reader, link.upstream, link)))

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None, link: _Link
    ) -> None:
        try:
            while chunk := await reader.read(CHUNK):
                if self.mode is not Mode.PASS or writer is None:
                    link.dropped = True
                    continue
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass
        # One side hung up: the other hears of it in order, as through a working network.
        if link in self._links:
            self._close(link, abort=False)
