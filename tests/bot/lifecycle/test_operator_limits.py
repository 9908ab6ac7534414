"""The operator's limits as members meet them: servers the bot serves, the bot-wide spending ceiling
and a member's tasks in flight. Refusals say what happened and what to do; nothing is reserved."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from bot.lifecycle import RequestRefused
from bot.lifecycle.actor import Actor
from bot.lifecycle.spending import spend_ceiling
from storage import SpendCeiling, TaskState
from storage.backend import fetch_one
from tests.builders import GUILD, make_settings
from tests.fakes.lifecycle_harness import FAST_PLAN, Harness, lifecycle_harness

OTHER_GUILD = GUILD + 1


async def reserved(harness: Harness) -> int:
    async with harness.storage.db.read() as conn:
        row = await fetch_one(conn, "SELECT COUNT(*) FROM ledger WHERE kind = 'reserve'")
    assert row is not None
    return int(row[0])


def test_the_dollar_ceiling_becomes_credits_rounded_down() -> None:
    assert spend_ceiling(make_settings()) is None
    # $0.28 is one credit; $0.99 is 3.5357… credits: rounded down, never up past the operator's figure.
    settings = make_settings(spend_limit_usd=Decimal("0.99"), spend_limit_period="week")
    assert spend_ceiling(settings) == SpendCeiling(35, "week")


async def test_a_member_gets_max_queued_places_and_cancel_frees_one(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, max_queued_per_member=3) as harness:
        service = harness.new_service()  # not started: the tasks stay queued
        tasks = [await service.request(harness.request()) for _ in range(3)]
        with pytest.raises(RequestRefused) as refused:
            await service.request(harness.request())
        text = refused.value.message
        assert "3 videos in progress" in text and "`/video cancel`" in text and "Nothing was charged" in text
        assert await reserved(harness) == 3
        # Another member has their own places.
        await service.request(harness.request(user_id=4242))
        await service.cancel(tasks[0].id, Actor(tasks[0].user_id, tasks[0].guild_id))
        await service.request(harness.request())


async def test_concurrent_requests_of_one_member_accept_exactly_the_cap(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, max_queued_per_member=3, default_quota_tenths=1000) as harness:
        service = harness.new_service()

        async def one() -> bool:
            try:
                await service.request(harness.request())
            except RequestRefused as exc:
                assert "videos in progress" in exc.message
                return False
            return True

        results = await asyncio.gather(*(one() for _ in range(12)))
        assert results.count(True) == 3
        assert await reserved(harness) == 3


async def test_the_bot_wide_ceiling_refuses_across_servers_with_a_clear_message(tmp_path: Path) -> None:
    # $0.84 is three one-credit videos, whoever asks and wherever.
    limit = {"spend_limit_usd": Decimal("0.84"), "spend_limit_period": "day"}
    async with lifecycle_harness(tmp_path, **limit) as harness:
        service = harness.new_service()
        await service.request(harness.request(guild_id=GUILD, user_id=1))
        await service.request(harness.request(guild_id=OTHER_GUILD, user_id=2))
        await service.request(harness.request(guild_id=GUILD, user_id=3))
        with pytest.raises(RequestRefused) as refused:
            await service.request(harness.request(guild_id=OTHER_GUILD, user_id=4))
        text = refused.value.message
        assert "overall video budget for this day" in text and "Nothing was charged" in text
        assert "<t:" in text, "says when it renews"
        assert await reserved(harness) == 3
        assert harness.fake.counts["submit"] == 0


async def test_a_server_outside_allowed_guild_ids_is_refused_even_from_a_dm(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        open_service = harness.new_service()
        elsewhere = await open_service.request(harness.request(guild_id=OTHER_GUILD))
        service = harness.new_service(allowed_guild_ids=(GUILD,))
        with pytest.raises(RequestRefused, match="not available in this server"):
            await service.request(harness.request(guild_id=OTHER_GUILD))
        # Regenerate, clicked on a result sent by DM: the original's server decides, and it is not served.
        with pytest.raises(RequestRefused, match="not available in this server"):
            await service.regenerate(elsewhere.id, Actor(elsewhere.user_id, None))
        assert await reserved(harness) == 1
        await service.request(harness.request(guild_id=GUILD))


async def test_a_task_queued_in_a_server_no_longer_served_is_never_sent(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        queued = await harness.new_service().request(harness.request(guild_id=OTHER_GUILD))
        # Restarted with ALLOWED_GUILD_IDS that leaves that server out.
        service = await harness.start(allowed_guild_ids=(GUILD,))
        done = await harness.wait_final(queued.id)
        assert (done.state.value, done.error_code) == ("failed", "guild_not_served")
        assert await harness.ledger(queued.id) == ["reserve", "refund"]
        assert harness.fake.counts["submit"] == 0
        # Nor can it be looked at (Details, a fresh link) from a DM.
        with pytest.raises(RequestRefused, match="not available in this server"):
            await service.task_for(queued.id, Actor(queued.user_id, None))


async def test_a_request_with_no_guild_pays_from_the_personal_allowance(tmp_path: Path) -> None:
    """USER_INSTALL (issue 13): a DM or personal-install request is held to USER_INSTALL_CREDITS per
    USER_INSTALL_PERIOD, not to the server default; the refusal names that allowance and charges nothing."""
    async with lifecycle_harness(
        tmp_path, user_install=True, user_install_tenths=15, user_install_period="week"
    ) as harness:
        service = harness.new_service()
        first = await service.request(harness.request(guild_id=None, duration=6, resolution="768P"))
        assert first.guild_id is None
        with pytest.raises(RequestRefused) as refused:
            await service.request(harness.request(guild_id=None, duration=6, resolution="768P"))
        assert "this week" in refused.value.message and "of 1.5" in refused.value.message
        assert await reserved(harness) == 1
        view = await service.quota(None, first.user_id)
        assert (view.usage.limit_tenths, view.usage.period) == (15, "week")
        # The member's server allowance is its own.
        await service.request(harness.request())


async def test_with_user_install_off_a_request_with_no_guild_is_refused(tmp_path: Path) -> None:
    """Whatever path it came by (a button in a DM, a stale client), nothing is reserved."""
    async with lifecycle_harness(tmp_path) as harness:
        service = harness.new_service()
        with pytest.raises(RequestRefused) as refused:
            await service.request(harness.request(guild_id=None))
        assert "only inside a server" in refused.value.message
        assert await reserved(harness) == 0


async def test_a_failed_personal_video_gives_the_allowance_back(tmp_path: Path) -> None:
    """Charged on delivery, refunded on failure: the same ledger as in a server."""
    plan = dataclasses.replace(FAST_PLAN, fail_code=1026, fail_message="sensitive content")
    async with lifecycle_harness(tmp_path, plan=plan, user_install=True, user_install_tenths=10) as harness:
        service = await harness.start()
        task = await service.request(harness.request(guild_id=None, duration=6, resolution="768P"))
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.FAILED
        assert await harness.ledger(task.id) == ["reserve", "refund"]
        view = await service.quota(None, task.user_id)
        assert view.usage.used_tenths == 0
        again = await service.request(harness.request(guild_id=None, duration=6, resolution="768P"))
        assert again.guild_id is None
