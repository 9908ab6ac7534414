"""A group's reply on Discord (``variations``): every take's file on one message, labelled, with a
row of buttons per take; over the upload limit, every take's link instead; a restart finds it by
each take's marker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import discord
import pytest

from bot.lifecycle.notifier import ResultPost, UploadTooLarge
from cogs.embeds import pickup_content
from cogs.notifier import DiscordNotifier
from storage import TaskState
from tests.cogs.test_notifier import FakeBot, http_error, make_task


def group(video: Path) -> tuple[ResultPost, ...]:
    takes = [make_task(id=12 + n, group_id=12, take=n + 1, takes=3) for n in range(3)]
    return tuple(
        ResultPost(
            take,
            via_dm=False,
            file_path=video,
            filename=f"take-{take.take}.mp4",
            link=f"https://cdn/{take.id}.mp4",
            link_expires_at=1_700_003_600,
        )
        for take in (takes[0], takes[2])
    )


async def test_every_take_goes_on_one_message_with_a_row_of_buttons_each(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    takes = group(video)
    failed = make_task(id=13, group_id=12, take=2, takes=3, state=TaskState.FAILED)
    post = ResultPost(takes[0].task, via_dm=False, takes=takes, failed=(failed,))
    message_id = await notifier.post_result(post)
    (sent,) = bot.channels[2].sent
    assert message_id == sent.id
    files = sent.kwargs["files"]
    assert [f.filename for f in files] == ["take-1.mp4", "take-3.mp4"]
    assert all(isinstance(f, discord.File) for f in files)
    assert (
        "your 3 takes are ready!" in sent.content
        and "**Take 2/3** failed; 1 credit refunded." in sent.content
    )
    assert sent.kwargs["reference"].message_id == 40, "a reply to the group's card"
    rows: dict[int | None, list[str]] = {}
    for item in sent.kwargs["view"].children:
        rows.setdefault(item.row, []).append(item.custom_id)
    assert rows == {
        0: ["video:remix:12", "video:extend:12", "video:loop:12"],
        1: ["video:remix:14", "video:extend:14", "video:loop:14"],
    }
    mentions = sent.kwargs["allowed_mentions"]
    assert mentions.everyone is False and [u.id for u in mentions.users] == [3]
    assert await notifier.find_result(takes[1].task) == message_id, "found by the take's own marker"
    assert await notifier.find_result(failed) is None


async def test_over_the_upload_limit_every_take_goes_as_its_link(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.file_error = http_error(discord.HTTPException, 413, 40005)
    takes = group(video)
    assert await notifier.post_result(ResultPost(takes[0].task, via_dm=False, takes=takes)) is not None
    (sent,) = channel.sent
    assert "files" not in sent.kwargs and "file" not in sent.kwargs
    assert "https://cdn/12.mp4" in sent.content and "https://cdn/14.mp4" in sent.content
    assert "<t:1700003600:R>" in sent.content


async def test_a_refused_group_reply_that_may_be_refitted_says_so(bot: FakeBot, video: Path) -> None:
    """With ``refit`` the delivery makes the takes smaller: the notifier reports the 413 instead of
    posting links, naming the bytes the message carried in all."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.file_error = http_error(discord.HTTPException, 413, 40005)
    takes = tuple(replace(take, size_bytes=9_000_000) for take in group(video))
    with pytest.raises(UploadTooLarge) as refused:
        await notifier.post_result(ResultPost(takes[0].task, via_dm=False, takes=takes, refit=True))
    assert refused.value.size_bytes == 18_000_000
    assert channel.sent == [], "no links posted: a smaller try follows"


def test_a_groups_pickup_line_speaks_for_every_take() -> None:
    take = make_task(id=14, group_id=12, take=3, takes=3, user_id=3)
    text = pickup_content(take)
    assert "takes of your video #12" in text and "`/video list`" in text
    alone = make_task(id=20, user_id=3)
    assert "`/video status 20`" in pickup_content(alone)
