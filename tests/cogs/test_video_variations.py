"""``/video generate variations:N`` through the real command callback and the kit's interactions.

N takes are reserved together (the confirmation names the summed price), one card shows them all,
and the reply's buttons are Remix/Extend/Loop per take, labelled with its number. A group over the
member's credits or their limit in flight is refused whole, privately, with nothing reserved; a pool
pays for every take at once. ``variations:1`` is the video alone, exactly as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import discord

from bot.lifecycle.notifier import ResultPost
from cogs import embeds
from cogs.buttons import group_result_view
from storage import Task, TaskState
from tests.builders import make_new_task
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture
from tests.cogs.test_video_pools import TEAM_ROLE, make_pool, member
from tests.fakes.lifecycle_harness import GUILD


async def group_posted(env: Env, group_id: int) -> list[Task]:  # noqa: F811
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        takes = await env.harness.storage.tasks.group(group_id)
        if takes and takes[0].group_posted_at is not None:
            return takes
        assert loop.time() < deadline, [t.state for t in takes]
        await asyncio.sleep(0.005)


async def test_three_takes_are_confirmed_at_three_times_the_price_and_arrive_together(env: Env) -> None:  # noqa: F811
    interaction = await env.generate(model="MiniMax-Hailuo-2.3", duration=6, resolution="768P", variations=3)
    reply = interaction.last
    assert reply.ephemeral
    assert "as 3 takes (3 credits in all, 1 credit each" in reply.content
    tasks = await env.harness.storage.tasks.list_for_guild(GUILD)
    assert len(tasks) == 3 and {t.group_id for t in tasks} == {min(t.id for t in tasks)}
    takes = await group_posted(env, min(t.id for t in tasks))
    assert all(t.state is TaskState.DELIVERED for t in takes)
    (group_reply,) = env.harness.notifier.group_replies
    assert [p.filename for p in group_reply.takes] == ["take-1.mp4", "take-2.mp4", "take-3.mp4"]
    card = await env.harness.service.status_card(takes[0])  # type: ignore[union-attr]
    embed = embeds.status_embed(card)
    fields = {f.name: f.value or "" for f in embed.fields}
    assert embed.title is not None and "3 takes" in embed.title
    assert fields["Cost"] == "1 credit × 3 takes"
    assert fields["Takes"].count("Delivered") == 3 and "Take 2/3" in fields["Takes"]


async def test_one_take_is_the_video_alone(env: Env) -> None:  # noqa: F811
    interaction = await env.generate(variations=1)
    assert "(1 credit, charged only if it is delivered)" in interaction.last.content
    (task,) = await env.harness.storage.tasks.list_for_guild(GUILD)
    assert task.group_id is None
    done = await env.harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED and env.harness.notifier.group_replies == []


async def test_takes_over_the_members_credits_are_refused_whole(env: Env) -> None:  # noqa: F811
    # The harness gives 5 credits a day; 3 takes of a 10 s 768P Hailuo video (2 credits) cost 6.
    refused = await env.generate(model="MiniMax-Hailuo-2.3", duration=10, resolution="768P", variations=3)
    assert refused.last.ephemeral
    assert "these 3 takes cost 6" in refused.last.content
    assert "try fewer `variations`" in refused.last.content
    assert await env.task_count() == 0


async def test_takes_past_the_limit_in_flight_are_refused_whole(env: Env) -> None:  # noqa: F811
    env.bot.service = await env.harness.start(max_queued_per_member=3)  # type: ignore[attr-defined]
    refused = await env.generate(variations=4)
    assert "asked for 4 takes" in refused.last.content and "Nothing was charged" in refused.last.content
    assert await env.task_count() == 0


async def test_a_pool_pays_for_every_take(env: Env) -> None:  # noqa: F811
    await make_pool(env, credits=3)
    await env.generate(member(env, TEAM_ROLE), pool="team", variations=3)
    tasks = await env.harness.storage.tasks.list_for_guild(GUILD)
    assert len(tasks) == 3 and {t.pool_name for t in tasks} == {"team"}
    refused = await env.generate(member(env, TEAM_ROLE), pool="team", variations=2)
    assert "The pool `team` doesn't have enough left" in refused.last.content
    assert await env.task_count() == 3


async def test_the_reply_has_a_row_of_buttons_per_take_labelled_with_its_number(env: Env) -> None:  # noqa: F811
    await env.generate(model="MiniMax-Hailuo-2.3", duration=6, resolution="768P", variations=3)
    tasks = sorted(await env.harness.storage.tasks.list_for_guild(GUILD), key=lambda t: t.id)
    takes = await group_posted(env, tasks[0].id)
    view = group_result_view(takes)
    rows: dict[int, list[str]] = {}
    for item in view.children:
        assert isinstance(item, discord.ui.DynamicItem)
        assert item.row is not None and isinstance(item.item, discord.ui.Button)
        rows.setdefault(item.row, []).append(str(item.item.label))
    assert rows == {n - 1: [f"Remix {n}", f"Extend {n}", f"Loop {n}"] for n in (1, 2, 3)}
    assert all(len(r) <= 5 for r in rows.values()) and len(rows) <= 5
    custom_ids = {c.item.custom_id for c in view.children if isinstance(c, discord.ui.DynamicItem)}
    assert f"video:remix:{takes[2].id}" in custom_ids and f"video:extend:{takes[0].id}" in custom_ids


async def test_the_reply_text_labels_each_take_and_lists_the_failed_one(env: Env) -> None:  # noqa: F811
    first, failed, third = await env.harness.storage.quota.reserve_group(make_new_task(), takes=3)
    failed = replace(failed, state=TaskState.FAILED)
    posts = tuple(
        ResultPost(task=t, via_dm=False, file_path=Path("x.mp4"), filename=f"take-{t.take}.mp4")
        for t in (first, third)
    )
    text = embeds.group_result_content(first, posts, (failed,), with_files=True)
    assert "your 3 takes are ready!" in text
    assert f"**Take 1/3** (task #{first.id}): `take-1.mp4`" in text
    assert f"**Take 3/3** (task #{third.id})" in text
    assert "**Take 2/3** failed; 1 credit refunded." in text
    assert len(text) <= 2000
