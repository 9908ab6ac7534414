"""`/videoadmin`: how moderators control who generates what, where and at what cost.

The commands are thin: check the moderator, parse and validate the options, make **one** storage call
(which writes the change and its audit row in one transaction), and confirm with an ephemeral
``before → after`` embed. The guild always comes from the interaction, never from an option, so a
moderator can only ever see and change their own server.

``default_permissions`` hides the group from members, but server owners can grant it to anyone in
the integration settings, so every command also checks at run time (:mod:`cogs.permissions`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalog import DURATIONS, RESOLUTIONS, format_credits
from bot.config import Settings
from bot.lifecycle.prompt_filter import FilterEntryError, compile_entry, display_entry, parse_entry
from cogs import admin_embeds as embeds
from cogs.admin_values import (
    MAX_MEMBER_CREDITS,
    clean_reason,
    credits_to_tenths,
    parse_cap,
    parse_models,
    possible_videos,
)
from cogs.admin_views import Page, Pager, TasksView
from cogs.permissions import has_manage_server, is_moderator, member_role_ids, refusal_text
from cogs.replies import UserFacingError, send
from storage import Storage
from storage.errors import IllegalTransition, InvalidValue, UnknownTask
from storage.models import Change, GuildPolicy, RoleLimit, Task
from storage.policy import UNSET
from storage.states import FINAL_STATES, TaskState

if TYPE_CHECKING:
    from bot.app import VideoBot
    from bot.lifecycle.service import VideoService

log = logging.getLogger(__name__)

PAGE_SIZE = 10
STATS_WINDOWS: dict[str, tuple[str, float]] = {
    "24h": ("last 24 hours", 86_400.0),
    "7d": ("last 7 days", 7 * 86_400.0),
    "30d": ("last 30 days", 30 * 86_400.0),
}
_API_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# The group's default_permissions hide it from everyone without Manage Server; only the server can
# show it to a role, so the moderator role alone does nothing visible until that is done.
MODERATOR_ROLE_VISIBILITY = (
    "Members with {role} may now use /videoadmin, but Discord still hides the command from anyone "
    "without Manage Server: allow the role under Server Settings → Integrations → this bot → /videoadmin."
)

Period = Literal["day", "week", "month"]
ResetMode = Literal["clear-override", "fresh-allowance"]
ResolutionChoice = Literal["512P", "720P", "768P", "1080P", "any"]
DurationChoice = Literal["6", "10", "any"]
ResultsChoice = Literal["public", "private"]
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
assert set(get_args(ResolutionChoice)) == {*RESOLUTIONS, "any"}, (
    "keep the choices in step with the model table"
)
assert set(get_args(DurationChoice)) == {*map(str, DURATIONS), "any"}
assert set(get_args(TaskFilter)) == {*(s.value for s in TaskState), "unfinished", "stuck"}


class AdminHost(Protocol):
    """What the cog needs from the bot (``bot.app.VideoBot`` provides it; tests pass a small stand-in)."""

    storage: Storage
    settings: Settings
    video_service: VideoService | None


@dataclass(frozen=True)
class Moderation:
    """A checked moderator in a guild: the only way into any `/videoadmin` action."""

    guild: discord.Guild
    member: discord.Member
    policy: GuildPolicy

    @property
    def guild_id(self) -> int:
        return self.guild.id

    @property
    def actor_id(self) -> int:
        return self.member.id


@contextmanager
def refusing_bad_values() -> Iterator[None]:
    """Storage's own checks (the last line of defence) become a moderator-facing refusal."""
    try:
        yield
    except InvalidValue as exc:
        raise UserFacingError(f"{exc} Nothing was changed.") from None


class AdminCog(commands.Cog):
    videoadmin = app_commands.Group(
        name="videoadmin",
        description="Moderator controls for video generation in this server",
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        default_permissions=discord.Permissions(manage_guild=True),
    )
    quota = app_commands.Group(name="quota", description="Members' credit allowances", parent=videoadmin)
    filter_group = app_commands.Group(
        name="filter", description="The server's prompt filter", parent=videoadmin
    )
    channels = app_commands.Group(name="channels", description="Where /video may be used", parent=videoadmin)

    def __init__(self, host: AdminHost, *, clock: Callable[[], float] = time.time) -> None:
        self.host = host
        self.clock = clock

    @property
    def storage(self) -> Storage:
        return self.host.storage

    @property
    def settings(self) -> Settings:
        return self.host.settings

    # -- the gate ------------------------------------------------------------------------------------

    async def moderation(self, interaction: discord.Interaction[Any]) -> Moderation:
        """The run-time check of every command and every button: in a guild, and a moderator there."""
        guild = interaction.guild
        member = interaction.user
        if guild is None or not isinstance(member, discord.Member):
            raise UserFacingError("This command works only inside a server.")
        policy = await self.storage.policy.get(guild.id)
        if not is_moderator(member, policy):
            raise UserFacingError(refusal_text(policy))
        return Moderation(guild, member, policy)

    async def _authorize(self, interaction: discord.Interaction[Any]) -> None:
        await self.moderation(interaction)

    def _service(self) -> VideoService | None:
        return self.host.video_service

    # -- quota ---------------------------------------------------------------------------------------

    @quota.command(name="show", description="A member's allowance, usage and where their limit comes from")
    @app_commands.describe(member="The member to look at")
    async def quota_show(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        self._same_guild(mod, member)
        gid, now = mod.guild_id, self.clock()
        role_ids = member_role_ids(member, member.guild.id)
        usage = await self.storage.quota.usage(
            gid,
            member.id,
            role_ids=role_ids,
            now=now,
            default_limit_tenths=self.settings.default_quota_tenths,
            default_period=self.settings.default_quota_period,
        )
        roles = [r for r in await self.storage.limits.role_limits(gid) if r.role_id in role_ids]
        best: RoleLimit | None = max(roles, key=lambda r: r.credits_tenths, default=None)
        embed = embeds.quota_embed(
            member_mention=member.mention,
            usage=usage,
            override=await self.storage.limits.override(gid, member.id),
            best_role=best,
            guild_default=await self.storage.limits.guild_default(gid),
            block=await self.storage.limits.blocked(gid, member.id),
            guild_usage=await self.storage.quota.guild_usage(
                gid, now=now, default_period=self.settings.default_quota_period
            ),
        )
        await send(interaction, embed=embed)

    @quota.command(name="set", description="Give a member their own allowance (above any role)")
    @app_commands.describe(
        member="The member",
        credits="Credits per period, one decimal allowed (e.g. 2.5)",
        period="Period of this allowance (default: the server's period)",
    )
    async def quota_set(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member,
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
        period: Period | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        self._same_guild(mod, member)
        tenths = credits_to_tenths(credits, option="credits")
        with refusing_bad_values():
            change = await self.storage.limits.set_override(
                mod.guild_id, member.id, tenths, period, actor_id=mod.actor_id, now=self.clock()
            )
        embed = embeds.change_embed(
            f"Allowance of {member.display_name}",
            [("Override", embeds.override_text(change.before), embeds.override_text(change.after))],
            changed=change.audit_id is not None,
            note=f"{member.mention}'s own allowance now wins over their roles and the server default.",
        )
        await send(interaction, embed=embed)

    @quota.command(
        name="reset", description="Clear a member's override, or forgive what they used this period"
    )
    @app_commands.describe(
        member="The member",
        mode=(
            "clear-override: back to their role / server limit · "
            "fresh-allowance: keep their limit, forget this period's usage"
        ),
    )
    async def quota_reset(
        self, interaction: discord.Interaction[Any], member: discord.Member, mode: ResetMode
    ) -> None:
        mod = await self.moderation(interaction)
        self._same_guild(mod, member)
        if mode == "clear-override":
            change = await self.storage.limits.clear_override(
                mod.guild_id, member.id, actor_id=mod.actor_id, now=self.clock()
            )
            embed = embeds.change_embed(
                f"Allowance of {member.display_name}",
                [("Override", embeds.override_text(change.before), "no override")],
                changed=change.audit_id is not None,
                note="Their best role's limit, or else the server default, applies again.",
            )
        else:
            grant = await self.storage.quota.grant_fresh_allowance(
                mod.guild_id,
                member.id,
                actor_id=mod.actor_id,
                now=self.clock(),
                default_period=self.settings.default_quota_period,
            )
            embed = embeds.change_embed(
                f"Fresh allowance for {member.display_name}",
                [("Used this period", embeds.credits(grant.before or 0), embeds.credits(grant.after or 0))],
                changed=True,
                note=(
                    "Their limit is unchanged; what they used before now no longer counts this period. "
                    "The server's spending cap still counts it: those credits were really spent."
                ),
            )
        await send(interaction, embed=embed)

    @quota.command(
        name="default", description="The allowance of every member without a role limit or override"
    )
    @app_commands.describe(
        credits="Credits per period, one decimal allowed", period="Day, week or month (UTC)"
    )
    async def quota_default(
        self,
        interaction: discord.Interaction[Any],
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
        period: Period,
    ) -> None:
        mod = await self.moderation(interaction)
        tenths = credits_to_tenths(credits, option="credits")
        with refusing_bad_values():
            change = await self.storage.limits.set_guild_default(
                mod.guild_id, tenths, period, actor_id=mod.actor_id, now=self.clock()
            )
        before = embeds.default_text(change.before)
        if change.before is None:
            before = embeds.per_period(self.settings.default_quota_tenths, self.settings.default_quota_period)
            before += " (the bot's default)"
        embed = embeds.change_embed(
            "Server default allowance",
            [("Default", before, embeds.default_text(change.after))],
            changed=change.audit_id is not None,
            note="Role limits apply in the same period; the server cap too.",
        )
        await send(interaction, embed=embed)

    @quota.command(
        name="role", description="The allowance of members with this role (they get their best role's)"
    )
    @app_commands.describe(role="The role", credits="Credits per period, one decimal allowed")
    async def quota_role(
        self,
        interaction: discord.Interaction[Any],
        role: discord.Role,
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
    ) -> None:
        mod = await self.moderation(interaction)
        self._check_role(mod, role, purpose="a role limit")
        tenths = credits_to_tenths(credits, option="credits")
        with refusing_bad_values():
            change = await self.storage.limits.set_role_limit(
                mod.guild_id, role.id, tenths, actor_id=mod.actor_id, now=self.clock()
            )
        embed = embeds.change_embed(
            f"Allowance of the role {role.name}",
            [(f"@{role.name}", embeds.role_text(change.before), embeds.role_text(change.after))],
            changed=change.audit_id is not None,
            note="A member with several limited roles gets the highest; a member's own override wins.",
        )
        await send(interaction, embed=embed)

    @quota.command(name="role-clear", description="Remove a role's allowance")
    @app_commands.describe(role="The role")
    async def quota_role_clear(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        mod = await self.moderation(interaction)
        if role.guild.id != mod.guild_id:
            raise UserFacingError("That role is not in this server. Nothing was changed.")
        change = await self.storage.limits.clear_role_limit(
            mod.guild_id, role.id, actor_id=mod.actor_id, now=self.clock()
        )
        embed = embeds.change_embed(
            f"Allowance of the role {role.name}",
            [(f"@{role.name}", embeds.role_text(change.before), embeds.role_text(None))],
            changed=change.audit_id is not None,
        )
        await send(interaction, embed=embed)

    # -- blocks --------------------------------------------------------------------------------------

    @videoadmin.command(name="block", description="Stop a member from generating videos in this server")
    @app_commands.describe(member="The member", reason="Shown to the member when they try")
    async def block(
        self, interaction: discord.Interaction[Any], member: discord.Member, reason: str | None = None
    ) -> None:
        mod = await self.moderation(interaction)
        self._same_guild(mod, member)
        text = clean_reason(reason)
        with refusing_bad_values():
            change = await self.storage.limits.block(
                mod.guild_id, member.id, text, actor_id=mod.actor_id, now=self.clock()
            )
        embed = embeds.change_embed(
            f"Block of {member.display_name}",
            [(member.display_name, embeds.block_text(change.before), embeds.block_text(change.after))],
            changed=change.audit_id is not None,
            note="Their videos already running still finish; new requests are refused.",
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="unblock", description="Let a blocked member generate videos again")
    @app_commands.describe(member="The member")
    async def unblock(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        self._same_guild(mod, member)
        change = await self.storage.limits.unblock(
            mod.guild_id, member.id, actor_id=mod.actor_id, now=self.clock()
        )
        embed = embeds.change_embed(
            f"Block of {member.display_name}",
            [(member.display_name, embeds.block_text(change.before), embeds.block_text(None))],
            changed=change.audit_id is not None,
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="blocks", description="Members blocked from generating videos")
    async def blocks(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(interaction, embed=embeds.blocks_embed(await self.storage.limits.blocks(mod.guild_id)))

    # -- prompt filter -------------------------------------------------------------------------------

    @filter_group.command(
        name="add", description="Refuse prompts containing a word/phrase, or matching /a regex/"
    )
    @app_commands.describe(pattern="A word or phrase, or a regular expression between slashes: /pattern/")
    async def filter_add(self, interaction: discord.Interaction[Any], pattern: str) -> None:
        mod = await self.moderation(interaction)
        try:
            compile_entry(pattern)
        except FilterEntryError as exc:
            raise UserFacingError(f"{exc} Nothing was changed.") from None
        raw, is_regex = parse_entry(pattern)
        with refusing_bad_values():
            change = await self.storage.policy.add_filter(
                mod.guild_id, raw, is_regex=is_regex, actor_id=mod.actor_id, now=self.clock()
            )
        changed = change.audit_id is not None
        embed = embeds.change_embed(
            "Prompt filter",
            [
                (
                    "Entry",
                    "—" if changed else embeds.filter_text(change.before),
                    embeds.filter_text(change.after),
                )
            ],
            changed=changed,
            note=(
                "Prompts are compared ignoring case, accents, look-alike letters and invisible characters; "
                "members are told their prompt was refused by the server's filter."
            ),
        )
        await send(interaction, embed=embed)

    @filter_group.command(name="remove", description="Remove an entry from the prompt filter")
    @app_commands.describe(pattern="The entry as listed (its text, or #id)")
    async def filter_remove(self, interaction: discord.Interaction[Any], pattern: str) -> None:
        mod = await self.moderation(interaction)
        entries = await self.storage.policy.filters(mod.guild_id)
        wanted = pattern.strip()
        match = None
        if wanted.startswith("#") and wanted[1:].isdigit():
            match = next((f for f in entries if f.id == int(wanted[1:])), None)
        else:
            raw, is_regex = parse_entry(wanted)
            match = next((f for f in entries if f.pattern == raw and f.is_regex == is_regex), None)
        if match is None:
            raise UserFacingError(
                f"`{wanted}` is not in the prompt filter; see `/videoadmin filter list`. Nothing was changed."
            )
        change = await self.storage.policy.remove_filter(
            mod.guild_id, match.id, actor_id=mod.actor_id, now=self.clock()
        )
        embed = embeds.change_embed(
            "Prompt filter",
            [("Entry", embeds.filter_text(change.before), "removed")],
            changed=change.audit_id is not None,
        )
        await send(interaction, embed=embed)

    @filter_remove.autocomplete("pattern")
    async def _filter_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            mod = await self.moderation(interaction)
        except UserFacingError:
            return []  # the filter's contents are for moderators only
        needle = current.strip().lower()
        choices = []
        for entry in await self.storage.policy.filters(mod.guild_id):
            shown = display_entry(entry.pattern, entry.is_regex)
            if needle in shown.lower() or needle == f"#{entry.id}":
                choices.append(app_commands.Choice(name=f"#{entry.id} {shown}"[:100], value=f"#{entry.id}"))
        return choices[:25]

    @filter_group.command(name="list", description="The entries of the prompt filter")
    async def filter_list(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(interaction, embed=embeds.filters_embed(await self.storage.policy.filters(mod.guild_id)))

    # -- pause ---------------------------------------------------------------------------------------

    @videoadmin.command(name="pause", description="Stop new videos in this server (running ones finish)")
    @app_commands.describe(reason="Shown to members who try")
    async def pause(self, interaction: discord.Interaction[Any], reason: str | None = None) -> None:
        mod = await self.moderation(interaction)
        text = clean_reason(reason)
        with refusing_bad_values():
            change = await self.storage.policy.pause(
                mod.guild_id, text, actor_id=mod.actor_id, now=self.clock()
            )
        self._policy_changed(mod.guild_id)
        embed = embeds.change_embed(
            "Video generation",
            embeds.policy_rows(change.before, change.after),
            changed=change.audit_id is not None,
            note="Queued videos wait until you resume; videos already sent to the service still finish.",
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="resume", description="Allow new videos in this server again")
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        change = await self.storage.policy.resume(mod.guild_id, actor_id=mod.actor_id, now=self.clock())
        self._policy_changed(mod.guild_id)
        note = None
        service = self._service()
        if service is not None and service.submissions_paused:
            # The API reported an account problem (key, balance, plan) and the bot paused every
            # submission: a moderator who says "resume" has fixed it, or wants one more try. It acts
            # for every server, so it is logged even when this server's own policy did not change;
            # logged first, so a failed write leaves the pause as it was rather than unaudited.
            await self.storage.audit.note(
                mod.guild_id,
                actor_id=mod.actor_id,
                action="account.resume",
                target="bot-wide submissions",
                before={"submissions": "paused after an account problem"},
                after={"submissions": "running"},
                now=self.clock(),
            )
            service.resume_submissions()
            note = (
                "Submissions were also paused bot-wide after the video service reported an account "
                "problem; they are resumed now. If the problem remains, they pause again."
            )
        embed = embeds.change_embed(
            "Video generation",
            embeds.policy_rows(change.before, change.after),
            changed=change.audit_id is not None or note is not None,
            note=note,
        )
        await send(interaction, embed=embed)

    def _policy_changed(self, guild_id: int) -> None:
        service = self._service()
        if service is not None:
            service.policy_changed(guild_id)

    # -- channels ------------------------------------------------------------------------------------

    @channels.command(
        name="allow", description="Allow /video in a channel (once listed, only listed channels)"
    )
    @app_commands.describe(channel="A text channel")
    async def channels_allow(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        mod = await self.moderation(interaction)
        self._check_channel(mod, channel)
        rules = await self.storage.policy.channel_rules(mod.guild_id)
        if channel.id in rules.denied and not rules.allowed:
            # Lifting a deny must not start an allow-list and shut every other channel by surprise.
            change = await self.storage.policy.clear_channel(
                mod.guild_id, channel.id, actor_id=mod.actor_id, now=self.clock()
            )
            note = "The allow-list is empty, so /video works in every channel that is not denied."
        else:
            change = await self.storage.policy.allow_channel(
                mod.guild_id, channel.id, actor_id=mod.actor_id, now=self.clock()
            )
            listed = {*rules.allowed, channel.id}
            note = "/video now works only in: " + ", ".join(f"<#{c}>" for c in sorted(listed))
            if not rules.allowed:
                note = "The allow-list was empty (every channel). " + note
        await send(interaction, embed=_channel_change_embed(channel, change, note))

    @channels.command(name="deny", description="Refuse /video in a channel")
    @app_commands.describe(
        channel="A text channel",
        open_other_channels=(
            "Needed only to deny the last channel of the allow-list: /video then works in every other one"
        ),
    )
    async def channels_deny(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        open_other_channels: bool = False,
    ) -> None:
        mod = await self.moderation(interaction)
        self._check_channel(mod, channel)
        rules = await self.storage.policy.channel_rules(mod.guild_id)
        last_allowed = tuple(rules.allowed) == (channel.id,)
        if last_allowed and not open_other_channels:
            # An empty allow-list allows every channel: "deny" must not quietly mean "open the rest".
            raise UserFacingError(
                f"{channel.mention} is the only channel on the allow-list: denying it would empty the "
                "list, and an empty list lets /video work in every other channel. Allow another channel "
                "first, or use `/videoadmin pause` to stop videos everywhere (or repeat with "
                "`open_other_channels: True` if every other channel is what you want). Nothing was changed."
            )
        change = await self.storage.policy.deny_channel(
            mod.guild_id, channel.id, actor_id=mod.actor_id, now=self.clock()
        )
        note = None
        if last_allowed:
            note = (
                "That was the only channel on the allow-list, so the list is now empty: /video works in "
                "every channel except denied ones. To stop videos everywhere, use `/videoadmin pause`."
            )
        await send(interaction, embed=_channel_change_embed(channel, change, note))

    @channels.command(name="list", description="Where /video may be used")
    async def channels_list(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(
            interaction, embed=embeds.channels_embed(await self.storage.policy.channel_rules(mod.guild_id))
        )

    # -- policy --------------------------------------------------------------------------------------

    @videoadmin.command(name="policy", description="Show the server's video policy, or change parts of it")
    @app_commands.describe(
        allowed_models="Comma-separated model names, or 'all'",
        max_resolution="Highest resolution members may ask for",
        max_duration="Longest video in seconds",
        results="Post results in the channel (public) or only to the requester (private)",
        moderator_role="A role that may use /videoadmin besides Manage Server (Manage Server only)",
        remove_moderator_role="Remove the moderator role (Manage Server only)",
        cap="Server-wide credits per period for everyone together; 0 or 'none' removes the cap",
    )
    async def policy(
        self,
        interaction: discord.Interaction[Any],
        allowed_models: str | None = None,
        max_resolution: ResolutionChoice | None = None,
        max_duration: DurationChoice | None = None,
        results: ResultsChoice | None = None,
        moderator_role: discord.Role | None = None,
        remove_moderator_role: bool = False,
        cap: str | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        changes: dict[str, Any] = {}
        if allowed_models is not None:
            changes["allowed_models"] = parse_models(allowed_models)
        if max_resolution is not None:
            changes["max_resolution"] = None if max_resolution == "any" else max_resolution
        if max_duration is not None:
            changes["max_duration"] = None if max_duration == "any" else int(max_duration)
        if results is not None:
            changes["results_public"] = results == "public"
        if moderator_role is not None and remove_moderator_role:
            raise UserFacingError("Give a moderator role or remove it, not both. Nothing was changed.")
        if moderator_role is not None or remove_moderator_role:
            if not has_manage_server(mod.member):
                raise UserFacingError(
                    "Only members with the Manage Server permission can change the moderator role. "
                    "Nothing was changed."
                )
            if moderator_role is not None:
                self._check_role(mod, moderator_role, purpose="the moderator role")
            changes["moderator_role_id"] = moderator_role.id if moderator_role is not None else None
        if cap is not None:
            changes["cap_tenths"] = parse_cap(cap)
        if not changes:
            default = await self.storage.limits.guild_default(mod.guild_id)
            fallback = embeds.per_period(
                self.settings.default_quota_tenths, self.settings.default_quota_period
            )
            await send(
                interaction, embed=embeds.policy_embed(mod.policy, default, fallback + " (bot default)")
            )
            return
        self._check_videos_possible(mod.policy, changes)
        with refusing_bad_values():
            change = await self.storage.policy.update(
                mod.guild_id,
                actor_id=mod.actor_id,
                now=self.clock(),
                allowed_models=changes.get("allowed_models", UNSET),
                max_resolution=changes.get("max_resolution", UNSET),
                max_duration=changes.get("max_duration", UNSET),
                results_public=changes.get("results_public", UNSET),
                moderator_role_id=changes.get("moderator_role_id", UNSET),
                cap_tenths=changes.get("cap_tenths", UNSET),
            )
        self._policy_changed(mod.guild_id)
        notes: list[str] = []
        if "cap_tenths" in changes and changes["cap_tenths"] is not None:
            default = await self.storage.limits.guild_default(mod.guild_id)
            period = default.period if default is not None else self.settings.default_quota_period
            notes.append(
                f"The cap counts everyone's credits together, per {period} (the server's quota period)."
            )
        if moderator_role is not None:
            notes.append(MODERATOR_ROLE_VISIBILITY.format(role=moderator_role.mention))
        note = "\n".join(notes) or None
        embed = embeds.change_embed(
            "Server video policy",
            embeds.policy_rows(change.before, change.after),
            changed=change.audit_id is not None,
            note=note,
        )
        await send(interaction, embed=embed)

    @staticmethod
    def _check_videos_possible(current: GuildPolicy, changes: dict[str, Any]) -> None:
        models = changes.get("allowed_models", current.allowed_models)
        resolution = changes.get("max_resolution", current.max_resolution)
        duration = changes.get("max_duration", current.max_duration)
        if possible_videos(models, resolution, duration) == 0:
            raise UserFacingError(
                "With these settings no allowed model could make any video (check the maximum resolution "
                "and duration against the models allowed). Nothing was changed."
            )

    # -- statistics ----------------------------------------------------------------------------------

    @videoadmin.command(name="stats", description="Videos, failures, credits and top members over a period")
    @app_commands.describe(period="How far back to look (default: last 7 days)")
    async def stats(self, interaction: discord.Interaction[Any], period: StatsWindow = "7d") -> None:
        mod = await self.moderation(interaction)
        label, seconds = STATS_WINDOWS[period]
        # A month of tasks is a real aggregate: take the 3-second answer window off the table.
        await interaction.response.defer(ephemeral=True, thinking=True)
        until = self.clock()
        report = await self.storage.tasks.stats(mod.guild_id, until - seconds, until, top=5)
        await send(interaction, embed=embeds.stats_embed(report, label))

    # -- tasks ---------------------------------------------------------------------------------------

    @videoadmin.command(
        name="tasks", description="Recent and stuck tasks; resolve those in the unknown state"
    )
    @app_commands.describe(
        member="Only this member's tasks",
        state="Only tasks in this state ('stuck': unknown, or unfinished past the time-out)",
    )
    async def tasks(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        state: TaskFilter | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        if member is not None:
            self._same_guild(mod, member)
        user_id = member.id if member is not None else None
        title = (
            "Tasks"
            + (f" of {member.display_name}" if member is not None else "")
            + (f" · {state}" if state else "")
        )

        async def render(page: int) -> Page:
            found, total = await self._task_page(mod.guild_id, user_id, state, page)
            pages = max(1, -(-total // PAGE_SIZE))
            if page >= pages:  # the last page emptied (a refund moved its task out of the filter)
                page = pages - 1
                found, total = await self._task_page(mod.guild_id, user_id, state, page)
            embed = embeds.tasks_embed(found, title=title, page=page, pages=pages, total=total)
            return Page(embed, pages, found)

        await interaction.response.defer(ephemeral=True, thinking=True)
        first = await render(0)
        view = TasksView(
            owner_id=mod.actor_id,
            render=render,
            authorize=self._authorize,
            first=first,
            refund=self.refund_unknown,
            resume_with_id=self.resume_unknown,
        )
        view.origin = interaction
        await send(interaction, embed=first.embed, view=view)

    async def _task_page(
        self, guild_id: int, user_id: int | None, state: TaskFilter | None, page: int
    ) -> tuple[list[Task], int]:
        if state in ("unfinished", "stuck"):
            unfinished = [
                t
                for t in await self.storage.tasks.unfinished()
                if t.guild_id == guild_id and (user_id is None or t.user_id == user_id)
            ]
            if state == "stuck":
                unfinished = [t for t in unfinished if self._is_stuck(t)]
            unfinished.sort(key=lambda t: t.id, reverse=True)
            return unfinished[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], len(unfinished)
        found = await self.storage.tasks.list_for_guild(
            guild_id, user_id=user_id, state=state, limit=PAGE_SIZE, offset=page * PAGE_SIZE
        )
        return found, await self.storage.tasks.count_for_guild(guild_id, user_id=user_id, state=state)

    def _is_stuck(self, task: Task) -> bool:
        if task.state is TaskState.UNKNOWN:
            return True
        started = task.submitted_at if task.submitted_at is not None else task.created_at
        return task.state not in FINAL_STATES and self.clock() - started > self.settings.task_timeout

    async def _unknown_task(self, mod: Moderation, task_id: int) -> Task:
        try:
            task = await self.storage.tasks.get(task_id)
        except UnknownTask:
            raise UserFacingError(f"There is no task #{task_id}.") from None
        if task.guild_id != mod.guild_id:
            raise UserFacingError(f"There is no task #{task_id} in this server.")
        if task.state is not TaskState.UNKNOWN:
            raise UserFacingError(
                f"Task #{task_id} is no longer in the unknown state (it is {task.state.value}). "
                "Nothing was changed."
            )
        return task

    async def refund_unknown(self, interaction: discord.Interaction[Any], task_id: int) -> discord.Embed:
        """Give the credits back and close the task as failed: the moderator found it was never made."""
        mod = await self.moderation(interaction)
        task = await self._unknown_task(mod, task_id)
        message = (
            "A moderator refunded this video: its submission to the video service could not be confirmed."
        )
        try:
            failed = await self.storage.tasks.transition(
                task.id,
                TaskState.FAILED,
                now=self.clock(),
                actor_id=mod.actor_id,
                error_code="unknown_refunded",
                error_message=message,
                notified_at=self.clock(),  # the card, edited below, is the notice
            )
        except IllegalTransition as exc:
            raise UserFacingError(
                f"Task #{task_id} changed meanwhile (it is {exc.from_state}). Nothing was changed."
            ) from None
        # Moving to failed refunds in the same transaction; this repair call is idempotent and makes sure.
        await self.storage.quota.refund(task.id, now=self.clock())
        log.info("Task %s refunded by moderator %s", task.id, mod.actor_id)
        await self._refresh_card(failed, message)
        return embeds.change_embed(
            f"Task #{task.id}",
            [
                (
                    "State",
                    "unknown",
                    f"failed · {format_credits(task.cost_tenths)} credits refunded to <@{task.user_id}>",
                )
            ],
            changed=True,
        )

    async def resume_unknown(
        self, interaction: discord.Interaction[Any], task_id: int, api_task_id: str
    ) -> discord.Embed:
        """The moderator found the task on the API's side: track it from there, never resubmit."""
        mod = await self.moderation(interaction)
        if not _API_TASK_ID.match(api_task_id):
            raise UserFacingError(
                "That does not look like a MiniMax task id (letters, digits, - and _ only). "
                "Nothing was changed."
            )
        task = await self._unknown_task(mod, task_id)
        try:
            with refusing_bad_values():
                resumed = await self.storage.tasks.transition(
                    task.id,
                    TaskState.SUBMITTED,
                    now=self.clock(),
                    actor_id=mod.actor_id,
                    api_task_id=api_task_id,
                )
        except IllegalTransition as exc:
            raise UserFacingError(
                f"Task #{task_id} changed meanwhile (it is {exc.from_state}). Nothing was changed."
            ) from None
        service = self._service()
        if service is not None:
            service.wake()
        await self._refresh_card(resumed, None)
        return embeds.change_embed(
            f"Task #{task.id}",
            [("State", "unknown", f"submitted · tracking API task `{api_task_id}`")],
            changed=True,
            note="The bot polls it now and delivers it as usual; credits are charged only on delivery.",
        )

    async def _refresh_card(self, task: Task, note: str | None) -> None:
        service = self._service()
        if service is None:
            return
        try:
            await service.ctx.refresh(task, note=note)
        except Exception:
            log.exception("Could not update the status card of task %s", task.id)

    # -- audit ---------------------------------------------------------------------------------------

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

        async def render(page: int) -> Page:
            total = await self.storage.audit.count(mod.guild_id, target_user=target, actor=actor)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(page, pages - 1)
            entries = await self.storage.audit.list(
                mod.guild_id, target_user=target, actor=actor, limit=PAGE_SIZE, offset=page * PAGE_SIZE
            )
            embed = embeds.audit_embed(entries, page=page, pages=pages, total=total, member_mention=mention)
            return Page(embed, pages)

        first = await render(0)
        view = Pager(owner_id=mod.actor_id, render=render, authorize=self._authorize, pages=first.pages)
        view.origin = interaction
        await send(interaction, embed=first.embed, view=view)

    # -- validation helpers ----------------------------------------------------------------------------

    @staticmethod
    def _same_guild(mod: Moderation, member: discord.Member) -> None:
        if member.guild.id != mod.guild_id:
            raise UserFacingError("That member is not in this server. Nothing was changed.")

    @staticmethod
    def _check_role(mod: Moderation, role: discord.Role, *, purpose: str) -> None:
        # Discord resolves a role option within the guild it was used in; the cache may lag behind.
        if role.guild.id != mod.guild_id:
            raise UserFacingError("That role does not exist in this server. Nothing was changed.")
        if role.is_default():
            why = (
                "use `/videoadmin quota default` for everyone's allowance"
                if purpose == "a role limit"
                else "that would make every member a moderator"
            )
            raise UserFacingError(f"@everyone cannot be {purpose}: {why}. Nothing was changed.")

    @staticmethod
    def _check_channel(mod: Moderation, channel: object) -> None:
        if not isinstance(channel, discord.TextChannel):
            raise UserFacingError("Pick a text channel. Nothing was changed.")
        if channel.guild.id != mod.guild_id:
            raise UserFacingError("That channel is not in this server. Nothing was changed.")


def command_names(cog: AdminCog) -> Sequence[str]:
    """Every `/videoadmin` command's full name, for the import test and the README."""
    return [c.qualified_name for c in cog.walk_app_commands() if isinstance(c, app_commands.Command)]


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(AdminCog(bot))


def _channel_change_embed(
    channel: discord.abc.GuildChannel, change: Change[bool], note: str | None
) -> discord.Embed:
    """The confirmation of a channel rule change, alike for allow and deny."""
    return embeds.change_embed(
        "Where /video works",
        [
            (
                f"#{channel.name}",
                embeds.channel_rule_text(change.before),
                embeds.channel_rule_text(change.after),
            )
        ],
        changed=change.audit_id is not None,
        note=note,
    )
