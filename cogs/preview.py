"""The prompt preview's private answer: the expanded prompt with Use it, Edit and Keep mine.

``/video generate preview:True`` (MiniMax-H3 models) asks the service for the expanded prompt
(:mod:`bot.lifecycle.preview`) and shows it only to the member, with nothing reserved or charged.
Each button then starts the video as ``/video generate`` would, from the chosen prompt: the
expanded one (Use it), the expanded one as the member edits it in a prefilled modal (Edit), or the
member's own (Keep mine). The view lives as long as the ephemeral message is worth answering.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import translate
from bot.spec import VideoSpec
from cogs.embeds import quote
from cogs.replies import reply_error

if TYPE_CHECKING:
    from cogs.video import VideoCog

PREVIEW_VIEW_TIMEOUT = 14 * 60.0  # an ephemeral message's follow-ups stop working after 15 minutes
MODAL_TEXT_LIMIT = 4000  # Discord's limit for a text input
SHOWN_PROMPT_LIMIT = 1700  # leaves room in a 2000-character message for the words around it


def preview_text(expanded: str, *, takes: int = 1, locale: str | None = None) -> str:
    """The private preview answer, in the member's ``locale`` (it names the buttons as labelled)."""
    many = translate(locale, "button.preview.takes", takes=takes) if takes > 1 else ""
    return translate(locale, "button.preview.text", prompt=quote(expanded, SHOWN_PROMPT_LIMIT), takes=many)


class PreviewView(discord.ui.View):
    """Use it, Edit and Keep mine, labelled in the member's ``locale`` (the answer is theirs)."""

    def __init__(
        self,
        cog: VideoCog,
        spec: VideoSpec,
        expanded: str,
        *,
        pool: str | None = None,
        takes: int = 1,
        locale: str | None = None,
    ) -> None:
        super().__init__(timeout=PREVIEW_VIEW_TIMEOUT)
        self.use.label = translate(locale, "button.preview.use")
        self.edit.label = translate(locale, "button.preview.edit")
        self.keep.label = translate(locale, "button.preview.keep")
        self.locale = locale
        self.cog = cog
        self.spec = spec
        self.pool = pool  # the team pool the member named, if any
        self.takes = takes  # ``variations``
        self.expanded = expanded

    @discord.ui.button(label="Use it", style=discord.ButtonStyle.success)
    async def use(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[PreviewView]
    ) -> None:
        self.stop()
        await self.cog.start_video(
            interaction, replace(self.spec, prompt=self.expanded), pool=self.pool, takes=self.takes
        )

    @discord.ui.button(label="Edit", style=discord.ButtonStyle.primary)
    async def edit(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[PreviewView]
    ) -> None:
        await interaction.response.send_modal(
            PreviewEditModal(
                self.cog, self.spec, self.expanded, pool=self.pool, takes=self.takes, locale=self.locale
            )
        )

    @discord.ui.button(label="Keep mine", style=discord.ButtonStyle.secondary)
    async def keep(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[PreviewView]
    ) -> None:
        self.stop()
        await self.cog.start_video(interaction, self.spec, pool=self.pool, takes=self.takes)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, _item: discord.ui.Item[Any], /
    ) -> None:
        await reply_error(interaction, error)


class PreviewEditModal(discord.ui.Modal):
    """The expanded prompt, prefilled to edit; worded in the member's ``locale``."""

    def __init__(
        self,
        cog: VideoCog,
        spec: VideoSpec,
        expanded: str,
        *,
        pool: str | None = None,
        takes: int = 1,
        locale: str | None = None,
    ) -> None:
        super().__init__(title=translate(locale, "button.preview.modal_title"))
        self.prompt: discord.ui.TextInput[PreviewEditModal] = discord.ui.TextInput(
            label=translate(locale, "button.preview.modal_label"),
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            default=expanded[:MODAL_TEXT_LIMIT],
            max_length=MODAL_TEXT_LIMIT,
        )
        self.add_item(self.prompt)
        self.cog = cog
        self.spec = spec
        self.pool = pool  # the team pool the member named, if any
        self.takes = takes

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.cog.start_video(
            interaction, replace(self.spec, prompt=self.prompt.value), pool=self.pool, takes=self.takes
        )

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows View's signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)
