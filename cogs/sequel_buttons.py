"""**Extend** and **Loop** on a delivered result: a new clip from the video's own frames, joined to it.

Persistent ``DynamicItem``s (``video:extend:<id>``, ``video:loop:<id>``) registered with the others
(:data:`cogs.buttons.DYNAMIC_ITEMS`), so they work on results posted before a restart. A click asks
the service what the next segment would be (:meth:`VideoService.sequel_offer`: who may, the model,
the price, the total length under ``MAX_EXTENDED_SECONDS`` and the upload limit) and opens a modal
with the original prompt to edit and the price in its title; nothing is reserved before the modal is
submitted, and a refusal (too long, a private result of someone else's) answers the click itself.
Submitting fetches the video and its frames, which can take a while: the answer is deferred first.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.catalog import SEQUELS, format_credits
from bot.i18n import translate
from bot.lifecycle.sequels import SequelOffer
from bot.spec import Mode
from cogs.followups import keep_followup
from cogs.guilds import ServedOnly
from cogs.locales import member_locale
from cogs.permissions import actor_from
from cogs.replies import reply_error, send
from cogs.video_support import confirmation, service_of
from storage.models import Task

EXTEND_PREFIX = "video:extend:"
LOOP_PREFIX = "video:loop:"
MAX_MODAL_PROMPT = 4000  # Discord's limit for a text input
_TITLE_CHARS = 45  # Discord's limit for a modal title
_LABEL_CHARS = 45  # and for a text input's label


def _upload_limit(interaction: discord.Interaction[Any]) -> int | None:
    return interaction.filesize_limit if interaction.guild_id is not None else None


class SequelModal(discord.ui.Modal):
    """The original's prompt, to edit for the next segment; submitting reserves it. Worded in the
    clicker's ``locale`` (only they see it)."""

    def __init__(self, offer: SequelOffer, locale: str | None = None) -> None:
        original, spec = offer.original, offer.spec
        price = format_credits(offer.price_tenths)
        title = translate(locale, f"button.{offer.kind}.title", task_id=original.id, price=price)
        super().__init__(title=title[:_TITLE_CHARS], custom_id=f"video:{offer.kind}-modal:{original.id}")
        self.original_id = original.id
        self.kind = offer.kind
        label = translate(
            locale, "button.sequel.prompt", seconds=spec.duration, total=f"{offer.total_seconds:.0f}"
        )
        self.prompt: discord.ui.TextInput[SequelModal] = discord.ui.TextInput(
            label=label[:_LABEL_CHARS],
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            default=original.prompt[:MAX_MODAL_PROMPT],
            max_length=MAX_MODAL_PROMPT,
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = service_of(interaction)
        try:
            task = await service.sequel(
                self.original_id,
                actor_from(interaction),
                self.kind,
                self.prompt.value,
                upload_limit=_upload_limit(interaction),
            )
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        here = interaction.guild_id is not None
        await send(
            interaction,
            confirmation(task, service.queue_position(task.id), locale=member_locale(interaction), here=here),
        )
        await keep_followup(service, interaction, task)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows View's signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)


async def _open_modal(interaction: discord.Interaction[Any], task_id: int, kind: str) -> None:
    # A modal must be the first answer: the offer reads the database only, well within 3 seconds.
    try:
        offer = await service_of(interaction).sequel_offer(
            task_id, actor_from(interaction), kind, upload_limit=_upload_limit(interaction)
        )
    except Exception as exc:
        await reply_error(interaction, exc)
        return
    await interaction.response.send_modal(SequelModal(offer, member_locale(interaction)))


class ExtendButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:extend:(?P<task_id>[0-9]{1,19})",
):
    """Continue the video from its last frame (the service decides who may); labelled in
    ``locale``'s language (cosmetic: the custom_id is what a click is matched by)."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=translate(locale, "button.extend"),
                emoji="⏩",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{EXTEND_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ExtendButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _open_modal(interaction, self.task_id, "extend")


class LoopButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:loop:(?P<task_id>[0-9]{1,19})",
):
    """Close the video into a seamless loop (the service decides who may); labelled like Extend."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=translate(locale, "button.loop"),
                emoji="🔁",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{LOOP_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> LoopButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _open_modal(interaction, self.task_id, "loop")


SEQUEL_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ExtendButton, LoopButton)


def add_sequel_buttons(view: discord.ui.View, task: Task, locale: str | None = None) -> None:
    """Extend and Loop, on the result of a model the catalog knows how to continue. Not on an
    upscale: it re-renders another result, which carries them (as it carries Remix)."""
    if task.model not in SEQUELS or task.mode is Mode.UPSCALE:
        return
    view.add_item(ExtendButton(task.id, locale))
    view.add_item(LoopButton(task.id, locale))
