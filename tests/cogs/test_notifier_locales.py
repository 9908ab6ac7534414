"""The result message, a group's reply and what goes to the member alone, in the right language:
the server's in its channel, the member's (stored at request time) by DM; and a result posted in
any language still found after a restart, its expired link still recognised."""

# ruff: noqa: F811  # the tests take test_video's `env` fixture by name

from __future__ import annotations

from bot.lifecycle.actor import Actor
from cogs import embeds
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale=
from tests.fakes.lifecycle_harness import GUILD, USER


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
