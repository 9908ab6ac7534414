"""Answering interactions safely, and the one place command errors become member-facing text.

Discord allows exactly one initial response within 3 seconds, then follow-ups for 15 minutes; picking
the right call by hand in every command is where bots answer twice or not at all.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.i18n import Message, translate
from bot.lifecycle import RequestRefused
from cogs.locales import member_locale
from cogs.text import clip

log = logging.getLogger(__name__)

GENERIC_FAILURE = translate("en", "error.generic")
# Discord refuses a message over 2,000 characters, and the interaction then goes unanswered.
CONTENT_LIMIT = 2000


class UserFacingError(app_commands.AppCommandError):
    """A refusal the member caused or can fix: its text is shown to them as is, ephemerally.

    With ``words`` (a keyed refusal of the core), :meth:`text` says it in the reader's language;
    ``message`` stays the English text."""

    def __init__(self, message: str, *, words: Message | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.words = words

    def text(self, locale: str | None) -> str:
        return self.message if self.words is None else self.words.render(locale)


async def send(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
    allowed_mentions: discord.AllowedMentions | None = None,
) -> None:
    """Send as the initial response if none was given yet, else as a follow-up."""
    kwargs: dict[str, Any] = {
        # Refusals may repeat what the member typed: a reply too long for Discord is no reply at all.
        "content": None if content is None else clip(content, CONTENT_LIMIT),
        "ephemeral": ephemeral,
        "allowed_mentions": allowed_mentions or discord.AllowedMentions.none(),
    }
    if embed is not None:
        kwargs["embed"] = embed
    if embeds is not None:
        kwargs["embeds"] = embeds
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def describe_error(error: Exception, locale: str | None = None) -> str:
    """Member-facing text for a command error, in ``locale``'s language (English by default);
    unexpected errors get a generic line."""
    if isinstance(error, app_commands.CommandInvokeError) and isinstance(
        error.original, UserFacingError | RequestRefused
    ):
        error = error.original
    if isinstance(error, RequestRefused):
        return error.text(locale)
    if isinstance(error, UserFacingError):
        return error.text(locale)
    if isinstance(error, app_commands.NoPrivateMessage):
        return translate(locale, "error.outside_guild")
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return translate(locale, "error.missing_permissions", permissions=needed)
    if isinstance(error, app_commands.CommandOnCooldown):
        return translate(locale, "error.cooldown", seconds=f"{error.retry_after:.0f}")
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or translate(locale, "error.not_allowed")
    if isinstance(error, app_commands.TransformerError):
        return translate(locale, "error.bad_value", value=repr(error.value))
    return translate(locale, "error.generic")


async def reply_error(interaction: discord.Interaction[Any], error: Exception) -> None:
    if describe_error(error) == GENERIC_FAILURE:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("Unhandled error in command %s", command, exc_info=error)
    message = describe_error(error, member_locale(interaction))  # only the member sees it
    try:
        await send(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not deliver an error message for interaction %s", interaction.id)
