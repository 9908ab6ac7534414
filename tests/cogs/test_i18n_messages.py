"""Messages in the reader's language, through the real command callbacks and the kit's interactions:
refusals and replies only the member sees follow their Discord locale, channel posts the server's."""

# ruff: noqa: F811  # the tests take test_video's `env` fixture by name

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

import cogs.video as video_cog
from bot.i18n import credits, translate
from cogs.replies import describe_error
from cogs.video import VideoCog
from storage.states import TaskState
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale= and guild_locale=
from tests.fakes.lifecycle_harness import GUILD, USER, lifecycle_harness


async def test_a_refusal_follows_the_members_locale_not_the_servers(env: Env) -> None:
    storage = env.harness.storage
    await storage.policy.add_filter(GUILD, "spider", actor_id=1)
    german = await env.generate(env.interaction(locale="de", guild_locale="es-ES"), prompt="a spider")
    assert german.last.ephemeral
    assert german.last.content == translate("de", "refusal.prompt_filter")
    assert german.last.content.startswith("Dein Prompt wurde vom Promptfilter")
    await storage.policy.remove_filter(GUILD, "spider", actor_id=1)
    await storage.policy.pause(GUILD, "Wartung", actor_id=1)
    paused = await env.generate(env.interaction(locale="ja"))
    assert paused.last.content == (
        "このサーバーでは、モデレーターによって動画の作成が一時停止されています。理由: Wartung。"
        "後でもう一度お試しください。"
    )


async def test_the_quota_refusal_names_the_period_and_amounts_in_spanish(env: Env) -> None:
    for _ in range(2):
        assert "#" in (await env.generate(env.interaction(), duration=10)).last.content
    refused = await env.generate(env.interaction(locale="es-ES"), duration=10)
    text = refused.last.content
    assert text.startswith("No tienes créditos suficientes: este vídeo cuesta 2 y te quedan 1 de 5 para hoy.")
    assert "`/video quota`" in text and "<t:" in text
    english = await env.generate(env.interaction(locale="en-GB"), duration=10)
    assert english.last.content.startswith(
        "You don't have enough credits: this video costs 2, you have 1 of 5"
    )


async def test_cancel_refusals_in_french_and_the_state_name_translated(env: Env) -> None:
    missing = env.interaction(locale="fr")
    await env.cog.cancel.callback(env.cog, missing, 999)  # type: ignore[arg-type]
    assert missing.last.content == "Il n'y a pas de tâche #999."


def test_an_unexpected_error_is_generic_in_the_members_language() -> None:
    assert describe_error(RuntimeError("secret"), "pt-BR") == translate("pt-BR", "error.generic")
    assert "secret" not in describe_error(RuntimeError("secret"), "pt-BR")


@pytest.mark.parametrize(
    ("tenths", "german", "japanese"),
    [(10, "1 Credit", "1 クレジット"), (18, "1.8 Credits", "1.8 クレジット")],
)
def test_credits_have_a_plural_in_every_language(tenths: int, german: str, japanese: str) -> None:
    from bot.catalog import credits_text

    assert credits(tenths).render("en") == credits_text(tenths)
    assert credits(tenths).render("de") == german
    assert credits(tenths).render("ja") == japanese


async def test_status_shows_the_card_to_the_channel_in_the_servers_language(env: Env) -> None:
    await env.generate(env.interaction())
    await env.harness.wait_final(1)
    asked = env.interaction(locale="de", guild_locale="es-ES")
    await env.cog.status.callback(env.cog, asked, 1)  # type: ignore[arg-type]
    private, public = asked.replies[-2], asked.replies[-1]
    assert private.ephemeral and private.content == "Hier ist die Karte von Video #1, für den Kanal sichtbar."
    card = public.embed
    assert card is not None and not public.ephemeral
    assert card.title == "Vídeo #1 · ✅ Entregado"
    names = [field.name for field in card.fields]
    assert names[:5] == ["Modelo", "Modo", "Opciones", "Pedido por", "Coste"]
    assert card.fields[2].value is not None and "optimizador de prompt" in card.fields[2].value
    english = env.interaction()
    await env.cog.status.callback(env.cog, english, 1)  # type: ignore[arg-type]
    english_card = english.replies[-1].embed
    assert english_card is not None and english_card.title == "Video #1 · ✅ Delivered"
    assert [f.name for f in english_card.fields][:5] == ["Model", "Mode", "Options", "Requested by", "Cost"]


def test_the_card_words_match_the_catalogs_english() -> None:
    from bot.catalog import MODE_LABELS
    from bot.spec import Mode

    for mode in Mode:
        assert translate("en", f"mode.{mode.value}") == MODE_LABELS[mode]


async def test_the_started_answer_is_in_the_members_language(env: Env) -> None:
    japanese = await env.generate(env.interaction(locale="ja", guild_locale="de"))
    assert japanese.last.ephemeral
    assert japanese.last.content.startswith(
        "🎬 動画 **#1** を作成します(1 クレジット、完成した場合のみ消費)。"
        "完成したらこのチャンネルに投稿されます。"
    ), japanese.last.content
    english = await env.generate(env.interaction())
    assert english.last.content.startswith(
        "🎬 Video **#2** is on its way (1 credit, charged only if it is delivered). It will be posted in "
        "this channel when ready."
    ), english.last.content


async def test_cancel_and_quota_answer_in_the_members_language(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        bot.service = harness.new_service()  # type: ignore[attr-defined]  # not started: tasks stay queued
        await video_cog.setup(bot)
        cog = bot.get_cog("VideoCog")
        assert isinstance(cog, VideoCog)
        env = Env(harness, bot, cog)
        await env.generate(env.interaction())
        german = env.interaction(locale="de")
        await cog.cancel.callback(cog, german, 1)  # type: ignore[arg-type]
        assert german.last.content == "Video #1 wurde abgebrochen: 1 Credit zurückgegeben."
        quota = env.interaction(locale="pt-BR")
        await cog.quota.callback(cog, quota)  # type: ignore[arg-type]
        embed = quota.last.embed
        assert embed is not None and embed.title == "Seus créditos de vídeo"
        assert [f.name for f in embed.fields][:3] == ["Usados", "Restantes", "Renova"]
        assert embed.description is not None and embed.description.startswith("Por dia, pelo limite padrão.")
        english = env.interaction()
        await cog.quota.callback(cog, english)  # type: ignore[arg-type]
        assert english.last.embed is not None and english.last.embed.description == (
            "Per day, from the default limit. Credits are charged only when a video is delivered."
        )


async def test_a_refused_prompt_is_explained_in_the_members_language(env: Env) -> None:
    empty = await env.generate(env.interaction(locale="es-419"), prompt="   ")
    assert empty.last.ephemeral and empty.last.content.startswith("El prompt está vacío.")


async def test_help_is_in_the_members_language_with_commands_as_typed(env: Env) -> None:
    from bot.catalog import IMAGE_RULES_TEXT

    assert translate("en", "help.image_rules") == IMAGE_RULES_TEXT
    japanese = env.interaction(locale="ja", guild_locale="de")
    await env.cog.help.callback(env.cog, japanese)  # type: ignore[arg-type]
    embed = japanese.last.embed
    assert embed is not None and japanese.last.ephemeral
    assert embed.title == "/video で動画を作る"
    names = [field.name for field in embed.fields]
    assert names[-2:] == ["カメラコマンド", "あなたのコマンド"]
    assert "`[Pan left]`" in japanese.last.text() and "S2V-01" in names
    assert translate("ja", "mode.subject") in japanese.last.text()
    assert "6 秒または 10 秒" in japanese.last.text() and "4–15 秒" in japanese.last.text()
    english = env.interaction()
    await env.cog.help.callback(env.cog, english)  # type: ignore[arg-type]
    english_embed = english.last.embed
    assert english_embed is not None and english_embed.title == "Making videos with /video"
    assert [f.name for f in english_embed.fields][-2:] == ["Camera commands", "Your commands"]
    assert "subject reference" in english.last.text()
    assert "6 s or 10 s" in english.last.text() and "4–15 s" in english.last.text()


async def test_the_list_and_its_buttons_speak_the_members_language(env: Env) -> None:
    from cogs.pager import Pager

    empty = env.interaction(locale="fr")
    await env.cog.list_tasks.callback(env.cog, empty)  # type: ignore[arg-type]
    assert empty.last.embed is not None and empty.last.embed.title == "Vos vidéos"
    assert empty.last.embed.description == "Pas encore de vidéo. Lancez-en une avec `/video generate`."
    await env.harness.storage.limits.set_override(GUILD, USER, 1000, actor_id=1)
    await env.generate(env.interaction())
    await env.harness.wait_final(1)
    for n in range(5):
        await env.generate(env.interaction(), prompt=f"clip {n}")
    german = env.interaction(locale="de", guild_locale="ja")
    await env.cog.list_tasks.callback(env.cog, german)  # type: ignore[arg-type]
    embed = german.last.embed
    assert embed is not None and embed.title == "Deine Videos"
    assert embed.description is not None
    heads = embed.description.split("\n\n")
    assert [head.split(" · ")[0] for head in heads] == [f"**#{n}**" for n in (6, 5, 4, 3, 2)]
    german_states = {translate("de", f"card.state.{state.value}") for state in TaskState}
    assert all(head.split(" · ")[1] in german_states for head in heads), heads
    assert embed.footer.text is not None and embed.footer.text.startswith("Seite 1 von 2 · 6 Videos")
    view = german.last.view
    assert isinstance(view, Pager)
    stranger = env.interaction(locale="ja", user_id=USER + 1)
    assert not await view.interaction_check(stranger)  # type: ignore[arg-type]
    assert stranger.last.content == "これは他の人のリストです。自分のリストは `/video list` で表示できます。"
    english = env.interaction()
    await env.cog.list_tasks.callback(env.cog, english)  # type: ignore[arg-type]
    english_embed = english.last.embed
    assert english_embed is not None and english_embed.title == "Your videos"
    assert english_embed.footer.text == "Page 1 of 2 · 6 videos · /video status shows one"
    assert english_embed.description is not None
    english_states = {translate("en", f"card.state.{state.value}") for state in TaskState}
    assert all(h.split(" · ")[1] in english_states for h in english_embed.description.split("\n\n"))
    lost = env.interaction(user_id=USER + 1)
    assert not await view.interaction_check(lost)  # type: ignore[arg-type]
    assert lost.last.content == "This list belongs to someone else: use `/video list` for yours."


def test_a_kept_videos_pickup_link_and_state_in_german() -> None:
    from types import SimpleNamespace

    from cogs import embeds

    task = SimpleNamespace(id=4)
    text = embeds.pickup_link_content(task, "https://cdn.test/v.mp4", 2000.0, "de")  # type: ignore[arg-type]
    assert text == (
        "Video #4 konnte dir nicht gesendet werden, hier ist ein Download-Link: https://cdn.test/v.mp4\n"
        "Er läuft <t:2000:R> ab; `/video status 4` gibt dir einen neuen."
    )
    assert embeds.pickup_link_content(task, "u", 2000.0).startswith(  # type: ignore[arg-type]
        "Video #4 could not be sent to you, so here is a download link: u\nIt expires <t:2000:R>;"
    )


async def test_settings_speak_the_members_language(env: Env) -> None:
    shown = env.interaction(locale="ja", guild_locale="fr")
    await env.cog.settings.callback(env.cog, shown)  # type: ignore[arg-type]
    embed = shown.last.embed
    assert embed is not None and embed.title == "/video の既定の設定"
    fields = {field.name: field.value for field in embed.fields}
    assert fields == {
        "モデル": "自動(リクエストごとに最適なもの)",
        "解像度": "自動(モデルの既定値)",
        "長さ": "自動(6 秒)",
        "プロンプト最適化": "自動(オン)",
        "DM で受け取る": "いいえ(チャンネルに投稿)",
        "既定のプール(このサーバー)": "なし(自分のクレジットを先に使用)",
    }
    changed = env.interaction(locale="es-ES")
    await env.cog.settings.callback(  # type: ignore[arg-type]
        env.cog, changed, model="MiniMax-Hailuo-02", duration=10, prompt_optimizer="off", dm_results=True
    )
    saved = changed.last.embed
    assert saved is not None and saved.title == "Tus valores predeterminados de /video (guardados)"
    values = {field.name: field.value for field in saved.fields}
    assert values["Modelo"] == "MiniMax-Hailuo-02" and values["Duración"] == "10 s"
    assert values["Optimizador de prompt"] == "desactivado" and values["Resultados por MD"] == "sí"
    english = env.interaction()
    await env.cog.settings.callback(env.cog, english)  # type: ignore[arg-type]
    english_embed = english.last.embed
    assert english_embed is not None and english_embed.title == "Your /video defaults"
    assert {f.name: f.value for f in english_embed.fields} == {
        "Model": "MiniMax-Hailuo-02",
        "Resolution": "auto (the model's default)",
        "Duration": "10 s",
        "Prompt optimizer": "off",
        "Results by DM": "yes",
        "Default pool (this server)": "none (your own credits first)",
    }


async def test_details_answer_in_the_clickers_language(env: Env) -> None:
    from cogs import embeds
    from cogs.buttons import DetailsButton

    await env.generate(env.interaction())
    await env.harness.wait_final(1)
    german = env.interaction(locale="de", guild_locale="ja")
    await DetailsButton(1).callback(german)  # type: ignore[arg-type]
    embed = german.last.embed
    assert embed is not None and german.last.ephemeral
    assert embed.title == "Video #1 · Details" and embed.footer.text == "Aufgabe #1"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Status"] == "✅ Geliefert" and fields["Modus"] == translate("de", "mode.text")
    assert "Angefragt" in fields and "Kosten" in fields
    english = env.interaction()
    await DetailsButton(1).callback(english)  # type: ignore[arg-type]
    english_embed = english.last.embed
    assert english_embed is not None and english_embed.title == "Video #1 · details"
    names = [f.name for f in english_embed.fields]
    assert names[:6] == ["State", "Model", "Mode", "Options", "Cost", "Requested"]
    task: Any = type("T", (), {"id": 2})()
    assert embeds.fresh_link_content(task, "u", 5.0, "fr") == (
        "Le lien de téléchargement de la vidéo #2 avait expiré ; en voici un nouveau : u\nIl expire <t:5:R>."
    )
    assert embeds.fresh_link_content(task, "u", 5.0) == (
        "The download link of video #2 had expired; here is a new one: u\nIt expires <t:5:R>."
    )
