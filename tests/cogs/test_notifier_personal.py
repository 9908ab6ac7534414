"""A personal install's results (USER_INSTALL, issue 13): the bot is not in that channel, so the
interaction's follow-up delivers while its token lives, then the member's DMs; a closed DM keeps it."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.lifecycle import MemberRefused, ResultPost, StatusCard
from cogs.followups import FollowupRegistry
from cogs.notifier import DiscordNotifier
from storage import Task, TaskState
from tests.cogs.test_notifier import (
    Clock,
    FakeBot,
    FakeWebhook,
    http_error,
    interaction_at,
    make_task,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def followups(clock: Clock) -> FollowupRegistry:
    return FollowupRegistry(clock=clock)


def personal(**overrides: object) -> Task:
    return make_task(guild_id=None, **overrides)


async def test_the_result_goes_through_the_follow_up_first_never_the_channel(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    assert followups.remember(12, interaction_at(clock.now - 60, webhook))
    message_id = await notifier.post_result(ResultPost(personal(), via_dm=False, file_path=video))
    (sent,) = webhook.sent
    assert message_id == sent.id and sent.kwargs["ephemeral"] is False
    assert bot.channels == {} and bot.dms == {}, "no channel post tried, no DM"


async def test_after_the_token_expires_the_result_comes_by_dm(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    clock.now += 15 * 60  # the interaction can no longer post
    message_id = await notifier.post_result(ResultPost(personal(), via_dm=False, file_path=video))
    assert webhook.sent == [] and message_id == bot.dms[3].sent[0].id
    assert bot.channels == {}


async def test_with_no_follow_up_and_dms_closed_the_member_refused(
    bot: FakeBot, video: Path, followups: FollowupRegistry
) -> None:
    """After a restart (no token kept) and closed DMs: only the member's side refused, so the video
    is kept for /video status (MemberRefused), not refunded as the bot's failure."""
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    (await bot.create_dm(discord.Object(id=3))).send_error = http_error(discord.Forbidden, 403, 50007)
    with pytest.raises(MemberRefused):
        await notifier.post_result(ResultPost(personal(), via_dm=False, file_path=video))


async def test_the_status_card_is_posted_and_edited_through_the_follow_up(
    bot: FakeBot, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    queued = personal(state=TaskState.QUEUED, status_message_id=None)
    card_id = await notifier.post_status(StatusCard(task=queued))
    assert card_id == webhook.sent[0].id and bot.channels == {}
    running = personal(state=TaskState.PROCESSING, status_message_id=card_id)
    assert await notifier.edit_status(StatusCard(task=running)) == card_id
    assert [m for m, _ in webhook.edited] == [card_id] and bot.channels == {}


async def test_a_failure_notice_goes_through_the_follow_up(
    bot: FakeBot, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    assert await notifier.post_failure(personal(), "It failed.") == webhook.sent[0].id
    assert bot.channels == {} and bot.dms == {}


async def test_the_pick_up_notice_goes_through_the_follow_up(
    bot: FakeBot, clock: Clock, followups: FollowupRegistry
) -> None:
    """Closed DMs: "get it with /video status" reaches the member where they asked."""
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    assert await notifier.post_pickup(personal()) == webhook.sent[0].id
    assert "reference" not in webhook.sent[0].kwargs and bot.channels == {}
