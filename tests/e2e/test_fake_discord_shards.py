"""The fake gateway serves shards as Discord does, proven with discord.py's own sharded client.

Why: the multi-process bot relies on Discord routing each guild (and its interactions) to one shard's
connection. If the fake broadcast everything, a test of two bot processes would pass while real
Discord answered half the servers from nowhere. These tests run discord.py in the test's loop (its
REST base and gateway pointed at the fake) so they can read what each client saw.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl

from tests.fakes.fake_discord import FakeDiscord, FakeUser, InteractionType
from tests.fakes.fake_discord.rules import CLOSE_INVALID_SHARD, CLOSE_SHARDING_REQUIRED, shard_of

pytestmark = pytest.mark.e2e

GUILDS = ("Alpha", "Bravo", "Charlie", "Delta")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guild_names=GUILDS, spread_over_shards=2, compress_gateway=False) as fake:
        yield fake


@pytest.fixture(autouse=True)
def pointed_at(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    yield


class Recorder(discord.AutoShardedClient):
    """Answers every interaction with its own name, and remembers which guilds it heard of."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), **options)
        self.name = name
        self.answered: list[int | None] = []  # the guild of each interaction it answered

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s between its shards' IDENTIFYs (Discord's limit); the fake has none."""

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.answered.append(interaction.guild_id)
        await interaction.response.send_message(f"answered by {self.name}", ephemeral=True)


async def running(client: Recorder, fake: FakeDiscord, shards: int) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start(fake.token))
    await fake.wait_until(
        lambda: client.is_ready() or task.done(), 20.0, f"{client.name} to be ready on {shards} shard(s)"
    )
    if task.done():
        task.result()
    return task


async def stop(client: Recorder, task: asyncio.Task[None]) -> None:
    await client.close()
    await asyncio.wait_for(task, 10)


async def ask(fake: FakeDiscord, guild_index: int | None, user: FakeUser | None = None) -> Any:
    """A member runs a command in guild ``guild_index`` (None: in a DM); the answer's text."""
    channel = (
        fake.setups[guild_index].general if guild_index is not None else fake.dm_channel_for(fake.member.user)
    )
    call = await fake.create_interaction(
        type=InteractionType.APPLICATION_COMMAND,
        data={"id": str(fake.ids.next()), "name": "ping", "type": 1},
        user=user or fake.member.user,
        channel=channel,
    )
    await call.wait_response()
    assert call.original is not None
    return call, call.original.content


def test_guilds_are_spread_by_discords_formula(fake: FakeDiscord) -> None:
    shards = [shard_of(setup.guild.id, 2) for setup in fake.setups]
    assert shards == [0, 1, 0, 1]


async def test_one_client_follows_the_recommended_shard_count(fake: FakeDiscord) -> None:
    fake.recommended_shards = 2
    client = Recorder("solo")  # no shard_count: discord.py asks /gateway/bot
    task = await running(client, fake, 2)
    try:
        assert client.shard_count == 2 and sorted(client.shards) == [0, 1]
        assert sorted(fake.shard_identifies, key=str) == [(0, 2), (1, 2)]
        for setup in fake.setups:
            guild = client.get_guild(setup.guild.id)
            assert guild is not None and guild.shard_id == shard_of(setup.guild.id, 2)
        for index in range(len(GUILDS)):
            call, text = await ask(fake, index)
            assert text == "answered by solo"
            assert fake.interaction_shards[call.id] == (shard_of(fake.setups[index].guild.id, 2), 2)
    finally:
        await stop(client, task)
    fake.assert_no_violations()


async def test_two_processes_each_hear_only_their_own_guilds(fake: FakeDiscord) -> None:
    first, second = (
        Recorder("first", shard_count=2, shard_ids=[0]),
        Recorder("second", shard_count=2, shard_ids=[1]),
    )
    first_task = await running(first, fake, 1)
    second_task = await running(second, fake, 1)
    try:
        ids = [setup.guild.id for setup in fake.setups]
        assert sorted(g.id for g in first.guilds) == [ids[0], ids[2]]
        assert sorted(g.id for g in second.guilds) == [ids[1], ids[3]]
        answers = [(await ask(fake, index))[1] for index in range(len(GUILDS))]
        assert answers == ["answered by first", "answered by second"] * 2
        assert first.answered == [ids[0], ids[2]] and second.answered == [ids[1], ids[3]]

        _, text = await ask(fake, None)  # Discord sends DMs to shard 0 only
        assert text == "answered by first" and first.answered[-1] is None and len(second.answered) == 2

        # A guild added later goes to its shard's process only.
        joined = await fake.add_bot_to_guild("Echo")  # the fifth guild: shard 0
        assert shard_of(joined.guild.id, 2) == 0
        await fake.wait_until(lambda: first.get_guild(joined.guild.id) is not None, 10.0, "Echo on shard 0")
        assert second.get_guild(joined.guild.id) is None

        # Shard 1 reconnects and resumes; the other process is untouched.
        session = fake.shard_session(1)
        await fake.drop_connection(shard=1)
        await fake.wait_until(
            lambda: fake.connection_for(ids[1]) is not None and fake.resume_count == 1,
            20.0,
            "shard 1 to resume",
        )
        assert fake.shard_session(1) is session
        assert (await ask(fake, 1))[1] == "answered by second"
    finally:
        await stop(second, second_task)
        await stop(first, first_task)
    fake.assert_no_violations()


async def _identify(fake: FakeDiscord, shard: Any) -> int | None:
    """A raw IDENTIFY with ``shard``; the close code when the fake closes the socket, else None."""
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        payload: dict[str, Any] = {"token": fake.token, "intents": 1, "properties": {}}
        if shard is not None:
            payload["shard"] = shard
        await ws.send_str(json.dumps({"op": 2, "d": payload}))
        message = await ws.receive()
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code
        ready = json.loads(message.data)
        assert ready["t"] == "READY"
        if shard is not None:
            assert ready["d"]["shard"] == shard
        return None


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], "0,2", [True, 2]])
async def test_an_invalid_shard_is_a_violation_and_closes_4010(fake: FakeDiscord, shard: Any) -> None:
    assert await _identify(fake, shard) == CLOSE_INVALID_SHARD
    assert len(fake.violations) == 1 and "shard" in fake.violations[0]
    assert fake.identify_count == 0


async def test_a_shard_held_by_a_live_connection_is_a_violation(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_str(json.dumps({"op": 2, "d": {"token": fake.token, "intents": 1, "shard": [1, 2]}}))
        ready = await ws.receive_json()
        assert ready["t"] == "READY" and len(ready["d"]["guilds"]) == 2
        assert fake.violations == []
        assert await _identify(fake, [1, 2]) is None  # Discord lets it in: two processes, one shard
        assert fake.violations == ["IDENTIFY as shard [1, 2] while another live connection holds it"]


async def test_too_many_guilds_for_one_session_needs_sharding(fake: FakeDiscord) -> None:
    fake.max_guilds_per_shard = 2
    assert await _identify(fake, None) == CLOSE_SHARDING_REQUIRED
    assert "needs sharding" in fake.violations[0]
    fake.violations.clear()
    assert await _identify(fake, [0, 2]) is None  # two guilds each: allowed
    assert fake.violations == []
