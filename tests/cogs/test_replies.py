"""The member-facing text for command errors: refusals keep their words, the rest stays generic."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.lifecycle import RequestRefused
from cogs.replies import GENERIC_FAILURE, UserFacingError, describe_error


def _invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    command = app_commands.Command(name="probe", description="probe", callback=_probe)
    return app_commands.CommandInvokeError(command, original)


async def _probe(interaction: discord.Interaction) -> None:  # pragma: no cover - never run
    return None


@pytest.mark.parametrize("error", [RequestRefused("Prompt is empty."), UserFacingError("Prompt is empty.")])
def test_refusals_keep_their_message_bare_or_wrapped(error: Exception) -> None:
    assert describe_error(error) == "Prompt is empty."
    assert describe_error(_invoke_error(error)) == "Prompt is empty."


def test_unexpected_errors_never_leak_their_text() -> None:
    secret = RuntimeError("token sk-live-123 broke")
    assert describe_error(secret) == GENERIC_FAILURE
    assert describe_error(_invoke_error(secret)) == GENERIC_FAILURE


async def test_a_refusal_longer_than_discord_allows_is_clipped_not_lost() -> None:
    """Over 2,000 characters Discord refuses the message and the member is never answered."""
    from cogs.replies import CONTENT_LIMIT, reply_error
    from tests.fakes.interactions import make_interaction, make_user

    interaction = make_interaction(None, user=make_user(7), guild=None)
    await reply_error(interaction, UserFacingError("`" + "x" * 5000 + "` is not in the prompt filter."))
    (reply,) = interaction.replies
    assert reply.ephemeral and reply.content is not None
    assert len(reply.content) == CONTENT_LIMIT and reply.content.endswith("…")
