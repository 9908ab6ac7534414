"""`/videoadmin pause`, `resume` and `policy`: whether, and within which bounds, videos are made here."""

from __future__ import annotations

from typing import Any, Literal, get_args

import discord
from discord import app_commands

from bot.catalog import DURATIONS, RESOLUTIONS
from bot.i18n import translate
from bot.lifecycle.moderation import PolicyEdit, PolicyView
from bot.lifecycle.moderation.values import MAX_CAP_CHARS, MAX_MODELS_CHARS, MAX_REASON_CHARS
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, role_ref, shown_refusals, videoadmin
from cogs.locales import member_locale
from cogs.replies import send

ResolutionChoice = Literal["480P", "512P", "720P", "768P", "1080P", "2K", "any"]
DurationChoice = Literal["4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "any"]
ResultsChoice = Literal["public", "private"]
ThreadsChoice = Literal["on", "off", "default"]
assert set(get_args(ResolutionChoice)) == {*RESOLUTIONS, "any"}, (
    "keep the choices in step with the model table"
)
assert set(get_args(DurationChoice)) == {*map(str, DURATIONS), "any"}


class PolicyCommands(AdminBase):
    """`/videoadmin pause|resume|policy`."""

    @videoadmin.command(name="pause", description="Stop new videos in this server (running ones finish)")
    @app_commands.describe(reason="Shown to members who try")
    async def pause(
        self,
        interaction: discord.Interaction[Any],
        reason: app_commands.Range[str, 1, MAX_REASON_CHARS] | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.pause(mod, reason)
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.pause.title"),
            embeds.policy_rows(change.before, change.after, locale),
            changed=change.audit_id is not None,
            note=translate(locale, "admin.pause.note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="resume", description="Allow new videos in this server again")
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            outcome = await self.service.resume(mod)
        locale = member_locale(interaction)
        note = None
        if outcome.account_resumed:
            note = translate(locale, "admin.resume.account_resumed")
        elif outcome.account_needs_operator:
            note = translate(locale, "admin.resume.account_operator")
        change = outcome.change
        embed = embeds.change_embed(
            translate(locale, "admin.pause.title"),
            embeds.policy_rows(change.before, change.after, locale),
            changed=change.audit_id is not None or outcome.account_resumed,
            note=note,
            locale=locale,
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="policy", description="Show the server's video policy, or change parts of it")
    @app_commands.describe(
        allowed_models="Comma-separated model names, or 'all'",
        max_resolution="Highest resolution members may ask for",
        max_duration="Longest video in seconds",
        results="Results in the channel (public) or only to the requester (private)",
        moderator_role="A role that may use /videoadmin too (set by Manage Server only)",
        remove_moderator_role="Remove the moderator role (Manage Server only)",
        cap="Credits per period for the whole server; 0 or 'none' removes the cap",
        threads="A thread per public card for its result and failures ('default': the bot's)",
    )
    async def policy(
        self,
        interaction: discord.Interaction[Any],
        allowed_models: app_commands.Range[str, 1, MAX_MODELS_CHARS] | None = None,
        max_resolution: ResolutionChoice | None = None,
        max_duration: DurationChoice | None = None,
        results: ResultsChoice | None = None,
        moderator_role: discord.Role | None = None,
        remove_moderator_role: bool = False,
        cap: app_commands.Range[str, 1, MAX_CAP_CHARS] | None = None,
        threads: ThreadsChoice | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        edit = PolicyEdit(
            allowed_models=allowed_models,
            max_resolution=max_resolution,
            max_duration=max_duration,
            results=results,
            moderator_role=role_ref(moderator_role) if moderator_role is not None else None,
            remove_moderator_role=remove_moderator_role,
            cap=cap,
            threads=threads,
        )
        with shown_refusals():
            answer = await self.service.policy(mod, edit)
        if isinstance(answer, PolicyView):
            locale = member_locale(interaction)
            fallback = embeds.per_period(*self.service.bot_default, locale)
            fallback = translate(locale, "admin.policy.bot_default", value=fallback)
            await send(
                interaction,
                embed=embeds.policy_embed(answer.policy, answer.guild_default, fallback, locale),
            )
            return
        locale = member_locale(interaction)
        notes: list[str] = []
        if answer.cap_period is not None:
            notes.append(translate(locale, f"admin.policy.cap_note.{answer.cap_period}"))
        if moderator_role is not None:
            # The group's default_permissions hide it from everyone without Manage Server; only the
            # server can show it to a role, so the role alone does nothing visible until that is done.
            notes.append(translate(locale, "admin.policy.moderator_role_note", role=moderator_role.mention))
        embed = embeds.change_embed(
            translate(locale, "admin.policy.title"),
            embeds.policy_rows(answer.change.before, answer.change.after, locale),
            changed=answer.change.audit_id is not None,
            note="\n".join(notes) or None,
            locale=locale,
        )
        await send(interaction, embed=embed)
