"""One pager for every paged reply: a member's ``/video list`` and the moderators' task and audit lists.

Pages are rendered on demand, so every page shows the current data (a list that shrank under the reader
shows its last page). Only the person who ran the command turns the pages, and an ``authorize`` check
runs again on each click (a moderator may have lost the role since). When the view times out its
buttons are taken away, since a click would then only show Discord's "This interaction failed".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.i18n import Message, translate
from cogs.locales import member_locale
from cogs.replies import GENERIC_FAILURE, describe_error, send
from storage.models import Task

log = logging.getLogger(__name__)

PAGER_TIMEOUT = 600.0


@dataclass(frozen=True)
class Page:
    embed: discord.Embed
    pages: int
    tasks: Sequence[Task] = field(default_factory=tuple)


Render = Callable[[int], Awaitable[Page]]
Authorize = Callable[[discord.Interaction[Any]], Awaitable[None]]  # raises UserFacingError if refused


class Pager(discord.ui.View):
    """Previous / next over pages from ``render``; ``origin`` is the interaction whose message shows it.

    The latest click replaces ``origin``: its token is the freshest way to edit an ephemeral message
    (nothing else can).
    """

    def __init__(
        self,
        *,
        owner_id: int,
        render: Render,
        pages: int,
        not_yours: str | Message,
        authorize: Authorize | None = None,
        origin: discord.Interaction[Any] | None = None,
        timeout: float = PAGER_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.render = render
        self.authorize = authorize
        self.not_yours = not_yours
        self.page = 0
        self.pages = max(1, pages)
        self.origin = origin
        self._sync_buttons()

    async def on_timeout(self) -> None:
        if self.origin is None:
            return
        try:
            await self.origin.edit_original_response(view=None)
        except discord.HTTPException as exc:  # the message was dismissed, or the token expired
            log.debug("Could not remove the buttons of an expired list: %s", exc)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            not_yours = self.not_yours
            if isinstance(not_yours, Message):  # in the clicker's language
                not_yours = not_yours.render(member_locale(interaction))
            await send(interaction, not_yours)
            return False
        if self.authorize is not None:
            try:
                await self.authorize(interaction)
            except Exception as exc:
                if describe_error(exc) == GENERIC_FAILURE:
                    raise
                await send(interaction, describe_error(exc, member_locale(interaction)))
                return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        message = describe_error(error, member_locale(interaction))  # only the clicker sees it
        if describe_error(error) == GENERIC_FAILURE:
            log.error("Error in a paged list", exc_info=error)
            # A click on a page changed nothing: the failure says so (not "nothing was charged").
            message = translate(member_locale(interaction), "error.unchanged")
        await send(interaction, message)

    async def show(self, interaction: discord.Interaction[Any], page: int) -> None:
        self.page = max(0, min(self.pages - 1, page))
        result = await self.render(self.page)
        self.pages = max(1, result.pages)
        if self.page > self.pages - 1:  # the list shrank under the reader: show its last page
            self.page = self.pages - 1
            result = await self.render(self.page)
        self.refresh(result)
        await interaction.response.edit_message(embed=result.embed, view=self)
        self.origin = interaction

    def refresh(self, result: Page) -> None:
        """Hook for subclasses: adjust components to the page just rendered."""
        self._sync_buttons()

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary, row=0)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.show(interaction, self.page - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary, row=0)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.show(interaction, self.page + 1)
