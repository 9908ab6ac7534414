"""The showcase buttons through their real callbacks: Share reposts the result once, Vote toggles, Remove."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

import cogs.video as video_cog
from cogs.buttons import DYNAMIC_ITEMS, result_view
from cogs.share_buttons import RemoveButton, ShareButton, VoteButton
from storage import TaskState
from tests.fakes.interactions import (
    KitInteraction,
    make_attachment,
    make_guild,
    make_interaction,
    make_member,
    make_message,
    text_channel_payload,
)
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, OTHER_USER, USER, Harness, lifecycle_harness

SHOWCASE = 7000
VIDEO = b"\x00\x00\x00\x18ftypmp42 a shared video"


class FakeShowcase:
    """The showcase channel as the buttons use it: ``send`` (text) or ``create_thread`` (forum)."""

    def __init__(self, channel_id: int) -> None:
        self.id = channel_id
        self.posts: list[dict[str, Any]] = []
        self.deleted: list[int] = []
        self.refuse = False

    def _record(self, kwargs: dict[str, Any]) -> int:
        if self.refuse:
            raise discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "Missing Access")
        file = kwargs.get("file")
        self.posts.append({**kwargs, "bytes": file.fp.read() if file is not None else None})
        return 9000 + len(self.posts)

    async def send(self, **kwargs: Any) -> Any:
        return SimpleNamespace(id=self._record(kwargs))

    async def create_thread(self, *, name: str, **kwargs: Any) -> Any:
        kwargs["name"] = name
        post_id = self._record(kwargs)
        return SimpleNamespace(thread=SimpleNamespace(id=post_id), message=SimpleNamespace(id=post_id))

    def get_partial_message(self, message_id: int) -> Any:
        async def delete() -> None:
            self.deleted.append(message_id)

        return SimpleNamespace(delete=delete)


class Env:
    def __init__(self, harness: Harness, bot: commands.Bot, showcase: FakeShowcase) -> None:
        self.harness = harness
        self.bot = bot
        self.showcase = showcase

    def click(
        self,
        user_id: int = USER,
        *,
        manage: bool = False,
        with_video: bool = True,
        locale: str = "en-US",
        guild_locale: str = "en-US",
    ) -> KitInteraction:
        guild = make_guild(GUILD, channels=[text_channel_payload(CHANNEL, "videos")])
        files = [make_attachment(filename="video.mp4", content_type="video/mp4")] if with_video else []
        content = "" if with_video else "Your video: https://files.example/v.mp4 (expires soon)"
        message = make_message(channel_id=CHANNEL, attachments=files, content=content)
        return make_interaction(
            self.bot,
            user=make_member(guild, user_id),
            guild=guild,
            channel_id=CHANNEL,
            message=message,
            permissions=discord.Permissions(manage_guild=True) if manage else None,
            type=discord.InteractionType.component,
            locale=locale,
            guild_locale=guild_locale,
        )


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    async def read(self: discord.Attachment, **_: Any) -> bytes:
        return VIDEO

    monkeypatch.setattr(discord.Attachment, "read", read)
    async with lifecycle_harness(tmp_path) as harness:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        service = await harness.start()
        bot.service = service  # type: ignore[attr-defined]
        showcase = FakeShowcase(SHOWCASE)
        bot.get_channel = lambda channel_id: showcase if channel_id == SHOWCASE else None  # type: ignore[method-assign,assignment,return-value]
        await video_cog.setup(bot)
        task = await service.request(harness.request())
        assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
        yield Env(harness, bot, showcase)
        await bot.remove_cog("VideoCog")


async def set_showcase(env: Env, *, forum: bool = False) -> None:
    await env.harness.storage.showcase.set(GUILD, SHOWCASE, is_forum=forum, actor_id=99)


async def test_share_reposts_the_video_once_with_prompt_model_author_and_link(env: Env) -> None:
    await set_showcase(env)
    click = env.click()
    await ShareButton(1).callback(click)  # type: ignore[arg-type]
    assert click.last.ephemeral and "Shared to the showcase" in click.last.text()
    [post] = env.showcase.posts
    assert post["bytes"] == VIDEO and post["file"].filename == "video.mp4"
    embed = post["embed"]
    assert "a red fox running through snow" in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Model"] == "MiniMax-Hailuo-2.3" and fields["By"] == f"<@{USER}>"
    assert "discord.com/channels" in fields["Original"]
    assert post["allowed_mentions"].to_dict() == {"parse": []}
    stored = await env.harness.storage.showcase.post(1)
    assert stored is not None and (stored.channel_id, stored.message_id) == (SHOWCASE, 9001)
    again = env.click(OTHER_USER, manage=True)
    await ShareButton(1).callback(again)  # type: ignore[arg-type]
    assert "already in the showcase" in again.last.text()
    assert len(env.showcase.posts) == 1


async def test_share_to_a_forum_opens_a_post_named_after_the_prompt(env: Env) -> None:
    await set_showcase(env, forum=True)
    click = env.click(OTHER_USER, manage=True)  # a moderator may share someone's video
    await ShareButton(1).callback(click)  # type: ignore[arg-type]
    [post] = env.showcase.posts
    assert post["name"] == "a red fox running through snow" and post["bytes"] == VIDEO


async def test_share_refusals_and_a_failed_post_leave_it_shareable(env: Env) -> None:
    nobody = env.click()
    await ShareButton(1).callback(nobody)  # type: ignore[arg-type]
    assert "no showcase yet" in nobody.last.text()
    await set_showcase(env)
    stranger = env.click(OTHER_USER)
    await ShareButton(1).callback(stranger)  # type: ignore[arg-type]
    assert "author or a moderator" in stranger.last.text()
    env.showcase.refuse = True
    failed = env.click()
    await ShareButton(1).callback(failed)  # type: ignore[arg-type]
    assert "could not be posted" in failed.last.text() and failed.last.ephemeral
    assert await env.harness.storage.showcase.post(1) is None
    env.showcase.refuse = False
    linked = env.click(with_video=False)  # a result posted as a link is shared as that link
    await ShareButton(1).callback(linked)  # type: ignore[arg-type]
    assert env.showcase.posts[-1]["content"] == "https://files.example/v.mp4"


async def test_votes_toggle_and_show_the_count_then_a_moderator_removes(env: Env) -> None:
    await set_showcase(env)
    await ShareButton(1).callback(env.click())  # type: ignore[arg-type]
    first = env.click(OTHER_USER)
    await VoteButton(1).callback(first)  # type: ignore[arg-type]
    [edit, note] = first.replies
    [vote, _remove] = edit.view.children  # type: ignore[union-attr]
    assert isinstance(vote, VoteButton) and vote.item.label == "1"
    assert "counted" in note.text() and note.ephemeral
    back = env.click(OTHER_USER)
    await VoteButton(1).callback(back)  # type: ignore[arg-type]
    assert "taken back. Votes: 0" in back.last.text()
    member = env.click()
    await RemoveButton(1).callback(member)  # type: ignore[arg-type]
    assert "Only a moderator" in member.last.text()
    moderator = env.click(OTHER_USER, manage=True)
    await RemoveButton(1).callback(moderator)  # type: ignore[arg-type]
    assert "Removed from the showcase" in moderator.last.text()
    assert env.showcase.deleted == [9001]
    late = env.click()
    await VoteButton(1).callback(late)  # type: ignore[arg-type]
    assert "votes are closed" in late.last.text()


async def test_button_answers_in_the_clickers_language_and_the_post_in_the_servers(env: Env) -> None:
    await set_showcase(env)
    env.showcase.refuse = True
    failed = env.click(locale="fr")
    await ShareButton(1).callback(failed)  # type: ignore[arg-type]
    assert failed.last.text().startswith(f"La vidéo n'a pas pu être publiée dans la vitrine (<#{SHOWCASE}>)")
    env.showcase.refuse = False
    shared = env.click(locale="ja", guild_locale="de")
    await ShareButton(1).callback(shared)  # type: ignore[arg-type]
    assert shared.last.text().startswith("ショーケースに共有しました: https://discord.com/channels/")
    embed = env.showcase.posts[-1]["embed"]
    assert [f.name for f in embed.fields] == ["Modell", "Von", "Original"]
    assert embed.fields[2].value.startswith("[zum Ergebnis](")
    assert embed.footer.text == "Aufgabe #1 · stimme mit ⭐ ab"
    voter = env.click(OTHER_USER, locale="es-ES")
    await VoteButton(1).callback(voter)  # type: ignore[arg-type]
    assert voter.last.text() == "Tu voto se ha contado. Votos: 1."
    again = env.click(OTHER_USER, locale="pt-BR")
    await VoteButton(1).callback(again)  # type: ignore[arg-type]
    assert again.last.text() == "Seu voto foi retirado. Votos: 0."
    moderator = env.click(OTHER_USER, manage=True, locale="de")
    await RemoveButton(1).callback(moderator)  # type: ignore[arg-type]
    assert moderator.last.text() == "Aus dem Showcase entfernt; es wird nicht erneut geteilt."


async def test_the_showcase_post_in_english_keeps_its_words() -> None:
    from cogs.share_buttons import showcase_embed

    ticket: Any = SimpleNamespace(task=SimpleNamespace(prompt="p", model="M", user_id=5, id=3))
    embed = showcase_embed(ticket, "https://discord.com/channels/1/2/3")
    assert {f.name: f.value for f in embed.fields} == {
        "Model": "M",
        "By": "<@5>",
        "Original": "[jump to the result](https://discord.com/channels/1/2/3)",
    }
    assert embed.footer.text == "Task #3 · vote with ⭐"


async def test_public_results_carry_share_and_every_button_is_registered(env: Env) -> None:
    public = await env.harness.storage.tasks.get(1)
    assert any(isinstance(i, ShareButton) for i in result_view(public).children)
    private = dataclasses.replace(public, deliver_by_dm=True)
    assert not any(isinstance(i, ShareButton) for i in result_view(private).children)
    assert {ShareButton, VoteButton, RemoveButton} <= set(DYNAMIC_ITEMS)
    registered = set(env.bot._connection._view_store._dynamic_items.values())  # type: ignore[attr-defined]
    assert {ShareButton, VoteButton, RemoveButton} <= registered


async def test_top_lists_the_most_voted_with_links(env: Env) -> None:
    cog: Any = env.bot.get_cog("VideoCog")  # not isinstance: another test may have reloaded cogs.video
    assert cog is not None
    empty = env.click()
    await cog.top.callback(cog, empty, period="day")  # type: ignore[arg-type]
    assert "No videos were shared" in empty.last.text() and empty.last.ephemeral
    await set_showcase(env)
    await ShareButton(1).callback(env.click())  # type: ignore[arg-type]
    for voter in (OTHER_USER, 77):
        await VoteButton(1).callback(env.click(voter))  # type: ignore[arg-type]
    listed = env.click()
    await cog.top.callback(cog, listed, period="week")  # type: ignore[arg-type]
    text = listed.last.text()
    assert "Top videos of the last 7 days" in text
    assert f"(https://discord.com/channels/{GUILD}/{SHOWCASE}/9001)" in text
    assert "⭐ 2 votes" in text and f"<@{USER}>" in text and "a red fox running through snow" in text


async def test_queue_shows_who_what_place_and_eta_and_counts_private_ones(env: Env) -> None:
    cog: Any = env.bot.get_cog("VideoCog")
    idle = env.click()
    await cog.queue.callback(cog, idle)
    assert f"Nothing is being made in <#{CHANNEL}>" in idle.last.text() and idle.last.ephemeral
    await env.harness.stop()  # nothing leaves the queue now
    service = env.harness.new_service()
    env.bot.service = service  # type: ignore[attr-defined]
    await service.update_preferences(OTHER_USER, dm_results=True)
    await service.request(env.harness.request(prompt="a *bold* @everyone lighthouse"))
    await service.request(env.harness.request(user_id=OTHER_USER, prompt="my secret idea"))
    asked = env.click()
    await cog.queue.callback(cog, asked)
    text = asked.last.text()
    assert f"<@{USER}>" in text and r"a \*bold\* @everyone lighthouse" in text and "#1 in line" in text
    assert "ready <t:" in text and "1 private video in progress" in text
    assert "my secret idea" not in text and f"<@{OTHER_USER}>" not in text


async def test_queue_and_top_follow_the_members_locale(env: Env) -> None:
    cog: Any = env.bot.get_cog("VideoCog")

    def asking(locale: str) -> KitInteraction:
        guild = make_guild(GUILD, channels=[text_channel_payload(CHANNEL, "videos")])
        return make_interaction(
            env.bot, user=make_member(guild, USER), guild=guild, channel_id=CHANNEL, locale=locale
        )

    brazil, japan, english = asking("pt-BR"), asking("ja"), asking("en-GB")
    for interaction in (brazil, japan, english):
        await cog.queue.callback(cog, interaction)
    assert f"Nada está sendo feito em <#{CHANNEL}> agora." in brazil.last.text()
    assert f"現在 <#{CHANNEL}> で作成中の動画はありません。" in japan.last.text()
    assert f"Nothing is being made in <#{CHANNEL}> right now." in english.last.text()
    german = asking("de")
    await cog.top.callback(cog, german, period="month")
    assert "Top-Videos der letzten 30 Tage" in german.last.text()
