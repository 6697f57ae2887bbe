"""`switchboard demo`: a theme tracked in a GitHub issue is done when it closes, shipped by the
GitHub release, and its announcement drafted, approved and posted."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo import CHAPTERS, ownership, tracking
from bot.demo.stage import open_stage


async def test_tracking_chapter_moves_the_theme_with_its_issue_and_posts_the_drafted_release(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    async with open_stage(tmp_path, out) as stage:
        # The areas (Bulk import, owned by @diego) come from the ownership chapter.
        await ownership.run(stage)
        await tracking.run(stage)
    transcript = out.getvalue()

    assert "Tracked in acme/app#42 (https://github.com/acme/app/issues/42)" in transcript
    assert transcript.count("(issues assigned): 202") == 1
    assert "Theme *Import from Excel* is now: in progress" in transcript
    assert "Theme *Import from Excel* is now: done, ships with the next release" in transcript
    assert "DM to @diego" in transcript and "is done and ships with the next release" in transcript
    assert "Theme *Import from Excel* is now: shipped" in transcript
    assert transcript.count("has shipped — this feedback helped make it happen") == 2
    assert "#support (in thread)" in transcript and "#general (in thread)" in transcript
    assert "@ben approved release" in transcript
    assert "is posted in" in transcript
    assert tracking.run in CHAPTERS
