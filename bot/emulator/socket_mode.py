"""Socket Mode: `apps.connections.open` hands out a one-time WebSocket URL; the connection gets a
`hello`, then envelopes out and acknowledgements back."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bot.emulator.state import APP_ID, Call, EmulatorState


class SocketMode(EmulatorState):
    """The emulator's Socket Mode connections."""

    def __init__(self) -> None:
        super().__init__()
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.socket_disconnects = 0
        self._socket_tickets: set[str] = set()

    async def send_envelope(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        retry_attempt: int = 0,
    ) -> str:
        """Deliver a Socket Mode envelope over the newest connection; returns its envelope_id."""
        if not self.sockets:
            raise AssertionError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        await self.sockets[-1].send_json(envelope)
        return envelope_id

    async def socket_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The acknowledgement the app sent back for `envelope_id`."""
        acks = await self.wait_for(
            "socket.ack", where=lambda call: call.get("envelope_id") == envelope_id, timeout=timeout
        )
        return acks[0].args

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        """Socket Mode: a `hello`, then envelopes out and acknowledgements back."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._socket_tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._socket_tickets.discard(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        self._record(Call("socket.connected", {"ticket": ticket}, None))
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self.sockets),
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._record(Call("socket.ack", json.loads(message.data), None))
        finally:
            self.sockets.remove(socket)
            self.socket_disconnects += 1
            self._record(Call("socket.closed", {"ticket": ticket}, None))
        return socket

    def _m_apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not (token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        base = self.url.replace("http://", "ws://", 1).removesuffix("/api/")
        return {"ok": True, "url": f"{base}/link/?ticket={ticket}&app_id={APP_ID}"}
