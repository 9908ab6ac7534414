"""/video generate with MiniMax-H3: its options, its refusals (ephemeral, nothing reserved), its card."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import DURATIONS, RESOLUTIONS
from cogs import embeds
from cogs.video import PROMPT_OPTION_CHARS, ReferencesModal, VideoCog
from storage import TaskState
from tests.cogs.test_video import Env, _image, env  # noqa: F401  (env is the shared fixture)
from tests.fakes.interactions import make_attachment, make_message
from tests.fakes.lifecycle_harness import GUILD


def _parameter(name: str) -> Any:
    return next(p for p in VideoCog.generate.parameters if p.name == name)


def test_generate_offers_h3_models_durations_resolutions_and_references() -> None:
    assert {"MiniMax-H3", "MiniMax-H3-Max"} <= {c.value for c in _parameter("model").choices}
    assert [c.value for c in _parameter("duration").choices] == list(DURATIONS) == list(range(4, 16))
    assert [c.value for c in _parameter("resolution").choices] == list(RESOLUTIONS)
    assert {"480P", "2K"} <= set(RESOLUTIONS)
    for name in ("reference_1", "reference_2", "reference_3"):
        option = _parameter(name)
        assert not option.required and option.type.name == "attachment", name
    assert _parameter("prompt").max_value == PROMPT_OPTION_CHARS == 6000  # Discord caps strings at 6000


async def test_h3_with_reference_images_and_audio(env: Env) -> None:  # noqa: F811
    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    audio = make_attachment(filename="theme.mp3", content_type="audio/mpeg", url="https://cdn.example/t.mp3")
    interaction = await env.generate(
        prompt="the mood board comes alive", reference_1=_image(env, "a.png"), reference_2=audio
    )
    assert "#1" in (interaction.last.content or ""), interaction.last.content
    done = await env.harness.wait_final(1)
    assert (done.state, done.model, done.mode) == (TaskState.DELIVERED, "MiniMax-H3", "reference")
    (body,) = env.harness.fake.submissions
    assert [item.get("role") for item in body["content"]] == [None, "reference_image", "reference_audio"]


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("pdf", {"reference_1": make_attachment(filename="brief.pdf", content_type="application/pdf")},
     "`reference_1` ('brief.pdf') is not an image, video or audio file"),
    ("audio alone", {"reference_2": make_attachment(filename="a.mp3", content_type="audio/mpeg")},
     "Reference audio needs a reference image or video too"),
    ("frames and references", {"first_frame": make_attachment(), "reference_1": make_attachment()},
     "References cannot be combined with first_frame"),
    ("reference video", {"reference_1": make_attachment(filename="c.mp4", content_type="video/mp4")},
     "cannot price them yet"),
    ("adaptive text", {"model": "MiniMax-H3", "ratio": "adaptive"}, "choose a concrete ratio"),
    ("8 s without H3", {"duration": 8}, "MiniMax-H3 and MiniMax-H3-Max take it: choose it as model"),
    ("2K on H3-Max", {"model": "MiniMax-H3-Max", "resolution": "2K"}, "does not make 2K videos"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "options", "fragment"), REFUSALS, ids=[c for c, _, _ in REFUSALS])
async def test_h3_refusals_are_ephemeral_and_reserve_nothing(
    env: Env,  # noqa: F811
    case: str,
    options: dict[str, Any],
    fragment: str,
) -> None:
    interaction = await env.generate(**options)
    reply = interaction.last
    assert reply.ephemeral and fragment in (reply.content or ""), reply.content
    assert await env.task_count() == 0
    assert env.harness.fake.counts["submit"] == 0


async def test_the_card_shows_what_was_delivered(env: Env) -> None:  # noqa: F811
    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    await env.generate(model="MiniMax-H3", duration=15, resolution="2K")
    done = await env.harness.wait_final(1)
    card = await env.cog.service.status_card(done)
    fields = {f.name: f.value for f in embeds.status_embed(card).fields}
    assert fields["Delivered"] is not None and fields["Delivered"].startswith("15.")
    assert "(asked 15 s) · with sound" in fields["Delivered"]
    assert "with sound" in (fields["Options"] or "")


async def test_video_from_references_takes_every_usable_attachment(env: Env) -> None:  # noqa: F811
    await env.harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)
    board = [_image(env, f"board{n}.png") for n in range(3)]
    song = make_attachment(filename="song.mp3", content_type="audio/mpeg", url="https://cdn.example/s.mp3")
    notes = make_attachment(filename="notes.txt", content_type="text/plain")
    opened = env.interaction()
    await env.cog.video_from_references(opened, make_message(attachments=[*board, notes, song]))  # type: ignore[arg-type]
    modal = opened.last.modal
    assert isinstance(modal, ReferencesModal)
    assert [m.kind.value for m in modal.references] == ["image", "image", "image", "audio"]
    modal.prompt._value = "the board dances to the song"
    submitted = env.interaction()
    await modal.on_submit(submitted)  # type: ignore[arg-type]
    assert submitted.replies[0].kind == "defer" and "#1" in submitted.last.content
    done = await env.harness.wait_final(1)
    assert (done.state, done.model, done.mode) == (TaskState.DELIVERED, "MiniMax-H3", "reference")
    assert len(done.spec.references) == 4


@pytest.mark.parametrize(
    ("attachments", "fragment"),
    [
        (
            [make_attachment(filename="a.txt", content_type="text/plain")],
            "no image, video or audio attachment",
        ),
        ([make_attachment(filename="a.mp3", content_type="audio/mpeg")], "Reference audio needs"),
        ([make_attachment(filename=f"{n}.png") for n in range(10)], "at most 9 reference images"),
        ([make_attachment(filename="small.png", width=200, height=200)], "over 300 px"),
    ],
)
async def test_video_from_references_refuses_before_the_modal(
    env: Env,  # noqa: F811
    attachments: list[Any],
    fragment: str,
) -> None:
    refused = env.interaction()
    await env.cog.video_from_references(refused, make_message(attachments=attachments))  # type: ignore[arg-type]
    reply = refused.last
    assert (reply.kind, reply.ephemeral, reply.modal) == ("message", True, None)
    assert fragment in (reply.content or ""), reply.content
    assert await env.task_count() == 0
