"""The emulator's external upload flow: an upload URL on the emulator, the bytes recorded, the
file usable in an image block once completed, and faults on demand for each step."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator.files import PNG_SIGNATURE
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN
from bot.slack.client import create_web_client

PNG = PNG_SIGNATURE + b"\x00" * 56


def _client(emulator: SlackEmulator) -> AsyncWebClient:
    return create_web_client(base_url=emulator.url, token=BOT_TOKEN)


def _image(file_id: str) -> list[dict[str, object]]:
    return [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "A chart"}]


async def test_upload_url_is_on_the_emulator_and_the_posted_bytes_are_recorded(
    emulator: SlackEmulator,
) -> None:
    client = _client(emulator)
    issued = await client.files_getUploadURLExternal(filename="chart.png", length=len(PNG))
    file_id, url = issued["file_id"], issued["upload_url"]
    assert url.startswith(emulator.url.removesuffix("api/")) and url.endswith(f"/upload/v1/{file_id}")

    # Not usable before its bytes arrive and the upload is completed.
    with pytest.raises(SlackApiError) as early:
        await client.chat_postMessage(channel="C0GENERAL", text="Chart", blocks=_image(file_id))
    assert early.value.response["error"] == "invalid_blocks"

    await client.files_upload_v2(content=PNG, filename="other.png", title="Other")  # another file
    uploaded = await client.files_upload_v2(content=PNG, filename="chart.png", title="Readiness")
    new_id = uploaded["file"]["id"]
    assert [c.method for c in emulator.calls][-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    get_url, upload, complete = emulator.calls[-3:]
    assert (get_url["filename"], get_url["length"]) == ("chart.png", str(len(PNG)))
    assert (upload["file_id"], upload["length"], upload["content"]) == (new_id, len(PNG), PNG)
    assert complete["files"] == [{"id": new_id, "title": "Readiness"}] and "channel_id" not in complete.args
    assert uploaded["file"]["mimetype"] == "image/png" and uploaded["file"]["title"] == "Readiness"
    assert emulator.uploaded(new_id) == PNG

    posted = await client.chat_postMessage(channel="C0GENERAL", text="Chart", blocks=_image(new_id))
    assert posted["ok"] and emulator.messages["C0GENERAL"][-1]["blocks"] == _image(new_id)


async def test_completing_needs_every_announced_byte(emulator: SlackEmulator) -> None:
    client = _client(emulator)
    issued = await client.files_getUploadURLExternal(filename="chart.png", length=len(PNG) + 1)
    async with aiohttp.ClientSession() as http:  # the bytes, one short of what was announced
        async with http.post(issued["upload_url"], data=PNG) as answer:
            assert (answer.status, await answer.text()) == (200, f"OK - {len(PNG)}")
    with pytest.raises(SlackApiError) as short:
        await client.files_completeUploadExternal(files=[{"id": issued["file_id"], "title": "Chart"}])
    assert short.value.response["error"] == "upload_incomplete"
    with pytest.raises(SlackApiError) as unknown:
        await client.files_completeUploadExternal(files=[{"id": "F404", "title": "Chart"}])
    assert unknown.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as empty:
        await client.files_getUploadURLExternal(filename="chart.png", length=0)
    assert empty.value.response["error"] == "invalid_arguments"


@pytest.mark.parametrize("method", ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"])
async def test_each_step_can_be_failed_and_is_recorded(emulator: SlackEmulator, method: str) -> None:
    client = _client(emulator)
    emulator.fail(method, retry_after=0.01)  # a 429 the client waits out and retries
    await client.files_upload_v2(content=PNG, filename="chart.png", title="Chart")
    assert len(emulator.calls_to(method)) == 2

    emulator.reset_calls()
    # A 5xx past the client's retries (it tries three times).
    emulator.fail(method, status=503, times=3)
    with pytest.raises((SlackApiError, SlackRequestError)):
        await client.files_upload_v2(content=PNG, filename="chart.png", title="Chart")
    assert len(emulator.calls_to(method)) == 3

    if method != "upload":
        emulator.fail(method, error="not_allowed_token_type")
        with pytest.raises(SlackApiError) as refused:
            await client.files_upload_v2(content=PNG, filename="chart.png", title="Chart")
        assert refused.value.response["error"] == "not_allowed_token_type"
