"""Buttons and menus under `/videoadmin` replies: resolving tasks in the ``unknown`` state.

These views live on ephemeral messages, so only the moderator who ran the command sees them; each
click is still checked again (the moderator may have lost the role since), and the work a click
triggers is done by callables the cog hands in, so the views hold no storage logic of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import credits, msg, translate
from cogs.locales import member_locale
from cogs.pager import PAGER_TIMEOUT, Authorize, Page, Pager, Render
from cogs.replies import UserFacingError, send
from storage.states import TaskState

log = logging.getLogger(__name__)

VIEW_TIMEOUT = PAGER_TIMEOUT
NOT_YOURS = msg("admin.buttons.not_yours")  # rendered in the clicker's language

Resolve = Callable[[discord.Interaction[Any], int], Awaitable[discord.Embed]]
ResumeWithId = Callable[[discord.Interaction[Any], int, str], Awaitable[discord.Embed]]


def label_pages(view: Pager, locale: str | None) -> None:
    """A moderator's list turns its pages with buttons named in the moderator's language."""
    view.previous.label = translate(locale, "admin.activity.previous")
    view.next.label = translate(locale, "admin.activity.next")


class ResumeModal(discord.ui.Modal):
    """Asks for the API's task id, worded in the moderator's language (the field is built per
    dialog: its label is fixed once made)."""

    def __init__(self, view: TasksView, task_id: int) -> None:
        locale = view.locale
        super().__init__(title=translate(locale, "admin.buttons.modal_title"), timeout=VIEW_TIMEOUT)
        self.api_task_id: discord.ui.TextInput[ResumeModal] = discord.ui.TextInput(
            label=translate(locale, "admin.buttons.modal_label"),
            placeholder=translate(locale, "admin.buttons.modal_placeholder"),
            min_length=1,
            max_length=100,
        )
        self.add_item(self.api_task_id)
        self.tasks_view = view
        self.task_id = task_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.tasks_view.check_moderator(interaction)
        embed = await self.tasks_view.resume_with_id(
            interaction, self.task_id, self.api_task_id.value.strip()
        )
        await send(interaction, embed=embed)

    # discord.py's Modal narrows BaseView.on_error (no item); mypy compares against BaseView.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:  # type: ignore[override]
        if isinstance(error, UserFacingError):
            await send(interaction, error.text(member_locale(interaction)))
            return
        log.error("Error in the resume dialog", exc_info=error)
        await send(interaction, translate(member_locale(interaction), "error.unchanged"))


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
        locale: str | None = None,
    ) -> None:
        self.locale = locale  # the moderator's: the list is ephemeral, only they see its labels
        super().__init__(
            owner_id=owner_id, render=render, authorize=authorize, pages=first.pages, not_yours=NOT_YOURS
        )
        self.check_moderator = authorize  # also for the resume dialog, which is not a click on this view
        self.refund_task = refund
        self.resume_with_id = resume_with_id
        self.selected: int | None = None
        self.choose.placeholder = translate(locale, "admin.buttons.choose")
        self.refund.label = translate(locale, "admin.buttons.refund")
        self.resume.label = translate(locale, "admin.buttons.resume")
        label_pages(self, locale)
        self.refresh(first)

    def refresh(self, result: Page) -> None:
        super().refresh(result)
        unknown = [t for t in result.tasks if t.state is TaskState.UNKNOWN]
        self.choose.options = [
            discord.SelectOption(
                label=f"#{t.id} · {t.model} · {credits(t.cost_tenths).render(self.locale)}",
                description=t.prompt[:100],
                value=str(t.id),
                default=t.id == self.selected,
            )
            for t in unknown[:25]
        ] or [discord.SelectOption(label=translate(self.locale, "admin.buttons.no_unknown"), value="0")]
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
            raise UserFacingError(translate(member_locale(interaction), "admin.buttons.pick_first"))
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
            raise UserFacingError(translate(member_locale(interaction), "admin.buttons.pick_first"))
        await interaction.response.send_modal(ResumeModal(self, self.selected))
