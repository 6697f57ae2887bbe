"""Charts in Slack: a slot becomes an image block of an uploaded PNG whose alt text states the
figures; equal charts upload once; a chart that cannot be uploaded is left out, never the message."""

from __future__ import annotations

import logging
import struct
from datetime import date
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.analytics import charts
from bot.analytics.schema import ReadinessPointOut
from bot.analytics.slack import UPLOADED, ChartSlot, attach_charts, send_with_charts
from bot.emulator.files import PNG_SIGNATURE
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, TEAM_ID
from bot.slack.blocks import as_dicts, section
from bot.slack.client import create_web_client

HISTORY = [
    ReadinessPointOut(date=date(2026, 6, 1), score=40),
    ReadinessPointOut(date=date(2026, 6, 3), score=55),
    ReadinessPointOut(date=date(2026, 6, 5), score=72),
]


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def readiness_slot(history: list[ReadinessPointOut] = HISTORY) -> ChartSlot:
    return ChartSlot(
        name="readiness",
        title="Readiness of Checkout v2",
        draw=charts.readiness_chart,
        data={
            "name": "Checkout v2",
            "history": history,
            "target_date": date(2026, 6, 20),
            "today": date(2026, 6, 5),
        },
    )


def message(slot: ChartSlot) -> list[Block]:
    return [section("*Readiness:* 72/100"), slot, section("Functions…")]


@pytest.fixture
def client(emulator: SlackEmulator) -> AsyncWebClient:
    return create_web_client(base_url=emulator.url, token=BOT_TOKEN)


async def test_slot_becomes_an_image_of_the_uploaded_png_with_the_figures_in_its_alt_text(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    blocks, shown = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID)

    get_url, upload, complete = emulator.calls
    assert (get_url.method, upload.method, complete.method) == (
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    )
    assert get_url["filename"] == "readiness.png" and int(get_url["length"]) == upload["length"]
    assert png_size(upload["content"]) == (1200, 600)
    file_id = complete["files"][0]["id"]
    assert upload["file_id"] == file_id and complete["files"][0]["title"] == "Readiness of Checkout v2"

    dicts = as_dicts(blocks)
    assert [b["type"] for b in dicts] == ["section", "image", "section"]
    image = dicts[1]
    assert image["slack_file"] == {"id": file_id} and image["block_id"] == "chart_readiness"
    assert image["title"]["text"] == "Readiness of Checkout v2"
    assert image["alt_text"] == (
        "Readiness of Checkout v2 over 3 standups from 1 Jun to 5 Jun 2026: 40, 55, 72 out of 100; "
        "latest 72. Target date 20 Jun 2026, in 15 days (today is 5 Jun 2026)."
    )
    assert shown["readiness"].file_id == file_id

    # The emulated Slack accepts the image: the file is a completed PNG upload.
    posted = await client.chat_postMessage(channel="C0GENERAL", text="Readiness 72/100", blocks=dicts)
    assert posted["ok"]


async def test_equal_chart_uploads_once_and_known_uploads_are_shown_again(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    _, first = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID)
    blocks, again = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID)
    assert len(emulator.calls_to("upload")) == 1 and again == first

    charts.CACHE.clear()  # as another process would: nothing drawn, nothing uploaded
    UPLOADED.clear()
    blocks, known = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID, known=first)
    assert len(emulator.calls_to("upload")) == 1 and known == first
    assert as_dicts(blocks)[1]["slack_file"] == {"id": first["readiness"].file_id}

    # New figures make a new chart.
    await attach_charts(client, message(readiness_slot(HISTORY[:2])), team_id=TEAM_ID)
    assert len(emulator.calls_to("upload")) == 2


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("files.getUploadURLExternal", {"error": "missing_scope"}),
        ("files.getUploadURLExternal", {"status": 503, "times": 3}),
        ("upload", {"status": 500, "times": 3}),
        ("files.completeUploadExternal", {"error": "internal_error"}),
    ],
)
async def test_failed_upload_leaves_the_chart_out_and_says_why(
    client: AsyncWebClient,
    emulator: SlackEmulator,
    caplog: pytest.LogCaptureFixture,
    method: str,
    fault: dict[str, Any],
) -> None:
    emulator.fail(method, **fault)
    with caplog.at_level(logging.WARNING, logger="bot.analytics.slack"):
        blocks, shown = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID)
    assert [b["type"] for b in as_dicts(blocks)] == ["section", "section"] and shown == {}
    (record,) = [r for r in caplog.records if "left the readiness chart out" in r.getMessage()]
    reason = fault.get("error") or {500: "status: 500", 503: "HTTP 503"}[fault["status"]]
    assert reason in record.getMessage()


async def test_chart_that_cannot_be_drawn_is_left_out(
    client: AsyncWebClient, emulator: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: Any) -> charts.Chart:
        raise ValueError("no font")

    slot = ChartSlot(name="broken", title="Broken", draw=broken, data={})
    with caplog.at_level(logging.ERROR, logger="bot.analytics.slack"):
        blocks, _ = await attach_charts(client, message(slot), team_id=TEAM_ID)
    assert len(blocks) == 2 and emulator.calls == []
    assert any("could not be drawn" in r.getMessage() for r in caplog.records)


async def test_unattached_slot_cannot_reach_slack() -> None:
    with pytest.raises(TypeError, match="never attached"):
        as_dicts(message(readiness_slot()))


async def test_message_refused_for_its_chart_is_sent_without_it(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    blocks, _ = await attach_charts(client, message(readiness_slot()), team_id=TEAM_ID)
    emulator.files.clear()  # the file was deleted since it was uploaded

    async def send(dicts: list[dict[str, Any]]) -> Any:
        return await client.chat_postMessage(channel="C0GENERAL", text="Readiness 72/100", blocks=dicts)

    await send_with_charts(send, blocks)
    refused, sent = emulator.calls_to("chat.postMessage")
    assert [b["type"] for b in refused["blocks"]] == ["section", "image", "section"]
    assert [b["type"] for b in sent["blocks"]] == ["section", "section"]
    assert sent["text"] == "Readiness 72/100"
