"""Private results end to end: a member whose DMs refuse the bot, and what the channel is shown.

Discord answers a DM to a member who closed their DMs to the bot (or shares no server with it) with
403 / 50007 "Cannot send messages to this user"; the fake does the same for ``fake.dm_closed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from bot.lifecycle.moderation.tasks import REFUND_MESSAGE
from cogs.embeds import PRIVATE_OVER
from tests.e2e.harness import BotHarness
from tests.e2e.interactions import AttachmentSpec
from tests.e2e.test_soak import settle_unknown
from tests.e2e.video_flow import (
    bot_messages,
    card_of,
    generate,
    read_db,
    result_task,
    results_by_task,
    video_env,
    wait_answer,
    wait_states,
)
from tests.fakes.fake_discord import FakeMessage
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

SPEED = 400.0
PROMPT = "a secret birthday surprise for Alex"


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=SPEED) as fake:
        yield fake


def harness(tmp_path: Path, minimax: FakeMiniMax) -> BotHarness:
    return BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin"))


async def make_private(h: BotHarness) -> None:
    answer = await wait_answer(
        await h.invoke("videoadmin policy", member=h.admin, options={"results": "private"})
    )
    assert "private" in answer.text.lower(), answer.text


def in_channel(h: BotHarness, message: FakeMessage) -> bool:
    """Seen by the channel: in a server channel and not ephemeral (a follow-up only they see)."""
    place = h.fake.channel(message.channel_id)
    return not message.ephemeral and place is not None and not place.is_dm


def leaks(h: BotHarness, *secret: str) -> list[str]:
    """Every write of the bot the channel saw (each message as posted and after each of its edits)
    that shows one of ``secret``."""
    found = []
    for message in bot_messages(h):
        if not in_channel(h, message):
            continue
        for state in [*message.history, message.snapshot()]:
            shown = json.dumps(state, ensure_ascii=False)
            found += [f"message {message.id} shows {s!r}: {shown[:300]}" for s in secret if s in shown]
    return found


def in_dms(h: BotHarness) -> list[FakeMessage]:
    return [m for m in bot_messages(h) if (p := h.fake.channel(m.channel_id)) is not None and p.is_dm]


def dm_notice(h: BotHarness, task_id: int, *, after: int = 0) -> FakeMessage | None:
    """The failure (or moderator) notice of ``task_id`` in the member's DMs."""
    for message in in_dms(h):
        footer = [(e.get("footer") or {}).get("text") for e in message.embeds]
        if message.id > after and ({f"Task #{task_id}", f"Task #{task_id} · notice"} & set(footer)):
            return message
    return None


async def card_over(h: BotHarness, task_id: int) -> FakeMessage:
    def over() -> FakeMessage | None:
        card = card_of(h, task_id)
        return card if card is not None and PRIVATE_OVER in card.text else None

    card = await h.wait_until(over, 15, f"the private card of task #{task_id} to read over")
    assert card is not None
    return card


async def test_a_private_video_shows_the_channel_nothing_of_it_from_queue_to_delivery(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        await make_private(h)
        picture = AttachmentSpec("secret-party.png", width=640, height=480)
        first = await generate(h, h.member, prompt=PROMPT, attachments=[picture])
        second = await generate(h, h.member, prompt="a second surprise, for Sam")
        assert first.task_id is not None and second.task_id is not None, (first.text, second.text)
        (image,) = first.call.data["resolved"]["attachments"].values()

        for outcome in (first, second):
            task_id = outcome.task_id
            assert task_id is not None
            await wait_states(h, {task_id: "delivered"}, timeout=20)
            card = await card_over(h, task_id)
            assert f"<@{h.member.id}>" in card.text
            (result,) = [m for m in in_dms(h) if result_task(m) == task_id]
            assert result.attachments, "the video itself goes by DM"
        assert leaks(h, PROMPT, "a second surprise", image["url"], image["filename"]) == []
        assert all(result_task(m) is None for m in bot_messages(h) if in_channel(h, m))
        h.assert_clean()


async def test_a_failed_private_video_tells_its_reason_by_dm_only(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        await make_private(h)
        minimax.fail_next_task(1027)  # the API withholds the output
        outcome = await generate(h, h.member, prompt=PROMPT)
        task_id = outcome.task_id
        assert task_id is not None, outcome.text
        notice = await h.wait_until(lambda: dm_notice(h, task_id), 20, "the failure notice by DM")
        assert notice is not None and PROMPT in notice.text
        reason = notice.embeds[0]["description"]
        assert reason and "refunded" in reason
        await card_over(h, task_id)
        assert leaks(h, PROMPT, reason) == []
        h.assert_clean()


async def test_an_unknown_private_video_refunded_by_a_moderator_is_told_by_dm_only(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        await make_private(h)
        minimax.inject("submit", "malformed")  # the bot cannot tell whether the API took it
        outcome = await generate(h, h.member, prompt=PROMPT)
        task_id = outcome.task_id
        assert task_id is not None, outcome.text
        await wait_states(h, {task_id: "unknown"}, timeout=20)
        unknown = await h.wait_until(lambda: dm_notice(h, task_id), 20, "the unknown notice by DM")
        assert unknown is not None and PROMPT in unknown.text
        # The moderator finds nothing on the MiniMax dashboard (a stand-in with no tasks): refund.
        nothing_made = SimpleNamespace(tasks={})
        assert await settle_unknown(h, nothing_made, {task_id: PROMPT}) == {task_id: "refunded"}  # type: ignore[arg-type]
        await wait_states(h, {task_id: "failed"}, timeout=10)
        refund = await h.wait_until(
            lambda: dm_notice(h, task_id, after=unknown.id), 20, "the refund notice by DM"
        )
        assert refund is not None and REFUND_MESSAGE in refund.text
        await card_over(h, task_id)
        # The moderator's own (ephemeral) confirmation comes last: wait for it before stopping.
        await h.wait_for_message(lambda m: m.ephemeral and " refunded to <@" in m.text, timeout=10)
        assert leaks(h, PROMPT, unknown.embeds[0]["description"], REFUND_MESSAGE) == []

        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert ledger.refunded == {task_id: tasks[task_id].cost_tenths} and ledger.charged == {}
        h.assert_clean(allow_log=("submit outcome unknown",))


async def test_closed_dms_after_the_follow_up_window_charge_the_video_and_keep_it(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        await make_private(h)
        h.fake.dm_closed.add(h.member.id)
        minimax.next_task(processing=10_000_000)  # held until finish_all()
        outcome = await generate(h, h.member, prompt=PROMPT)
        task_id = outcome.task_id
        assert task_id is not None, outcome.text
        await wait_states(h, {task_id: "processing"}, timeout=20)
        # The follow-up lives in memory for its 15 minutes only: after a restart it is gone, as after
        # the window. Then only the member's side can refuse the video.
        await h.restart(kill=True)
        minimax.finish_all()

        notice = await h.wait_for_message(
            lambda m: f"/video status {task_id}" in m.content and not m.ephemeral,
            timeout=20,
            channel=h.channel,
        )
        assert "private video" in notice.content and PROMPT not in notice.text
        await wait_states(h, {task_id: "delivered"}, timeout=10)
        assert results_by_task(h)[task_id] == 0, "never posted in the channel"

        status = await wait_answer(await h.invoke("video status", member=h.member, options={"task": task_id}))
        assert status.call.ephemeral and "download link" in status.text, status.text
        (url,) = re.findall(r"https?://\S+/download/\S+", status.text)
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            body = await response.read()
        assert body == minimax.file_bytes(next(iter(minimax.tasks.values())).file_id)

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        assert integrity == "ok" and tasks[task_id].state == "delivered"
        assert ledger.charged == {task_id: tasks[task_id].cost_tenths} and ledger.refunded == {}
        assert leaks(h, PROMPT) == []
        h.assert_clean()
