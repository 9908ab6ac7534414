"""Extend and Loop on a delivered result, as a member meets them: who may click, the modal's prefill
and price, the refusals (too long, private, gone) that answer before anything is reserved, and the
result's text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.catalog import format_credits
from bot.lifecycle import Actor
from cogs import embeds
from cogs.buttons import DYNAMIC_ITEMS, result_view
from cogs.sequel_buttons import ExtendButton, LoopButton, SequelModal
from storage import Task, TaskState
from tests.builders import task_of
from tests.cogs.test_video import Env, env  # noqa: F401  # the cog environment and its fixture
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER, USER
from tests.fakes.mp4 import count_frames, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    return write_clip(path, 48, width=640, height=360).read_bytes()


async def _delivered(setup: Env, clip: bytes) -> Task:
    await setup.harness.storage.limits.set_guild_default(GUILD, 5000, "day", actor_id=1)
    setup.harness.fake.v2_content = clip
    await setup.generate(prompt="a kite over the dunes", model="MiniMax-H3", duration=6, resolution="768P")
    task = await setup.harness.wait_final(1, within=60)
    assert task.state is TaskState.DELIVERED, task.error_message
    (posted,) = setup.harness.notifier.results_for(task.id)
    assert posted.data is not None
    url = setup.harness.images.add(f"{task.id}.mp4", posted.data, "video/mp4")
    setup.harness.notifier.video_urls[task.id] = url
    return task


async def test_anyone_may_extend_a_public_result_from_a_modal_with_the_prompt_and_price(
    env: Env,  # noqa: F811
    clip: bytes,
    tmp_path: Path,
) -> None:
    await _delivered(env, clip)
    clicked = env.interaction(OTHER_USER)
    await ExtendButton(1).callback(clicked)  # type: ignore[arg-type]
    modal = clicked.last.modal
    assert isinstance(modal, SequelModal)
    assert modal.prompt.default == "a kite over the dunes"
    offer = await env.harness.service.sequel_offer(1, _actor(OTHER_USER), "extend")  # type: ignore[union-attr]
    assert modal.title == f"Extend video #1 · {format_credits(offer.price_tenths)} credits"
    assert modal.prompt.label == "Prompt for the next 6 s (8 s in all)"  # the cap's arithmetic

    modal.prompt._value = "the kite climbs into the clouds"
    submitted = env.interaction(OTHER_USER)
    await modal.on_submit(submitted)  # type: ignore[arg-type]
    assert submitted.replies[0].kind == "defer" and "#2" in submitted.last.content
    extend = await env.harness.wait_final(2, within=60)
    assert extend.state is TaskState.DELIVERED, extend.error_message
    assert (extend.prompt, extend.user_id, extend.edit_kind) == (
        "the kite climbs into the clouds",
        OTHER_USER,
        "extend",
    )
    usage = await env.harness.storage.quota.usage(GUILD, OTHER_USER)
    assert usage.used_tenths == extend.cost_tenths == offer.price_tenths, "the clicker pays the price shown"
    (posted,) = env.harness.notifier.results_for(2)
    assert posted.data is not None
    (tmp_path / "posted.mp4").write_bytes(posted.data)
    assert count_frames(tmp_path / "posted.mp4")[0] == 48 - 1 + 48
    assert "⏩ Video #1 extended, 4.0 s in all." in embeds.result_content(extend)

    shown = embeds.status_embed(
        next(c for c in reversed(env.harness.notifier.cards + env.harness.notifier.edits) if c.task.id == 2)
    )
    field = next(f for f in shown.fields if f.name == "Extends")
    assert f"<@{USER}>" in (field.value or ""), "the original's author is named"


async def test_loop_opens_its_own_modal(env: Env, clip: bytes) -> None:  # noqa: F811
    await _delivered(env, clip)
    clicked = env.interaction()
    await LoopButton(1).callback(clicked)  # type: ignore[arg-type]
    modal = clicked.last.modal
    assert isinstance(modal, SequelModal) and modal.kind == "loop"
    assert modal.title.startswith("Loop video #1 · ")


async def test_past_the_length_cap_the_click_is_refused_with_the_reason(env: Env, clip: bytes) -> None:  # noqa: F811
    await _delivered(env, clip)
    service = env.harness.service
    assert service is not None
    service.deps.settings = dataclasses.replace(service.deps.settings, max_extended_seconds=5)
    clicked = env.interaction(OTHER_USER)
    await ExtendButton(1).callback(clicked)  # type: ignore[arg-type]
    assert clicked.last.kind == "message" and clicked.last.ephemeral
    assert "at most 5 s" in clicked.last.content and "Nothing was charged" in clicked.last.content
    assert await env.task_count() == 1, "nothing reserved"


async def test_only_the_owner_may_extend_or_loop_a_private_result(env: Env, clip: bytes) -> None:  # noqa: F811
    await env.harness.service.update_preferences(USER, dm_results=True)  # type: ignore[union-attr]
    await _delivered(env, clip)
    for button in (ExtendButton(1), LoopButton(1)):
        stranger = env.interaction(OTHER_USER)
        await button.callback(stranger)  # type: ignore[arg-type]
        assert "is private" in stranger.last.content and stranger.last.ephemeral
    owner = env.interaction()
    await LoopButton(1).callback(owner)  # type: ignore[arg-type]
    assert isinstance(owner.last.modal, SequelModal)


async def test_a_video_gone_by_the_time_the_modal_is_sent_is_refused_and_nothing_reserved(
    env: Env,  # noqa: F811
    clip: bytes,
) -> None:
    await _delivered(env, clip)
    clicked = env.interaction()
    await ExtendButton(1).callback(clicked)  # type: ignore[arg-type]
    modal = clicked.last.modal
    assert isinstance(modal, SequelModal)
    del env.harness.notifier.video_urls[1]  # the result message was deleted
    env.harness.fake.inject("query", 2013, times=10)  # and the API no longer names the file
    submitted = env.interaction()
    await modal.on_submit(submitted)  # type: ignore[arg-type]
    assert "Video #1 is gone" in submitted.last.content and "Nothing was charged" in submitted.last.content
    assert await env.task_count() == 1


async def test_extend_and_loop_are_on_results_and_survive_restarts(env: Env, clip: bytes) -> None:  # noqa: F811
    task = await _delivered(env, clip)
    assert ExtendButton in DYNAMIC_ITEMS and LoopButton in DYNAMIC_ITEMS
    ids = {item.custom_id for item in result_view(task).children}  # type: ignore[attr-defined]
    assert {"video:extend:1", "video:loop:1"} <= ids


def test_the_result_text_says_when_the_join_failed() -> None:
    alone = task_of(prompt="a kite", id=5, user_id=1, edit_of=3, edit_kind="loop", join_state="alone")
    assert "Joining this clip to video #3 did not work" in embeds.result_content(alone)
    looped = dataclasses.replace(alone, join_state="joined", delivered_seconds=9.5)
    assert "🔁 Video #3 as a seamless loop, 9.5 s in all." in embeds.result_content(looped)
    assert embeds.join_note(dataclasses.replace(alone, edit_kind="remix")) is None


def _actor(user_id: int) -> Actor:
    return Actor(user_id, GUILD)
