"""``/video``: what a community member uses to make, follow and manage their videos.

Thin on purpose: each command turns Discord input into plain data, calls the VideoService, and
renders the answer with :mod:`cogs.embeds`. Every refusal is ephemeral and names the fix; commands
that touch storage defer first, so Discord's three-second window is never missed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Literal, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalog import (
    DURATIONS,
    LONGEST_PROMPT_CHARS,
    MAX_PROMPT_CHARS,
    MODELS,
    RATIOS,
    RESOLUTIONS,
)
from bot.config import Settings
from bot.i18n import credits, msg, translate
from bot.lifecycle import KEEP, NO_POOL, RequestRefused, VideoRequest, VideoService, Whereabouts
from bot.lifecycle.api_cancel import can_cancel_at_api
from bot.spec import MediaRef, MediaRole, VideoSpec
from cogs import community_embeds, embeds
from cogs.buttons import DYNAMIC_ITEMS, task_view
from cogs.followups import keep_followup
from cogs.locales import member_locale, server_locale
from cogs.pager import Page, Pager
from cogs.permissions import actor_from
from cogs.pool_text import choice_label
from cogs.preview import PreviewView, preview_text
from cogs.replies import reply_error, send
from cogs.scope import anywhere_scoped, guild_scoped, scope_guild_id
from cogs.text import clip
from cogs.video_support import (
    HasVideoService,
    animatable_image,
    confirmation,
    media_from,
    message_references,
    pickup_link,
    references_from,
)
from storage.models import Task
from storage.quota import MAX_TAKES
from storage.states import TaskState

log = logging.getLogger(__name__)

PAGE_SIZE = 5
AUTOCOMPLETE_LIMIT = 25
AUTO = "auto"
LIST_TIMEOUT = 300.0  # a member's list: they look, then move on
NOT_YOUR_LIST = msg("list.not_yours")
TopPeriod = Literal["day", "week", "month"]
POOL_NAME_CHARS = 32  # a pool's name (storage.pools.NAME_PATTERN)

MODEL_CHOICES = [app_commands.Choice(name=name, value=name) for name in MODELS]
RESOLUTION_CHOICES = [app_commands.Choice(name=r, value=r) for r in RESOLUTIONS]
RATIO_CHOICES = [app_commands.Choice(name=r, value=r) for r in RATIOS]
DURATION_CHOICES = [app_commands.Choice(name=f"{d} seconds", value=d) for d in DURATIONS]
# Discord caps a string option at 6000 characters; each model's own limit is checked by validation.
PROMPT_OPTION_CHARS = min(6000, LONGEST_PROMPT_CHARS)

# What the bot needs in a channel to post cards, replies with videos, and find them again.
NEEDED_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True
)


def missing_permissions(interaction: discord.Interaction[Any]) -> list[str]:
    if scope_guild_id(interaction) is None:
        return []
    have = interaction.app_permissions
    if have.value == 0:
        # Discord always sends the bot's permissions in a server; none at all means they were not
        # sent (an older API version or a stand-in), not that the bot may do nothing. Posting will
        # tell, and every posting failure has its fallback.
        return []
    missing = [
        name.replace("_", " ").title()
        for name, needed in NEEDED_PERMISSIONS
        if needed and not getattr(have, name)
    ]
    if (
        "Send Messages" in missing
        and have.send_messages_in_threads
        and isinstance(interaction.channel, discord.Thread)
    ):
        missing.remove("Send Messages")
    return missing


# A modal nobody submits (closed with Escape, the tab gone) would otherwise stay in discord.py's view
# store for the life of the process, with the attachment it holds: one per click, forever.
ANIMATE_MODAL_TIMEOUT = 15 * 60.0


class AnimateModal(discord.ui.Modal, title="Animate image"):
    """Asks for the prompt of an "Animate image" request; the image comes from the message.

    Forgotten after :data:`ANIMATE_MODAL_TIMEOUT`; a submit after that is one Discord shows as failed,
    and the member opens the menu again.
    """

    prompt: discord.ui.TextInput[AnimateModal] = discord.ui.TextInput(
        label="What should happen in the video?",
        custom_id="prompt",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. the cat slowly turns its head and blinks [Push in]",
        max_length=MAX_PROMPT_CHARS,
        required=False,  # image-to-video takes an empty prompt: the image says what to animate
    )

    def __init__(self, cog: VideoCog, attachment: discord.Attachment) -> None:
        super().__init__(timeout=ANIMATE_MODAL_TIMEOUT)
        self.cog = cog
        self.attachment = attachment

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        first_frame = media_from(self.attachment, MediaRole.FIRST_FRAME)
        await self.cog.start_video(interaction, VideoSpec(prompt=self.prompt.value, media=(first_frame,)))

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows View's signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        # The default only logs: the member would stare at "thinking…" forever.
        await reply_error(interaction, error)


class ReferencesModal(discord.ui.Modal, title="Video from references"):
    """Asks for the prompt of a "Video from references" request; the media come from the message."""

    prompt: discord.ui.TextInput[ReferencesModal] = discord.ui.TextInput(
        label="What should the video show?",
        custom_id="prompt",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. the characters from the board dance on the beach at sunset, to the song",
        max_length=4000,  # Discord's limit for a text input
    )

    def __init__(self, cog: VideoCog, references: tuple[MediaRef, ...]) -> None:
        super().__init__()
        self.cog = cog
        self.references = references

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.cog.start_video(interaction, VideoSpec(prompt=self.prompt.value, media=self.references))

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows View's signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)


class VideoCog(commands.Cog):
    video = guild_scoped(
        app_commands.Group(name="video", description="Make short AI videos with MiniMax Hailuo")
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.animate_menu = guild_scoped(
            app_commands.ContextMenu(name="Animate image", callback=self.animate_image)
        )
        self.references_menu = guild_scoped(
            app_commands.ContextMenu(name="Video from references", callback=self.video_from_references)
        )

    @property
    def service(self) -> VideoService:
        return cast(HasVideoService, self.bot).service

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.animate_menu)
        self.bot.tree.add_command(self.references_menu)

    async def cog_unload(self) -> None:
        for menu in (self.animate_menu, self.references_menu):
            self.bot.tree.remove_command(menu.name, type=menu.type)

    # ------------------------------------------------------------------------------ generate

    @video.command(name="generate", description="Turn a prompt (and optional images) into a video")
    @app_commands.describe(
        prompt="What the video shows; camera moves in brackets, e.g. [Pan left] (optional with images)",
        model="Which model (default: the best for what you attach)",
        duration="Length in seconds (default 6)",
        resolution="Resolution (default: the model's own)",
        first_frame="An image to animate (the video starts from it)",
        last_frame="Where the video should end (needs first_frame; MiniMax-Hailuo-02)",
        prompt_optimizer="Let the service improve your prompt (default: on)",
        fast="Faster preparation on Hailuo models",
        subject="A character reference image (S2V-01)",
        ratio="Aspect ratio, on models that take one (Hailuo follows 16:9 or the image)",
        reference_1="A reference image, video or audio clip (MiniMax-H3)",
        reference_2="Another reference (MiniMax-H3)",
        reference_3="Another reference (MiniMax-H3)",
        preview="Show MiniMax-H3's expanded prompt first, to use, edit or skip (nothing charged)",
        pool="A team pool to pay from (default: your default pool, your credits, then your pools)",
        variations="How many takes to make at once, 1-4 (each costs the price; delivered in one reply)",
    )
    @app_commands.choices(model=MODEL_CHOICES, resolution=RESOLUTION_CHOICES)
    @app_commands.choices(duration=DURATION_CHOICES)
    @app_commands.choices(ratio=RATIO_CHOICES)
    async def generate(
        self,
        interaction: discord.Interaction[Any],
        # Optional: an image, first+last frame or subject request may leave the words to the images.
        prompt: app_commands.Range[str, 1, PROMPT_OPTION_CHARS] | None = None,
        model: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        first_frame: discord.Attachment | None = None,
        last_frame: discord.Attachment | None = None,
        prompt_optimizer: bool | None = None,
        fast: bool | None = None,
        subject: discord.Attachment | None = None,
        ratio: str | None = None,
        reference_1: discord.Attachment | None = None,
        reference_2: discord.Attachment | None = None,
        reference_3: discord.Attachment | None = None,
        preview: bool | None = None,
        pool: app_commands.Range[str, 1, POOL_NAME_CHARS] | None = None,
        variations: app_commands.Range[int, 1, MAX_TAKES] = 1,
    ) -> None:
        media = {
            MediaRole.FIRST_FRAME: first_frame,
            MediaRole.LAST_FRAME: last_frame,
            MediaRole.SUBJECT: subject,
        }
        try:
            references = references_from(
                {"reference_1": reference_1, "reference_2": reference_2, "reference_3": reference_3}
            )
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        spec = VideoSpec(
            prompt=prompt or "",
            model=model,
            duration=duration,
            resolution=resolution,
            prompt_optimizer=prompt_optimizer,
            fast=fast,
            ratio=ratio,
            media=(
                *(media_from(a, role) for role, a in media.items() if a is not None),
                *references,
            ),
        )
        if preview:
            await self.start_preview(interaction, spec, pool=pool, takes=variations)
            return
        await self.start_video(interaction, spec, pool=pool, takes=variations)

    @generate.autocomplete("pool")
    async def _generate_pool(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._pool_choices(interaction, current)

    async def _pool_choices(
        self, interaction: discord.Interaction[Any], current: str, *extra: app_commands.Choice[str]
    ) -> list[app_commands.Choice[str]]:
        """The team pools the member may use here, with what is left in each."""
        try:
            usable = await self.service.usable_pools(_whereabouts(interaction))
        except Exception:
            log.exception("Pool autocomplete failed")
            return []
        needle = current.strip().lower()
        locale = member_locale(interaction)
        labelled = (app_commands.Choice(name=choice_label(u, locale), value=u.pool.name) for u in usable)
        choices = [*extra, *labelled]
        return [c for c in choices if needle in c.value][:AUTOCOMPLETE_LIMIT]

    async def start_preview(
        self,
        interaction: discord.Interaction[Any],
        spec: VideoSpec,
        *,
        pool: str | None = None,
        takes: int = 1,
    ) -> None:
        """Checked like a request, then MiniMax-H3's expanded prompt, privately, with the choices of
        :class:`~cogs.preview.PreviewView`; nothing reserved."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        request = _request(interaction, spec, pool=pool, takes=takes)
        try:
            expanded = await self.service.preview_prompt(request)
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        await send(
            interaction,
            preview_text(expanded, takes=takes),
            view=PreviewView(self, spec, expanded, pool=pool, takes=takes),
        )

    async def start_video(
        self,
        interaction: discord.Interaction[Any],
        spec: VideoSpec,
        *,
        pool: str | None = None,
        takes: int = 1,
    ) -> None:
        """Defer → check → validate and reserve (one transaction) → card in the channel → confirm →
        keep the follow-up as a fallback."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Under a burst, let every command that arrived meanwhile send its own defer before this one
        # does its work (validation, the reservation's transaction, the card): the first answer of
        # the last of them then waits for no one's work but its own (issue 15, bench_lifecycle).
        await asyncio.sleep(0)
        missing = missing_permissions(interaction)
        if missing:
            await send(
                interaction,
                f"I can't post videos in this channel: I need {', '.join(missing)} here. "
                "Ask a moderator to grant them, or use another channel. Nothing was charged.",
            )
            return
        request = _request(interaction, spec, pool=pool, takes=takes)
        service = self.service
        try:
            task = await service.request(request)
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        # A personal-install use (no guild) is delivered through this interaction while it lives
        # (15 minutes), else by DM: say so now when the wait may be longer.
        long_wait = task.guild_id is None and await service.may_outlast_followup(task)
        position = service.queue_position(task.id)
        await send(
            interaction,
            confirmation(task, position, long_wait=long_wait, locale=member_locale(interaction)),
        )
        # The channel may refuse the bot later (a permission removed): this interaction can still
        # post there for 15 minutes.
        await keep_followup(service, interaction, task)

    async def animate_image(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Context menu: animate the first usable image attached to (or forwarded in) a message."""
        try:
            image = animatable_image(message)
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        await interaction.response.send_modal(AnimateModal(self, image))

    async def video_from_references(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """Context menu: every image, video and audio attachment of a message (a mood board) becomes
        a reference; they are checked before the modal opens, so no prompt is written in vain."""
        try:
            references = message_references(message)
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        await interaction.response.send_modal(ReferencesModal(self, references))

    # ------------------------------------------------------------------------------ following tasks

    @video.command(name="status", description="Show one of your videos' status card again")
    @app_commands.describe(task="The video (start typing its number or prompt)")
    async def status(self, interaction: discord.Interaction[Any], task: app_commands.Range[int, 1]) -> None:
        # Deferred privately: whether the card may be shown to the channel is known only after the
        # lookup, and a refusal must stay private. The first follow-up takes the deferral's place
        # (and its privacy), so a public card comes as a second one.
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = self.service
        try:
            found = await service.task_for(task, actor_from(interaction))
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        card = await service.status_card(found)
        view = task_view(found)
        # A video kept for its requester (their DMs refused it) is picked up here: a fresh link.
        link = await pickup_link(service, found, interaction.user.id, member_locale(interaction))
        if found.deliver_by_dm:  # only the member sees it: their language
            await send(
                interaction,
                link,
                embed=embeds.status_embed(card, locale=member_locale(interaction)),
                view=view,
            )
            return
        shown = translate(member_locale(interaction), "status.shown", task_id=found.id)
        await send(interaction, shown if link is None else f"{shown}\n{link}")
        channel_card = embeds.status_embed(card, locale=server_locale(interaction))  # the channel's
        await send(interaction, embed=channel_card, view=view, ephemeral=False)

    @status.autocomplete("task")
    async def _status_task(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._task_choices(interaction, current, only_queued=False)

    @video.command(name="list", description="Your recent videos")
    async def list_tasks(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = self.service
        locale = member_locale(interaction)  # a private list: the member's language
        guild_id, user_id = scope_guild_id(interaction), interaction.user.id
        tasks, total = await service.recent_tasks(guild_id, user_id, limit=PAGE_SIZE)
        pages = max(1, math.ceil(total / PAGE_SIZE))

        async def load(page: int) -> Page:
            rows, count = await service.recent_tasks(
                guild_id, user_id, limit=PAGE_SIZE, offset=page * PAGE_SIZE
            )
            now_pages = max(1, math.ceil(count / PAGE_SIZE))
            return Page(embeds.task_list_embed(rows, count, page, now_pages, locale), now_pages)

        embed = embeds.task_list_embed(tasks, total, 0, pages, locale)
        if pages > 1:
            view = Pager(
                owner_id=user_id,
                render=load,
                pages=pages,
                not_yours=NOT_YOUR_LIST,
                origin=interaction,
                timeout=LIST_TIMEOUT,
            )
            await send(interaction, embed=embed, view=view)
        else:
            await send(interaction, embed=embed)

    @video.command(
        name="quota", description="Your credits: used, left, when they renew, and what each option costs"
    )
    async def quota(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_from(interaction)
        view = await self.service.quota(
            scope_guild_id(interaction),
            actor.user_id,
            actor.role_ids,
            channel_id=interaction.channel_id,
            parent_channel_id=_thread_parent(interaction),
        )
        await send(interaction, embed=embeds.quota_embed(view, member_locale(interaction)))

    @video.command(name="cancel", description="Cancel one of your videos that is still waiting in line")
    @app_commands.describe(task="The video to cancel (waiting in line, or an H3 video queued at the service)")
    async def cancel(self, interaction: discord.Interaction[Any], task: app_commands.Range[int, 1]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            cancelled = await self.service.cancel(task, actor_from(interaction))
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        await send(
            interaction,
            translate(
                member_locale(interaction),
                "cancel.done",
                task_id=cancelled.id,
                cost=credits(cancelled.cost_tenths),
            ),
        )

    @cancel.autocomplete("task")
    async def _cancel_task(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._task_choices(interaction, current, only_queued=True)

    async def _task_choices(
        self, interaction: discord.Interaction[Any], current: str, *, only_queued: bool
    ) -> list[app_commands.Choice[int]]:
        try:
            tasks, _total = await self.service.recent_tasks(
                scope_guild_id(interaction), interaction.user.id, limit=50
            )
        except Exception:
            log.exception("Task autocomplete failed")
            return []
        needle = " ".join(current.split()).lower().lstrip("#")
        choices: list[app_commands.Choice[int]] = []
        for task in tasks:
            if only_queued and task.state is not TaskState.QUEUED and not can_cancel_at_api(task):
                continue
            if needle and needle not in _search_text(task):
                continue
            choices.append(app_commands.Choice(name=_choice_label(task), value=task.id))
            if len(choices) >= AUTOCOMPLETE_LIMIT:
                break
        return choices

    # ------------------------------------------------------------------------------ settings, help

    @video.command(name="settings", description="Your defaults for /video generate (no options: show them)")
    @app_commands.describe(
        model="Default model (auto: the best for each request)",
        resolution="Default resolution (auto: the model's own)",
        duration="Default length (auto: 6 s)",
        prompt_optimizer="Let the service improve prompts by default",
        dm_results="Send finished videos to you by DM instead of the channel",
        pool="Your default team pool in this server, tried before your own credits (auto: none)",
    )
    @app_commands.choices(duration=[app_commands.Choice(name="auto", value=0), *DURATION_CHOICES])
    @app_commands.choices(
        model=[app_commands.Choice(name="auto", value=AUTO), *MODEL_CHOICES],
        resolution=[app_commands.Choice(name="auto", value=AUTO), *RESOLUTION_CHOICES],
        prompt_optimizer=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
            app_commands.Choice(name="auto", value=AUTO),
        ],
    )
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        model: str | None = None,
        resolution: str | None = None,
        duration: int | None = None,
        prompt_optimizer: str | None = None,
        dm_results: bool | None = None,
        pool: app_commands.Range[str, 1, POOL_NAME_CHARS] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = self.service
        locale = member_locale(interaction)  # a private reply: the member's language
        user_id = interaction.user.id
        where = _whereabouts(interaction)
        if all(v is None for v in (model, resolution, duration, prompt_optimizer, dm_results, pool)):
            prefs = await service.preferences(user_id)
            pool_name = await _pool_name(service, where)
            await send(interaction, embed=embeds.settings_embed(prefs, pool=pool_name, locale=locale))
            return
        try:
            prefs = await service.update_preferences(
                user_id,
                model=KEEP if model is None else (None if model == AUTO else model),
                resolution=KEEP if resolution is None else (None if resolution == AUTO else resolution),
                duration=KEEP if duration is None else (duration or None),
                prompt_optimizer=KEEP
                if prompt_optimizer is None
                else {"on": True, "off": False}.get(prompt_optimizer),
                dm_results=KEEP if dm_results is None else dm_results,
            )
            if pool is not None:  # last: a refused pool leaves the other options saved
                await service.set_default_pool(where, pool)
        except RequestRefused as exc:
            await send(interaction, exc.text(locale))
            return
        pool_name = await _pool_name(service, where)
        saved = embeds.settings_embed(prefs, changed=True, pool=pool_name, locale=locale)
        await send(interaction, embed=saved)

    @settings.autocomplete("pool")
    async def _settings_pool(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        none = app_commands.Choice(name="auto: no default pool (your own credits first)", value=NO_POOL)
        return await self._pool_choices(interaction, current, none)

    @video.command(name="help", description="Models, modes, camera commands and limits")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        await send(interaction, embed=embeds.help_embed(member_locale(interaction)))

    @video.command(name="top", description="The most-voted videos of the server's showcase")
    @app_commands.describe(period="Videos shared in the last day, 7 days or 30 days (default: week)")
    async def top(self, interaction: discord.Interaction[Any], period: TopPeriod = "week") -> None:
        locale = member_locale(interaction)  # a private reply: the member's language
        guild_id = scope_guild_id(interaction)
        if guild_id is None:
            await send(interaction, translate(locale, "top.guild_only"))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            entries = await self.service.showcase.top(guild_id, period)
        except RequestRefused as exc:
            await send(interaction, exc.text(member_locale(interaction)))
            return
        await send(interaction, embed=community_embeds.top_embed(entries, period, locale))

    @video.command(name="queue", description="What is being made in this channel right now")
    async def queue(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel_id = interaction.channel_id
        assert channel_id is not None  # every slash command comes from a channel
        queue = await self.service.channel_queue(channel_id)
        embed = community_embeds.queue_embed(queue, channel_id, member_locale(interaction))
        await send(interaction, embed=embed)


def _choice_label(task: Task) -> str:
    label = f"#{task.id} · {task.state.value} · {task.prompt}"
    return clip(" ".join(label.split()), 100)


def _search_text(task: Task) -> str:
    """What autocomplete matches against: the whole prompt, not the 100-character label Discord
    shows, so a word near the end of a long prompt still finds the video."""
    return " ".join(f"#{task.id} · {task.state.value} · {task.prompt}".split()).lower()


async def setup(bot: commands.Bot) -> None:
    # Registered here (inside setup_hook) so buttons on old messages work right after a restart.
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    cog = VideoCog(bot)
    settings = getattr(bot, "settings", None)
    if isinstance(settings, Settings) and settings.user_install:
        # USER_INSTALL=on: /video (only it, not its context menus) may be used anywhere.
        anywhere_scoped(cog.video)
    await bot.add_cog(cog)


def _request(
    interaction: discord.Interaction[Any], spec: VideoSpec, *, pool: str | None = None, takes: int = 1
) -> VideoRequest:
    """A member's request for ``spec`` from where they asked (a video, or a prompt preview);
    ``takes``: ``variations``, the takes reserved together."""
    actor = actor_from(interaction)
    return VideoRequest(
        guild_id=scope_guild_id(interaction),
        channel_id=interaction.channel_id or 0,
        user_id=actor.user_id,
        spec=spec,
        role_ids=actor.role_ids,
        parent_channel_id=_thread_parent(interaction),
        upload_limit=interaction.filesize_limit,
        pool=pool,
        takes=takes,
        locale=actor.locale,
    )


def _whereabouts(interaction: discord.Interaction[Any]) -> Whereabouts:
    """Who asks and where, for the team pools they may use."""
    actor = actor_from(interaction)
    channel, parent = interaction.channel_id, _thread_parent(interaction)
    return Whereabouts(scope_guild_id(interaction), actor.user_id, actor.role_ids, channel, parent)


async def _pool_name(service: VideoService, where: Whereabouts) -> str | None:
    """The member's default pool here, for the settings card (outside a server: none)."""
    pool = await service.default_pool(where)
    return None if pool is None else pool.name


def _thread_parent(interaction: discord.Interaction[Any]) -> int | None:
    """The channel a thread belongs to, whose rules the thread follows."""
    channel = interaction.channel
    return channel.parent_id if isinstance(channel, discord.Thread) else None
