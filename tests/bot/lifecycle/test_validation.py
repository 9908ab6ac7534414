"""Every refusal says what was wrong and how to fix it; defaults fill in what the member left out."""

from __future__ import annotations

import pytest

from bot.catalog import OptionPolicy, as_sent, price_table, price_tenths
from bot.lifecycle.validation import RequestRefused, clean_prompt, plan_request
from bot.spec import MediaRef, Mode, VideoSpec
from tests.builders import image as attached_image
from tests.builders import spec_from_fields


def req(**overrides: object) -> VideoSpec:
    fields: dict[str, object] = {"prompt": "a cat on a boat"}
    fields.update(overrides)
    spec, rest = spec_from_fields(fields)
    assert not rest, rest
    return spec


def prefs_of(**saved: object) -> VideoSpec:
    """Saved defaults: a spec with no prompt."""
    return VideoSpec(prompt="", **saved)  # type: ignore[arg-type]


def image(**overrides: object) -> MediaRef:
    fields: dict[str, object] = {
        "url": "https://cdn.example/cat.png",
        "filename": "cat.png",
        "content_type": "image/png",
        "size": 100_000,
        "width": 1280,
        "height": 720,
    }
    fields.update(overrides)
    return attached_image(**fields)  # type: ignore[arg-type]


NO_PREFS = prefs_of()
NO_LIMITS = OptionPolicy()


def refused(request: VideoSpec, *, defaults: VideoSpec = NO_PREFS, policy: OptionPolicy = NO_LIMITS) -> str:
    with pytest.raises(RequestRefused) as info:
        plan_request(request, defaults=defaults, policy=policy)
    return info.value.message


def test_text_defaults() -> None:
    plan = plan_request(req())
    assert (plan.mode, plan.spec.model, plan.spec.resolution, plan.spec.duration) == (
        Mode.TEXT,
        "MiniMax-Hailuo-2.3",
        "768P",
        6,
    )
    assert plan.spec.prompt_optimizer is True and plan.spec.fast is False
    assert plan.cost_tenths == price_tenths("MiniMax-Hailuo-2.3", "768P", 6) == 10


def test_last_frame_defaults_to_hailuo_02() -> None:
    plan = plan_request(req(first_frame=image(), last_frame=image(url="https://cdn.example/b.png")))
    assert (plan.mode, plan.spec.model) == (Mode.FIRST_LAST, "MiniMax-Hailuo-02")
    assert plan.spec.last_frame.url == "https://cdn.example/b.png"


def test_subject_defaults_to_s2v() -> None:
    plan = plan_request(req(subject=image()))
    assert (plan.mode, plan.spec.model, plan.spec.resolution, plan.spec.duration) == (
        Mode.SUBJECT,
        "S2V-01",
        "720P",
        6,
    )
    assert (as_sent(plan.spec).duration, as_sent(plan.spec).resolution) == (None, None)


def test_prompt_is_cleaned_of_invisible_characters() -> None:
    assert clean_prompt("  a\u200b cat\u2060 ") == "a cat"
    assert plan_request(req(prompt="a\u200bcat")).spec.prompt == "acat"


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (req(prompt="  \u200b "), "prompt is empty"),
        (req(prompt="x" * 2001), "2001 characters long; the limit is 2000"),
        (req(last_frame=image()), "last_frame needs a first_frame"),
        (req(subject=image(), first_frame=image()), "cannot be combined"),
        (req(model="Sora"), "no model called 'Sora'"),
        (
            req(model="MiniMax-Hailuo-2.3-Fast"),
            "cannot make text-to-video videos (it needs a first_frame image)",
        ),
        (req(model="T2V-01", first_frame=image()), "does not take a first_frame"),
        (
            req(model="MiniMax-Hailuo-2.3", first_frame=image(), last_frame=image()),
            "Models that can: MiniMax-Hailuo-02",
        ),
        (req(resolution="4K"), "Resolution must be one of"),
        (req(duration=8), "Duration must be 6 or 10"),
        (req(resolution="512P"), "does not make 512P videos. It offers 768P: 6 s or 10 s; 1080P: 6 s"),
        (req(resolution="1080P", duration=10), "makes 1080P videos only 6 s long"),
        (
            req(model="T2V-01", duration=10),
            "T2V-01 (text-to-video) does not make 10 s videos. It offers 720P: 6 s",
        ),
        (req(model="T2V-01", fast=True), "has no fast mode"),
    ],
)
def test_refusals_name_the_problem_and_the_fix(request_: VideoSpec, fragment: str) -> None:
    assert fragment in refused(request_)


@pytest.mark.parametrize(
    ("img", "fragment"),
    [
        (image(filename="cat.gif", content_type="image/gif"), "must be a JPG, PNG or WebP image"),
        (image(filename="cat.bmp", content_type=None), "must be a JPG, PNG or WebP image"),
        (image(content_type="application/pdf"), "must be a JPG, PNG or WebP image"),
        (image(size=25 * 1024 * 1024), "is 25.0 MB; images must be under 20 MB"),
        (image(width=300, height=600), "shorter side must be over 300 px"),
        (image(width=1800, height=600), "between 2:5 and 5:2"),
        (image(width=400, height=1100), "between 2:5 and 5:2"),
    ],
)
def test_image_rules(img: MediaRef, fragment: str) -> None:
    message = refused(req(first_frame=img))
    assert fragment in message and "first_frame image" in message


def test_image_rules_accept_the_edges_and_unknown_sizes() -> None:
    plan_request(req(first_frame=image(width=1000, height=400)))  # exactly 5:2
    plan_request(req(first_frame=image(width=301, height=301)))
    plan_request(
        req(first_frame=image(width=None, height=None, filename="x.JPEG", content_type="image/jpeg"))
    )
    plan_request(
        req(first_frame=image(filename="", url="https://cdn.example/a/b.webp?ex=1", content_type=None))
    )


def test_explicit_values_are_strict_but_preferences_are_soft() -> None:
    prefs = prefs_of(model="T2V-01", resolution="1080P", duration=10, prompt_optimizer=False)
    # T2V-01 cannot take an image: the preference is skipped, not refused.
    plan = plan_request(req(first_frame=image()), defaults=prefs)
    assert plan.spec.model == "MiniMax-Hailuo-2.3"
    # 1080P + 10 s does not exist: the nearest allowed combination is chosen.
    assert (plan.spec.resolution, plan.spec.duration) in {("1080P", 6), ("768P", 10)}
    assert plan.spec.prompt_optimizer is False
    assert plan_request(req(prompt_optimizer=True), defaults=prefs).spec.prompt_optimizer is True
    # An explicit duration keeps the preferred resolution only if it fits.
    plan = plan_request(req(model="MiniMax-Hailuo-2.3", duration=10), defaults=prefs)
    assert (plan.spec.resolution, plan.spec.duration) == ("768P", 10)


def test_guild_limits() -> None:
    limits = OptionPolicy(
        allowed_models=frozenset({"MiniMax-Hailuo-02"}), max_resolution="768P", max_duration=6
    )
    assert "does not allow MiniMax-Hailuo-2.3. Allowed models here: MiniMax-Hailuo-02" in refused(
        req(model="MiniMax-Hailuo-2.3"), policy=limits
    )
    assert "up to 768P" in refused(req(resolution="1080P"), policy=limits)
    assert "up to 6 s" in refused(req(duration=10), policy=limits)
    plan = plan_request(req(), defaults=prefs_of(resolution="1080P", duration=10), policy=limits)
    assert (plan.spec.model, plan.spec.resolution, plan.spec.duration) == ("MiniMax-Hailuo-02", "768P", 6)
    assert "None of the models this server allows" in refused(req(subject=image()), policy=limits)
    tiny = OptionPolicy(max_resolution="512P")
    assert "leave nothing" in refused(req(model="T2V-01"), policy=tiny)


def test_fast_mode_on_hailuo_models() -> None:
    assert plan_request(req(fast=True)).spec.fast is True


def test_price_table_follows_the_guild_policy() -> None:
    limits = OptionPolicy(allowed_models=frozenset({"MiniMax-Hailuo-2.3"}), max_resolution="768P")
    rows = price_table(limits)
    assert {(m, c) for m, _mode, c, _p in rows} == {
        ("MiniMax-Hailuo-2.3", ("768P", 6)),
        ("MiniMax-Hailuo-2.3", ("768P", 10)),
    }
    assert all(p == price_tenths(m, *c) for m, _mode, c, p in rows)


def test_an_unnamed_model_is_one_that_can_make_the_request() -> None:
    """Defaults are conveniences: when they cannot make what was asked, another allowed model does."""
    plan = plan_request(req(), policy=OptionPolicy(max_resolution="720P"))
    assert (plan.spec.model, plan.spec.resolution, plan.spec.duration) == ("T2V-01-Director", "720P", 6)
    plan = plan_request(req(first_frame=image(), resolution="512P"))
    assert (plan.spec.model, plan.spec.resolution) == ("MiniMax-Hailuo-02", "512P")
    plan = plan_request(req(resolution="1080P"), defaults=prefs_of(model="T2V-01"))
    assert (plan.spec.model, plan.spec.resolution, plan.spec.duration) == ("MiniMax-Hailuo-2.3", "1080P", 6)
    # The saved default still wins whenever it can make the request.
    assert plan_request(req(), defaults=prefs_of(model="T2V-01")).spec.model == "T2V-01"
    # Only a model the server allows is taken.
    limits = OptionPolicy(allowed_models=frozenset({"T2V-01", "MiniMax-Hailuo-02"}))
    plan = plan_request(req(resolution="1080P"), defaults=prefs_of(model="T2V-01"), policy=limits)
    assert plan.spec.model == "MiniMax-Hailuo-02"
    # fast is part of the request too.
    assert plan_request(req(fast=True), defaults=prefs_of(model="T2V-01")).spec.model == "MiniMax-Hailuo-2.3"


def test_when_no_model_fits_the_refusal_says_who_could() -> None:
    only_t2v = OptionPolicy(allowed_models=frozenset({"T2V-01"}))
    message = refused(req(resolution="1080P"), policy=only_t2v)
    assert "T2V-01 (text-to-video) does not make 1080P videos. It offers 720P: 6 s." in message
    assert "MiniMax-Hailuo-2.3 and MiniMax-Hailuo-02 could, but this server does not allow them" in message
    # MiniMax-H3-Max makes 480P (from 5 s): a 4 s cap as well leaves no model anything to make.
    message = refused(req(), policy=OptionPolicy(max_resolution="512P", max_duration=4))
    assert "leave nothing" in message and "No other model allowed here can either" in message
    assert "Leave `fast` off" in refused(req(fast=True), policy=OptionPolicy(max_resolution="720P"))


def test_a_named_model_stays_strict_and_the_refusal_names_models_that_can() -> None:
    message = refused(req(model="T2V-01", resolution="1080P"))
    assert "T2V-01 (text-to-video) does not make 1080P videos" in message
    assert "Models that can: MiniMax-Hailuo-2.3, MiniMax-Hailuo-02." in message
    message = refused(req(model="T2V-01"), policy=OptionPolicy(max_resolution="512P"))
    assert "leave nothing T2V-01" in message


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (req(model="S2V-01"), "(it needs a subject image)"),
        (
            req(model="S2V-01", first_frame=image()),
            "(it does not take a first_frame image; it works from a subject image)",
        ),
        (req(model="MiniMax-Hailuo-2.3-Fast"), "(it needs a first_frame image)"),
        (
            req(model="T2V-01", first_frame=image()),
            "(it does not take a first_frame image; it works from just a prompt)",
        ),
        (
            req(model="MiniMax-Hailuo-2.3", first_frame=image(), last_frame=image()),
            "(it does not take a last_frame image; it works from just a prompt or a first_frame image)",
        ),
        (
            req(model="MiniMax-Hailuo-02", subject=image()),
            "(it does not take a subject image; it works from just a prompt, a first_frame image or a "
            "first_frame and a last_frame image)",
        ),
    ],
)
def test_a_mode_refusal_names_the_options_the_model_takes(request_: VideoSpec, reason: str) -> None:
    assert reason in refused(request_)


def test_a_fast_refusal_says_once_what_to_do() -> None:
    message = refused(req(fast=True, subject=image()))
    assert message.startswith("S2V-01 has no fast mode.")
    assert message.count("Leave `fast` off") == 1


def test_a_named_model_over_the_servers_cap_is_told_the_cap() -> None:
    message = refused(req(model="T2V-01", resolution="1080P"), policy=OptionPolicy(max_resolution="720P"))
    assert "T2V-01 (text-to-video) does not make 1080P videos" in message
    assert "This server allows videos up to 720P" in message


@pytest.mark.parametrize(
    "media",
    [
        {"first_frame": image()},
        {"first_frame": image(), "last_frame": image(url="https://cdn.example/end.png")},
        {"subject": image()},
    ],
    ids=["image", "first+last", "subject"],
)
def test_a_prompt_is_optional_where_the_images_say_what_to_animate(media: dict[str, object]) -> None:
    """The i2v, fl2v and s2v schemas mark the prompt optional (checked refused before the change)."""
    plan = plan_request(req(prompt=" \u200b ", **media))
    assert plan.spec.prompt == ""


def test_a_text_only_or_reference_request_still_needs_a_prompt() -> None:
    assert "prompt is empty" in refused(req(prompt=""))


def test_fast_is_refused_in_first_and_last_frame_mode_whose_schema_lacks_it() -> None:
    both = req(first_frame=image(), last_frame=image(url="https://cdn.example/end.png"), fast=True)
    assert "not offered for first + last frame" in refused(both)
