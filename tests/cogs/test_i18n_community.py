"""`/videoadmin showcase` and `/videoadmin forget member` in the moderator's own Discord locale,
and the refusals worded from a model's ratio rules and a server policy's description in the
member's, through the real command callbacks; English stays as it was."""

# ruff: noqa: F811  # the /video tests take test_video's `env` fixture by name

from __future__ import annotations

import dataclasses

import discord
import pytest

from bot.catalog import MODELS, OptionPolicy
from bot.i18n import Message, translate
from bot.spec import Mode, VideoSpec
from cogs.admin import AdminCog
from cogs.admin.community import showcase_text
from storage import Showcase, Storage, TaskState, UserPrefs
from tests.builders import make_new_task
from tests.cogs.admin_fakes import (
    CHANNEL_ID,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    invoke,
    make_member,
    text_channel,
)
from tests.cogs.test_i18n_admin import NOW, TARGET, cog, guild, moderator, storage
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale=
from tests.fakes import interactions as kit
from tests.fakes.lifecycle_harness import GUILD

__all__ = ["cog", "guild", "storage"]  # the fixtures, shared with test_i18n_admin


def fields_of(reply: kit.Reply) -> list[tuple[str, str]]:
    assert reply.ephemeral and reply.embed is not None
    return [(str(f.name), str(f.value)) for f in reply.embed.fields]


# ------------------------------------------------------------------------- /videoadmin showcase


async def test_showcase_confirms_in_german_then_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    here = f"<#{CHANNEL_ID}>"
    german = await invoke(AdminCog.showcase, cog, moderator(guild, "de"), channel=text_channel(guild))
    assert german.embed is not None and german.embed.title == "Showcase"
    assert german.embed.description is None  # a change
    assert fields_of(german) == [
        ("Kanal", f"keiner → **{here} (Textkanal)**"),
        ("Hinweis", translate("de", "admin.community.note")),
    ]
    assert "`/video top`" in translate("de", "admin.community.note")
    again = await invoke(AdminCog.showcase, cog, moderator(guild, "ja"), channel=text_channel(guild))
    assert again.embed is not None and again.embed.title == "ショーケース"
    assert again.embed.description == "変更はありません。すでにその設定になっています。"
    assert fields_of(again)[0] == (
        "チャンネル",
        f"{here}(テキストチャンネル) → **{here}(テキストチャンネル)**",
    )
    assert fields_of(again)[1][0] == "メモ"


async def test_showcase_keeps_the_english_wording(cog: AdminCog, guild: discord.Guild) -> None:
    reply = await invoke(
        AdminCog.showcase, cog, moderator(guild, "en-GB"), channel=text_channel(guild, OTHER_CHANNEL_ID)
    )
    assert reply.embed is not None and reply.embed.title == "Showcase"
    assert fields_of(reply) == [
        ("Channel", f"none → **<#{OTHER_CHANNEL_ID}> (text channel)**"),
        (
            "Note",
            "Members share a delivered video with its Share button; everyone votes on the post, "
            "and `/video top` ranks them. The bot needs Send Messages, Attach Files and Embed Links "
            "there (Create Posts in a forum).",
        ),
    ]


def test_a_forum_showcase_is_named_in_each_language() -> None:
    forum = Showcase(OTHER_CHANNEL_ID, True)
    assert showcase_text(forum) == f"<#{OTHER_CHANNEL_ID}> (forum)"
    assert showcase_text(forum, "es-ES") == f"<#{OTHER_CHANNEL_ID}> (foro)"
    assert showcase_text(forum, "ja") == f"<#{OTHER_CHANNEL_ID}>(フォーラム)"
    assert showcase_text(None, "pt-BR") == "nenhum"


# ------------------------------------------------------------------------- /videoadmin forget member


async def seed_member(storage: Storage) -> None:
    """One finished video of the target's, two still to be made, and saved /video settings."""
    done = await storage.quota.reserve(
        make_new_task(guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=TARGET, prompt="mine"), now=NOW
    )
    await storage.tasks.transition(done.id, TaskState.CANCELLED, now=NOW)
    for prompt in ("queued", "also queued"):
        await storage.quota.reserve(
            make_new_task(guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=TARGET, prompt=prompt), now=NOW
        )
    await storage.prefs.set(TARGET, UserPrefs(dm_results=True))


async def test_forget_member_confirms_in_spanish_then_japanese(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    await seed_member(storage)
    target = make_member(guild, TARGET)
    spanish = await invoke(AdminCog.forget_member, cog, moderator(guild, "es-419"), member=target)
    assert spanish.embed is not None
    assert spanish.embed.title == f"Lo que el bot guarda de {target.display_name}"
    assert fields_of(spanish) == [
        ("Prompts de 1 vídeo terminado en este servidor", "guardados → **borrados**"),
        ("Preferencias de /video", "guardadas → **ninguna**"),
        (
            "Nota",
            "Los créditos, estados y horas se conservan (la contabilidad del servidor); el registro de "
            "auditoría lo anota. 2 vídeos sin terminar conservan sus prompts hasta que se hagan: vuelve a "
            "ejecutar esto después.",
        ),
    ]
    japanese = await invoke(AdminCog.forget_member, cog, moderator(guild, "ja"), member=target)
    assert japanese.embed is not None
    assert japanese.embed.title == f"ボットが保存している {target.display_name} のデータ"
    assert fields_of(japanese)[:2] == [
        ("このサーバーで完成した動画 0 本のプロンプト", "保存中 → **削除済み**"),
        ("/video の設定", "なし → **なし**"),
    ]
    assert fields_of(japanese)[2][1].endswith(
        "監査ログに記録されます。未完成の動画 2 本は、作成されるまでプロンプトが残ります。"
        "完成後にもう一度実行してください。"
    )


async def test_forget_member_keeps_the_english_wording(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    done = await storage.quota.reserve(
        make_new_task(guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=TARGET), now=NOW
    )
    await storage.tasks.transition(done.id, TaskState.CANCELLED, now=NOW)
    await storage.quota.reserve(
        make_new_task(guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=TARGET), now=NOW
    )
    target = make_member(guild, TARGET)
    reply = await invoke(AdminCog.forget_member, cog, moderator(guild, "en-US"), member=target)
    assert reply.embed is not None and reply.embed.title == f"What the bot keeps of {target.display_name}"
    assert fields_of(reply) == [
        ("Prompts of 1 finished video in this server", "kept → **erased**"),
        ("/video settings", "none → **none**"),
        (
            "Note",
            "Credits, states and times stay (the server's accounting); the audit log records this. "
            "1 unfinished video keeps its prompt until made: run this again afterwards.",
        ),
    ]
    again = await invoke(AdminCog.forget_member, cog, moderator(guild, "de"), member=target)
    assert fields_of(again)[0] == (
        "Prompts von 0 fertigen Videos in diesem Server",
        "gespeichert → **gelöscht**",
    )
    assert fields_of(again)[2][1].endswith(
        " 1 unfertiges Video behält seinen Prompt, bis es erstellt ist: Führe dies danach erneut aus."
    )


# ------------------------------------------------------------------------- a model's ratio rules


async def test_a_ratio_the_model_does_not_take_is_refused_in_german(env: Env) -> None:
    refused = await env.generate(env.interaction(locale="de"), ratio="9:16", model="MiniMax-Hailuo-2.3")
    assert refused.last.ephemeral
    assert refused.last.content == (
        "MiniMax-Hailuo-2.3 nimmt kein Seitenverhältnis: Seine Videos sind 16:9 oder folgen der Form des "
        "first_frame-Bildes. Lass ratio weg. Modelle, die es können: MiniMax-H3, MiniMax-H3-Max."
    )
    english = await env.generate(env.interaction(locale="en-GB"), ratio="9:16", model="MiniMax-Hailuo-2.3")
    assert english.last.content == (
        "MiniMax-Hailuo-2.3 does not take a ratio: its videos are 16:9, or follow the shape of the "
        "first_frame image. Leave ratio out. Models that can: MiniMax-H3, MiniMax-H3-Max."
    )
    assert await env.task_count() == 0


async def test_an_adaptive_ratio_without_an_image_is_refused_in_japanese(env: Env) -> None:
    refused = await env.generate(env.interaction(locale="ja"), ratio="adaptive", model="MiniMax-H3")
    assert refused.last.ephemeral
    assert refused.last.content is not None and refused.last.content.startswith(
        "テキストだけの動画には合わせる画像がありません。"
        "具体的なアスペクト比(16:9, 9:16, 1:1, 4:3, 3:4, 21:9)を選ぶか、ratio を外して 16:9 にしてください。"
    )
    assert await env.task_count() == 0


def test_ratio_rules_are_messages_said_in_the_readers_language() -> None:
    square_only = dataclasses.replace(MODELS["MiniMax-H3"], ratios=frozenset({"1:1", "16:9"}))
    reason = square_only.refuses(VideoSpec("a cat", ratio="9:16"))
    assert isinstance(reason, Message)
    assert reason.render("en") == "MiniMax-H3 makes videos in 16:9, 1:1, not 9:16."
    assert reason.render("fr") == "MiniMax-H3 fait des vidéos en 16:9, 1:1, pas en 9:16."
    no_default = dataclasses.replace(square_only, ratios=frozenset({"1:1", "adaptive"}), text_ratio=None)
    text_only = VideoSpec("a cat", ratio="adaptive")
    assert text_only.mode is Mode.TEXT
    adaptive = no_default.refuses(text_only)
    assert adaptive is not None
    assert adaptive.render("en").endswith("or leave ratio out for the default.")
    assert adaptive.render("pt-BR").endswith("ou retire ratio para usar a padrão.")
    assert MODELS["MiniMax-H3"].refuses(VideoSpec("a cat", ratio="9:16")) is None


# ------------------------------------------------------------------------- a server policy's description


@pytest.mark.parametrize(
    ("policy", "english", "german", "japanese"),
    [
        (OptionPolicy(max_resolution="1080P", max_duration=6), "up to 1080P and up to 6 s",
         "bis 1080P und bis 6 s", "1080P まで、6 秒まで"),
        (OptionPolicy(max_resolution="768P"), "up to 768P", "bis 768P", "768P まで"),
        (OptionPolicy(max_duration=10), "up to 10 s", "bis 10 s", "10 秒まで"),
        (OptionPolicy(), "no limits", "keine Grenzen", "制限なし"),
    ],
)  # fmt: skip
def test_a_policy_describes_itself_in_the_readers_language(
    policy: OptionPolicy, english: str, german: str, japanese: str
) -> None:
    described = policy.describe()
    assert (described.render("en"), described.render("de"), described.render("ja")) == (
        english,
        german,
        japanese,
    )


async def test_a_policy_that_leaves_a_model_nothing_is_refused_in_spanish(env: Env) -> None:
    await env.harness.storage.policy.update(GUILD, actor_id=1, max_resolution="512P")
    refused = await env.generate(env.interaction(locale="es-ES"), model="T2V-01")
    assert refused.last.ephemeral
    assert refused.last.content == (
        "La política de este servidor (hasta 512P) no deja nada que T2V-01 (texto a vídeo) pueda hacer: "
        "ofrece 720P: 6 s. Modelos que pueden: MiniMax-H3-Max."
    )
    english = await env.generate(env.interaction(), model="T2V-01")
    assert english.last.content == (
        "This server's policy (up to 512P) leave nothing T2V-01 (text-to-video) can make: it offers "
        "720P: 6 s. Models that can: MiniMax-H3-Max."
    )
    assert await env.task_count() == 0
