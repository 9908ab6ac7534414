"""The result message, a group's reply and what goes to the member alone, in the right language:
the server's in its channel, the member's (stored at request time) by DM; and a result posted in
any language still found after a restart, its expired link still recognised."""

# ruff: noqa: F811  # the tests take test_video's `env` fixture by name

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import discord

from bot.i18n import translate
from bot.lifecycle import ResultPost
from bot.lifecycle.actor import Actor
from cogs import embeds
from cogs.followups import FollowupRegistry
from cogs.notifier import DiscordNotifier
from storage import TaskState
from tests.cogs.test_notifier import (
    Clock,
    FakeBot,
    FakeWebhook,
    clock,  # noqa: F401  # the follow-up fixtures, by name
    followups,  # noqa: F401
    http_error,
    interaction_at,
    make_task,
)
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale=
from tests.fakes.lifecycle_harness import GUILD, USER

SPANISH_SERVER = SimpleNamespace(
    filesize_limit=8 * 1024 * 1024, preferred_locale=discord.Locale.spain_spanish
)


async def test_a_channel_result_and_pickup_are_in_the_servers_language(bot: FakeBot, video: Path) -> None:
    bot.guilds[1] = SPANISH_SERVER
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(locale="ja")  # the member's own language is for their DMs, not the channel
    await notifier.post_result(ResultPost(task, via_dm=False, file_path=video, filename="v.mp4"))
    (sent,) = bot.channels[2].sent
    assert sent.content == "<@3> ¡tu vídeo está listo! (task #12)"
    await notifier.post_pickup(task)
    assert bot.channels[2].sent[-1].content.startswith("🔒 <@3> tu vídeo privado #12 está listo")


async def test_a_dm_result_and_failure_are_in_the_members_stored_language(bot: FakeBot, video: Path) -> None:
    bot.guilds[1] = SPANISH_SERVER
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(locale="ja", deliver_by_dm=True)
    await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video))
    (sent,) = bot.dms[3].sent
    assert sent.content == "<@3> 動画ができました！ (task #12)"
    assert bot.get_partial_messageable(2).sent == []
    await notifier.post_failure(make_task(locale="ja", deliver_by_dm=True, state=TaskState.FAILED), "x")
    notice = bot.dms[3].sent[-1].kwargs["embed"]
    assert notice.title == translate(
        "ja", "card.title", task_id=12, state=translate("ja", "card.state.failed")
    )
    assert notice.title != translate("en", "card.title", task_id=12, state="❌ Failed")


async def test_a_task_without_a_stored_language_is_sent_in_english_by_dm(bot: FakeBot, video: Path) -> None:
    bot.guilds[1] = SPANISH_SERVER
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(deliver_by_dm=True)  # an old row: no locale
    await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video))
    assert bot.dms[3].sent[0].content == "<@3> your video is ready! (task #12)"


async def test_a_channel_failure_stays_in_the_servers_language(bot: FakeBot) -> None:
    bot.guilds[1] = SPANISH_SERVER
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    await notifier.post_failure(make_task(locale="ja", state=TaskState.FAILED), "x")
    (sent,) = bot.channels[2].sent
    state = translate("es", "card.state.failed")
    assert sent.kwargs["embed"].title == translate("es", "card.title", task_id=12, state=state)


async def test_a_result_posted_in_japanese_is_found_after_a_restart_and_its_link_read(
    bot: FakeBot, video: Path
) -> None:
    bot.guilds[1] = SimpleNamespace(filesize_limit=8 * 1024 * 1024, preferred_locale=discord.Locale.japanese)
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.file_error = http_error(discord.HTTPException, 413, 40005)
    task = make_task()
    post = ResultPost(
        task, via_dm=False, file_path=video, link="https://cdn/x.mp4", link_expires_at=1_700_003_600
    )
    posted = await notifier.post_result(post)
    (sent,) = channel.sent
    assert "ダウンロードリンク" in sent.content and "https://cdn/x.mp4" in sent.content
    restarted = DiscordNotifier(bot)  # type: ignore[arg-type]
    assert await restarted.find_result(task) == posted
    assert embeds.posted_link_expired(sent.content, 1_700_003_600)
    assert not embeds.posted_link_expired(sent.content, 1_700_003_599)


def test_an_english_result_posted_before_localising_is_still_read() -> None:
    before = (
        "<@3> your video is ready! (task #12)\nIt is larger than this server's upload limit, so here is a "
        "download link: https://cdn/x.mp4?a=1 The link expires <t:1000:R>."
    )
    assert embeds.posted_link_expired(before, 1000) and not embeds.posted_link_expired(before, 999)
    no_expiry = before.split(" The link")[0]
    assert embeds.posted_link_expired(no_expiry, 0)  # nothing says it still works
    assert not embeds.posted_link_expired("<@3> your video is ready! (task #12)", 10**12)
    assert not embeds.posted_link_expired("see https://cdn/x.mp4 <t:1:R>", 10**12)  # not a result


def test_a_result_in_another_language_is_read_by_its_marker_link_and_expiry() -> None:
    posted = (
        "<@3> 動画ができました！ (task #12)\nダウンロードリンクをお送りします: https://cdn/x.mp4 "
        "リンクの有効期限は <t:1000:R> です。"
    )
    assert embeds.posted_link_expired(posted, 1000) and not embeds.posted_link_expired(posted, 999)


async def test_the_members_locale_is_kept_on_the_task_at_request_time(env: Env) -> None:
    await env.generate(env.interaction(locale="ja", guild_locale="de"))
    await env.generate(env.interaction())
    first, second = [await env.harness.storage.tasks.get(i) for i in (1, 2)]
    assert first.locale == "ja" and second.locale == "en-US"


async def test_a_regenerate_keeps_the_clickers_locale_not_the_originals(env: Env) -> None:
    await env.generate(env.interaction(locale="ja"))
    again = await env.cog.service.regenerate(1, Actor(USER, GUILD, locale="fr"))
    assert again.locale == "fr"


def test_a_groups_reply_and_card_lines_are_in_the_given_language(video: Path) -> None:
    first = make_task(id=20, group_id=20, take=1, takes=2)
    failed = make_task(id=21, group_id=20, take=2, takes=2, state=TaskState.FAILED, cost_tenths=10)
    posts = (ResultPost(first, via_dm=False, file_path=video, filename="take-1.mp4"),)
    text = embeds.group_result_content(first, posts, (failed,), with_files=True, locale="fr")
    assert text.splitlines() == [
        "<@3> tes 2 prises sont prêtes !",
        "**Prise 1/2** (task #20): `take-1.mp4`",
        "**Prise 2/2** a échoué ; remboursement : 1 crédit.",
    ]
    lines = embeds.takes_text((first, failed), "de").splitlines()
    assert lines[1] == f"Take 2/2 · #21 · {translate('de', 'card.state.failed')}, 1 Credit erstattet"


async def test_an_ephemeral_follow_up_is_in_the_members_language_a_public_one_in_the_servers(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    bot.guilds[1] = SPANISH_SERVER
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    (await bot.create_dm(SimpleNamespace(id=3))).send_error = http_error(discord.Forbidden, 403, 50007)
    private = make_task(locale="ja", deliver_by_dm=True)
    await notifier.post_result(ResultPost(private, via_dm=True, private=True, file_path=video))
    assert webhook.sent[-1].kwargs["ephemeral"] is True
    assert webhook.sent[-1].content == "<@3> 動画ができました！ (task #12)"
    bot.get_partial_messageable(2).send_error = http_error(discord.Forbidden, 403, 50001)
    public = make_task(locale="ja")  # the channel refused: the follow-up shows in the channel
    await notifier.post_result(ResultPost(public, via_dm=False, file_path=video))
    assert webhook.sent[-1].kwargs["ephemeral"] is False
    assert webhook.sent[-1].content == "<@3> ¡tu vídeo está listo! (task #12)"


async def test_a_personal_installs_posts_are_in_the_members_language(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    task = make_task(guild_id=None, locale="de")  # no server: no server's language to follow
    await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    assert webhook.sent[-1].content == "<@3> dein Video ist fertig! (task #12)"
    await notifier.post_pickup(task)
    assert webhook.sent[-1].content.startswith("🔒 <@3> dein privates Video #12 ist fertig")
