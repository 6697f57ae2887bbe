"""`switchboard demo`'s ownership chapter ends with an owner re-confirming from a scheduled DM."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo import CHAPTERS, ownership
from bot.demo.stage import open_stage


async def test_ownership_chapter_shows_the_still_yours_dm_the_yes_and_the_app_home(tmp_path: Path) -> None:
    out = io.StringIO()
    async with open_stage(tmp_path, out) as stage:
        await ownership.run(stage)
    transcript = out.getvalue()
    asked = transcript.split("nobody has re-confirmed *Billing*", 1)[1]
    assert "→ DM to @ben" in asked and "Still yours? *Billing*" in asked
    assert "[Yes] [Hand over to…] [Not me]" in asked
    answered = asked.split("@ben clicks [Yes]", 1)[1]
    assert "You confirmed *Billing* is still yours" in answered
    home = answered.split("→ App Home of @ben", 1)[1]
    assert "*Areas I own*" in home and "*Billing*" in home and "confirmation due" not in home
    assert ownership.run in CHAPTERS
