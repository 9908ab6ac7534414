"""A private video the member's DMs refused is picked up with /video status, Details and /video list."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import discord
import pytest

from bot.lifecycle import kept_for_member
from cogs.buttons import DetailsButton
from tests.cogs.test_video import Env
from tests.cogs.test_video import env as _env  # noqa: F401 (the fixture, reused)
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER, USER


@pytest.fixture
async def kept(_env: Env) -> AsyncIterator[Env]:  # noqa: F811
    """``_env`` with task #1 made privately for a member whose DMs are closed."""
    await _env.harness.storage.policy.update(GUILD, actor_id=1, results_public=False)
    _env.harness.notifier.dm_closed.add(USER)
    await _env.generate()
    done = await _env.harness.wait_final(1)
    assert kept_for_member(done)
    yield _env


async def _works(env: Env, text: str) -> None:
    (url,) = re.findall(r"https?://\S+", text)
    async with env.harness.session.get(url) as response:
        assert response.status == 200


async def test_status_gives_the_requester_a_fresh_link_privately(kept: Env) -> None:
    asked = kept.interaction()
    await kept.cog.status.callback(kept.cog, asked, 1)  # type: ignore[arg-type]
    reply = asked.last
    assert reply.ephemeral and reply.embed is not None
    assert "could not be sent to you" in (reply.content or "")
    await _works(kept, reply.content or "")


async def test_details_gives_the_requester_a_fresh_link_and_a_moderator_none(kept: Env) -> None:
    mine = kept.interaction()
    await DetailsButton(1).callback(mine)  # type: ignore[arg-type]
    assert mine.last.ephemeral and "could not be sent to you" in (mine.last.content or "")
    await _works(kept, mine.last.content or "")
    moderator = kept.interaction(OTHER_USER, permissions=discord.Permissions(manage_guild=True))
    await DetailsButton(1).callback(moderator)  # type: ignore[arg-type]
    assert moderator.last.embed is not None and moderator.last.content is None, "the member's video only"


async def test_the_list_says_how_to_pick_it_up(kept: Env) -> None:
    listed = kept.interaction()
    await kept.cog.list_tasks.callback(kept.cog, listed)  # type: ignore[arg-type]
    assert "`/video status 1` gets it" in (listed.last.embed.description or "")  # type: ignore[union-attr]
