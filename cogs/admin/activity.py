"""`/videoadmin stats`, `tasks` and `audit`: what happened, and settling tasks in the unknown state."""

from __future__ import annotations

import logging
from typing import Any, Literal, get_args

import discord
from discord import app_commands

from bot.i18n import credits, state_name, translate
from cogs import admin_embeds as embeds
from cogs.admin._base import PAGE_SIZE, AdminBase, member_ref, shown_refusals, videoadmin
from cogs.admin_views import NOT_YOURS, TasksView, label_pages
from cogs.locales import member_locale
from cogs.pager import Page, Pager
from cogs.replies import send
from cogs.stats_chart import CHART_FILENAME, NO_MENTIONS, stats_chart
from storage.states import TaskState

log = logging.getLogger(__name__)

STATS_WINDOWS: dict[str, float] = {"24h": 86_400.0, "7d": 7 * 86_400.0, "30d": 30 * 86_400.0}
"""Each ``period`` choice in seconds; its name in the report is ``admin.stats.window.<choice>``."""
StatsWindow = Literal["24h", "7d", "30d"]
TaskFilter = Literal[
    "unfinished",
    "stuck",
    "unknown",
    "queued",
    "submitting",
    "submitted",
    "processing",
    "downloading",
    "delivering",
    "delivered",
    "failed",
    "cancelled",
]
assert set(get_args(TaskFilter)) == {*(s.value for s in TaskState), "unfinished", "stuck"}


class ActivityCommands(AdminBase):
    """`/videoadmin stats|tasks|audit`, and the tasks view's refund and resume."""

    @videoadmin.command(name="stats", description="Videos, failures, credits and top members over a period")
    @app_commands.describe(period="How far back (default: 7 days)")
    async def stats(self, interaction: discord.Interaction[Any], period: StatsWindow = "7d") -> None:
        mod = await self.moderation(interaction)
        locale = member_locale(interaction)
        label, seconds = translate(locale, f"admin.stats.window.{period}"), STATS_WINDOWS[period]
        # A month of tasks is a real aggregate: take the 3-second answer window off the table.
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.service.stats(mod, seconds)
        spending = await self.service.bot_spending(mod)
        embed = embeds.stats_embed(report, label, bot_spending=spending, locale=locale)
        chart = await stats_chart(self.service, mod, report)
        if chart is None:
            await send(interaction, embed=embed)
            return
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
        await interaction.followup.send(embed=embed, file=chart, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @videoadmin.command(name="tasks", description="Recent and stuck tasks; resolve the unknown ones")
    @app_commands.describe(
        member="Only this member's tasks",
        state="Only tasks in this state ('stuck': unknown, or overdue)",
    )
    async def tasks(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        state: TaskFilter | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        if member is not None:
            with shown_refusals():
                self.service.check_member(mod, member_ref(member))
        user_id = member.id if member is not None else None
        locale = member_locale(interaction)
        title = (
            translate(locale, "admin.tasks.title_member", name=member.display_name)
            if member is not None
            else translate(locale, "admin.tasks.title")
        ) + (f" · {state_name(state).render(locale)}" if state else "")

        async def render(page: int) -> Page:
            found = await self.service.task_page(
                mod, user_id=user_id, state=state, page=page, page_size=PAGE_SIZE
            )
            embed = embeds.tasks_embed(
                found.items,
                title=title,
                page=found.page,
                pages=found.pages,
                total=found.total,
                locale=locale,
            )
            return Page(embed, found.pages, found.items)

        await interaction.response.defer(ephemeral=True, thinking=True)
        first = await render(0)
        view = TasksView(
            owner_id=mod.actor_id,
            render=render,
            authorize=self._authorize,
            first=first,
            refund=self.refund_unknown,
            resume_with_id=self.resume_unknown,
            locale=locale,
        )
        view.origin = interaction
        await send(interaction, embed=first.embed, view=view)

    async def refund_unknown(self, interaction: discord.Interaction[Any], task_id: int) -> discord.Embed:
        """Give the credits back and close the task as failed: the moderator found it was never made."""
        mod = await self.moderation(interaction)
        with shown_refusals():
            settled = await self.service.refund_unknown(mod, task_id)
        task = settled.before
        locale = member_locale(interaction)
        return embeds.change_embed(
            translate(locale, "admin.buttons.task_title", id=task.id),
            [
                (
                    translate(locale, "admin.buttons.state"),
                    state_name("unknown").render(locale),
                    translate(
                        locale,
                        "admin.buttons.refunded",
                        credits=credits(task.cost_tenths),
                        member=f"<@{task.user_id}>",
                    ),
                )
            ],
            changed=True,
            locale=locale,
        )

    async def resume_unknown(
        self, interaction: discord.Interaction[Any], task_id: int, api_task_id: str
    ) -> discord.Embed:
        """The moderator found the task on the API's side: track it from there, never resubmit."""
        mod = await self.moderation(interaction)
        with shown_refusals():
            settled = await self.service.resume_unknown(mod, task_id, api_task_id)
        locale = member_locale(interaction)
        return embeds.change_embed(
            translate(locale, "admin.buttons.task_title", id=settled.before.id),
            [
                (
                    translate(locale, "admin.buttons.state"),
                    state_name("unknown").render(locale),
                    translate(locale, "admin.buttons.resumed", api_task_id=api_task_id),
                )
            ],
            changed=True,
            note=translate(locale, "admin.buttons.resumed_note"),
            locale=locale,
        )

    @videoadmin.command(name="audit", description="Recent moderator actions: who, what, before → after, when")
    @app_commands.describe(
        member="Only actions concerning this member", moderator="Only actions by this moderator"
    )
    async def audit(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        moderator: discord.Member | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        target = member.id if member is not None else None
        actor = moderator.id if moderator is not None else None
        mention = member.mention if member is not None else None
        locale = member_locale(interaction)

        async def render(page: int) -> Page:
            found = await self.service.audit_page(
                mod, target_user=target, actor=actor, page=page, page_size=PAGE_SIZE
            )
            embed = embeds.audit_embed(
                found.items,
                page=found.page,
                pages=found.pages,
                total=found.total,
                member_mention=mention,
                locale=locale,
            )
            return Page(embed, found.pages)

        first = await render(0)
        view = Pager(
            owner_id=mod.actor_id,
            render=render,
            authorize=self._authorize,
            pages=first.pages,
            not_yours=NOT_YOURS,
        )
        label_pages(view, locale)
        view.origin = interaction
        await send(interaction, embed=first.embed, view=view)
