"""The real discord.py client, in its own process, against the fake: the harness proves itself.

A tiny bot (``mini_bot.py``) stands in for the real one, so these tests fail only when the fake or
the harness is wrong: login, command sync, every interaction answer type, follow-ups, uploads and
downloads, modals, context menus, DMs, and a gateway that reconnects, resumes and restarts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import MINI_BOT, BotDied, BotHarness
from tests.e2e.interactions import AttachmentSpec, CommandNotAvailable
from tests.fakes.fake_discord import MIB, InteractionType, Perm

pytestmark = pytest.mark.e2e


def mini(tmp_path: Path) -> BotHarness:
    return BotHarness(tmp_path, script=MINI_BOT, expect_commands=("demo", "demoadmin"))


async def test_login_sync_answer_and_button_click(tmp_path: Path) -> None:
    async with mini(tmp_path) as h:
        fake = h.fake
        calls = [f"{r.method} {r.path}" for r in fake.requests]
        assert calls[:2] == ["GET /api/v10/users/@me", "GET /api/v10/oauth2/applications/@me"]
        demo = fake.find_command("demo")
        assert demo is not None and demo["guild_id"] == str(fake.guild.id)
        assert {o["name"] for o in demo["options"]} == {"ping", "slow", "upload", "form", "dm", "info"}
        admin = fake.find_command("demoadmin")
        assert admin is not None and int(admin["default_member_permissions"]) == Perm.MANAGE_GUILD
        assert fake.find_command("Echo image", type=3) is not None

        call = await h.invoke("demo ping", member=h.member)
        await call.wait_response()
        assert call.response_type == 4
        assert call.original is not None and call.original.content == "pong"
        assert call.original.custom_ids == ["demo:again", "demo:later"]

        click = await h.click(call.original, "demo:again", h.member)
        await click.wait_response()
        assert click.response_type == 7
        assert call.original.content == "pong again" and call.original.custom_ids == []
        assert call.original.edit_count == 1

        second = await h.invoke("demo ping", member=h.moderator)
        await second.wait_response()
        assert second.original is not None
        later = await h.click(second.original, "demo:later", h.moderator)
        await later.wait_for(lambda c: len(c.followup_ids) == 1 and c.followups == [])  # posted, then deleted
        assert later.response_type == 6 and later.original is second.original
        assert second.original.content == "pong later"

        conn = fake.live_connection
        assert conn is not None and conn.query["compress"] == "zlib-stream" and conn.heartbeats >= 1
        h.assert_clean()


async def test_defer_follow_ups_files_and_edits(tmp_path: Path) -> None:
    async with mini(tmp_path) as h:
        call = await h.invoke("demo slow", options={"text": "hi"})
        await call.wait_for(lambda c: [m.content for m in c.followups] == ["second follow-up (edited)"])
        assert call.response_type == 5
        original = call.original
        assert original is not None and not original.loading
        assert original.content == "echo hi (edited)"
        [file] = original.attachments
        assert (file.filename, file.data) == ("hello.txt", b"hello-file")
        assert call.followups[0].ephemeral and not original.ephemeral
        h.assert_clean()


async def test_attachments_download_from_the_cdn_and_upload_to_a_channel(tmp_path: Path) -> None:
    async with mini(tmp_path) as h:
        picture = AttachmentSpec("photo.png", width=300, height=200, noisy=True)
        call = await h.invoke("demo upload", attachments=[picture], attachment_size_limit=8 * MIB)
        posted = await h.wait_for_message(lambda m: m.content.endswith("(posted)"), channel=h.channel)
        await call.wait_for(lambda c: any(m.content == "posted" for m in c.messages))
        [attachment_id] = call.data["resolved"]["attachments"]
        given = h.fake.attachments[int(attachment_id)]
        assert given.downloads == 1
        assert posted.content.startswith(f"photo.png 300x200 {len(given.data)} bytes limit {8 * MIB}")
        [copy] = posted.attachments
        assert copy.data == given.data and copy.filename == "copy.png"
        assert call.ephemeral
        h.assert_clean()


async def test_modal_context_menu_dm_and_resolved_options(tmp_path: Path) -> None:
    async with mini(tmp_path) as h:
        opened = await h.invoke("demo form")
        await opened.wait_response()
        assert opened.response_type == 9 and opened.modal is not None
        submitted = await h.submit_modal(opened, {"demo:form:name": "Ada"})
        await submitted.wait_for(lambda c: c.original is not None and c.original.content == "hello Ada")

        photo = await h.post_message(
            h.member, "look", attachments=[AttachmentSpec("a.png"), AttachmentSpec("b.png")]
        )
        menu = await h.context_menu("Echo image", photo, h.moderator)
        await menu.wait_for(
            lambda c: c.original is not None and c.original.content == "2 attachment(s): a.png,b.png"
        )

        direct = await h.invoke("demo dm")
        dm = await h.wait_for_message(lambda m: m.content == "a direct message")
        assert (
            h.fake.channel(dm.channel_id) is not None
            and h.fake.dm_channels[dm.channel_id].recipient == h.member.user
        )
        await direct.wait_response()

        options = {
            "who": h.admin,
            "where": h.fake.videos,
            "role": h.fake.moderator_role,
            "size": "l",
            "count": 3,
        }
        info = await h.invoke("demo info", options={**options, "ratio": 0.5, "flag": True})
        await info.wait_for(lambda c: c.original is not None)
        assert info.original is not None
        assert info.original.content == "admin manage=True #videos @Video Moderator size=l 3 0.5 True"

        with pytest.raises(CommandNotAvailable):
            await h.invoke("demoadmin ping", member=h.member)
        admin = await h.invoke("demoadmin ping", member=h.admin)
        await admin.wait_response()
        with pytest.raises(LookupError, match="no option"):
            await h.invoke("demo info", options={**options, "colour": "red"})
        with pytest.raises(ValueError, match="choices"):
            await h.invoke("demo info", options={**options, "size": "xl"})
        with pytest.raises(ValueError, match="outside"):
            await h.invoke("demo info", options={**options, "count": 9})
        with pytest.raises(TypeError):
            await h.invoke("demo info", options={**options, "who": "admin"})
        h.assert_clean()


async def test_reconnect_resume_replay_and_restart(tmp_path: Path) -> None:
    async with mini(tmp_path) as h:
        fake = h.fake
        first = await h.invoke("demo ping")
        await first.wait_response()
        session = fake.current_session

        await fake.force_reconnect()  # opcode 7: discord.py must RESUME on READY's resume_gateway_url
        await h.wait_until(lambda: fake.resume_count == 1 and fake.live_connection is not None)
        conn = fake.live_connection
        assert conn is not None and conn.path == "/resume/" and fake.current_session is session

        await fake.drop_connection()  # while it is down, an interaction waits in the buffer
        missed = await fake.create_interaction(
            type=InteractionType.APPLICATION_COMMAND,
            data=first.data,
            member=h.member,
            label="/demo ping while disconnected",
        )
        await missed.wait_response(timeout=10)
        assert fake.resume_count == 2 and fake.identify_count == 1

        await h.restart()  # SIGKILL, then a new process that IDENTIFYs afresh
        assert fake.identify_count == 2 and h.launches == 2
        assert first.original is not None
        again = await h.click(first.original, "demo:again")  # a persistent view survives the restart
        await again.wait_response()
        assert first.original is not None and first.original.content == "pong again"
        h.assert_clean()


async def test_a_bot_that_dies_at_start_fails_fast_with_its_log(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text("print('about to fail')\nraise SystemExit(3)\n")
    harness = BotHarness(tmp_path, script=script, start_timeout=15)
    with pytest.raises(BotDied, match="exited with code 3") as excinfo:
        async with harness:
            pass
    assert "about to fail" in str(excinfo.value)
