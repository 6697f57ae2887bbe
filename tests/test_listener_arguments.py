"""Every listener runs inside the guard, and gets the arguments it names as Bolt would give them:
Bolt's own (`ack`, `command`, `client`, …) and the keys Switchboard puts in the request context."""

from __future__ import annotations

from typing import Any

from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender


async def test_a_listener_gets_bolts_arguments_and_the_contexts_keys_by_name(
    slack: SlackSender, runtime: Runtime
) -> None:
    received: dict[str, Any] = {}

    async def probe(ack: Any, command: dict[str, Any], body: dict[str, Any], payload: Any, args: Any) -> None:
        received.update(command=command, body=body, payload=payload, args=args)
        await ack(text="probed", response_type="ephemeral")

    async def probe_context(
        ack: Any, context: Any, client: Any, respond: Any, settings: Any, area_cache: Any, runtime: Any
    ) -> None:
        received.update(
            context=context,
            client=client,
            respond=respond,
            settings=settings,
            area_cache=area_cache,
            runtime=runtime,
        )
        await ack(text="probed the context", response_type="ephemeral")

    assert runtime.bolt is not None
    runtime.bolt.command("/probe")(probe)
    runtime.bolt.command("/probe-context")(probe_context)

    first = await slack.command("/probe", "hello")
    second = await slack.command("/probe-context")

    assert (first.status_code, first.json()["text"]) == (200, "probed")
    assert received["command"]["text"] == "hello" and received["command"]["command"] == "/probe"
    assert received["payload"] is received["command"] and received["body"]["user_id"] == "U0ALICE"
    assert received["args"].command is received["command"]
    assert (second.status_code, second.json()["text"]) == (200, "probed the context")
    assert received["settings"] is runtime.settings and received["area_cache"] is runtime.area_cache
    assert received["runtime"] is runtime
    assert received["context"].user_id == "U0ALICE" and received["client"] is received["context"].client
    assert received["respond"] is not None
