"""Context menus, their modals and the task buttons in the reader's language, through the real
callbacks: what only the member sees follows their Discord locale, a button on a channel post the
server's, a button in a DM stays English; a button's custom_id never changes with its label."""

# ruff: noqa: F811  # the tests take test_video's `env` fixture by name

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.i18n import translate
from bot.lifecycle import ResultPost, StatusCard
from cogs.buttons import RegenerateButton, group_result_view, result_view, task_view
from cogs.edit_buttons import RemixButton, RemixModal
from cogs.notifier import DiscordNotifier
from cogs.preview import PreviewEditModal, PreviewView
from cogs.share_buttons import showcase_view
from cogs.video import AnimateModal, ReferencesModal
from storage import TaskState
from tests.cogs.test_notifier import FakeBot, make_task
from tests.cogs.test_video import Env, _image, env  # noqa: F401  # the /video fixture, with locale=
from tests.fakes.interactions import make_attachment, make_message
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER


def _labels(view: discord.ui.View) -> list[str]:
    return [str(item.item.label) for item in view.children]  # type: ignore[attr-defined]


def _ids(view: discord.ui.View) -> list[str]:
    return [str(item.custom_id) for item in view.children]  # type: ignore[attr-defined]


def _input(modal: discord.ui.Modal) -> discord.ui.TextInput[Any]:
    (text_input,) = modal.children
    assert isinstance(text_input, discord.ui.TextInput)
    return text_input


async def test_the_animate_modal_is_in_the_members_language_not_the_servers(env: Env) -> None:
    german = env.interaction(locale="de", guild_locale="ja")
    await env.cog.animate_image(german, make_message(attachments=[_image(env)]))  # type: ignore[arg-type]
    modal = german.last.modal
    assert isinstance(modal, AnimateModal)
    payload = modal.to_dict()
    assert payload["title"] == "Bild animieren"
    text_input = payload["components"][0]["components"][0]
    assert text_input["label"] == "Was soll im Video passieren?"
    assert text_input["placeholder"].startswith("z. B. die Katze dreht langsam den Kopf")
    assert text_input["custom_id"] == "prompt" and text_input.get("required") is False
    english = env.interaction()
    await env.cog.animate_image(english, make_message(attachments=[_image(env)]))  # type: ignore[arg-type]
    english_modal = english.last.modal
    assert isinstance(english_modal, AnimateModal) and english_modal.title == "Animate image"
    assert english_modal.to_dict()["components"][0]["components"][0]["label"] == (
        "What should happen in the video?"
    )
    assert _input(english_modal).placeholder == "e.g. the cat slowly turns its head and blinks [Push in]"
    # The menu itself keeps its English name, as commands do.
    assert env.cog.animate_menu.name == "Animate image"
    assert env.cog.references_menu.name == "Video from references"


async def test_the_references_modal_in_japanese(env: Env) -> None:
    japanese = env.interaction(locale="ja", guild_locale="de")
    board = [_image(env, "a.png"), _image(env, "b.png")]
    await env.cog.video_from_references(japanese, make_message(attachments=board))  # type: ignore[arg-type]
    modal = japanese.last.modal
    assert isinstance(modal, ReferencesModal) and len(modal.references) == 2
    assert modal.title == "参照から動画を作成"
    assert modal.to_dict()["components"][0]["components"][0]["label"] == "動画に何を映しますか?"
    english = env.interaction()
    await env.cog.video_from_references(english, make_message(attachments=board))  # type: ignore[arg-type]
    english_modal = english.last.modal
    assert isinstance(english_modal, ReferencesModal) and english_modal.title == "Video from references"
    assert _input(english_modal).placeholder == (
        "e.g. the characters from the board dance on the beach at sunset, to the song"
    )


async def test_context_menu_refusals_in_french(env: Env) -> None:
    text_file = make_attachment(filename="a.txt", content_type="text/plain")
    no_image = env.interaction(locale="fr", guild_locale="de")
    await env.cog.animate_image(no_image, make_message(attachments=[text_file]))  # type: ignore[arg-type]
    reply = no_image.last
    assert (reply.kind, reply.ephemeral, reply.modal) == ("message", True, None)
    assert reply.content == (
        "Ce message n'a aucune image en pièce jointe. Utilisez **Animate image** sur un message avec "
        "une pièce jointe JPG, PNG ou WebP, ou `/video generate` avec `first_frame`."
    )
    no_media = env.interaction(locale="fr")
    await env.cog.video_from_references(no_media, make_message(attachments=[text_file]))  # type: ignore[arg-type]
    assert no_media.last.ephemeral and no_media.last.modal is None
    assert no_media.last.content == translate("fr", "menu.no_references")
    assert no_media.last.content.startswith("Ce message n'a aucune pièce jointe image, vidéo ou audio.")
    english = env.interaction()
    await env.cog.animate_image(english, make_message(attachments=[text_file]))  # type: ignore[arg-type]
    assert english.last.content == (
        "That message has no image attached. Use **Animate image** on a message with a JPG, PNG or "
        "WebP attachment, or `/video generate` with `first_frame`."
    )
    assert await env.task_count() == 0


async def test_missing_permissions_and_a_file_that_is_no_medium_in_the_members_language(env: Env) -> None:
    few = discord.Permissions(view_channel=True, send_messages=True)
    french = await env.generate(env.interaction(locale="fr", guild_locale="ja", app_permissions=few))
    assert french.last.ephemeral
    assert french.last.content.startswith("Je ne peux pas publier de vidéos dans ce salon : il me faut ")
    assert "Embed Links" in french.last.content and french.last.content.endswith("Rien n'a été facturé.")
    english = await env.generate(env.interaction(app_permissions=few))
    assert english.last.content == (
        "I can't post videos in this channel: I need Embed Links, Attach Files, Read Message History "
        "here. Ask a moderator to grant them, or use another channel. Nothing was charged."
    )
    pdf = make_attachment(filename="brief.pdf", content_type="application/pdf")
    german = await env.generate(env.interaction(locale="de"), reference_1=pdf)
    assert german.last.content == (
        "`reference_1` ('brief.pdf') ist keine Bild-, Video- oder Audiodatei. Hänge ein JPG-, PNG- oder "
        "WebP-Bild, ein Video oder einen Audioclip an. Es wurde nichts berechnet."
    )
    english_pdf = await env.generate(env.interaction(), reference_1=pdf)
    assert english_pdf.last.content == (
        "`reference_1` ('brief.pdf') is not an image, video or audio file. Attach a JPG, PNG or WebP "
        "image, a video or an audio clip. Nothing was charged."
    )
    assert await env.task_count() == 0


async def test_a_spanish_servers_posts_carry_spanish_labels_and_the_same_custom_ids(
    bot: FakeBot, video: Path
) -> None:
    bot.guilds[1] = SimpleNamespace(
        filesize_limit=50 * 1024 * 1024, preferred_locale=discord.Locale.spain_spanish
    )
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task()
    await notifier.post_result(ResultPost(task, via_dm=False, file_path=video, filename="v.mp4"))
    (sent,) = bot.channels[2].sent
    view = sent.kwargs["view"]
    assert _labels(view) == ["Regenerar", "Detalles", "Remezclar", "Extender", "Bucle", "Compartir"]
    assert (
        _ids(view)
        == _ids(result_view(task))
        == [
            "video:regen:12",
            "video:details:12",
            "video:remix:12",
            "video:extend:12",
            "video:loop:12",
            "video:share:12",
        ]
    )
    card = make_task(state=TaskState.QUEUED, status_message_id=None)
    await notifier.post_status(StatusCard(card, queue_position=1))
    assert _labels(bot.channels[2].sent[-1].kwargs["view"]) == ["Detalles"]
    # A DM is the member's: the language they asked in (none kept here: English).
    private = make_task(deliver_by_dm=True)
    await notifier.post_result(ResultPost(private, via_dm=True, private=True, file_path=video))
    (dm,) = bot.dms[3].sent
    assert _labels(dm.kwargs["view"]) == ["Regenerate", "Details", "Remix", "Extend", "Loop"]


def test_an_english_view_is_labelled_as_before_and_a_groups_takes_are_numbered() -> None:
    done = make_task(state=TaskState.DELIVERED)
    assert _labels(task_view(done)) == ["Regenerate", "Details"]
    assert _labels(task_view(done, "fr")) == ["Régénérer", "Détails"]
    takes = [make_task(id=20 + n, take=n, state=TaskState.DELIVERED) for n in (1, 2)]
    assert _labels(group_result_view(takes, "de")) == [
        "Remixen 1",
        "Verlängern 1",
        "Loop 1",
        "Remixen 2",
        "Verlängern 2",
        "Loop 2",
    ]
    assert _ids(group_result_view(takes, "de")) == _ids(group_result_view(takes))
    assert _labels(group_result_view(takes))[:2] == ["Remix 1", "Extend 1"]
    assert _labels(showcase_view(12, 3, "ja")) == ["3", "削除"]
    assert _ids(showcase_view(12, 3, "ja")) == ["video:vote:12", "video:unshare:12"]
    assert _labels(showcase_view(12, 0)) == ["0", "Remove"]


async def test_the_remix_modal_is_in_the_clickers_language(env: Env) -> None:
    await env.generate(prompt="a paper boat")
    assert (await env.harness.wait_final(1)).state is TaskState.DELIVERED
    german = env.interaction(OTHER_USER, locale="de", guild_locale="es-ES")
    await RemixButton(1).callback(german)  # type: ignore[arg-type]
    modal = german.last.modal
    assert isinstance(modal, RemixModal)
    assert modal.title == "Video #1 remixen · 1 Credit"
    assert modal.to_dict()["components"][0]["components"][0]["label"] == (
        "Prompt (bearbeiten; der Rest bleibt gleich)"
    )
    assert _input(modal).default == "a paper boat"
    english = env.interaction(OTHER_USER)
    await RemixButton(1).callback(english)  # type: ignore[arg-type]
    english_modal = english.last.modal
    assert isinstance(english_modal, RemixModal) and english_modal.title == "Remix video #1 · 1 credit"


async def test_the_prompt_preview_speaks_the_members_language(env: Env) -> None:
    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    h3 = {"model": "MiniMax-H3", "duration": 4, "resolution": "768P", "prompt": "a fox", "preview": True}
    japanese = await env.generate(env.interaction(locale="ja", guild_locale="fr"), variations=2, **h3)
    answer = japanese.last
    assert answer.ephemeral and answer.content.startswith("✨ **拡張されたプロンプト**")
    assert "(2 テイク、各テイクに動画の料金)" in answer.content
    view = answer.view
    assert isinstance(view, PreviewView)
    assert [b.label for b in (view.use, view.edit, view.keep)] == ["使う", "編集", "自分のを使う"]
    edit = env.interaction(locale="ja")
    await view.edit.callback(edit)  # type: ignore[arg-type]
    modal = edit.last.modal
    assert isinstance(modal, PreviewEditModal) and modal.title == "拡張されたプロンプトを編集"
    assert _input(modal).default == view.expanded
    english = await env.generate(env.interaction(), **h3)
    assert english.last.content.startswith(
        "✨ **Expanded prompt** (a preview: nothing was reserved or charged; MiniMax publishes no price "
        "for prompt expansion):\n"
    )
    assert english.last.content.endswith(
        "\n**Use it** makes the video from it, **Edit** lets you change it first, **Keep mine** uses "
        "your own prompt."
    )
    english_view = english.last.view
    assert isinstance(english_view, PreviewView)
    assert [b.label for b in (english_view.use, english_view.edit, english_view.keep)] == [
        "Use it",
        "Edit",
        "Keep mine",
    ]
    assert await env.task_count() == 0


async def test_a_former_members_dm_regenerate_is_refused_in_their_language(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await env.generate()
    await env.harness.wait_final(1)

    async def fetch_member(_user_id: int) -> Any:
        unknown_member = {"code": 10007, "message": "Unknown Member"}  # Discord's own answer
        raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), unknown_member)  # type: ignore[arg-type]

    guild = SimpleNamespace(id=GUILD, get_member=lambda _user_id: None, fetch_member=fetch_member)
    monkeypatch.setattr(env.bot, "get_guild", lambda guild_id: guild if guild_id == GUILD else None)
    left = env.interaction(guild_id=None, locale="pt-BR")
    await RegenerateButton(1).callback(left)  # type: ignore[arg-type]
    assert left.last.ephemeral and left.last.content == (
        "Você não é mais membro do servidor em que este vídeo foi feito, "
        "então ele não pode ser gerado de novo."
    )
    english = env.interaction(guild_id=None)
    await RegenerateButton(1).callback(english)  # type: ignore[arg-type]
    assert english.last.content == (
        "You are no longer a member of the server this video was made in, so it can't be regenerated."
    )
