"""Files in Slack: upload bytes with Slack's external upload flow, show an uploaded image in a block.

The flow is `files.getUploadURLExternal` (a file id and an upload URL), a POST of the bytes to
that URL, then `files.completeUploadExternal` without a channel: the file is shared nowhere, and
the bot, which owns it, can show it in an `image` block by its id (`slack_file`).
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import ImageBlock
from slack_sdk.models.blocks.basic_components import SlackFile
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.text import escape_mrkdwn, truncate
from bot.slack.blocks import plain

# What a failed upload raises once the client's own retries (429, 5xx, connection errors) are spent.
UPLOAD_FAILURES: tuple[type[BaseException], ...] = (SlackClientError, aiohttp.ClientError, TimeoutError)
# Slack refuses an image block whose alt_text or title is longer.
IMAGE_TEXT_LIMIT = 2000


async def upload_file(client: AsyncWebClient, *, content: bytes, filename: str, title: str) -> str:
    """Upload `content` as a file shared in no channel; returns its Slack file id."""
    # slack_sdk's helper runs the three steps with the client's retry handlers. No `alt_txt`:
    # the image block carries the alt text, and Slack mishandles it at upload (python-slack-sdk#1818).
    # A title is words, never markup, and may hold a name people typed (a launch's).
    completed = await client.files_upload_v2(content=content, filename=filename, title=escape_mrkdwn(title))
    return str(completed["file"]["id"])


def error_code(exc: SlackApiError) -> str | None:
    """Slack's error code; None when the answer was not Slack's JSON (a 5xx page from a proxy)."""
    data = getattr(exc.response, "data", None)
    return str(data["error"]) if isinstance(data, dict) and data.get("error") else None


def failure_reason(exc: BaseException) -> str:
    """Slack's error code, or what went wrong on the way to Slack."""
    if isinstance(exc, SlackApiError):
        return error_code(exc) or f"HTTP {getattr(exc.response, 'status_code', '?')}"
    return str(exc) or type(exc).__name__


def image_block(
    *, file_id: str, alt_text: str, title: str | None = None, block_id: str | None = None
) -> ImageBlock:
    """An `image` block showing an uploaded file; its title is short, its alt text says it all.

    Both are words, never markup, and name what people typed (a launch, an area): escaped here whole.
    """
    return ImageBlock(
        slack_file=SlackFile(id=file_id),
        alt_text=truncate(escape_mrkdwn(alt_text), IMAGE_TEXT_LIMIT),
        title=plain(escape_mrkdwn(title)) if title else None,
        block_id=block_id,
    )
