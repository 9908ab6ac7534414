"""The fake Discord itself: it must refuse and report what the real Discord refuses.

These talk to the fake over plain HTTP, without a bot, so each rule is checked on its own: if the
fake let a breach through, the end-to-end tests built on it would prove nothing.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.fake_discord import (
    MIB,
    FakeDiscord,
    InteractionRecord,
    InteractionType,
    message_problems,
    png_bytes,
    png_size,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.token}"}


async def new_interaction(fake: FakeDiscord) -> InteractionRecord:
    return await fake.create_interaction(
        type=InteractionType.APPLICATION_COMMAND,
        data={"id": "1", "name": "video", "type": 1},
        member=fake.member,
        label="/video test",
    )


async def callback(
    http: aiohttp.ClientSession, fake: FakeDiscord, record: InteractionRecord, body: dict[str, Any]
) -> tuple[int, Any]:
    url = f"{fake.api_url}/interactions/{record.id}/{record.token}/callback?with_response=1"
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None) if resp.status != 204 else None


async def followup(
    http: aiohttp.ClientSession, fake: FakeDiscord, record: InteractionRecord, body: dict[str, Any]
) -> tuple[int, Any]:
    async with http.post(f"{fake.api_url}/webhooks/{fake.app_id}/{record.token}?wait=1", json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_json_answers_carry_the_exact_content_type_and_rate_limit_headers(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{fake_discord.api_url}/users/@me", headers=auth(fake_discord)) as resp:
        assert resp.status == 200
        # discord.py treats any other value (even "application/json; charset=utf-8") as plain text.
        assert resp.headers["Content-Type"] == "application/json"
        assert int(resp.headers["X-RateLimit-Remaining"]) > 0
        assert (await resp.json())["id"] == str(fake_discord.app_id)
    async with http.get(f"{fake_discord.api_url}/users/@me", headers={"Authorization": "Bot wrong"}) as resp:
        assert resp.status == 401


async def test_an_unknown_route_answers_404_json_and_is_recorded(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{fake_discord.api_url}/guilds/1/bans", headers=auth(fake_discord)) as resp:
        assert resp.status == 404
        assert (await resp.json())["code"] == 0
    assert fake_discord.unknown_routes == ["GET /api/v10/guilds/1/bans"]


async def test_a_first_answer_after_three_seconds_is_refused_and_reported(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    fake_discord.advance_time(3.5)
    status, body = await callback(http, fake_discord, record, {"type": 5})
    assert (status, body["code"]) == (404, 10062)
    assert not record.responded
    assert len(fake_discord.violations) == 1
    assert "first answer after 3.5" in fake_discord.violations[0]


async def test_a_second_answer_is_refused_and_reported(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    status, body = await callback(http, fake_discord, record, {"type": 4, "data": {"content": "hi"}})
    assert status == 200
    assert body["resource"]["message"]["content"] == "hi"
    assert fake_discord.violations == []
    status, body = await callback(http, fake_discord, record, {"type": 5})
    assert (status, body["code"]) == (400, 40060)
    assert "answered twice" in fake_discord.violations[0]
    assert record.response_type == 4


async def test_follow_ups_need_an_answer_first_and_end_after_fifteen_minutes(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    status, _ = await followup(http, fake_discord, record, {"content": "too early"})
    assert status == 404
    assert "before the interaction was answered" in fake_discord.violations[-1]

    assert (await callback(http, fake_discord, record, {"type": 5, "data": {"flags": 64}}))[0] == 200
    fake_discord.advance_time(14 * 60)
    status, _ = await followup(http, fake_discord, record, {"content": "in time"})
    assert status == 200
    fake_discord.advance_time(2 * 60)
    status, body = await followup(http, fake_discord, record, {"content": "too late"})
    assert (status, body["code"]) == (401, 50027)
    assert "minutes after the interaction" in fake_discord.violations[-1]
    assert len(fake_discord.violations) == 2


async def test_the_first_follow_up_after_a_thinking_defer_becomes_the_original(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    await callback(http, fake_discord, record, {"type": 5, "data": {"flags": 64}})
    original = record.original
    assert original is not None and original.loading and original.ephemeral
    _, first = await followup(http, fake_discord, record, {"content": "done"})
    _, second = await followup(http, fake_discord, record, {"content": "more"})
    assert first["id"] == str(original.id)
    assert original.content == "done" and not original.loading and original.ephemeral
    assert second["id"] != first["id"]
    assert [m.content for m in record.messages] == ["done", "more"]


async def test_a_multipart_answer_stores_its_files(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    form = aiohttp.FormData(quote_fields=False)
    data = {"content": "here", "attachments": [{"id": 0, "filename": "clip.mp4"}]}
    form.add_field("payload_json", json.dumps({"type": 4, "data": data}))
    form.add_field("files[0]", b"mp4-bytes", filename="clip.mp4", content_type="application/octet-stream")
    url = f"{fake_discord.api_url}/interactions/{record.id}/{record.token}/callback"
    async with http.post(url, data=form) as resp:
        assert resp.status == 204
    assert record.original is not None and record.original.content == "here"
    assert [(a.filename, a.data) for a in record.original.attachments] == [("clip.mp4", b"mp4-bytes")]


def _embed(**fields: Any) -> dict[str, Any]:
    return {"embeds": [fields]}


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ({"content": "x" * 2001}, "limit 2000"),
        (_embed(title="t" * 257), "title is 257"),
        (_embed(description="d" * 4097), "description is 4097"),
        (_embed(title="t", fields=[{"name": "n", "value": "v"}] * 26), "26 fields"),
        (_embed(title="t", fields=[{"name": "n", "value": "v" * 1025}]), "value is 1025"),
        (_embed(title="t", fields=[{"name": "n" * 257, "value": "v"}]), "name is 257"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "6001 characters in total"),
        ({"embeds": [{"title": "t"}] * 11}, "11 embeds"),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "a"}]}] * 6},
            "6 action rows",
        ),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "c" * 101}]}]},
            "(1 to 100)",
        ),
        ({"content": ""}, "empty message"),
    ],
)
async def test_message_limits_are_enforced(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession, payload: dict[str, Any], rule: str
) -> None:
    url = f"{fake_discord.api_url}/channels/{fake_discord.general.id}/messages"
    async with http.post(url, json=payload, headers=auth(fake_discord)) as resp:
        assert resp.status == 400
    assert any(rule in v for v in fake_discord.violations), fake_discord.violations
    assert fake_discord.messages_in(fake_discord.general.id) == []


def test_a_message_at_every_limit_is_accepted() -> None:
    at_limits = {
        "content": "x" * 2000,
        "embeds": [
            {
                "title": "t" * 256,
                "description": "d" * 3000,
                "fields": [{"name": "n" * 256, "value": "v" * 1024}],
            }
        ],
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "c" * 100}]}] * 5,
        "allowed_mentions": {"parse": []},
    }
    assert message_problems(at_limits, creating=True) == []


async def _upload(http: aiohttp.ClientSession, fake: FakeDiscord, size: int) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(quote_fields=False)
    payload = {"content": "video", "attachments": [{"id": 0, "filename": "video.mp4"}]}
    form.add_field("payload_json", json.dumps(payload))
    form.add_field("files[0]", b"\x00" * size, filename="video.mp4", content_type="application/octet-stream")
    url = f"{fake.api_url}/channels/{fake.videos.id}/messages"
    async with http.post(url, data=form, headers=auth(fake)) as resp:
        await resp.read()
        return resp


async def test_uploads_over_the_limit_are_refused_and_at_the_limit_stored(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake_discord.upload_limit = 2 * MIB
    assert (await _upload(http, fake_discord, 2 * MIB + 1)).status == 413
    assert "over the 2097152-byte limit" in fake_discord.violations[0]
    assert (await _upload(http, fake_discord, 2 * MIB)).status == 200
    [message] = fake_discord.messages_in(fake_discord.videos.id)
    [stored] = message.attachments
    assert (stored.filename, stored.size, stored.content_type) == ("video.mp4", 2 * MIB, "video/mp4")
    assert len(fake_discord.violations) == 1


async def test_mass_mentions_count_only_when_allowed(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    url = f"{fake_discord.api_url}/channels/{fake_discord.general.id}/messages"
    for body in ({"content": "@everyone hi", "allowed_mentions": {"parse": []}}, {"content": "@here hi"}):
        async with http.post(url, json=body, headers=auth(fake_discord)) as resp:
            assert resp.status == 200
    [pinging] = fake_discord.messages_allowing_mass_mentions()
    assert pinging.content == "@here hi"


async def test_command_sync_refuses_what_discord_refuses(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    url = f"{fake_discord.api_url}/applications/{fake_discord.app_id}/guilds/{fake_discord.guild.id}/commands"
    bad = [{"name": "Video", "description": "x", "type": 1}]
    async with http.put(url, json=bad, headers=auth(fake_discord)) as resp:
        assert resp.status == 400
    assert "lower-case" in fake_discord.violations[0]
    good = [
        {
            "name": "video",
            "description": "Make videos",
            "type": 1,
            "options": [{"type": 1, "name": "generate", "description": "Text to video", "options": []}],
        }
    ]
    async with http.put(url, json=good, headers=auth(fake_discord)) as resp:
        stored = await resp.json()
    assert stored[0]["guild_id"] == str(fake_discord.guild.id)
    assert fake_discord.find_command("video") == stored[0]


async def test_history_shows_neither_ephemeral_nor_deleted_messages(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    record = await new_interaction(fake_discord)
    await callback(http, fake_discord, record, {"type": 4, "data": {"content": "secret", "flags": 64}})
    url = f"{fake_discord.api_url}/channels/{fake_discord.general.id}/messages"
    ids = []
    for text in ("one", "two"):
        async with http.post(url, json={"content": text}, headers=auth(fake_discord)) as resp:
            ids.append((await resp.json())["id"])
    async with http.delete(f"{url}/{ids[0]}", headers=auth(fake_discord)) as resp:
        assert resp.status == 204
    async with http.get(url, headers=auth(fake_discord)) as resp:
        assert [m["content"] for m in await resp.json()] == ["two"]


async def test_png_bytes_decode_to_the_requested_size_and_the_cdn_serves_them(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    data = png_bytes(123, 45)
    assert png_size(data) == (123, 45)
    idat_length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    assert len(zlib.decompress(data[41 : 41 + idat_length])) == 45 * (1 + 3 * 123)
    stored = fake_discord.add_attachment(fake_discord.general.id, "cat picture.png", data)
    assert (stored.width, stored.height, stored.content_type) == (123, 45, "image/png")
    async with http.get(stored.payload(fake_discord.base_url)["url"]) as resp:
        assert resp.headers["Content-Type"] == "image/png"
        assert await resp.read() == data
    assert stored.downloads == 1
    assert len(png_bytes(300, 300, noisy=True)) > 300 * 300 * 3


async def test_replies_to_a_deleted_message_fail_unless_told_not_to(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    url = f"{fake_discord.api_url}/channels/{fake_discord.general.id}/messages"
    async with http.post(url, json={"content": "status card"}, headers=auth(fake_discord)) as resp:
        card_id = (await resp.json())["id"]
    await fake_discord.delete_message(fake_discord.messages[int(card_id)])
    reply = {"content": "result", "message_reference": {"message_id": card_id}}
    async with http.post(url, json=reply, headers=auth(fake_discord)) as resp:
        assert resp.status == 400
    lenient = {"content": "result", "message_reference": {"message_id": card_id, "fail_if_not_exists": False}}
    async with http.post(url, json=lenient, headers=auth(fake_discord)) as resp:
        assert resp.status == 200
    assert [m.content for m in fake_discord.messages_in(fake_discord.general.id)] == ["result"]


async def test_a_channel_the_bot_lost_refuses_posts_and_edits(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    url = f"{fake_discord.api_url}/channels/{fake_discord.videos.id}/messages"
    async with http.post(url, json={"content": "before"}, headers=auth(fake_discord)) as resp:
        message_id = (await resp.json())["id"]
    fake_discord.denied_channels.add(fake_discord.videos.id)
    async with http.post(url, json={"content": "after"}, headers=auth(fake_discord)) as resp:
        assert (resp.status, (await resp.json())["code"]) == (403, 50001)
    async with http.patch(
        f"{url}/{message_id}", json={"content": "edited"}, headers=auth(fake_discord)
    ) as resp:
        assert resp.status == 403
    assert [m.content for m in fake_discord.messages_in(fake_discord.videos.id)] == ["before"]


async def test_boosting_the_server_raises_the_upload_limit(fake_discord: FakeDiscord) -> None:
    await fake_discord.set_premium_tier(2)
    assert fake_discord.upload_limit == 50 * MIB
    assert fake_discord.guild.payload(with_members=False)["premium_tier"] == 2
    record = await new_interaction(fake_discord)
    assert record.payload["attachment_size_limit"] == 50 * MIB


async def test_interactions_left_unanswered_past_the_deadline_are_listed(fake_discord: FakeDiscord) -> None:
    record = await new_interaction(fake_discord)
    assert fake_discord.unanswered_interactions() == []
    fake_discord.advance_time(3.1)
    assert fake_discord.unanswered_interactions() == [record]
