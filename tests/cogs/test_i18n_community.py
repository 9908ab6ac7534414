"""The refusals worded from a model's ratio rules and a server policy's description, in the
member's Discord locale through the real /video callback; English stays as it was."""

# ruff: noqa: F811  # the /video tests take test_video's `env` fixture by name

from __future__ import annotations

import dataclasses

import pytest

from bot.catalog import MODELS, OptionPolicy
from bot.i18n import Message
from bot.spec import Mode, VideoSpec
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture, with locale=
from tests.fakes.lifecycle_harness import GUILD

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
