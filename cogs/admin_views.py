"""Buttons and menus under `/videoadmin` replies: paging, and resolving tasks in the ``unknown`` state.

These views live on ephemeral messages, so only the moderator who ran the command sees them; each
click is still checked again (the moderator may have lost the role since), and the work a click
triggers is done by callables the cog hands in, so the views hold no storage logic of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.catalog import format_credits
from cogs.replies import UserFacingError, send
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

VIEW_TIMEOUT = 600.0


@dataclass(frozen=True)
class Page:
    embed: discord.Embed
    pages: int
    tasks: Sequence[Task] = field(default_factory=tuple)


Render = Callable[[int], Awaitable[Page]]
Authorize = Callable[[discord.Interaction[Any]], Awaitable[None]]  # raises UserFacingError if refused
Resolve = Callable[[discord.Interaction[Any], int], Awaitable[discord.Embed]]
ResumeWithId = Callable[[discord.Interaction[Any], int, str], Awaitable[discord.Embed]]


class Pager(discord.ui.View):
    """Previous / next over pages rendered on demand, so every page shows the current data."""

    def __init__(self, *, owner_id: int, render: Render, authorize: Authorize, pages: int) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.owner_id = owner_id
        self.render = render
        self.authorize = authorize
        self.page = 0
        self.pages = pages
        # The interaction that posted the view: on time-out its (ephemeral) message loses the buttons.
        self.origin: discord.Interaction[Any] | None = None
        self._sync_buttons()

    async def on_timeout(self) -> None:
        if self.origin is None:
            return
        try:
            await self.origin.edit_original_response(view=None)
        except discord.HTTPException:
            log.debug("Could not remove the buttons of an expired /videoadmin view")

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await send(interaction, "These buttons belong to the moderator who ran the command.")
            return False
        try:
            await self.authorize(interaction)
        except UserFacingError as exc:
            await send(interaction, exc.message)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        if isinstance(error, UserFacingError):
            await send(interaction, error.message)
            return
        log.error("Error in a /videoadmin view", exc_info=error)
        await send(interaction, "Something went wrong on our side; nothing was changed. Please try again.")

    async def show(self, interaction: discord.Interaction[Any], page: int) -> None:
        result = await self.render(max(0, page))
        self.pages = max(1, result.pages)
        self.page = min(max(0, page), self.pages - 1)
        self.refresh(result)
        await interaction.response.edit_message(embed=result.embed, view=self)

    def refresh(self, result: Page) -> None:
        """Hook for subclasses: adjust components to the page just rendered."""
        self._sync_buttons()

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary, row=0)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Pager]) -> None:
        await self.show(interaction, self.page - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary, row=0)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Pager]) -> None:
        await self.show(interaction, self.page + 1)


class ResumeModal(discord.ui.Modal, title="Resume tracking with the API's task id"):
    api_task_id: discord.ui.TextInput[ResumeModal] = discord.ui.TextInput(
        label="Task id from the MiniMax dashboard",
        placeholder="e.g. 106916112212032",
        min_length=1,
        max_length=100,
    )

    def __init__(self, view: TasksView, task_id: int) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.tasks_view = view
        self.task_id = task_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.tasks_view.authorize(interaction)
        embed = await self.tasks_view.resume_with_id(
            interaction, self.task_id, self.api_task_id.value.strip()
        )
        await send(interaction, embed=embed)

    # discord.py's Modal narrows BaseView.on_error (no item); mypy compares against BaseView.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:  # type: ignore[override]
        if isinstance(error, UserFacingError):
            await send(interaction, error.message)
            return
        log.error("Error in the resume dialog", exc_info=error)
        await send(interaction, "Something went wrong on our side; nothing was changed. Please try again.")


class TasksView(Pager):
    """Pages of tasks; a task in the ``unknown`` state can be refunded or resumed with its API id.

    ``unknown`` means the bot cannot tell whether the API accepted the task (it never resubmits on
    its own, which could bill twice): the moderator checks the MiniMax dashboard and either refunds
    (the task becomes failed) or gives the API's task id so the bot tracks and delivers it.
    """

    def __init__(
        self,
        *,
        owner_id: int,
        render: Render,
        authorize: Authorize,
        first: Page,
        refund: Resolve,
        resume_with_id: ResumeWithId,
    ) -> None:
        super().__init__(owner_id=owner_id, render=render, authorize=authorize, pages=first.pages)
        self.refund_task = refund
        self.resume_with_id = resume_with_id
        self.selected: int | None = None
        self.refresh(first)

    def refresh(self, result: Page) -> None:
        super().refresh(result)
        unknown = [t for t in result.tasks if t.state is TaskState.UNKNOWN]
        self.choose.options = [
            discord.SelectOption(
                label=f"#{t.id} · {t.model} · {format_credits(t.cost_tenths)} credits",
                description=t.prompt[:100],
                value=str(t.id),
                default=t.id == self.selected,
            )
            for t in unknown[:25]
        ] or [discord.SelectOption(label="No task on this page is in the unknown state", value="0")]
        self.choose.disabled = not unknown
        if self.selected not in {t.id for t in unknown}:
            self.selected = None
        self.refund.disabled = self.selected is None
        self.resume.disabled = self.selected is None

    @discord.ui.select(
        cls=discord.ui.Select,
        placeholder="Resolve a task in the unknown state…",
        row=1,
        min_values=1,
        max_values=1,
    )
    async def choose(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[TasksView]
    ) -> None:
        value = int(select.values[0]) if select.values else 0
        self.selected = value or None
        self.refund.disabled = self.resume.disabled = self.selected is None
        for option in select.options:
            option.default = option.value == str(value)
        await interaction.response.edit_message(view=self)

    @discord.ui.button(label="Refund (mark failed)", style=discord.ButtonStyle.danger, row=2, disabled=True)
    async def refund(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[TasksView]
    ) -> None:
        if self.selected is None:
            raise UserFacingError("Pick a task in the unknown state first.")
        confirmation = await self.refund_task(interaction, self.selected)
        await self.show(interaction, self.page)  # re-counted: the refunded task may leave the list
        await interaction.followup.send(
            embed=confirmation, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @discord.ui.button(
        label="Resume with API task id…", style=discord.ButtonStyle.primary, row=2, disabled=True
    )
    async def resume(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[TasksView]
    ) -> None:
        if self.selected is None:
            raise UserFacingError("Pick a task in the unknown state first.")
        await interaction.response.send_modal(ResumeModal(self, self.selected))
