"""`/videoadmin filter …`: the server's prompt filter (words, phrases and ``/regexes/``)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.prompt_filter import MAX_TYPED_ENTRY_CHARS
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, filter_group, shown_refusals
from cogs.locales import member_locale
from cogs.replies import UserFacingError, send


class FilterCommands(AdminBase):
    """`/videoadmin filter add|remove|list`."""

    @filter_group.command(name="add", description="Refuse prompts with a word/phrase, or matching /a regex/")
    @app_commands.describe(pattern="A word, a phrase, or a regex between slashes: /pattern/")
    async def filter_add(
        self,
        interaction: discord.Interaction[Any],
        pattern: app_commands.Range[str, 1, MAX_TYPED_ENTRY_CHARS],
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.add_filter(mod, pattern)
        changed = change.audit_id is not None
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.filter.title"),
            [
                (
                    translate(locale, "admin.filter.entry"),
                    "—" if changed else embeds.filter_text(change.before),
                    embeds.filter_text(change.after),
                )
            ],
            changed=changed,
            note=translate(locale, "admin.filter.add_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @filter_group.command(name="remove", description="Remove an entry from the prompt filter")
    @app_commands.describe(pattern="The entry as listed (its text, or #id)")
    async def filter_remove(
        self,
        interaction: discord.Interaction[Any],
        pattern: app_commands.Range[str, 1, MAX_TYPED_ENTRY_CHARS],
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.remove_filter(mod, pattern)
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.filter.title"),
            [
                (
                    translate(locale, "admin.filter.entry"),
                    embeds.filter_text(change.before),
                    translate(locale, "admin.filter.removed"),
                )
            ],
            changed=change.audit_id is not None,
            locale=locale,
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
        return [
            app_commands.Choice(name=choice.name, value=choice.value)
            for choice in await self.service.filter_choices(mod, current)
        ]

    @filter_group.command(name="list", description="The entries of the prompt filter")
    async def filter_list(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(
            interaction,
            embed=embeds.filters_embed(await self.service.filters(mod), member_locale(interaction)),
        )
