"""`/videoadmin pool …`: team credit pools, a shared allowance for a role and/or a channel.

Terse descriptions on purpose: Discord refuses a command whose names, descriptions and choices pass
4,000 characters in all, and `/videoadmin` is close. ``period`` and ``clear`` are suggested by
autocomplete (no choices in the payload) and checked by the service; the replies explain the rest.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.moderation.pools import CLEARABLE
from bot.lifecycle.moderation.values import MAX_GUILD_CAP_CREDITS
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, channel_ref, pool, role_ref, shown_refusals
from cogs.locales import member_locale
from cogs.pool_text import choice_label, left_text, pool_text, who_text
from cogs.replies import send
from cogs.text import FIELD_LIMIT, clip
from storage import PERIODS
from storage.models import PoolUsage

NAME_CHARS = 32
WORD_CHARS = 7  # "channel", the longest word period or clear takes
AUTOCOMPLETE_LIMIT = 25


def usage_embed(usages: list[PoolUsage], *, title: str, locale: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=title, colour=embeds.INFO)
    if not usages:
        embed.description = translate(locale, "admin.pool.empty")
    for usage in usages[:25]:
        value = translate(locale, "admin.pool.for", who=who_text(usage.pool, locale))
        value += f"\n{left_text(usage, locale)}"
        if usage.pending_tenths:
            reserved = translate(
                locale, "admin.pool.reserved", credits=embeds.credits(usage.pending_tenths, locale)
            )
            value += f"\n{reserved}"
        embed.add_field(name=usage.pool.name, value=clip(value, FIELD_LIMIT), inline=False)
    return embed


def _pool_change_embed(
    before: str, after: str, *, changed: bool, note: str | None, locale: str
) -> discord.Embed:
    """The confirmation of a pool change (create, set, delete), in the moderator's language."""
    return embeds.change_embed(
        translate(locale, "admin.pool.title"),
        [(translate(locale, "admin.pool.row"), before, after)],
        changed=changed,
        note=note,
        locale=locale,
    )


class PoolCommands(AdminBase):
    """`/videoadmin pool create|set|delete|show|list`."""

    @pool.command(name="create", description="Make a pool")
    @app_commands.describe(
        name="Pool name",
        credits="Per period",
        period="day/week/month",
        role="Members may use",
        channel="Usable here",
    )
    async def pool_create(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, NAME_CHARS],
        credits: app_commands.Range[float, 0, MAX_GUILD_CAP_CREDITS],
        period: app_commands.Range[str, 1, WORD_CHARS],
        role: discord.Role | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.create_pool(
                mod,
                name,
                credits,
                period,
                role=None if role is None else role_ref(role),
                channel=None if channel is None else channel_ref(channel),
            )
        locale = member_locale(interaction)
        embed = _pool_change_embed(
            pool_text(change.before, locale),
            pool_text(change.after, locale),
            changed=change.audit_id is not None,
            note=translate(locale, "admin.pool.create_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @pool.command(name="set", description="Change a pool")
    @app_commands.describe(
        name="Pool name",
        credits="Per period",
        period="day/week/month",
        role="New role",
        channel="New channel",
        clear="role or channel",
    )
    async def pool_set(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, NAME_CHARS],
        credits: app_commands.Range[float, 0, MAX_GUILD_CAP_CREDITS] | None = None,
        period: app_commands.Range[str, 1, WORD_CHARS] | None = None,
        role: discord.Role | None = None,
        channel: discord.TextChannel | None = None,
        clear: app_commands.Range[str, 1, WORD_CHARS] | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.set_pool(
                mod,
                name,
                credits=credits,
                period=period,
                role=None if role is None else role_ref(role),
                channel=None if channel is None else channel_ref(channel),
                clear=clear,
            )
        locale = member_locale(interaction)
        embed = _pool_change_embed(
            pool_text(change.before, locale),
            pool_text(change.after, locale),
            changed=change.audit_id is not None,
            note=translate(locale, "admin.pool.set_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @pool.command(name="delete", description="Delete a pool")
    @app_commands.describe(name="Pool name")
    async def pool_delete(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, NAME_CHARS]
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.delete_pool(mod, name)
        locale = member_locale(interaction)
        embed = _pool_change_embed(
            pool_text(change.before, locale),
            translate(locale, "admin.pool.deleted"),
            changed=change.audit_id is not None,
            note=translate(locale, "admin.pool.delete_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @pool.command(name="show", description="Credits left")
    @app_commands.describe(name="Pool name")
    async def pool_show(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, NAME_CHARS]
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            usage = await self.service.pool(mod, name)
        locale = member_locale(interaction)
        title = translate(locale, "admin.pool.show_title", name=usage.pool.name)
        await send(interaction, embed=usage_embed([usage], title=title, locale=locale))

    @pool.command(name="list", description="All pools")
    async def pool_list(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            usages = await self.service.pools(mod)
        locale = member_locale(interaction)
        title = translate(locale, "admin.pool.list_title")
        await send(interaction, embed=usage_embed(usages, title=title, locale=locale))

    @pool_set.autocomplete("name")
    @pool_delete.autocomplete("name")
    @pool_show.autocomplete("name")
    async def _pool_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            mod = await self.moderation(interaction)
            usages = await self.service.pools(mod)
        except Exception:  # not a moderator (or the database hiccuped): no suggestions
            return []
        needle = current.strip().lower()
        return [
            app_commands.Choice(name=choice_label(u), value=u.pool.name)
            for u in usages
            if needle in u.pool.name
        ][:AUTOCOMPLETE_LIMIT]

    @pool_create.autocomplete("period")
    @pool_set.autocomplete("period")
    async def _periods(
        self, _interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return _words(PERIODS, current)

    @pool_set.autocomplete("clear")
    async def _clearable(
        self, _interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return _words(CLEARABLE, current)


def _words(words: tuple[str, ...], current: str) -> list[app_commands.Choice[str]]:
    needle = current.strip().lower()
    return [app_commands.Choice(name=w, value=w) for w in words if w.startswith(needle)]
