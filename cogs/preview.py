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

from bot.spec import VideoSpec
from cogs.embeds import quote
from cogs.replies import reply_error

if TYPE_CHECKING:
    from cogs.video import VideoCog

PREVIEW_VIEW_TIMEOUT = 14 * 60.0  # an ephemeral message's follow-ups stop working after 15 minutes
MODAL_TEXT_LIMIT = 4000  # Discord's limit for a text input
SHOWN_PROMPT_LIMIT = 1700  # leaves room in a 2000-character message for the words around it


def preview_text(expanded: str, *, takes: int = 1) -> str:
    many = f" ({takes} takes, each at the video's price)" if takes > 1 else ""
    return (
        "✨ **Expanded prompt** (a preview: nothing was reserved or charged; MiniMax publishes no "
        "price for prompt expansion):\n"
        f"{quote(expanded, SHOWN_PROMPT_LIMIT)}\n"
        f"**Use it** makes the video{many} from it, **Edit** lets you change it first, **Keep mine** uses "
        "your own prompt."
    )


class PreviewView(discord.ui.View):
    def __init__(
        self, cog: VideoCog, spec: VideoSpec, expanded: str, *, pool: str | None = None, takes: int = 1
    ) -> None:
        super().__init__(timeout=PREVIEW_VIEW_TIMEOUT)
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
            PreviewEditModal(self.cog, self.spec, self.expanded, pool=self.pool, takes=self.takes)
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


class PreviewEditModal(discord.ui.Modal, title="Edit the expanded prompt"):
    prompt: discord.ui.TextInput[PreviewEditModal] = discord.ui.TextInput(
        label="The prompt the video is made from",
        custom_id="prompt",
        style=discord.TextStyle.paragraph,
        max_length=MODAL_TEXT_LIMIT,
    )

    def __init__(
        self, cog: VideoCog, spec: VideoSpec, expanded: str, *, pool: str | None = None, takes: int = 1
    ) -> None:
        super().__init__()
        self.cog = cog
        self.spec = spec
        self.pool = pool  # the team pool the member named, if any
        self.takes = takes
        self.prompt.default = expanded[:MODAL_TEXT_LIMIT]

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.cog.start_video(
            interaction, replace(self.spec, prompt=self.prompt.value), pool=self.pool, takes=self.takes
        )

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows View's signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)
