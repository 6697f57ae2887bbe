"""Charts in Slack: a view puts a `ChartSlot` where a chart goes; the sender draws it off the event
loop, uploads it, and shows it there in an `image` block.

A chart that cannot be drawn or uploaded is left out with a log line saying why: every message
that carries a chart says the same figures in its text, so it is complete without it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ImageBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.analytics.charts import Chart, render_in_thread
from bot.core.text import plural
from bot.core.uow import unit_of_work
from bot.scheduler.jobs import keep_in_payload
from bot.scheduler.registry import JobContext
from bot.slack.blocks import as_dicts
from bot.slack.files import UPLOAD_FAILURES, error_code, failure_reason, image_block, upload_file

log = logging.getLogger(__name__)

T = TypeVar("T")
# Where a job keeps the charts an attempt uploaded, by slot name.
CHARTS_KEY = "charts"


class ChartSlot(Block):
    """Where a chart goes among a message's blocks, and how to draw it (`draw(**data)`)."""

    def __init__(self, *, name: str, title: str, draw: Callable[..., Chart], data: Mapping[str, Any]) -> None:
        super().__init__(type="image", block_id=f"chart_{name}")
        self.name, self.title, self.draw, self.data = name, title, draw, dict(data)

    def to_dict(self) -> dict[str, Any]:
        raise TypeError(f"the {self.name} chart was never attached; send blocks through attach_charts")


@dataclass(frozen=True)
class UploadedChart:
    file_id: str
    alt_text: str
    title: str

    def as_payload(self) -> dict[str, str]:
        return {"file_id": self.file_id, "alt_text": self.alt_text, "title": self.title}

    @classmethod
    def from_payload(cls, value: Any) -> UploadedChart | None:
        if not isinstance(value, dict) or not value.get("file_id"):
            return None
        return cls(str(value["file_id"]), str(value.get("alt_text") or ""), str(value.get("title") or ""))


class UploadedFiles:
    """File ids of the charts this process uploaded, by workspace and PNG: equal charts upload once."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._ids: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, team_id: str, png: bytes) -> str | None:
        key = (team_id, hashlib.sha256(png).hexdigest())
        with self._lock:
            if key in self._ids:
                self._ids.move_to_end(key)
            return self._ids.get(key)

    def put(self, team_id: str, png: bytes, file_id: str) -> None:
        with self._lock:
            self._ids[(team_id, hashlib.sha256(png).hexdigest())] = file_id
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)

    def forget(self, file_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k, v in self._ids.items() if v in file_ids]:
                del self._ids[key]

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()


UPLOADED = UploadedFiles()


def has_charts(blocks: list[Block]) -> bool:
    return any(isinstance(block, ChartSlot) for block in blocks)


async def upload_chart(client: AsyncWebClient, slot: ChartSlot, *, team_id: str) -> UploadedChart | None:
    """Draw the slot's chart in a worker thread and upload it; None (logged) when either fails."""
    try:
        chart = await render_in_thread(slot.draw, **slot.data)
    except Exception:
        log.exception("left the %s chart out: it could not be drawn", slot.name)
        return None
    file_id = UPLOADED.get(team_id, chart.png)
    if file_id is None:
        try:
            file_id = await upload_file(
                client, content=chart.png, filename=f"{slot.name}.png", title=slot.title
            )
        except UPLOAD_FAILURES as exc:
            log.warning("left the %s chart out: its upload failed (%s)", slot.name, failure_reason(exc))
            return None
        UPLOADED.put(team_id, chart.png, file_id)
    return UploadedChart(file_id=file_id, alt_text=chart.alt_text, title=slot.title)


async def attach_charts(
    client: AsyncWebClient,
    blocks: list[Block],
    *,
    team_id: str,
    known: Mapping[str, UploadedChart] | None = None,
) -> tuple[list[Block], dict[str, UploadedChart]]:
    """The blocks with each slot replaced by its uploaded chart (or left out), and the charts shown.

    `known` holds charts uploaded before for these slots (by name), which are shown again as they are.
    """
    attached: list[Block] = []
    shown: dict[str, UploadedChart] = {}
    for block in blocks:
        if not isinstance(block, ChartSlot):
            attached.append(block)
            continue
        chart = (known or {}).get(block.name) or await upload_chart(client, block, team_id=team_id)
        if chart is None:
            continue
        shown[block.name] = chart
        attached.append(
            image_block(
                file_id=chart.file_id, alt_text=chart.alt_text, title=chart.title, block_id=block.block_id
            )
        )
    return attached, shown


async def attach_charts_once(ctx: JobContext, client: AsyncWebClient, blocks: list[Block]) -> list[Block]:
    """`attach_charts` for a job's message: a retry shows what an earlier attempt uploaded.

    What this attempt uploads is written to the job before the message is sent, so a retry after
    a failed or interrupted send does not upload the charts again.
    """
    stored = ctx.job.payload.get(CHARTS_KEY) or {}
    known = {name: chart for name, raw in stored.items() if (chart := UploadedChart.from_payload(raw))}
    attached, shown = await attach_charts(client, blocks, team_id=ctx.job.team_id, known=known)
    if set(shown) - set(known):
        async with unit_of_work(ctx.session_factory) as session:
            await keep_in_payload(
                session=session,
                job_id=ctx.job.id,
                values={CHARTS_KEY: {name: chart.as_payload() for name, chart in shown.items()}},
            )
    return attached


async def send_with_charts(send: Callable[[list[dict[str, Any]]], Awaitable[T]], blocks: list[Block]) -> T:
    """`send(blocks)`; when Slack refuses the blocks and charts are among them, send them without.

    Slack answers `invalid_blocks` when an image's file is gone (deleted since it was uploaded).
    """
    try:
        return await send(as_dicts(blocks))
    except SlackApiError as exc:
        charts = [b for b in blocks if isinstance(b, ImageBlock) and getattr(b, "slack_file", None)]
        if error_code(exc) != "invalid_blocks" or not charts:
            raise
        log.warning(
            "Slack refused the message's %s (invalid_blocks); sending it without",
            plural(len(charts), "chart"),
        )
        UPLOADED.forget({str(getattr(b.slack_file, "id", "")) for b in charts})
        return await send(as_dicts([b for b in blocks if b not in charts]))
