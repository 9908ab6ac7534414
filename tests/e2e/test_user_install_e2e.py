"""USER_INSTALL end to end (issue 13), through the real discord.py client and the fake Discord:
``/video generate`` from a DM, authorised by the member's own install (``"context": 1``,
``"authorizing_integration_owners": {"1": user id}``), is accepted, charged to the personal
allowance and delivered through the interaction's follow-up webhook. Off, Discord would not offer
the command there and the bot refuses it anyway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.interactions import CommandNotAvailable
from tests.e2e.video_flow import read_db, result_task, video_env, wait_answer, wait_states
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


async def test_a_dm_through_the_members_install_is_delivered_by_the_follow_up(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    # Synced globally: commands synced to a server only (DISCORD_GUILD_IDS) do not exist in DMs.
    env = video_env(
        USER_INSTALL="on", USER_INSTALL_CREDITS="1", USER_INSTALL_PERIOD="week", DISCORD_GUILD_IDS=""
    )
    async with BotHarness(tmp_path, minimax=minimax, env=env, expect_commands=("video", "videoadmin")) as h:
        registered = h.fake.find_command("video", guild_id=None) or h.fake.find_command("video")
        assert registered is not None
        assert sorted(registered["integration_types"]) == [0, 1] and 1 in registered["contexts"]
        admin = h.fake.find_command("videoadmin")
        assert admin is not None and admin["integration_types"] == [0] and admin["contexts"] == [0]

        dm = h.fake.dm_channel_for(h.member.user)
        options = {"prompt": "a paper boat on a rainy street", "duration": 6, "resolution": "768P"}
        call = await h.invoke(
            "video generate", member=h.member, options=options, channel=dm, user_install=True
        )
        assert call.payload["context"] == 1
        assert call.payload["authorizing_integration_owners"] == {"1": str(h.member.user.id)}
        outcome = await wait_answer(call, timeout=20)
        task_id = outcome.task_id
        assert task_id is not None, outcome.text
        await wait_states(h, {task_id: "delivered"}, timeout=20)
        delivered = [m for m in h.fake.messages.values() if result_task(m) == task_id and not m.deleted]
        assert [m.via for m in delivered] == ["followup"], [(m.via, m.channel_id) for m in delivered]
        assert delivered[0].channel_id == dm.id and delivered[0].attachments

        # The allowance (1 credit a week) is spent: the next is refused, nothing reserved.
        again = await h.invoke(
            "video generate", member=h.member, options=options, channel=dm, user_install=True
        )
        refused = await wait_answer(again, timeout=20)
        assert refused.task_id is None and "enough credits" in refused.text
        h.assert_clean()
        # The follow-up's token is a secret: in no log line and not in the database.
        token = str(call.payload["token"])
        assert token not in h.log_text()
        assert token.encode() not in h.database_path.read_bytes()
    tasks, ledger, _ = read_db(h.database_path)
    assert list(tasks) == [task_id]
    assert ledger.reserved == {task_id: 10} and ledger.charged == {task_id: 10} and ledger.refunded == {}


async def test_off_the_command_is_not_offered_through_a_members_install(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    env = video_env(DISCORD_GUILD_IDS="")  # global, as for the test above: only USER_INSTALL differs
    async with BotHarness(tmp_path, minimax=minimax, env=env, expect_commands=("video", "videoadmin")) as h:
        dm = h.fake.dm_channel_for(h.member.user)
        with pytest.raises(CommandNotAvailable):
            await h.invoke(
                "video generate", member=h.member, options={"prompt": "x"}, channel=dm, user_install=True
            )
        # Sent anyway (a stale client): the bot refuses it, nothing reserved.
        call = await h.invoke(
            "video generate",
            member=h.member,
            options={"prompt": "x"},
            channel=dm,
            user_install=True,
            validate=False,
        )
        answer = await wait_answer(call, timeout=20)
        assert answer.task_id is None and "only inside a server" in answer.text
        h.assert_clean()
