"""/video through the real command callbacks, the kit's real interactions, the fake API and a temp DB."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

import cogs.video as video_cog
from bot.catalog import RATIOS, format_credits, price_table
from cogs import embeds
from cogs.buttons import DetailsButton, RegenerateButton
from cogs.pager import Pager
from cogs.replies import GENERIC_FAILURE
from cogs.video import AnimateModal, VideoCog
from storage import TaskState
from tests.fakes.image_host import png_bytes
from tests.fakes.interactions import (
    KitInteraction,
    make_attachment,
    make_guild,
    make_interaction,
    make_member,
    make_message,
    make_user,
    text_channel_payload,
)
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, OTHER_USER, USER, Harness, lifecycle_harness


class Env:
    def __init__(self, harness: Harness, bot: commands.Bot, cog: VideoCog) -> None:
        self.harness = harness
        self.bot = bot
        self.cog = cog

    def interaction(self, user_id: int = USER, **kwargs: Any) -> KitInteraction:
        """A member's interaction in ``#videos`` of the harness's guild (``guild_id=None``: a DM)."""
        roles = kwargs.pop("roles", [])
        if kwargs.pop("guild_id", GUILD) is None:
            return make_interaction(self.bot, user=make_user(user_id), guild=None, **kwargs)
        guild = make_guild(GUILD, channels=[text_channel_payload(CHANNEL, "videos")])
        user = make_member(guild, user_id, *roles)
        return make_interaction(
            self.bot, user=user, guild=guild, channel_id=kwargs.pop("channel_id", CHANNEL), **kwargs
        )

    async def generate(self, interaction: KitInteraction | None = None, **options: Any) -> KitInteraction:
        interaction = interaction or self.interaction()
        options.setdefault("prompt", "a paper boat on a rainy street")
        await self.cog.generate.callback(self.cog, interaction, **options)  # type: ignore[arg-type]
        return interaction

    async def task_count(self) -> int:
        return len(await self.harness.storage.tasks.list_for_guild(GUILD, limit=1000))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with lifecycle_harness(tmp_path) as harness:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        service = await harness.start()
        bot.service = service  # type: ignore[attr-defined]  # what VideoBot.service provides
        await video_cog.setup(bot)
        cog = bot.get_cog("VideoCog")
        assert isinstance(cog, VideoCog)
        yield Env(harness, bot, cog)
        await bot.remove_cog("VideoCog")


def _image(env: Env, name: str = "cat.png", **overrides: Any) -> discord.Attachment:
    url = env.harness.images.add(name, png_bytes(640, 480))
    return make_attachment(filename=name, url=url, width=640, height=480, **overrides)


async def test_generate_defers_first_then_confirms_and_delivers(env: Env) -> None:
    interaction = await env.generate(model="MiniMax-Hailuo-2.3", duration=6, resolution="768P")
    first = interaction.replies[0]
    assert (first.kind, first.ephemeral, first.thinking) == ("defer", True, True)
    reply = interaction.last
    assert reply.kind == "followup" and reply.ephemeral
    assert (
        "#1" in reply.content
        and "(1 credit, charged only if it is delivered)" in reply.content
        and "discord.com/channels" in reply.content
    )
    done = await env.harness.wait_final(1)
    assert done.state is TaskState.DELIVERED
    assert len(env.harness.notifier.results_for(1)) == 1
    assert await env.harness.ledger(1) == ["reserve", "charge"]


async def test_image_to_video_from_attachments(env: Env) -> None:
    await env.generate(first_frame=_image(env), prompt_optimizer=False, fast=True)
    done = await env.harness.wait_final(1)
    assert done.state is TaskState.DELIVERED and done.mode == "image"
    (body,) = env.harness.fake.submissions
    assert body["first_frame_image"].startswith("data:image/png;base64,")
    assert body["prompt_optimizer"] is False and body["fast_pretreatment"] is True


async def test_first_and_last_frame_and_subject(env: Env) -> None:
    await env.generate(first_frame=_image(env, "a.png"), last_frame=_image(env, "b.png"))
    await env.generate(subject=_image(env, "face.png"), prompt="she waves")
    first_last = await env.harness.wait_final(1)
    subject = await env.harness.wait_final(2)
    assert (first_last.model, first_last.mode) == ("MiniMax-Hailuo-02", "first_last")
    assert (subject.model, subject.mode) == ("S2V-01", "subject")
    bodies = {b["model"]: b for b in env.harness.fake.submissions}
    assert bodies["MiniMax-Hailuo-02"]["last_frame_image"].startswith("data:image/png")
    assert bodies["S2V-01"]["subject_reference"][0]["image"][0].startswith("data:image/png")


async def test_an_image_needs_no_prompt(env: Env) -> None:
    """``prompt`` is optional on /video generate: i2v takes an empty one (refused before the change)."""
    await env.generate(first_frame=_image(env), prompt=None)
    done = await env.harness.wait_final(1)
    assert done.state is TaskState.DELIVERED and done.prompt == ""
    (body,) = env.harness.fake.submissions
    assert body["prompt"] == "" and body["duration"] == 6


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("gif", {"first_frame": make_attachment(filename="a.gif", content_type="image/gif")}, "JPG, PNG or WebP"),
    ("tiny", {"first_frame": make_attachment(width=200, height=200)}, "over 300 px"),
    ("wide", {"first_frame": make_attachment(width=3000, height=700)}, "between 2:5 and 5:2"),
    ("huge", {"first_frame": make_attachment(size=30 * 1024 * 1024)}, "under 20 MB"),
    ("last only", {"last_frame": make_attachment()}, "needs a first_frame"),
    ("mode", {"model": "MiniMax-Hailuo-2.3-Fast"}, "cannot make text-to-video"),
    ("combo", {"resolution": "1080P", "duration": 10}, "1080P videos only 6 s long"),
    ("res", {"resolution": "512P"}, "does not make 512P videos"),
    ("legacy", {"model": "T2V-01", "resolution": "1080P"}, "It offers 720P: 6 s"),
    ("fast", {"model": "T2V-01", "fast": True}, "no fast mode"),
    ("subject+frame", {"subject": make_attachment(), "first_frame": make_attachment()}, "cannot be combined"),
    ("blank", {"prompt": "\u200b \u200b"}, "prompt is empty"),
    ("ratio on Hailuo", {"ratio": "9:16", "model": "MiniMax-Hailuo-2.3"}, "does not take a ratio"),
    ("ratio, no model takes one", {"ratio": "1:1"}, "Leave ratio out"),
]


@pytest.mark.parametrize(("case", "options", "fragment"), REFUSALS, ids=[c for c, _, _ in REFUSALS])
async def test_every_validation_refusal_is_ephemeral_and_reserves_nothing(
    env: Env, case: str, options: dict[str, Any], fragment: str
) -> None:
    interaction = await env.generate(**options)
    reply = interaction.last
    assert reply.ephemeral and fragment in (reply.content or ""), reply.content
    assert await env.task_count() == 0
    assert env.harness.fake.counts["submit"] == 0


async def test_guild_rule_refusals(env: Env) -> None:
    storage = env.harness.storage
    await storage.policy.add_filter(GUILD, "spider", actor_id=1)
    assert "prompt filter" in (await env.generate(prompt="a ѕpider")).last.content  # Cyrillic ѕ
    await storage.limits.block(GUILD, USER, None, actor_id=1)
    assert "blocked" in (await env.generate()).last.content
    await storage.limits.unblock(GUILD, USER, actor_id=1)
    await storage.policy.deny_channel(GUILD, CHANNEL, actor_id=1)
    assert "can't be made in this channel" in (await env.generate()).last.content
    await storage.policy.clear_channel(GUILD, CHANNEL, actor_id=1)
    await storage.policy.pause(GUILD, "holiday", actor_id=1)
    assert "holiday" in (await env.generate()).last.content
    assert await env.task_count() == 0


async def test_missing_bot_permissions_are_named(env: Env) -> None:
    interaction = env.interaction(app_permissions=discord.Permissions(view_channel=True, send_messages=True))
    await env.generate(interaction)
    text = interaction.last.content or ""
    assert "Embed Links" in text and "Attach Files" in text and interaction.last.ephemeral
    assert await env.task_count() == 0


async def test_quota_exhaustion_and_the_quota_command(env: Env) -> None:
    for _ in range(2):
        assert "#" in (await env.generate(duration=10)).last.content
    refused = await env.generate(duration=10)
    assert "don't have enough credits" in refused.last.content and refused.last.ephemeral
    assert await env.task_count() == 2
    interaction = env.interaction()
    await env.cog.quota.callback(env.cog, interaction)  # type: ignore[arg-type]
    text = interaction.last.text()
    assert "4 of 5" in text and "<t:" in text and "MiniMax-Hailuo-02" in text and interaction.last.ephemeral


async def test_animate_image_context_menu(env: Env) -> None:
    no_image = env.interaction()
    await env.cog.animate_image(
        no_image, make_message(attachments=[make_attachment(filename="a.txt", content_type="text/plain")])
    )  # type: ignore[arg-type]
    assert no_image.last.kind == "message" and no_image.last.ephemeral and "no image" in no_image.last.content
    opened = env.interaction()
    attachment = _image(env)
    await env.cog.animate_image(opened, make_message(attachments=[attachment]))  # type: ignore[arg-type]
    modal = opened.last.modal
    assert isinstance(modal, AnimateModal)
    modal.prompt._value = "the cat blinks"
    submitted = env.interaction()
    await modal.on_submit(submitted)  # type: ignore[arg-type]
    assert submitted.replies[0].kind == "defer" and "#1" in submitted.last.content
    assert env.harness.notifier.followups.get(1) is submitted.followup
    done = await env.harness.wait_final(1)
    assert (
        done.state is TaskState.DELIVERED
        and done.spec.first_frame is not None
        and done.spec.first_frame.url == attachment.url
    )
    assert done.prompt == "the cat blinks"


async def test_status_reposts_the_card_for_the_owner_only(env: Env) -> None:
    await env.generate()
    await env.harness.wait_final(1)
    mine = env.interaction()
    await env.cog.status.callback(env.cog, mine, 1)  # type: ignore[arg-type]
    reply = mine.last
    assert reply.embed is not None and "Video #1" in (reply.embed.title or "") and not reply.ephemeral
    custom_ids = {item.custom_id for item in reply.view.children}  # type: ignore[union-attr, attr-defined]
    assert custom_ids == {"video:regen:1", "video:details:1"}
    theirs = env.interaction(OTHER_USER)
    await env.cog.status.callback(env.cog, theirs, 1)  # type: ignore[arg-type]
    assert theirs.last.ephemeral and "not one of yours" in theirs.last.content
    choices = await env.cog._status_task(env.interaction(), "paper")  # type: ignore[arg-type]
    assert [c.value for c in choices] == [1]
    assert await env.cog._status_task(env.interaction(OTHER_USER), "") == []  # type: ignore[arg-type]


async def test_list_is_paginated_and_private(env: Env) -> None:
    service = env.harness.service
    assert service is not None
    await env.harness.storage.limits.set_override(GUILD, USER, 1000, actor_id=1)
    for n in range(7):
        await service.request(
            env.harness.request(prompt=f"clip {n}", duration=6, model="MiniMax-Hailuo-02", resolution="768P")
        )
    interaction = env.interaction()
    await env.cog.list_tasks.callback(env.cog, interaction)  # type: ignore[arg-type]
    reply = interaction.last
    assert reply.ephemeral and "Page 1 of 2" in (reply.embed.footer.text or "")  # type: ignore[union-attr]
    view = reply.view
    assert isinstance(view, Pager)
    assert await view.interaction_check(env.interaction(OTHER_USER)) is False  # type: ignore[arg-type]
    click = env.interaction()
    await view.next.callback(click)  # type: ignore[arg-type]
    assert click.last.kind == "edit" and "Page 2 of 2" in (click.last.embed.footer.text or "")  # type: ignore[union-attr]
    assert "clip 0" in (click.last.embed.description or "")  # type: ignore[union-attr]


async def test_cancel_of_a_queued_task(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        bot.service = harness.new_service()  # type: ignore[attr-defined]  # not started: tasks stay queued
        await video_cog.setup(bot)
        cog = bot.get_cog("VideoCog")
        assert isinstance(cog, VideoCog)
        env = Env(harness, bot, cog)
        await env.generate()
        assert [c.value for c in await cog._cancel_task(env.interaction(), "#1")] == [1]  # type: ignore[arg-type]
        interaction = env.interaction()
        await cog.cancel.callback(cog, interaction, 1)  # type: ignore[arg-type]
        assert (
            "cancelled" in interaction.last.content
            and "cancelled: 1 credit given back" in interaction.last.content
        )
        assert await harness.ledger(1) == ["reserve", "refund"]
        again = env.interaction()
        await cog.cancel.callback(cog, again, 1)  # type: ignore[arg-type]
        assert "already cancelled" in again.last.content


async def test_cancel_of_an_h3_task_queued_at_the_api(env: Env) -> None:
    """Sent, but still queued at the V2 API: offered by autocomplete, cancelled there and refunded."""
    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    env.harness.fake.next_task(queueing=3600.0)
    await env.generate(model="MiniMax-H3", duration=4, resolution="768P")
    await env.harness.wait_state(1, [TaskState.SUBMITTED, TaskState.PROCESSING])
    assert [c.value for c in await env.cog._cancel_task(env.interaction(), "#1")] == [1]  # type: ignore[arg-type]
    interaction = env.interaction()
    await env.cog.cancel.callback(env.cog, interaction, 1)  # type: ignore[arg-type]
    assert "cancelled" in interaction.last.content and "credits given back" in interaction.last.content
    assert await env.harness.ledger(1) == ["reserve", "refund"]
    again = env.interaction()
    await env.cog.cancel.callback(env.cog, again, 1)  # type: ignore[arg-type]
    assert "already cancelled" in again.last.content


async def test_preview_shows_the_expanded_prompt_then_each_choice_makes_the_video(env: Env) -> None:
    """preview:True on an H3 request: the expanded prompt privately, nothing reserved; Use it, Edit
    (a modal prefilled with it) and Keep mine each start the video from their prompt."""
    from cogs.preview import PreviewEditModal, PreviewView
    from tests.fakes.fake_minimax import EXPANSION_SUFFIX

    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    h3 = {"model": "MiniMax-H3", "duration": 4, "resolution": "768P", "prompt": "a fox"}
    asked = await env.generate(preview=True, **h3)
    answer = asked.last
    assert answer.ephemeral and "Expanded prompt" in answer.content and EXPANSION_SUFFIX in answer.content
    assert "nothing was reserved or charged" in answer.content
    assert await env.task_count() == 0
    view = answer.view
    assert isinstance(view, PreviewView)

    use = env.interaction()
    await view.use.callback(use)  # type: ignore[arg-type]
    edit = env.interaction()
    await view.edit.callback(edit)  # type: ignore[arg-type]
    modal = edit.last.modal
    assert isinstance(modal, PreviewEditModal) and modal.prompt.default == view.expanded
    modal.prompt._value = "a fox, edited"  # what the member typed
    await modal.on_submit(env.interaction())
    await view.keep.callback(env.interaction())  # type: ignore[arg-type]
    prompts = [(await env.harness.wait_final(n)).prompt for n in (1, 2, 3)]
    assert prompts == [view.expanded, "a fox, edited", "a fox"]


async def test_preview_of_a_hailuo_request_is_refused(env: Env) -> None:
    asked = await env.generate(preview=True, model="MiniMax-Hailuo-2.3")
    assert "only offered for MiniMax-H3" in asked.last.content
    assert await env.task_count() == 0


async def test_settings_show_and_change(env: Env) -> None:
    shown = env.interaction()
    await env.cog.settings.callback(env.cog, shown)  # type: ignore[arg-type]
    assert "auto" in shown.last.text()
    changed = env.interaction()
    await env.cog.settings.callback(
        env.cog, changed, model="MiniMax-Hailuo-02", duration=10, prompt_optimizer="off", dm_results=True
    )  # type: ignore[arg-type]
    assert "(saved)" in changed.last.text()
    prefs = await env.harness.storage.prefs.get(USER)
    assert (
        prefs.defaults.model,
        prefs.defaults.duration,
        prefs.defaults.prompt_optimizer,
        prefs.dm_results,
    ) == (
        "MiniMax-Hailuo-02",
        10,
        False,
        True,
    )
    reset = env.interaction()
    await env.cog.settings.callback(env.cog, reset, model="auto", duration=0, prompt_optimizer="auto")  # type: ignore[arg-type]
    prefs = await env.harness.storage.prefs.get(USER)
    assert (
        prefs.defaults.model,
        prefs.defaults.duration,
        prefs.defaults.prompt_optimizer,
        prefs.dm_results,
    ) == (None, None, None, True)


async def test_help(env: Env) -> None:
    interaction = env.interaction()
    await env.cog.help.callback(env.cog, interaction)  # type: ignore[arg-type]
    text = interaction.last.text()
    assert "[Pan left]" in text and "S2V-01" in text and interaction.last.ephemeral


async def test_regenerate_and_details_buttons(env: Env) -> None:
    await env.generate()
    await env.harness.wait_final(1)
    stranger = env.interaction(OTHER_USER)
    await RegenerateButton(1).callback(stranger)  # type: ignore[arg-type]
    assert "Only the member who asked" in stranger.last.content and stranger.last.ephemeral
    mine = env.interaction()
    await RegenerateButton(1).callback(mine)  # type: ignore[arg-type]
    assert "#2" in mine.last.content
    again = await env.harness.wait_final(2)
    assert again.regenerated_from == 1 and again.state is TaskState.DELIVERED
    moderator = env.interaction(OTHER_USER, permissions=discord.Permissions(manage_guild=True))
    await DetailsButton(1).callback(moderator)  # type: ignore[arg-type]
    assert "details" in (moderator.last.embed.title or "") and moderator.last.ephemeral  # type: ignore[union-attr]
    nosy = env.interaction(OTHER_USER)
    await DetailsButton(1).callback(nosy)  # type: ignore[arg-type]
    assert "not one of yours" in nosy.last.content


async def test_upscale_button_on_a_768p_h3_result_makes_the_2k_video_for_the_clicker(env: Env) -> None:
    from cogs.buttons import UpscaleButton, result_view

    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    await env.generate(model="MiniMax-H3", duration=4, resolution="768P")
    done = await env.harness.wait_final(1)
    labels = [i.item.label for i in result_view(done).children]  # type: ignore[attr-defined]
    assert labels == ["Regenerate", "Details", "Upscale to 2K", "Remix", "Extend", "Loop", "Share"]
    click = env.interaction(OTHER_USER)
    await UpscaleButton(1).callback(click)  # type: ignore[arg-type]
    assert "#2" in click.last.content and click.last.ephemeral
    upscaled = await env.harness.wait_final(2)
    assert upscaled.state is TaskState.DELIVERED and upscaled.user_id == OTHER_USER
    assert (upscaled.spec.resolution, upscaled.mode) == ("2K", "upscale")
    assert [i.item.label for i in result_view(upscaled).children] == ["Regenerate", "Details", "Share"]  # type: ignore[attr-defined]
    again = env.interaction()
    await UpscaleButton(2).callback(again)  # type: ignore[arg-type]
    assert "cannot be upscaled" in again.last.content


async def test_generate_offers_every_catalog_ratio() -> None:
    ratio = next(p for p in VideoCog.generate.parameters if p.name == "ratio")
    assert not ratio.required and [c.value for c in ratio.choices] == list(RATIOS)


async def test_buttons_and_the_context_menu_are_registered(env: Env) -> None:
    registered = set(env.bot._connection._view_store._dynamic_items.values())  # type: ignore[attr-defined]
    assert {RegenerateButton, DetailsButton} <= registered
    from cogs.buttons import UpscaleButton

    assert UpscaleButton in registered
    menus = env.bot.tree.get_commands(type=discord.AppCommandType.message)
    assert [m.name for m in menus] == ["Animate image", "Video from references"]


async def test_quota_lists_every_price_in_fields_discord_accepts(env: Env) -> None:
    interaction = env.interaction()
    await env.cog.quota.callback(env.cog, interaction)  # type: ignore[arg-type]
    embed = interaction.last.embed
    assert embed is not None
    assert len(embed.fields) <= 25 and len(embed) <= 6000
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
    fields = {f.name: f.value or "" for f in embed.fields}
    for model, _mode, (resolution, duration), cost in price_table():
        entry = f"{resolution} {duration} s — **{format_credits(cost)}**"
        assert entry in fields[f"Cost · {model}"], (model, entry)


async def test_no_app_permissions_in_the_payload_is_not_a_refusal(env: Env) -> None:
    """Discord always sends them in a server; zero means "not sent", not "the bot may do nothing"."""
    interaction = env.interaction(app_permissions=discord.Permissions.none())
    await env.generate(interaction)
    assert "#1" in (interaction.last.content or ""), interaction.last.content
    assert await env.task_count() == 1


async def test_status_and_details_defer_before_reading_anything(env: Env) -> None:
    await env.generate()
    await env.harness.wait_final(1)
    status = env.interaction()
    await env.cog.status.callback(env.cog, status, 1)  # type: ignore[arg-type]
    assert (status.replies[0].kind, status.replies[0].ephemeral) == ("defer", True)
    note, card = status.answers
    assert note.ephemeral and "#1" in (note.content or "")
    assert not card.ephemeral and card.embed is not None and "Video #1" in (card.embed.title or "")
    refused = env.interaction(OTHER_USER)
    await env.cog.status.callback(env.cog, refused, 1)  # type: ignore[arg-type]
    assert [r.ephemeral for r in refused.answers] == [True]
    details = env.interaction()
    await DetailsButton(1).callback(details)  # type: ignore[arg-type]
    assert (details.replies[0].kind, details.replies[0].ephemeral) == ("defer", True)
    assert "details" in (details.last.embed.title or "")  # type: ignore[union-attr]


async def test_button_and_modal_errors_answer_the_member(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """A component's error goes to a handler that only logs: the member would see "thinking…" forever."""
    await env.generate()
    await env.harness.wait_final(1)
    service = env.harness.service
    assert service is not None

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "regenerate", broken)
    monkeypatch.setattr(service, "task_for", broken)
    monkeypatch.setattr(service, "request", broken)
    for button in (RegenerateButton(1), DetailsButton(1)):
        clicked = env.interaction()
        await button.callback(clicked)  # type: ignore[arg-type]
        assert clicked.last.ephemeral and clicked.last.content == GENERIC_FAILURE

    modal = AnimateModal(env.cog, _image(env))  # type: ignore[arg-type]
    modal.prompt._value = "the cat blinks"
    submitted = env.interaction()
    await modal._scheduled_task(submitted, [], {})  # type: ignore[arg-type]  # how discord.py runs a modal
    assert submitted.replies[0].kind == "defer"
    assert submitted.last.ephemeral and submitted.last.content == GENERIC_FAILURE


async def test_buttons_on_a_result_sent_by_dm_work_for_the_owner(env: Env) -> None:
    await env.generate()
    await env.harness.wait_final(1)
    details = env.interaction(guild_id=None)
    await DetailsButton(1).callback(details)  # type: ignore[arg-type]
    assert "details" in (details.last.embed.title or "")  # type: ignore[union-attr]
    stranger = env.interaction(OTHER_USER, guild_id=None)
    await DetailsButton(1).callback(stranger)  # type: ignore[arg-type]
    assert "not one of yours" in (stranger.last.content or "")

    regenerate = env.interaction(guild_id=None)
    await RegenerateButton(1).callback(regenerate)  # type: ignore[arg-type]
    text = regenerate.last.content or ""
    assert "#2" in text and f"<#{CHANNEL}>" in text and "this channel" not in text
    again = await env.harness.wait_final(2)
    assert (again.guild_id, again.channel_id, again.regenerated_from, again.state) == (
        GUILD,
        CHANNEL,
        1,
        TaskState.DELIVERED,
    )


async def test_a_dm_regenerate_uses_the_members_roles_and_refuses_a_former_member(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await env.generate()
    await env.harness.wait_final(1)
    storage = env.harness.storage
    await storage.limits.set_role_limit(GUILD, 777, 1000, actor_id=1)
    members: dict[int, Any] = {USER: make_member(make_guild(GUILD), USER, GUILD, 777)}

    async def fetch_member(user_id: int) -> Any:
        if user_id not in members:
            unknown_member = {"code": 10007, "message": "Unknown Member"}  # Discord's own answer
            raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), unknown_member)  # type: ignore[arg-type]
        return members[user_id]

    guild = SimpleNamespace(id=GUILD, get_member=lambda _user_id: None, fetch_member=fetch_member)
    monkeypatch.setattr(env.bot, "get_guild", lambda guild_id: guild if guild_id == GUILD else None)
    for _ in range(5):  # 5 credits by default; the role's 100 let this member go further
        clicked = env.interaction(guild_id=None)
        await RegenerateButton(1).callback(clicked)  # type: ignore[arg-type]
        assert "is on its way" in (clicked.last.content or ""), clicked.last.content
    members.clear()
    left = env.interaction(guild_id=None)
    await RegenerateButton(1).callback(left)  # type: ignore[arg-type]
    assert "no longer a member" in (left.last.content or "")


async def test_a_dm_regenerate_asks_discord_for_roles_in_another_shards_server(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every DM comes to shard 0's process; the task's server may be on another shard, so its cache
    does not hold it: the member's roles come through REST, and a former member is refused."""
    await env.generate()
    await env.harness.wait_final(1)
    await env.harness.storage.limits.set_role_limit(GUILD, 777, 1000, actor_id=1)
    asked: list[tuple[int, int]] = []
    members: dict[int, Any] = {USER: {"user": {"id": str(USER)}, "roles": ["777"]}}

    async def get_member(guild_id: int, user_id: int) -> Any:
        asked.append((guild_id, user_id))
        if user_id not in members:
            unknown_member = {"code": 10007, "message": "Unknown Member"}
            raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), unknown_member)  # type: ignore[arg-type]
        return members[user_id]

    monkeypatch.setattr(env.bot, "shard_count", 2)
    monkeypatch.setattr(env.bot, "get_guild", lambda guild_id: None)
    monkeypatch.setattr(env.bot.http, "get_member", get_member)
    for _ in range(5):  # 5 credits by default; the role's 100 let this member go further
        clicked = env.interaction(guild_id=None)
        await RegenerateButton(1).callback(clicked)  # type: ignore[arg-type]
        assert "is on its way" in (clicked.last.content or ""), clicked.last.content
    assert asked[0] == (GUILD, USER)
    members.clear()
    left = env.interaction(guild_id=None)
    await RegenerateButton(1).callback(left)  # type: ignore[arg-type]
    assert "no longer a member" in (left.last.content or "")


async def test_a_thread_follows_its_parent_channels_rules(env: Env) -> None:
    storage = env.harness.storage
    thread_id = CHANNEL + 1000
    await storage.policy.deny_channel(GUILD, CHANNEL, actor_id=1)
    in_thread = env.interaction(channel_id=thread_id, thread_parent=CHANNEL)
    assert "can't be made in this channel" in (await env.generate(in_thread)).last.content
    assert await env.task_count() == 0
    await storage.policy.clear_channel(GUILD, CHANNEL, actor_id=1)
    await storage.policy.allow_channel(GUILD, CHANNEL, actor_id=1)
    allowed_thread = env.interaction(channel_id=thread_id, thread_parent=CHANNEL)
    await env.generate(allowed_thread)
    assert await env.task_count() == 1


async def test_generate_and_regenerate_keep_their_follow_up_while_its_token_lives(env: Env) -> None:
    followups = env.harness.notifier.followups
    interaction = await env.generate()
    assert followups.get(1) is interaction.followup
    await env.harness.wait_final(1)
    regenerate = env.interaction()
    await RegenerateButton(1).callback(regenerate)  # type: ignore[arg-type]
    assert followups.get(2) is regenerate.followup
    stale = env.interaction(created_at=datetime.now(UTC) - timedelta(minutes=20))
    await env.generate(stale)
    assert "#3" in (stale.last.content or "")
    assert followups.get(3) is None, "an expired token is not kept"
    refused = await env.generate(resolution="512P")
    assert "512P" in (refused.last.content or "") and len(followups) == 2, "nothing kept for a refusal"
    elsewhere = env.interaction(channel_id=CHANNEL + 7)
    await RegenerateButton(1).callback(elsewhere)  # type: ignore[arg-type]
    assert "#4" in (elsewhere.last.content or "")
    assert followups.get(4) is None, "a follow-up in another channel is no fallback for this task"


async def test_a_card_the_channel_refused_is_tried_again_after_the_confirmation(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the follow-up kept, the second try can fall back to it; before the confirmation it would
    have replaced the private "thinking…" answer."""
    env.harness.fake.next_task(never_finish=True)  # the task must not be over before the second try
    notifier = env.harness.notifier
    post_status = notifier.post_status
    interaction = env.interaction()
    answered_before: list[int] = []

    async def refused_first(card: Any) -> int | None:
        answered_before.append(len(interaction.answers))
        if len(answered_before) == 1:
            return None
        return await post_status(card)

    monkeypatch.setattr(notifier, "post_status", refused_first)
    await env.generate(interaction)
    assert "could not post a status card" in (interaction.last.content or "")
    assert answered_before == [0, 1], "tried once while reserving, once after the confirmation"
    task = await env.harness.storage.tasks.get(1)
    assert task.status_message_id is not None


async def _delivered_as_link(env: Env) -> Any:
    env.harness.notifier.default_upload_limit = 10_000  # the fake's video is 64 KiB
    await env.generate()
    done = await env.harness.wait_final(1)
    assert done.state is TaskState.DELIVERED
    (posted,) = env.harness.notifier.results_for(1)
    assert posted.link is not None and posted.data is None
    return done, posted.link


async def test_details_on_a_result_whose_link_expired_shows_a_fresh_link(env: Env) -> None:
    task, old_link = await _delivered_as_link(env)
    env.harness.fake.clock.advance(env.harness.fake.url_ttl + 1)  # an hour later at the API
    async with env.harness.session.get(old_link) as response:
        assert response.status == 403
    expired = embeds.result_content(task, link=old_link, expires_at=time.time() - 60)
    retrieves = env.harness.fake.counts["retrieve"]
    clicked = env.interaction(message=make_message(content=expired))
    before = time.time()
    await DetailsButton(1).callback(clicked)  # type: ignore[arg-type]
    reply = clicked.last
    assert reply.ephemeral and "details" in (reply.embed.title or "")  # type: ignore[union-attr]
    text = reply.content or ""
    assert "here is a new one" in text
    (url,) = re.findall(r"https?://\S+", text)
    assert "/download/" in url and url != old_link
    (expires,) = re.findall(r"<t:(\d+):R>", text)
    assert int(expires) > before
    assert env.harness.fake.counts["retrieve"] == retrieves + 1
    async with env.harness.session.get(url) as response:  # the new link works
        assert response.status == 200


async def test_details_on_a_link_still_valid_or_a_file_asks_nothing(env: Env) -> None:
    task, old_link = await _delivered_as_link(env)
    retrieves = env.harness.fake.counts["retrieve"]
    for content in (
        embeds.result_content(task, link=old_link, expires_at=time.time() + 600),
        embeds.result_content(task),  # an uploaded file
        "",
    ):
        clicked = env.interaction(message=make_message(content=content))
        await DetailsButton(1).callback(clicked)  # type: ignore[arg-type]
        assert clicked.last.content is None and clicked.last.embed is not None
    assert env.harness.fake.counts["retrieve"] == retrieves


async def test_details_says_plainly_when_the_api_refuses_a_new_link(env: Env) -> None:
    task, old_link = await _delivered_as_link(env)
    env.harness.fake.inject("retrieve", 2013, message="invalid params, file not found")
    clicked = env.interaction(message=make_message(content=embeds.result_content(task, link=old_link)))
    await DetailsButton(1).callback(clicked)  # type: ignore[arg-type]
    text = clicked.last.content or ""
    assert "would not give a new download link" in text and "2013" not in text
    assert "details" in (clicked.last.embed.title or "")  # type: ignore[union-attr]


def test_a_posted_link_is_read_back_from_the_result_text() -> None:
    task = SimpleNamespace(id=7, user_id=3, edit_kind=None, edit_of=None, join_state=None)
    content = embeds.result_content(task, link="https://x/y.mp4?a=1", expires_at=1000)  # type: ignore[arg-type]
    assert embeds.posted_link_expired(content, 1000) and not embeds.posted_link_expired(content, 999)
    assert not embeds.posted_link_expired(embeds.result_content(task), 10**12)  # type: ignore[arg-type]


async def test_regenerate_in_a_thread_follows_the_parent_channels_rules(env: Env) -> None:
    storage = env.harness.storage
    thread_id = CHANNEL + 1000
    env.harness.notifier.thread_parents[thread_id] = CHANNEL
    await storage.policy.allow_channel(GUILD, CHANNEL, actor_id=1)
    await env.generate(env.interaction(channel_id=thread_id, thread_parent=CHANNEL))
    await env.harness.wait_final(1)
    regenerate = env.interaction(channel_id=thread_id, thread_parent=CHANNEL)
    await RegenerateButton(1).callback(regenerate)  # type: ignore[arg-type]
    assert "#2" in (regenerate.last.content or ""), regenerate.last.content
    assert await env.task_count() == 2


async def test_without_a_model_one_that_can_make_the_request_is_chosen(env: Env) -> None:
    saved = env.interaction()
    await env.cog.settings.callback(env.cog, saved, model="T2V-01")  # type: ignore[arg-type]
    asked = await env.generate(resolution="1080P")
    assert "#1" in (asked.last.content or ""), asked.last.content
    await env.generate(first_frame=_image(env), resolution="512P")
    await env.harness.storage.policy.update(GUILD, actor_id=1, max_resolution="720P")
    reset = env.interaction()
    await env.cog.settings.callback(env.cog, reset, model="auto")  # type: ignore[arg-type]
    await env.generate()
    made = [await env.harness.wait_final(n) for n in (1, 2, 3)]
    assert [(t.model, t.spec.resolution, t.state) for t in made] == [
        ("MiniMax-Hailuo-2.3", "1080P", TaskState.DELIVERED),
        ("MiniMax-Hailuo-02", "512P", TaskState.DELIVERED),
        ("T2V-01-Director", "720P", TaskState.DELIVERED),
    ]
    named = await env.generate(model="T2V-01", resolution="1080P")  # a named model stays strict
    text = named.last.content or ""
    assert "T2V-01 (text-to-video) does not make 1080P videos" in text and await env.task_count() == 3


async def test_s2v_without_a_subject_asks_for_a_subject(env: Env) -> None:
    refused = await env.generate(model="S2V-01")
    text = refused.last.content or ""
    assert refused.last.ephemeral and "(it needs a subject image)" in text and "first_frame" not in text
    framed = await env.generate(model="S2V-01", first_frame=_image(env))
    assert "it does not take a first_frame image; it works from a subject image" in (
        framed.last.content or ""
    )
    assert await env.task_count() == 0


async def test_an_animate_modal_nobody_submits_is_dropped_from_memory(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a timeout, discord.py's view store kept every unsubmitted modal (and its attachment)
    for the life of the process: one per click on "Animate image"."""
    assert video_cog.ANIMATE_MODAL_TIMEOUT <= 15 * 60
    monkeypatch.setattr(video_cog, "ANIMATE_MODAL_TIMEOUT", 0.05)
    opened = env.interaction()
    await env.cog.animate_image(opened, make_message(attachments=[_image(env)]))  # type: ignore[arg-type]
    modal = opened.last.modal
    assert isinstance(modal, AnimateModal) and modal.timeout == 0.05
    store = env.bot._connection._view_store
    store.add_view(modal)  # what discord.py's send_modal does with it
    assert modal.custom_id in store._modals
    timed_out = await asyncio.wait_for(modal.wait(), timeout=10)  # the store is left first, then this
    assert timed_out and modal.custom_id not in store._modals


async def test_animate_image_picks_the_first_usable_image_and_refuses_before_the_modal(env: Env) -> None:
    gif = make_attachment(filename="a.gif", content_type="image/gif")
    tiny = make_attachment(filename="tiny.png", width=200, height=200)
    usable = _image(env, "ok.png")
    opened = env.interaction()
    message = make_message(attachments=[gif, tiny, usable])
    await env.cog.animate_image(opened, message)  # type: ignore[arg-type]
    modal = opened.last.modal
    assert isinstance(modal, AnimateModal) and modal.attachment is message.attachments[2]  # `usable`

    for attachments, fragment in (([gif], "JPG, PNG or WebP"), ([tiny, gif], "over 300 px")):
        refused = env.interaction()
        await env.cog.animate_image(refused, make_message(attachments=attachments))  # type: ignore[arg-type]
        reply = refused.last
        assert (reply.kind, reply.ephemeral, reply.modal) == ("message", True, None)
        assert fragment in (reply.content or ""), reply.content


async def test_animate_image_finds_the_image_of_a_forwarded_message(env: Env) -> None:
    forwarded = _image(env, "fwd.png")
    message = make_message(forwarded=[[forwarded]])
    opened = env.interaction()
    await env.cog.animate_image(opened, message)  # type: ignore[arg-type]
    modal = opened.last.modal
    (snapshot,) = message.message_snapshots
    assert isinstance(modal, AnimateModal) and modal.attachment is snapshot.attachments[0]  # `forwarded`


def test_the_list_shows_prompts_as_inert_text() -> None:
    def shown(prompt: str) -> str:
        task = SimpleNamespace(id=3, state=TaskState.QUEUED, created_at=1000.0, prompt=prompt)
        head, line = embeds.task_line(task).split("\n")  # type: ignore[arg-type]
        assert head.startswith("**#3**")
        return line

    assert shown("# Big header\n> quoted\n-# small") == "\\# Big header > quoted -# small"
    line = shown("```py\nx``` ||spoiler|| **bold** _it_ " + "x" * 40 + "*" * 60)
    assert line.startswith("\\`\\`\\`py x\\`\\`\\` \\|\\|spoiler\\|\\| \\*\\*bold\\*\\* \\_it\\_ xxx")
    assert len(line) <= 90 and line.endswith("…")
    assert not re.search(r"(?<!\\)(\\\\)*\\…$", line), "an escape was cut in half"
    assert not re.search(r"[`*_|~]", re.sub(r"\\(.)", "", line)), line


async def _two_page_list(env: Env) -> tuple[Pager, KitInteraction]:
    """Six videos (five a page): ``/video list`` opens with its page buttons."""
    service = env.harness.service
    assert service is not None
    await env.harness.storage.limits.set_override(GUILD, USER, 1000, actor_id=1)
    for n in range(6):
        await service.request(env.harness.request(prompt=f"clip {n}", model="MiniMax-Hailuo-02"))
    interaction = env.interaction()
    await env.cog.list_tasks.callback(env.cog, interaction)  # type: ignore[arg-type]
    view = interaction.last.view
    assert isinstance(view, Pager)
    return view, interaction


async def test_the_list_loses_its_buttons_when_they_stop_working(env: Env) -> None:
    view, interaction = await _two_page_list(env)
    assert view.timeout == 300
    await view.on_timeout()
    assert (interaction.last.kind, interaction.last.view) == ("edit_original", None)

    click = env.interaction()
    await view.next.callback(click)  # type: ignore[arg-type]
    await view.on_timeout()  # the latest click's token is the one still alive
    assert (click.last.kind, click.last.view) == ("edit_original", None)
    click.edit_error = discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "Unknown Message")  # type: ignore[arg-type]
    await view.on_timeout()  # a dismissed message is no error


async def test_the_list_enables_next_when_new_videos_arrive(env: Env) -> None:
    view, _ = await _two_page_list(env)
    await view.next.callback(env.interaction())  # type: ignore[arg-type]
    assert view.next.disabled and view.pages == 2
    service = env.harness.service
    assert service is not None
    for n in range(5):
        await service.request(env.harness.request(prompt=f"more {n}", model="MiniMax-Hailuo-02"))
    back = env.interaction()
    await view.previous.callback(back)  # type: ignore[arg-type]
    assert view.pages == 3 and not view.next.disabled
    assert "Page 1 of 3" in (back.last.embed.footer.text or "")  # type: ignore[union-attr]


async def test_status_autocomplete_searches_the_whole_prompt(env: Env) -> None:
    service = env.harness.service
    assert service is not None
    long_prompt = "a lighthouse at dusk, " * 8 + "with a purple whale"
    await service.request(env.harness.request(prompt=long_prompt))
    await service.request(env.harness.request(prompt="a cat"))
    choices = await env.cog._status_task(env.interaction(), "purple whale")  # type: ignore[arg-type]
    assert [c.value for c in choices] == [1]
    assert len(choices[0].name) <= 100 and "purple" not in choices[0].name
    assert [c.value for c in await env.cog._status_task(env.interaction(), "#2")] == [2]  # type: ignore[arg-type]


async def test_under_a_burst_every_command_is_answered_before_any_does_its_work(env: Env) -> None:
    """The first answer of the last command of a burst must not wait for the others' validation,
    reservation and card (issue 15: first answer p99 close to a bare defer's)."""
    events: list[str] = []
    service = env.harness.service
    assert service is not None
    request = service.request

    async def recording_request(req: Any) -> Any:
        events.append("work")
        return await request(req)

    service.request = recording_request  # type: ignore[method-assign]
    interactions = [env.interaction(user_id=USER + n) for n in range(10)]
    for interaction in interactions:
        defer = interaction.response.defer

        async def recording_defer(*, _defer: Any = defer, **kwargs: Any) -> None:
            await _defer(**kwargs)
            events.append("defer")

        interaction.response.defer = recording_defer  # type: ignore[method-assign]
    await asyncio.gather(*(env.generate(i, prompt=f"burst clip {n}") for n, i in enumerate(interactions)))
    assert events[:10] == ["defer"] * 10, events


async def test_the_interactions_upload_limit_is_stored_with_the_task(env: Env) -> None:
    """Discord's attachment_size_limit of the command's interaction: what the result must fit."""
    env.harness.fake.next_task(never_finish=True)
    await env.generate(env.interaction(filesize_limit=50 * 1024 * 1024))
    task = await env.harness.storage.tasks.get(1)
    assert task.upload_limit == 50 * 1024 * 1024
