"""The `/videoadmin stats` chart as a Discord attachment (:mod:`bot.charts` draws it).

Its own module so the stats command stays one call away from it and the embed's figures are not
tied to the picture: a chart that fails to render costs the picture, never the report.
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord

from bot.charts import ChartLimits, render_stats_chart
from bot.lifecycle.moderation import ModerationService, Moderator
from storage.models import GuildStats

log = logging.getLogger(__name__)

CHART_FILENAME = "stats.png"
NO_MENTIONS = discord.AllowedMentions.none()


async def stats_chart(service: ModerationService, mod: Moderator, report: GuildStats) -> discord.File | None:
    """The chart as an attachment, rendered in a worker thread (a render takes a few hundred
    milliseconds of CPU: the event loop keeps serving everyone meanwhile); None if it failed."""
    cap, period = await service.cap_with_period(mod)
    try:
        png = await asyncio.to_thread(render_stats_chart, report, ChartLimits(cap, period))
    except Exception:
        log.exception("Could not render the stats chart")
        return None
    return discord.File(io.BytesIO(png), filename=CHART_FILENAME)
