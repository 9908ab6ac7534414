"""Buttons that keep working on a delivered result: **Remix** (the same video with an edited prompt).

Persistent ``DynamicItem``s like Regenerate and Details (``video:remix:<id>``), registered with the
others (:data:`cogs.buttons.DYNAMIC_ITEMS`), so they work on results posted before a restart. Who may
click is the service's rule (``Admission.edit_source``): anyone in the server on a public result,
only its owner on a private one; whoever clicks pays. The modal shows the price before anything is
reserved; the request itself is an ordinary one (same quota, cap and refusals).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.catalog import spec_price_tenths
from bot.i18n import credits, translate
from bot.spec import Mode
from cogs.followups import keep_followup
from cogs.guilds import ServedOnly
from cogs.locales import member_locale
from cogs.permissions import actor_from
from cogs.replies import reply_error, send
from cogs.video_support import confirmation, service_of
from storage.models import Task

REMIX_PREFIX = "video:remix:"
MAX_MODAL_PROMPT = 4000  # Discord's limit for a text input
_TITLE_CHARS = 45  # Discord's limit for a modal title


def _price(task: Task) -> int | None:
    """The remix's price in tenths of a credit."""
    try:
        return spec_price_tenths(task.spec)
    except (AssertionError, KeyError):  # a model no longer in the catalog: the request will say
        return None


class RemixModal(discord.ui.Modal):
    """The original's prompt, to edit; submitting makes the new request. Worded in the clicker's
    ``locale`` (only they see it)."""

    def __init__(self, original: Task, locale: str | None = None) -> None:
        price = _price(original)
        if price is None:
            title = translate(locale, "button.remix.title", task_id=original.id)
        else:
            title = translate(locale, "button.remix.title_priced", task_id=original.id, price=credits(price))
        super().__init__(title=title[:_TITLE_CHARS], custom_id=f"video:remix-modal:{original.id}")
        self.original_id = original.id
        self.prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            label=translate(locale, "button.remix.prompt"),
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            default=original.prompt[:MAX_MODAL_PROMPT],
            max_length=MAX_MODAL_PROMPT,
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = service_of(interaction)
        limit = interaction.filesize_limit if interaction.guild_id is not None else None
        try:
            task = await service.remix(
                self.original_id, actor_from(interaction), self.prompt.value, upload_limit=limit
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


class RemixButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:remix:(?P<task_id>[0-9]{1,19})",
):
    """Opens the Remix modal for anyone who may remix this result (the service decides); labelled
    in ``locale``'s language (cosmetic: the custom_id is what a click is matched by)."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=translate(locale, "button.remix"),
                emoji="🎛️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{REMIX_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> RemixButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # A modal must be the first answer: the check is one database read, well within 3 seconds.
        try:
            original = await service_of(interaction).edit_source(
                self.task_id, actor_from(interaction), "remix"
            )
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        await interaction.response.send_modal(RemixModal(original, member_locale(interaction)))


EDIT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (RemixButton,)


def add_edit_buttons(view: discord.ui.View, task: Task, locale: str | None = None) -> None:
    """The edit buttons of a delivered result. An upscale has no prompt of its own to edit: it is a
    re-render of another result, which carries the buttons."""
    if task.mode is Mode.UPSCALE:
        return
    view.add_item(RemixButton(task.id, locale))
