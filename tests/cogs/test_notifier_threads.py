"""DiscordNotifier and a thread per video: the thread opens on the card, results and failures go in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest

from bot.lifecycle import ResultPost
from cogs.notifier import DiscordNotifier
from tests.cogs.test_notifier import FakeBot, FakeChannel, http_error, make_task

THREAD = 77


class ThreadingChannel(FakeChannel):
    """A channel whose messages can start a thread (``create_thread`` on the partial message)."""

    def __init__(self, me: Any) -> None:
        super().__init__(me)
        self.threads: list[tuple[int, str, int]] = []
        self.thread_error: discord.HTTPException | None = None

    def get_partial_message(self, message_id: int) -> Any:
        partial = super().get_partial_message(message_id)
        channel = self

        async def create_thread(*, name: str, auto_archive_duration: int) -> Any:
            if channel.thread_error is not None:
                raise channel.thread_error
            channel.threads.append((message_id, name, auto_archive_duration))
            return type("Thread", (), {"id": THREAD})()

        partial.create_thread = create_thread
        return partial


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42video")
    return path


@pytest.fixture
def bot() -> FakeBot:
    bot = FakeBot()
    bot.channels[2] = ThreadingChannel(bot.user)
    return bot


async def test_the_thread_opens_on_the_card_named_after_the_video(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    assert await notifier.open_thread(make_task(prompt="a fox\n in   snow " + "x" * 200)) == THREAD
    [(card, name, archive)] = bot.channels[2].threads  # type: ignore[attr-defined]
    assert card == 40 and name.startswith("#12 · a fox in snow") and len(name) == 100
    assert archive == 1440
    bot.channels[2].thread_error = http_error(discord.Forbidden, 403, 50001)  # type: ignore[attr-defined]
    assert await notifier.open_thread(make_task()) is None  # the task goes on without one
    assert await notifier.open_thread(make_task(status_message_id=None)) is None


async def test_result_and_failure_go_into_the_thread(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(thread_id=THREAD)
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    [sent] = bot.channels[THREAD].sent
    assert sent.id == message_id and "reference" not in sent.kwargs
    assert isinstance(sent.kwargs["file"], discord.File) and "(task #12)" in sent.content
    assert bot.channels[2].sent == []
    assert await notifier.find_result(task) == message_id
    failure = await notifier.post_failure(task, "It broke.")
    assert bot.channels[THREAD].sent[-1].id == failure and bot.channels[2].sent == []


async def test_a_gone_thread_falls_back_to_the_channel_and_the_card(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    bot.get_partial_messageable(THREAD).send_error = http_error(discord.NotFound, 404, 10003)
    task = make_task(thread_id=THREAD)
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    [sent] = bot.channels[2].sent
    assert sent.id == message_id and sent.kwargs["reference"].message_id == 40
    assert await notifier.find_result(task) == message_id
    await notifier.post_failure(task, "It broke.")
    assert len(bot.channels[2].sent) == 2 and bot.channels[2].sent[-1].kwargs["reference"].message_id == 40
