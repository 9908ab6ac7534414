"""The real bot, end to end: a member's request becomes a video in the channel, against fakes of both APIs.

Each scenario runs ``python -m bot`` unmodified in its own process, talks to it only as Discord would
(interactions over the gateway, messages over REST) and checks what a member sees, what the fake
MiniMax was asked, and what the database recorded, then that no Discord rule was broken and the bot's
log holds no error.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.interactions import AttachmentSpec
from tests.e2e.video_flow import (
    card_of,
    card_title,
    download_link,
    generate,
    pinged,
    read_db,
    results_by_task,
    video_env,
    video_of,
    wait_answer,
    wait_delivered,
    wait_result,
    wait_states,
    wait_tasks_settled,
)
from tests.fakes.fake_discord import MIB, png_bytes
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

SPEED = 400.0  # fake MiniMax seconds per real second: a 60 s generation takes 0.15 s


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=SPEED) as fake:
        yield fake


def harness(tmp_path: Path, minimax: FakeMiniMax, **env: str) -> BotHarness:
    return BotHarness(
        tmp_path, minimax=minimax, env=video_env(**env), expect_commands=("video", "videoadmin")
    )


async def test_text_to_video_is_delivered_as_a_reply_that_pings_only_the_requester(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        prompt = f"a red fox running through snow @everyone <@&{h.fake.moderator_role.id}> [Pan left]"
        outcome = await generate(h, h.member, prompt=prompt)
        assert outcome.accepted, outcome.text
        assert outcome.call.response_type == 5 and outcome.call.ephemeral
        task_id = outcome.task_id
        assert task_id is not None

        result = await wait_delivered(h, task_id)
        card = card_of(h, task_id)
        assert card is not None and not card.ephemeral
        assert result.message_reference is not None
        assert int(result.message_reference["message_id"]) == card.id
        assert result.content.startswith(f"<@{h.member.id}>")
        assert pinged(result) == {f"user:{h.member.id}"}
        video = video_of(result)
        [api_task] = minimax.tasks.values()
        assert video.filename.endswith(".mp4")
        assert video.data == minimax.file_bytes(api_task.file_id)
        assert result.custom_ids == [
            f"video:regen:{task_id}",
            f"video:details:{task_id}",
            f"video:remix:{task_id}",
            f"video:extend:{task_id}",
            f"video:loop:{task_id}",
            f"video:share:{task_id}",
        ]
        assert minimax.submissions[0]["prompt"].startswith("a red fox running through snow")

        details = await wait_answer(await h.click(result, f"video:details:{task_id}", h.member))
        assert details.call.ephemeral and "Delivered" in details.text and prompt in details.text
        stranger = await wait_answer(await h.click(result, f"video:details:{task_id}", h.moderator))
        assert stranger.call.ephemeral and "not one of yours" in stranger.text

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        assert integrity == "ok"
        assert tasks[task_id].state == "delivered" and tasks[task_id].result_message_id == result.id
        assert ledger.charged == {task_id: tasks[task_id].cost_tenths} and ledger.refunded == {}
        assert results_by_task(h) == {task_id: 1}
        h.assert_clean()


async def test_image_to_video_sends_the_attached_picture_and_delivers_the_video(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        picture = AttachmentSpec("cat.png", width=640, height=480)
        outcome = await generate(h, h.member, prompt="the cat blinks [Push in]", attachments=[picture])
        assert outcome.accepted, outcome.text
        assert outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)

        card = card_of(h, outcome.task_id)
        assert card is not None and result.message_reference is not None
        assert int(result.message_reference["message_id"]) == card.id
        [body] = minimax.submissions
        sent = png_bytes(640, 480)
        assert body["first_frame_image"] == "data:image/png;base64," + base64.b64encode(sent).decode()
        assert body["model"] == "MiniMax-Hailuo-2.3" and body["prompt"] == "the cat blinks [Push in]"
        [attachment_id] = outcome.call.data["resolved"]["attachments"]
        assert h.fake.attachments[int(attachment_id)].downloads == 1  # fetched at submit time, once
        video = video_of(result)
        assert video.data == minimax.file_bytes(next(iter(minimax.tasks.values())).file_id)
        assert pinged(result) == {f"user:{h.member.id}"}

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        task = tasks[outcome.task_id]
        assert (task.state, integrity) == ("delivered", "ok")
        assert ledger.charged == {task.id: task.cost_tenths}
        h.assert_clean()


async def test_a_reseller_gateway_run_delivers_the_video(tmp_path: Path) -> None:
    async with FakeMiniMax(flavour="reseller", speed=SPEED) as reseller, harness(tmp_path, reseller) as h:
        outcome = await generate(h, h.member, prompt="a paper boat on a rainy street", duration=10)
        assert outcome.accepted, outcome.text
        assert outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)

        video = video_of(result)
        [api_task] = reseller.tasks.values()
        assert video.data == reseller.file_bytes(api_task.file_id)
        assert api_task.body["duration"] == 10
        api_calls = [r for r in reseller.requests if r.endpoint != "download"]
        assert api_calls and all(r.path.startswith("/minimax/v1/") for r in api_calls)
        assert {"submit", "query"} <= {r.endpoint for r in api_calls}
        assert await h.stop() == 0
        tasks, _ledger, _integrity = read_db(h.database_path)
        assert tasks[outcome.task_id].api_task_id == api_task.task_id
        h.assert_clean()


async def test_an_exhausted_quota_is_refused_clearly_and_reserves_nothing(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax, DEFAULT_QUOTA_CREDITS="1.5") as h:
        first = await generate(h, h.member, prompt="a lighthouse at dusk")  # 1 credit
        assert first.accepted and first.task_id is not None
        await wait_delivered(h, first.task_id)

        refused = await generate(h, h.member, prompt="a second lighthouse")
        assert not refused.accepted
        assert refused.call.ephemeral
        assert "You don't have enough credits" in refused.text
        assert "0.5 of 1.5" in refused.text and "/video quota" in refused.text
        assert len(minimax.submissions) == 1

        quota = await h.invoke("video quota", member=h.member)
        text = (await wait_answer(quota)).text
        assert "1 of 1.5" in text, text

        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert list(tasks) == [first.task_id]
        assert ledger.reserved == {first.task_id: 10} and ledger.rows == 2  # reserve + charge
        h.assert_clean()


async def test_a_moderator_sets_a_members_quota_and_the_next_request_obeys_it(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax, DEFAULT_QUOTA_CREDITS="0") as h:
        before = await generate(h, h.member, prompt="a snail racing a turtle")
        assert not before.accepted and "You don't have enough credits" in before.text

        # The owner makes "Video Moderator" the bot's moderator role and grants the command to it
        # (Integrations settings), so the moderator sees /videoadmin without Manage Server.
        role = await h.invoke(
            "videoadmin policy", member=h.admin, options={"moderator_role": h.fake.moderator_role}
        )
        assert f"<@&{h.fake.moderator_role.id}>" in (await wait_answer(role)).text
        change = await h.invoke(
            "videoadmin quota set",
            member=h.moderator,
            options={"member": h.member, "credits": 1.5},
            validate=False,
        )
        shown = (await wait_answer(change)).text
        assert "Allowance of" in shown and "1.5" in shown, shown

        allowed = await generate(h, h.member, prompt="a snail racing a turtle")
        assert allowed.accepted, allowed.text
        assert allowed.task_id is not None
        await wait_delivered(h, allowed.task_id)
        over = await generate(h, h.member, prompt="the rematch")
        assert not over.accepted and "0.5 of 1.5" in over.text

        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert [t.state for t in tasks.values()] == ["delivered"]
        assert ledger.charged == {allowed.task_id: 10}
        h.assert_clean()


async def test_a_result_over_the_upload_limit_is_delivered_as_a_link(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    minimax.download_size = 11 * MIB  # over an unboosted server's 10 MiB
    # The fake's V1 files are real (padded) MP4s that a re-encode would fit under the limit: a
    # download cap under their size keeps this the link path (no file, nothing to re-encode).
    async with harness(tmp_path, minimax, MAX_DOWNLOAD_MB="10") as h:
        outcome = await generate(h, h.member, prompt="a waterfall in 4k detail")
        assert outcome.accepted and outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)

        assert result.attachments == []
        link = download_link(result)
        assert link is not None and link.startswith(minimax.root_url + "/download/")
        assert "expires <t:" in result.content
        assert pinged(result) == {f"user:{h.member.id}"}
        async with aiohttp.ClientSession() as session, session.get(link) as response:
            assert response.status == 200 and response.content_length == 11 * MIB
        assert not any("upload" in v for v in h.fake.violations)

        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert tasks[outcome.task_id].state == "delivered"
        assert ledger.charged == {outcome.task_id: tasks[outcome.task_id].cost_tenths}
        h.assert_clean()


async def test_the_same_video_is_uploaded_once_the_server_is_boosted(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    minimax.download_size = 11 * MIB
    async with harness(tmp_path, minimax) as h:
        await h.fake.set_premium_tier(2)  # 50 MiB uploads; the bot hears GUILD_UPDATE
        outcome = await generate(h, h.member, prompt="a waterfall in 4k detail")
        assert outcome.accepted and outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)
        video = video_of(result)
        assert len(video.data) == 11 * MIB and download_link(result) is None
        h.assert_clean()


async def test_regenerate_on_an_old_result_works_after_the_bot_was_killed(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        first = await generate(h, h.member, prompt="a hot air balloon over hills", resolution="1080P")
        assert first.accepted and first.task_id is not None
        # Not waiting for "delivered" on purpose: the kill may land between posting and recording,
        # and the restart must then find the posted result instead of posting it again.
        old_result = await wait_result(h, first.task_id)

        await h.restart(kill=True)  # SIGKILL: nothing of the old process survives but the database
        click = await h.click(old_result, f"video:regen:{first.task_id}", h.member)
        answer = await wait_answer(click)
        assert answer.accepted, answer.text
        assert click.response_type == 5 and click.ephemeral
        second = answer.task_id
        assert second is not None and second != first.task_id
        new_result = await wait_delivered(h, second)
        assert new_result.id != old_result.id
        assert len(minimax.submissions) == 2
        assert minimax.submissions[1]["prompt"] == minimax.submissions[0]["prompt"]
        assert minimax.submissions[1]["resolution"] == "1080P"

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        assert integrity == "ok"
        assert tasks[second].regenerated_from == first.task_id
        assert {t.state for t in tasks.values()} == {"delivered"}
        price = tasks[first.task_id].cost_tenths
        assert price > 10  # 1080P costs more than the 1-credit default
        assert ledger.charged == {first.task_id: price, second: price}
        assert results_by_task(h) == {first.task_id: 1, second: 1}
        h.assert_clean()


async def test_a_card_whose_final_edit_was_lost_is_repaired_after_a_restart(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        # Every card edit is refused: like a kill between recording the end and editing the card, the
        # card is left showing a running state, which only a restart can repair (found by the soak).
        h.fake.inject_fault("PATCH", r"/channels/\d+/messages/\d+$", 403, times=10_000)
        outcome = await generate(h, h.member, prompt="a fox in the snow")
        assert outcome.task_id is not None
        await wait_result(h, outcome.task_id)
        await wait_tasks_settled(h, [outcome.task_id])
        card = card_of(h, outcome.task_id)
        assert card is not None and "Delivered" not in card_title(card)

        for fault in h.fake._faults:  # Discord accepts edits again
            fault.times = 0
        await h.restart(kill=True)
        await h.wait_until(
            lambda: "Delivered" in card_title(card), 5, "the restarted bot to repair the stale card"
        )
        h.assert_clean()


async def test_a_task_waiting_for_the_rate_limiter_survives_a_restart(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax, MINIMAX_RPM="1") as h:
        first = await generate(h, h.member, prompt="the first video of the minute")
        assert first.task_id is not None
        await wait_result(h, first.task_id)
        second = await generate(h, h.member, prompt="the second one waits a minute")
        assert second.task_id is not None
        # It waits for its submit slot while still "queued" (nothing sent, nothing uncertain).
        states = await wait_states(h, {second.task_id: "queued"})
        assert minimax.counts["submit"] == 1, states  # the second was never sent

        await h.restart(kill=True)  # e.g. a deploy, while it waits for its turn
        # Once parked as "unknown" for a moderator although never sent (found by the soak's kills).
        await wait_result(h, second.task_id)
        h.assert_clean()


def crash_between_posting_and_recording(database: Path, task_id: int) -> None:
    """Put a delivered task back where a SIGKILL right after posting its result leaves it.

    The kill cannot be timed from outside to land between the post and the database write, so the
    state is written as the bot would have left it: ``delivering``, no result recorded, not charged.
    """
    conn = sqlite3.connect(database)
    try:
        with conn:
            conn.execute(
                "UPDATE tasks SET state = 'delivering', result_message_id = NULL WHERE id = ?", (task_id,)
            )
            conn.execute("DELETE FROM ledger WHERE task_id = ? AND kind = 'charge'", (task_id,))
    finally:
        conn.close()


# 110 messages between the card and the result: the bot once read only the first 100 after the card
# and posted the video a second time (found by the soak).
@pytest.mark.parametrize("chatter", [0, 110])
async def test_a_result_posted_just_before_a_crash_is_found_and_not_posted_again(
    tmp_path: Path, chatter: int
) -> None:
    async with FakeMiniMax(flavour="official") as frozen, harness(tmp_path, frozen) as h:
        outcome = await generate(h, h.member, prompt="a quiet harbour at dawn")
        assert outcome.task_id is not None
        task_id = outcome.task_id
        await wait_states(h, {task_id: "processing"})
        for n in range(chatter):  # the channel is busy while the video is being made
            await h.post_message(h.admin, f"chatter {n}")
        frozen.finish_all()
        first = await wait_delivered(h, task_id)
        assert await h.stop() == 0

        crash_between_posting_and_recording(h.database_path, task_id)
        await h.start()
        states = await wait_states(h, {task_id: "delivered"})
        tasks, ledger, _integrity = read_db(h.database_path)
        assert results_by_task(h) == {task_id: 1}, f"posted again: {states}"
        assert tasks[task_id].result_message_id == first.id
        assert ledger.charged == {task_id: tasks[task_id].cost_tenths}
        h.assert_clean()


async def test_animate_image_from_a_members_message_delivers_a_video(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        photo = await h.post_message(h.member, "my cat", attachments=[AttachmentSpec("cat.png", 800, 600)])
        menu = await h.context_menu("Animate image", photo, h.member)
        await menu.wait_response()
        assert menu.response_type == 9 and menu.modal is not None
        [prompt_input] = _inputs(menu.modal)
        submitted = await h.submit_modal(menu, {prompt_input: "the cat yawns [Push in]"})
        outcome = await wait_answer(submitted)
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        result = await wait_delivered(h, outcome.task_id)

        [body] = minimax.submissions
        assert body["first_frame_image"].startswith("data:image/png;base64,")
        assert body["prompt"] == "the cat yawns [Push in]"
        assert pinged(result) == {f"user:{h.member.id}"} and video_of(result).data

        textual = await h.post_message(h.member, "no picture here")
        refused = await wait_answer(await h.context_menu("Animate image", textual, h.member))
        assert refused.call.ephemeral and "has no image attached" in refused.text
        h.assert_clean()


def _inputs(modal: dict[str, Any]) -> list[str]:
    """The custom_ids of a modal's text inputs (inside action rows or labels)."""
    found: list[str] = []
    stack = list(modal.get("components") or [])
    while stack:
        component = stack.pop()
        if component.get("type") == 4:
            found.append(component["custom_id"])
        stack += component.get("components") or []
        if isinstance(component.get("component"), dict):
            stack.append(component["component"])
    return found
