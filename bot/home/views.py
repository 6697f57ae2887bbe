"""Block Kit for the App Home tab: a header, then each feature's section (pure functions)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.core.text import plural
from bot.slack.blocks import context, plain

# Slack refuses a Home tab with more than 100 blocks.
HOME_BLOCK_LIMIT = 100


def home_view(sections: list[list[Block]]) -> View:
    """The Home tab: sections in order, separated by dividers, cut to Slack's block limit.

    A section that does not fit whole is left out (with a note) rather than cut in the middle.
    """
    blocks: list[Block] = [
        HeaderBlock(text=plain("Switchboard")),
        context("Your launches, sign-offs, areas and feedback, in one place."),
    ]
    left_out = 0
    for section_blocks in sections:
        if not section_blocks:
            continue
        if len(blocks) + 1 + len(section_blocks) > HOME_BLOCK_LIMIT - 1:
            left_out += 1
            continue
        blocks.append(DividerBlock())
        blocks.extend(section_blocks)
    if left_out:
        blocks.append(context(f"{plural(left_out, 'more section')} did not fit on this page."))
    return View(type="home", blocks=blocks)


def section_unavailable(title: str) -> list[Block]:
    return [context(f":warning: {title} could not be loaded just now. Reopen this tab to try again.")]
