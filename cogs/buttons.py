"""Persistent buttons: "Regenerate" and "Details" on status cards and results, "Upscale to 2K" on a
delivered 768P MiniMax-H3 result.

They are ``DynamicItem``s whose custom_id carries the task id (``video:regen:<id>``,
``video:details:<id>``, ``video:upscale:<id>``) and are registered with ``bot.add_dynamic_items``
when the cog loads, so buttons on messages posted before a restart, or weeks ago, keep working. The
paginated task list is an ordinary, short-lived view: it belongs to one ephemeral answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord

from bot.i18n import translate
from bot.lifecycle import RequestRefused
from bot.lifecycle.upscale import offers_upscale
from cogs import embeds
from cogs.edit_buttons import EDIT_ITEMS, add_edit_buttons
from cogs.followups import keep_followup
from cogs.guilds import ServedOnly
from cogs.locales import member_locale
from cogs.permissions import actor_from
from cogs.replies import reply_error, send
from cogs.sequel_buttons import SEQUEL_ITEMS, add_sequel_buttons
from cogs.share_buttons import SHOWCASE_ITEMS, ShareButton
from cogs.video_support import confirmation, dm_actor, pickup_link, service_of
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

REGEN_PREFIX = "video:regen:"
DETAILS_PREFIX = "video:details:"
UPSCALE_PREFIX = "video:upscale:"


def _task_button(
    key: str, emoji: str, prefix: str, task_id: int, locale: str | None
) -> discord.ui.Button[Any]:
    """The look every persistent task button shares; the custom_id carries the task across restarts.

    The label is the catalog's ``key`` in ``locale``'s language (the server's on a channel post,
    English in a DM): cosmetic only, since a click is matched by the custom_id, which never changes;
    a button rebuilt from a click (``from_custom_id``) is never shown, so it needs no language."""
    return discord.ui.Button(
        label=translate(locale, key),
        emoji=emoji,
        style=discord.ButtonStyle.secondary,
        custom_id=f"{prefix}{task_id}",
    )


class RegenerateButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:regen:(?P<task_id>[0-9]{1,19})",
):
    """Same options, new reservation; for the requester or a moderator (the service checks)."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(_task_button("button.regenerate", "🔁", REGEN_PREFIX, task_id, locale))
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> RegenerateButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            service = service_of(interaction)
            actor = actor_from(interaction)
            if interaction.guild_id is None:  # a result sent by DM: the original server's rules apply
                actor = await dm_actor(interaction, service, self.task_id, actor)
            limit = interaction.filesize_limit if interaction.guild_id is not None else None
            task = await service.regenerate(self.task_id, actor, upload_limit=limit)
        except Exception as exc:
            # Errors of a component go to the view's on_error, which only logs: answer here
            # (a refusal with its own message, anything else with the generic line).
            await reply_error(interaction, exc)
            return
        here = interaction.guild_id is not None
        await send(
            interaction,
            confirmation(task, service.queue_position(task.id), locale=member_locale(interaction), here=here),
        )
        await keep_followup(service, interaction, task)


class UpscaleButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:upscale:(?P<task_id>[0-9]{1,19})",
):
    """The 2K version of a delivered 768P H3 video: a request of its own, priced, reserved and
    charged to whoever clicks (the service checks the rest)."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(_task_button("button.upscale", "⏫", UPSCALE_PREFIX, task_id, locale))
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> UpscaleButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            service = service_of(interaction)
            actor = actor_from(interaction)
            if interaction.guild_id is None:  # a result sent by DM: the original server's rules apply
                actor = await dm_actor(interaction, service, self.task_id, actor)
            task = await service.upscale(self.task_id, actor)
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        here = interaction.guild_id is not None
        await send(
            interaction,
            confirmation(task, service.queue_position(task.id), locale=member_locale(interaction), here=here),
        )
        await keep_followup(service, interaction, task)


class DetailsButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:details:(?P<task_id>[0-9]{1,19})",
):
    """The task's full details, privately, for the requester or a moderator; on a result whose
    download link expired, a fresh link too."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(_task_button("button.details", "ℹ️", DETAILS_PREFIX, task_id, locale))
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> DetailsButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = service_of(interaction)
        try:
            task = await service.task_for(self.task_id, actor_from(interaction))
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        locale = member_locale(interaction)  # a private answer: the clicker's language
        content = None
        message = interaction.message
        # Clicked on a result posted as a link (over the upload limit) that no longer works: the
        # member came for the video, so fetch a new link rather than show a dead one.
        if (
            task.state is TaskState.DELIVERED
            and message is not None
            and embeds.posted_link_expired(message.content, time.time())
        ):
            try:
                link = await service.fresh_link(task)
                content = embeds.fresh_link_content(task, link.url, link.expires_at, locale)
            except RequestRefused as exc:
                content = exc.text(locale)
            except Exception as exc:
                await reply_error(interaction, exc)
                return
        if content is None:
            # A video kept for its requester (their DMs refused it): the link is how they get it.
            try:
                content = await pickup_link(service, task, interaction.user.id, locale)
            except Exception as exc:
                await reply_error(interaction, exc)
                return
        await send(interaction, content, embed=embeds.details_embed(task, locale))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    RegenerateButton,
    DetailsButton,
    UpscaleButton,
    *EDIT_ITEMS,
    *SEQUEL_ITEMS,
    *SHOWCASE_ITEMS,
)


def task_view(task: Task, locale: str | None = None) -> discord.ui.View:
    """Buttons under a card or a result: Details always, Regenerate once the task is over; labelled
    in ``locale``'s language (the server's for a channel, English by default)."""
    view = discord.ui.View(timeout=None)
    if task.state.final:
        view.add_item(RegenerateButton(task.id, locale))
    view.add_item(DetailsButton(task.id, locale))
    return view


def result_view(task: Task, locale: str | None = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RegenerateButton(task.id, locale))
    view.add_item(DetailsButton(task.id, locale))
    if offers_upscale(task):
        view.add_item(UpscaleButton(task.id, locale))
    add_edit_buttons(view, task, locale)  # Remix (cogs/edit_buttons.py)
    add_sequel_buttons(view, task, locale)  # Extend and Loop (cogs/sequel_buttons.py)
    if not task.deliver_by_dm and task.guild_id is not None:  # a public result may go to the showcase
        view.add_item(ShareButton(task.id, locale))
    return view


def group_result_view(takes: list[Task], locale: str | None = None) -> discord.ui.View:
    """A group's reply: a row per take (Discord: at most 5 rows of 5 buttons), its Remix, Extend
    and Loop labelled with the take's number; the same persistent buttons as a result's, keyed by
    the take's own task id."""
    view = discord.ui.View(timeout=None)
    for row, take in enumerate(takes[:5]):
        per_take = discord.ui.View(timeout=None)
        add_edit_buttons(per_take, take, locale)
        add_sequel_buttons(per_take, take, locale)
        for item in per_take.children[:5]:
            if isinstance(item, discord.ui.DynamicItem):
                button = item.item
                if isinstance(button, discord.ui.Button):
                    button.label = f"{button.label} {take.take}"
            item.row = row
            view.add_item(item)
    return view


# A page's embed and how many pages there are now: the count is read again with every page, so a
# list opened with two pages grows a third when new videos arrive.
