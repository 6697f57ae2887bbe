"""Counts the bot writes read like sentences: "1 blocker", "4 function owners", never "(s)"."""

from __future__ import annotations

from bot.core.text import plural, plural_noun
from bot.feedback.similarity import ThemeSuggestion
from bot.feedback.themes import ThemeCounts
from bot.feedback.views.capture import suggestion_text, theme_option
from bot.launches.readiness import days_to_launch_label


def test_plural_picks_the_noun_for_the_count() -> None:
    assert plural(1, "function owner") == "1 function owner"
    assert plural(4, "function owner") == "4 function owners"
    assert plural(0, "blocker") == "0 blockers"
    assert plural(1, "live launch", "live launches") == "1 live launch"
    assert plural(3, "live launch", "live launches") == "3 live launches"
    assert plural(2, "person", "people") == "2 people"
    assert plural_noun(1, "area needs", "areas need") == "area needs"
    assert plural_noun(5, "area needs", "areas need") == "areas need"


def test_one_customer_and_one_day_are_singular() -> None:
    one = ThemeSuggestion(
        theme_id=1, title="Bulk export", score=90.0, counts=ThemeCounts(items=1, customers=1)
    )
    assert "(1 customer)" in suggestion_text(one)
    assert theme_option(1, "Bulk export", ThemeCounts(items=1, customers=1)).to_dict()["text"]["text"] == (
        "Bulk export · 1 item, 1 customer"
    )
    assert theme_option(1, "Bulk export", ThemeCounts(items=3, customers=2)).to_dict()["text"]["text"] == (
        "Bulk export · 3 items, 2 customers"
    )
    assert days_to_launch_label(-1) == "target date passed 1 day ago"
    assert days_to_launch_label(-3) == "target date passed 3 days ago"
