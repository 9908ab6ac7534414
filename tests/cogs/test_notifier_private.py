"""DiscordNotifier and private results: what counts as the member's side refusing, and what the
channel is told then (that a private video is ready, nothing of it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest

from bot.lifecycle import MemberRefused, ResultPost, StatusCard
from cogs.followups import FollowupRegistry
from cogs.notifier import DiscordNotifier
from storage import TaskState
from tests.cogs.test_notifier import (
    Clock,
    FakeBot,
    FakeWebhook,
    http_error,
    interaction_at,
    make_task,
)

PROMPT = "@everyone look"  # make_task's prompt


async def test_closed_dms_without_a_follow_up_are_the_members_refusal(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    (await bot.create_dm(SimpleNamespace(id=3))).send_error = http_error(discord.Forbidden, 403, 50007)
    with pytest.raises(MemberRefused):
        task = make_task(deliver_by_dm=True)
        await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video))
    assert bot.get_partial_messageable(2).sent == []


@pytest.mark.parametrize(
    "error",
    [
        http_error(discord.Forbidden, 403, 50001),  # Missing Access: not the member's doing
        http_error(discord.HTTPException, 500, 0),  # Discord's trouble
    ],
)
async def test_other_dm_failures_are_the_bots_side_and_retried(
    bot: FakeBot, video: Path, error: discord.HTTPException
) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    (await bot.create_dm(SimpleNamespace(id=3))).send_error = error
    task = make_task(deliver_by_dm=True)
    assert await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video)) is None


async def test_a_follow_up_that_fails_is_not_the_members_refusal(bot: FakeBot, video: Path) -> None:
    clock = Clock()
    followups = FollowupRegistry(clock=clock)
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    webhook.send_error = http_error(discord.HTTPException, 503, 0)
    followups.remember(12, interaction_at(clock.now, webhook))
    (await bot.create_dm(SimpleNamespace(id=3))).send_error = http_error(discord.Forbidden, 403, 50007)
    task = make_task(deliver_by_dm=True)
    assert await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video)) is None


async def test_a_public_result_is_never_the_members_refusal(bot: FakeBot, video: Path) -> None:
    """The channel refusing the bot is the server's setup, the bot's side: refunded as before."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    bot.get_partial_messageable(2).send_error = http_error(discord.Forbidden, 403, 50013)
    (await bot.create_dm(SimpleNamespace(id=3))).send_error = http_error(discord.Forbidden, 403, 50007)
    assert await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video)) is None


async def test_the_pickup_notice_says_only_that_a_private_video_is_ready(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(deliver_by_dm=True, state=TaskState.DELIVERED)
    message_id = await notifier.post_pickup(task)
    (sent,) = bot.get_partial_messageable(2).sent
    assert message_id == sent.id
    assert "private video #12 is ready" in sent.content and "/video status 12" in sent.content
    assert PROMPT not in sent.content and "embed" not in sent.kwargs and "file" not in sent.kwargs
    assert [u.id for u in sent.kwargs["allowed_mentions"].users] == [3]
    assert sent.kwargs["allowed_mentions"].everyone is False
    assert sent.kwargs["reference"].message_id == 40, "a reply to the card"


async def test_a_private_card_shows_only_that_a_private_video_is_in_progress(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    task = make_task(deliver_by_dm=True, state=TaskState.QUEUED, status_message_id=None)
    card_id = await notifier.post_status(StatusCard(task, queue_position=3, note="why it failed"))
    (sent,) = channel.sent
    shown = str(sent.kwargs["embed"].to_dict())
    assert card_id == sent.id and "private video is in progress" in shown and "<@3>" in shown
    for secret in (PROMPT, "#3 in line", "why it failed", "768P", "MiniMax"):
        assert secret not in shown

    # Queue moves, progress and notes change nothing the channel sees: no edit is spent on them.
    waiting = dataclasses.replace(task, status_message_id=card_id, state=TaskState.PROCESSING)
    assert await notifier.edit_status(StatusCard(waiting, note="still secret")) == card_id
    assert channel.edited == []
    over = dataclasses.replace(waiting, state=TaskState.FAILED)
    assert await notifier.edit_status(StatusCard(over, note="The service refused it.")) == card_id
    ((edited_id, edit),) = channel.edited
    shown = str(edit["embed"].to_dict())
    assert edited_id == card_id and "no longer in progress" in shown
    assert "refused" not in shown and "Failed" not in shown and PROMPT not in shown
