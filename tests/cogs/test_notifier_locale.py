"""What goes to the requester alone (a DM, an ephemeral follow-up, a personal install's posts) is in
the language they asked in, kept on the task; what the channel sees stays in the server's."""

# ruff: noqa: F811  # the tests take test_video's `env` fixture by name

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import discord

from bot.i18n import translate
from bot.lifecycle import ResultPost, StatusCard
from bot.lifecycle.tracker import TIMEOUT_MESSAGE
from cogs.notifier import DiscordNotifier
from storage import TaskState
from tests.cogs.test_i18n_menus import _labels
from tests.cogs.test_notifier import FakeBot, http_error, make_task
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale=


def _spanish_server(bot: FakeBot) -> None:
    bot.guilds[1] = SimpleNamespace(
        filesize_limit=50 * 1024 * 1024, preferred_locale=discord.Locale.spain_spanish
    )


async def test_a_result_by_dm_is_in_the_requesters_language_the_channels_in_the_servers(
    bot: FakeBot, video: Path
) -> None:
    _spanish_server(bot)
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    private = make_task(deliver_by_dm=True, locale="ja")
    await notifier.post_result(ResultPost(private, via_dm=True, private=True, file_path=video))
    (dm,) = bot.dms[3].sent
    assert _labels(dm.kwargs["view"])[:2] == [
        translate("ja", "button.regenerate"),
        translate("ja", "button.details"),
    ]
    public = make_task(id=13, locale="ja")
    await notifier.post_result(ResultPost(public, via_dm=False, file_path=video))
    (posted,) = bot.channels[2].sent
    assert _labels(posted.kwargs["view"])[:2] == ["Regenerar", "Detalles"]


async def test_a_task_from_before_the_locale_was_kept_gets_english_by_dm(bot: FakeBot, video: Path) -> None:
    _spanish_server(bot)
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    old = make_task(deliver_by_dm=True)  # locale None
    await notifier.post_result(ResultPost(old, via_dm=True, private=True, file_path=video))
    (dm,) = bot.dms[3].sent
    assert _labels(dm.kwargs["view"])[:2] == ["Regenerate", "Details"]


async def test_a_failure_by_dm_is_in_the_requesters_language(bot: FakeBot) -> None:
    _spanish_server(bot)
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    message = TIMEOUT_MESSAGE.format(minutes="30")
    private = make_task(state=TaskState.FAILED, deliver_by_dm=True, locale="de")
    await notifier.post_failure(private, message)
    (dm,) = bot.dms[3].sent
    assert dm.kwargs["embed"].description == translate("de", "failure.timeout", minutes="30")
    # The channel refuses a public task's notice: the DM that takes over is the member's, in German.
    public = make_task(id=13, state=TaskState.FAILED, locale="de")
    bot.get_partial_messageable(2).send_error = http_error(discord.HTTPException, 500, 0)
    await notifier.post_failure(public, message)
    assert bot.dms[3].sent[-1].kwargs["embed"].description == translate("de", "failure.timeout", minutes="30")
    assert bot.dms[3].sent[-1].kwargs["embed"].description != translate("es", "failure.timeout", minutes="30")


async def test_a_personal_installs_card_is_in_the_requesters_language(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(guild_id=None, state=TaskState.QUEUED, status_message_id=None, locale="fr")
    await notifier.post_status(StatusCard(task, queue_position=1))
    (sent,) = bot.channels[2].sent
    assert _labels(sent.kwargs["view"]) == [translate("fr", "button.details")]
    assert translate("fr", "card.requested_by") in str(sent.kwargs["embed"].to_dict())
    english = dataclasses.replace(task, id=13, locale=None)
    await notifier.post_status(StatusCard(english, queue_position=1))
    assert _labels(bot.channels[2].sent[-1].kwargs["view"]) == ["Details"]


async def test_a_request_keeps_the_members_locale_and_a_regenerate_the_clickers(env: Env) -> None:
    await env.generate(env.interaction(locale="pt-BR", guild_locale="es-ES"))
    first = await env.harness.wait_final(1)
    assert first.locale == "pt-BR"
    english = await env.generate(env.interaction())
    assert english.last.ephemeral
    assert (await env.harness.wait_final(2)).locale == "en-US"
