"""`switchboard demo`'s release chapter: posted in two languages, and a requester told."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo import CHAPTERS, releases
from bot.demo.stage import open_stage


async def test_release_chapter_posts_in_english_and_french_and_tells_the_requester(tmp_path: Path) -> None:
    out = io.StringIO()
    async with open_stage(tmp_path, out) as stage:
        await releases.run(stage)
    transcript = out.getvalue()
    english = transcript.split("→ #releases\n", 1)[1]
    assert "Bulk export 2.4" in english.split("→", 1)[0]
    french = transcript.split("→ #releases-fr\n", 1)[1]
    assert "Export en masse" in french.split("→", 1)[0]
    assert "DM to @emma" in transcript and "has shipped" in transcript
    assert "(message edited)" in transcript
    assert releases.run in CHAPTERS
