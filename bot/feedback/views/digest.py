"""Block Kit for what feedback tells the team: the weekly digest, critical alerts, App Home sections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.analytics.charts import feedback_by_area_chart, top_themes_chart
from bot.analytics.slack import ChartSlot
from bot.core.text import escape_mrkdwn, plural, plural_noun, truncate, user_mention
from bot.feedback.digest import DigestData
from bot.feedback.themes import ThemeCounts
from bot.feedback.views.common import KIND_LABELS, STATUS_LABELS, quote
from bot.integrations.views import tracked_in
from bot.slack.blocks import context, plain, section, slack_date


def critical_alert(
    *,
    text: str,
    area_name: str | None,
    author: str | None,
    reporter: str | None,
    customer: str | None,
    permalink: str | None,
    for_owner: bool,
) -> tuple[str, list[Block]]:
    where = f" in *{escape_mrkdwn(area_name)}*" if area_name else ""
    intro = "you own" if for_owner and area_name else ""
    headline = f":rotating_light: Critical feedback{where}{' (an area ' + intro + ')' if intro else ''}"
    facts = []
    if author:
        facts.append(f"from {user_mention(author)}")
    if reporter and reporter != author:
        facts.append(f"logged by {user_mention(reporter)}")
    if customer:
        facts.append(f"customer *{escape_mrkdwn(customer)}*")
    if permalink:
        facts.append(f"<{permalink}|open the message>")
    blocks: list[Block] = [section(f"{headline}\n{quote(text, 1200)}")]
    if facts:
        blocks.append(context(" · ".join(facts)))
    fallback = f"Critical feedback{' in ' + area_name if area_name else ''}: {truncate(text, 150)}"
    return escape_mrkdwn(fallback), blocks


def _delta(now: int, before: int) -> str:
    if now == before:
        return "±0"
    return f"+{now - before}" if now > before else f"−{before - now}"


def _volume_chart(data: DigestData) -> list[Block]:
    if not any(week.total for week in data.recent_weeks):
        return []
    weeks = len(data.recent_weeks)
    return [
        ChartSlot(
            name="feedback_by_area",
            title=f"Feedback per week by area, last {weeks} week{'s' if weeks != 1 else ''}",
            draw=feedback_by_area_chart,
            data={"weeks": data.recent_weeks, "names": data.area_names},
        )
    ]


def _themes_chart(data: DigestData) -> list[Block]:
    if not data.themes_by_customers:
        return []
    return [
        ChartSlot(
            name="top_themes",
            title="Top themes by distinct customers (new: first asked this week)",
            draw=top_themes_chart,
            data={"themes": data.themes_by_customers},
        )
    ]


def digest(data: DigestData) -> tuple[str, list[Block]]:
    """The weekly feedback digest for FEEDBACK_CHANNEL, with chart slots beside its figures."""
    title = f"Feedback digest · {data.start_label} – {data.end_label}"
    blocks: list[Block] = [HeaderBlock(text=plain(title))]
    blocks.append(
        section(
            f"*{data.total}* new {plural_noun(data.total, 'item')} "
            f"({_delta(data.total, data.previous_total)} vs the week before: {data.previous_total})"
        )
    )
    if data.by_area:
        lines = [
            f"• {escape_mrkdwn(name)}: *{now}* ({_delta(now, before)})"
            for name, now, before in data.by_area[:15]
        ]
        blocks.append(section("*By area*\n" + "\n".join(lines)))
    blocks.extend(_volume_chart(data))
    if data.by_kind:
        kinds = " · ".join(f"{KIND_LABELS.get(k, k)}: *{n}*" for k, n in data.by_kind)
        blocks.append(section("*By kind*\n" + kinds))
    if data.top_themes:
        lines = [
            f"{i}. *{escape_mrkdwn(t.title)}* — {plural(t.new_customers, 'new customer')}, "
            f"{plural(t.items, 'new item')}" + (f" · {tracked_in(t.links)}" if t.links else "")
            for i, t in enumerate(data.top_themes[:5], 1)
        ]
        blocks.append(section("*Top themes by new customers*\n" + "\n".join(lines)))
    blocks.extend(_themes_chart(data))
    if data.critical:
        lines = []
        for text, area, permalink in data.critical[:10]:
            where = f" ({escape_mrkdwn(area)})" if area else ""
            link = f" <{permalink}|open>" if permalink else ""
            lines.append(f"• {escape_mrkdwn(truncate(text.strip(), 150))}{where}{link}")
        blocks.append(section(":rotating_light: *Critical*\n" + "\n".join(lines)))
    if data.shipped:
        blocks.append(
            section(":rocket: *Shipped this week:* " + ", ".join(escape_mrkdwn(t) for t in data.shipped[:10]))
        )
    if data.total == 0 and not data.shipped:
        blocks.append(context("A quiet week: no new feedback."))
    return f"{title}: {data.total} new items", blocks


def home_recent_feedback(rows: Sequence[tuple[int, str, str | None, str, str | None]]) -> list[Block]:
    """App Home: recent feedback in areas I own — (id, text, area name, kind, permalink)."""
    blocks: list[Block] = [section("*Recent feedback in areas I own*")]
    if not rows:
        return [*blocks, context("No feedback yet in the areas you own.")]
    for feedback_id, text, area, kind, permalink in rows:
        link = f" · <{permalink}|message>" if permalink else ""
        label = KIND_LABELS.get(kind, kind)
        blocks.append(section(quote(text, 200)))
        blocks.append(context(f"#{feedback_id} · {escape_mrkdwn(area or '')} · {label}{link}"))
    return blocks


def home_followed_themes(
    rows: Sequence[tuple[str, str, ThemeCounts, datetime | None, Sequence[tuple[str, str]]]],
) -> list[Block]:
    """App Home: themes I follow — (title, status, counts, last change, (key, url) of its links)."""
    blocks: list[Block] = [section("*Themes I follow*")]
    if not rows:
        return [*blocks, context("You follow no themes yet; link feedback to a theme to follow it.")]
    lines = []
    for title, status, counts, updated, links in rows:
        label = STATUS_LABELS.get(status, status)
        when = slack_date(updated, fallback="")
        lines.append(
            f"• *{escape_mrkdwn(title)}* — {label}, {plural(counts.items, 'item')}, "
            f"{plural(counts.customers, 'customer')}"
            + (f" · {when}" if when else "")
            + (f" · {tracked_in(links)}" if links else "")
        )
    blocks.append(section("\n".join(lines)))
    return blocks
