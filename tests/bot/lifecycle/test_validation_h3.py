"""MiniMax-H3 through the same validation: its durations, resolutions, ratios, prompts and references.

The rules come from the catalog (H3 is a row like any other); the refusals name what is allowed.
"""

from __future__ import annotations

import pytest

from bot.catalog import as_sent, format_credits, price_tenths, spec_price_tenths
from bot.lifecycle.validation import RequestRefused, plan_request
from bot.spec import MediaKind, MediaRef, MediaRole, Mode, VideoSpec


def spec(**fields: object) -> VideoSpec:
    values: dict[str, object] = {"prompt": "a lighthouse at dusk, waves crashing"}
    values.update(fields)
    return VideoSpec(**values)  # type: ignore[arg-type]


def ref(kind: MediaKind = MediaKind.IMAGE, n: int = 0, **meta: object) -> MediaRef:
    role = {
        MediaKind.IMAGE: MediaRole.REFERENCE_IMAGE,
        MediaKind.VIDEO: MediaRole.REFERENCE_VIDEO,
        MediaKind.AUDIO: MediaRole.REFERENCE_AUDIO,
    }[kind]
    extension = {MediaKind.IMAGE: "png", MediaKind.VIDEO: "mp4", MediaKind.AUDIO: "mp3"}[kind]
    content_type = {MediaKind.IMAGE: "image/png", MediaKind.VIDEO: "video/mp4", MediaKind.AUDIO: "audio/mpeg"}
    fields: dict[str, object] = {
        "filename": f"ref{n}.{extension}",
        "content_type": content_type[kind],
        "size": 100_000,
        "width": 1280 if kind is MediaKind.IMAGE else None,
        "height": 720 if kind is MediaKind.IMAGE else None,
    }
    fields.update(meta)
    return MediaRef(f"https://cdn.example/ref{n}.{extension}", role, kind, **fields)  # type: ignore[arg-type]


def frame() -> MediaRef:
    return MediaRef(
        "https://cdn.example/f.png", MediaRole.FIRST_FRAME, filename="f.png", content_type="image/png",
        size=1000, width=1280, height=720,
    )  # fmt: skip


def refused(asked: VideoSpec) -> str:
    with pytest.raises(RequestRefused) as info:
        plan_request(asked)
    return info.value.message


@pytest.mark.parametrize(
    ("model", "resolution", "duration", "credits"),
    [
        ("MiniMax-H3", "768P", 6, "1.7"),  # $0.48 / $0.28
        ("MiniMax-H3", "768P", 4, "1.1"),  # $0.32
        ("MiniMax-H3", "2K", 15, "7"),  # $1.95
        ("MiniMax-H3", "2K", 10, "4.6"),  # $1.30
    ],
)
def test_h3_is_priced_per_second(model: str, resolution: str, duration: int, credits: str) -> None:
    assert format_credits(price_tenths(model, resolution, duration)) == credits


def test_h3_text_to_video_15_s_2k() -> None:
    plan = plan_request(spec(model="MiniMax-H3", duration=15, resolution="2K"))
    assert (plan.mode, plan.spec.model, plan.spec.resolution, plan.spec.duration) == (
        Mode.TEXT, "MiniMax-H3", "2K", 15,
    )  # fmt: skip
    assert plan.spec.ratio == "16:9"  # text-only needs a concrete ratio: the default
    assert plan.cost_tenths == 70


def test_h3_is_never_picked_by_itself() -> None:
    assert plan_request(spec()).spec.model == "MiniMax-Hailuo-2.3"
    assert plan_request(spec(media=(frame(),))).spec.model == "MiniMax-Hailuo-2.3"


@pytest.mark.parametrize(
    ("asked", "fragment"),
    [
        (spec(duration=8), "Duration must be 6 or 10 seconds (MiniMax-H3 and MiniMax-H3-Max take it"),
        (spec(duration=20), "Duration must be 6 or 10 seconds (4–15 on MiniMax-H3; 5–15 on MiniMax-H3-Max)"),
        (spec(model="MiniMax-H3", duration=3),
         "does not make 3 s videos. It offers 768P: 4–15 s; 2K: 4–15 s"),
        (spec(model="MiniMax-H3-Max", resolution="2K"), "It offers 480P: 5–15 s; 768P: 5–15 s"),
        (spec(model="MiniMax-H3-Max", duration=4), "MiniMax-H3-Max does not make 4 s videos. It offers 480P"),
        (spec(model="MiniMax-Hailuo-2.3", resolution="2K"), "does not make 2K videos. It offers 768P"),
        (spec(model="MiniMax-H3", ratio="adaptive"),
         "choose a concrete ratio (16:9, 9:16, 1:1, 4:3, 3:4, 21:9)"),
        (spec(prompt="x" * 3000),
         "limit is 2000 (MiniMax-H3 and MiniMax-H3-Max take it: choose it as model)"),
        (spec(prompt="x" * 7001, model="MiniMax-H3"), "7001 characters long; the limit is 7000"),
        (spec(prompt="x" * 2001, model="MiniMax-Hailuo-02"), "the limit is 2000 on MiniMax-Hailuo-02"),
    ],
)  # fmt: skip
def test_h3_refusals_name_the_allowed_values(asked: VideoSpec, fragment: str) -> None:
    assert fragment in refused(asked)


def test_a_long_prompt_and_any_whole_duration_are_fine_on_h3() -> None:
    plan = plan_request(spec(prompt="y" * 6500, model="MiniMax-H3", duration=8, ratio="9:16"))
    assert (plan.spec.duration, plan.spec.ratio, len(plan.spec.prompt)) == (8, "9:16", 6500)


def test_image_to_video_on_h3_keeps_the_image_shape() -> None:
    plan = plan_request(spec(model="MiniMax-H3", media=(frame(),)))
    assert plan.spec.ratio is None and as_sent(plan.spec).ratio is None
    assert plan_request(spec(model="MiniMax-H3", media=(frame(),), ratio="adaptive")).spec.ratio == "adaptive"


# ---------------------------------------------------------------------------------- references


def test_references_choose_h3_and_up_to_five_images_are_free() -> None:
    five = plan_request(spec(media=tuple(ref(n=n) for n in range(5))))
    assert (five.mode, five.spec.model) == (Mode.REFERENCE, "MiniMax-H3")
    assert five.cost_tenths == price_tenths("MiniMax-H3", "768P", 6)
    seven = plan_request(spec(media=tuple(ref(n=n) for n in range(7))))
    # $0.48 + 2 × $0.04 = $0.56 = 2 credits
    assert seven.cost_tenths == spec_price_tenths(seven.spec) == 20


def test_references_with_audio_are_accepted() -> None:
    plan = plan_request(spec(media=(ref(), ref(MediaKind.AUDIO, 1))))
    assert [m.role for m in plan.spec.media] == [MediaRole.REFERENCE_IMAGE, MediaRole.REFERENCE_AUDIO]


@pytest.mark.parametrize(
    ("media", "fragment"),
    [
        (tuple(ref(n=n) for n in range(10)), "at most 9 reference images, and this request has 10. Remove 1"),
        ((ref(), *(ref(MediaKind.AUDIO, n) for n in range(4))), "at most 3 reference audio clips"),
        ((ref(MediaKind.AUDIO),), "Reference audio needs a reference image or video too"),
        ((frame(), ref()), "References cannot be combined with first_frame"),
        ((ref(MediaKind.VIDEO),), "has not published the price, so the bot cannot price them yet"),
        ((*(ref(n=n) for n in range(9)), *(ref(MediaKind.AUDIO, n) for n in range(3)), ref(MediaKind.VIDEO)),
         "at most 12 reference files in all, and this request has 13"),
        ((ref(content_type="image/gif", filename="a.gif"),), "must be a JPG, PNG or WebP image"),
        ((ref(width=200, height=200),), "reference image 'ref0.png' is 200×200 px"),
    ],
)  # fmt: skip
def test_reference_refusals_say_what_to_change(media: tuple[MediaRef, ...], fragment: str) -> None:
    assert fragment in refused(spec(media=media))


def test_a_model_without_references_refuses_them() -> None:
    message = refused(spec(model="MiniMax-H3-Max", media=(ref(),)))
    assert "MiniMax-H3-Max cannot make reference-to-video videos" in message
    assert "Models that can: MiniMax-H3" in message
