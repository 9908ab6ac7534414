"""Turn what a member asked for into an exact, priced plan, or refuse with how to fix it.

Pure functions over the catalog and plain inputs: no storage, no Discord, no HTTP. The rules of what a
model can do live in :mod:`bot.catalog`; this module only decides which of the allowed combinations a
request means. Values the member typed are checked strictly (a refusal names what is allowed); values
that come from defaults or saved preferences are softened to the nearest allowed choice instead, because
the member did not ask for them in this command.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from bot.catalog import (
    DEFAULT_DURATION,
    DURATIONS,
    IMAGE_CONTENT_TYPES,
    IMAGE_EXTENSIONS,
    LONGEST_PROMPT_CHARS,
    MAX_ASPECT,
    MAX_IMAGE_BYTES,
    MIN_ASPECT,
    MIN_SHORT_SIDE,
    MODE_LABELS,
    MODELS,
    NO_POLICY,
    OPTION_DEFAULTS,
    RESOLUTIONS,
    Combo,
    CombosText,
    DurationsText,
    ModelRules,
    OptionPolicy,
    default_model_for,
    describe_combos,
    models_for_mode,
    resolution_rank,
    spec_price_tenths,
)
from bot.i18n import Message, msg
from bot.lifecycle.references import check_references
from bot.lifecycle.refusal import RequestRefused as RequestRefused  # re-exported: its old home
from bot.spec import NO_DEFAULTS, MediaKind, MediaRef, Mode, VideoSpec
from storage.models import Edit


@dataclass(frozen=True)
class VideoRequest:
    """Who asks for which video, and where; the video itself is the :class:`VideoSpec`."""

    guild_id: int | None
    channel_id: int
    user_id: int
    spec: VideoSpec
    role_ids: tuple[int, ...] = ()
    regenerated_from: int | None = None
    # A thread's parent: channel rules are set on channels, and a thread must not slip past them.
    parent_channel_id: int | None = None
    # Results by DM (private) whatever the asker's preference: a regenerate of a private video stays
    # private, even when a moderator without dm_results regenerates it.
    private: bool = False
    # What Discord said the bot may upload where this was asked (the interaction's
    # attachment_size_limit, bytes): the result is made to fit it. None: the guild's reported limit.
    upload_limit: int | None = None
    edit: Edit | None = None  # made from another task's result (a remix)
    # The team pool the member named to pay (only it is tried); None: their default pool, their own
    # credits, then their other pools (:func:`storage.quota._payer_in`).
    pool: str | None = None
    # ``/video generate variations``: how many takes of this video to make, reserved together (all
    # or none) and delivered in one reply; 1: a video alone.
    takes: int = 1
    # The requester's Discord locale: what reaches them alone later (a DM) is in its language.
    locale: str | None = None


@dataclass(frozen=True)
class Plan:
    """An exact request: the spec with nothing left to choose, and its price."""

    spec: VideoSpec
    cost_tenths: int

    @property
    def mode(self) -> Mode:
        return self.spec.mode


def _is_invisible(ch: str) -> bool:
    # Format characters (zero-width spaces, joiners, bidi marks) count as "invisible" for the API (1042).
    return unicodedata.category(ch) == "Cf"


def clean_prompt(prompt: str) -> str:
    """The prompt as sent: invisible format characters removed, outer whitespace trimmed."""
    return "".join(ch for ch in prompt if not _is_invisible(ch)).strip()


def _extension(image: MediaRef) -> str:
    name = image.filename or PurePosixPath(urlsplit(image.url).path).name
    return PurePosixPath(name.lower()).suffix


def _describe_ratio(width: int, height: int) -> str:
    return f"{width / height:.2f}:1" if width >= height else f"1:{height / width:.2f}"


def check_image(image: MediaRef, label: Message | str) -> None:
    """The API's image rules, checked on Discord's metadata before anything is sent or reserved.

    ``label`` names the image in the refusal (a :class:`Message`, said in the reader's language)."""
    if image.checked:
        return
    name: Message | str = repr(image.filename) if image.filename else msg("image.the_attachment")
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    extension = _extension(image)
    if (content_type and content_type not in IMAGE_CONTENT_TYPES) or extension not in IMAGE_EXTENSIONS:
        raise RequestRefused.keyed("image.check.format", label=label, name=name)
    if image.size is not None and image.size >= MAX_IMAGE_BYTES:
        raise RequestRefused.keyed(
            "image.check.size", label=label, megabytes=f"{image.size / (1024 * 1024):.1f}"
        )
    if image.width and image.height:
        short = min(image.width, image.height)
        if short <= MIN_SHORT_SIDE:
            raise RequestRefused.keyed(
                "image.check.short_side",
                label=label,
                width=image.width,
                height=image.height,
                min_side=MIN_SHORT_SIDE,
            )
        ratio = image.width / image.height
        if not MIN_ASPECT <= ratio <= MAX_ASPECT:
            raise RequestRefused.keyed(
                "image.check.ratio",
                label=label,
                width=image.width,
                height=image.height,
                ratio=_describe_ratio(image.width, image.height),
            )


class _ModelCannot(RequestRefused):
    """A refusal about what one model cannot make; :func:`plan_request` adds which models could."""


def _choose_model(asked: VideoSpec, defaults: VideoSpec, mode: Mode, policy: OptionPolicy) -> ModelRules:
    if asked.model is not None:
        return _named_model(asked.model, mode, policy)
    return _fitting_model(asked, defaults, mode, policy)


def _named_model(name: str, mode: Mode, policy: OptionPolicy) -> ModelRules:
    """The model the member chose is honoured strictly: refused, never swapped, when it cannot."""
    rules = MODELS.get(name)
    if rules is None:
        raise _no_such_model(name)
    if mode not in rules.modes:
        capable = [m for m in models_for_mode(mode) if policy.allows_model(m)]
        offer = ", ".join(capable) if capable else msg("model.none_allowed_here")
        raise RequestRefused.keyed(
            "model.cannot_mode",
            model=rules.name,
            mode=msg(f"mode.{mode.value}"),
            why=_mode_reason(rules, mode),
            offer=offer,
        )
    if not policy.allows_model(rules.name):
        allowed = ", ".join(m for m in MODELS if policy.allows_model(m))
        raise RequestRefused.keyed("refusal.model_not_allowed", model=rules.name, allowed=allowed)
    return rules


def _candidates(defaults: VideoSpec, mode: Mode, policy: OptionPolicy) -> list[ModelRules]:
    """Models to try when the member named none: their saved default, the mode's default, then the
    rest in table order (newest first), keeping only those this mode and this server allow."""
    names = [defaults.model, default_model_for(mode), *(m for m in models_for_mode(mode) if MODELS[m].auto)]
    usable = [n for n in names if n is not None and n in MODELS and mode in MODELS[n].modes]
    return [MODELS[n] for n in dict.fromkeys(usable) if policy.allows_model(n)]


def _fitting_model(asked: VideoSpec, defaults: VideoSpec, mode: Mode, policy: OptionPolicy) -> ModelRules:
    """The first candidate that can make what was asked within the server's policy.

    A default is a convenience, not a choice: a saved T2V-01 must not turn ``resolution:1080P`` into a
    refusal when another allowed model makes 1080P. When none fits, the first candidate is returned
    so that :func:`_choose_combo` refuses with what it offers, and the caller names who could.
    """
    candidates = _candidates(defaults, mode, policy)
    if not candidates:
        allowed = ", ".join(m for m in MODELS if policy.allows_model(m))
        raise RequestRefused.keyed(
            "model.none_allowed_for_mode", allowed=allowed, mode=msg(f"mode.{mode.value}")
        )
    # Model-independent refusals first, so they are not blamed on whichever model comes first.
    _check_values(asked)
    _check_within_limits(asked, policy)
    _check_candidates_take(asked, candidates, policy)
    return next((s for s in candidates if _fits(s, mode, asked, policy)), candidates[0])


def _check_candidates_take(asked: VideoSpec, candidates: list[ModelRules], policy: OptionPolicy) -> None:
    """A duration or prompt only models the bot never picks by itself take (H3's 8 s, its long
    prompts): say which to choose, rather than blame whichever model came first. When no such model
    would take it either, the usual refusals below say what the candidates offer."""
    durations = {d for rules in candidates for d in rules.durations}
    if asked.duration is not None and asked.duration not in durations:
        named = _who_else(asked, candidates, policy)
        if named:
            raise RequestRefused.keyed(
                "model.duration_must", durations=_duration_list(durations), named=named
            )
    longest = max(rules.max_prompt_chars for rules in candidates)
    length = len(clean_prompt(asked.prompt))
    if length > longest:
        named = _who_else(asked, candidates, policy)
        raise RequestRefused.keyed("model.prompt_limit", length=length, longest=longest, named=named)


def _who_else(asked: VideoSpec, candidates: list[ModelRules], policy: OptionPolicy) -> Message | str:
    """`` (MiniMax-H3 takes it: choose it as model)``: models a member must name to get this."""
    named = [
        rules.name
        for rules in MODELS.values()
        if rules not in candidates
        and policy.allows_model(rules.name)
        and asked.mode in rules.modes
        and (asked.duration is None or asked.duration in rules.durations)
        and len(clean_prompt(asked.prompt)) <= rules.max_prompt_chars
    ]
    if not named:
        return ""
    models: Message | str = named[0]
    for name in named[1:]:
        models = msg("model.words.and", a=models, b=name)
    return msg("model.who_else.one" if len(named) == 1 else "model.who_else.many", models=models)


def _duration_list(durations: set[int] | frozenset[int]) -> DurationsText:
    return DurationsText("model.durations", durations=tuple(sorted(durations)), unit=False)


def _fits(rules: ModelRules, mode: Mode, asked: VideoSpec, policy: OptionPolicy) -> bool:
    if asked.fast and not rules.fast_pretreatment:
        return False
    if rules.refuses(asked) is not None:
        return False
    return bool(_fitting_combos(rules, mode, asked, policy))


def _fitting_combos(rules: ModelRules, mode: Mode, asked: VideoSpec, policy: OptionPolicy) -> list[Combo]:
    res, dur = asked.resolution, asked.duration
    return [
        c
        for c in rules.combos(mode)
        if policy.allows(c) and (res is None or c[0] == res) and (dur is None or c[1] == dur)
    ]


def _who_else_could(rules: ModelRules, mode: Mode, asked: VideoSpec, policy: OptionPolicy) -> Message | str:
    """The end of a refusal about ``rules``: the models that would make this asked, if any."""
    others = [MODELS[m] for m in models_for_mode(mode) if m != rules.name]
    allowed = [s.name for s in others if policy.allows_model(s.name) and _fits(s, mode, asked, policy)]
    if allowed:
        return msg("model.others_can", models=", ".join(allowed))
    everywhere = OptionPolicy(max_resolution=policy.max_resolution, max_duration=policy.max_duration)
    barred = [s.name for s in others if not policy.allows_model(s.name) and _fits(s, mode, asked, everywhere)]
    if barred:
        names: Message | str = barred[0]
        for name in barred[1:]:
            names = msg("model.words.and", a=names, b=name)
        return msg("model.barred.one" if len(barred) == 1 else "model.barred.many", models=names)
    if asked.fast:
        slow = replace(asked, fast=False)
        if any(policy.allows_model(s.name) and _fits(s, mode, slow, policy) for s in [rules, *others]):
            return msg("model.leave_fast_off")
    try:
        _check_within_limits(asked, policy)  # the server's cap may be the real reason
    except RequestRefused as exc:
        return exc.words or exc.message
    return msg("model.none_else")


def _or_list(items: list[Message]) -> Message:
    """``a, b or c`` in the reader's language."""
    if len(items) == 1:
        return items[0]
    head = items[0]
    for item in items[1:-1]:
        head = msg("model.words.comma", a=head, b=item)
    return msg("words.or", a=head, b=items[-1])


_MODE_INPUTS: dict[Mode, tuple[str, ...]] = {
    Mode.TEXT: (),
    Mode.IMAGE: ("first_frame",),
    Mode.FIRST_LAST: ("first_frame", "last_frame"),
    Mode.SUBJECT: ("subject",),
    Mode.REFERENCE: ("reference",),
    Mode.UPSCALE: (),
}


def _mode_reason(rules: ModelRules, mode: Mode) -> Message:
    """Why ``rules`` cannot make ``mode``, from the model's own modes and the command's option names,
    so the member learns which attachment to add or drop (S2V-01 wants ``subject``, not
    ``first_frame``)."""
    taken = {option for m in rules.modes for option in _MODE_INPUTS[m]}
    extra = [option for option in _MODE_INPUTS[mode] if option not in taken]
    needs = _or_list([msg(f"model.needs.{m.value}") for m in Mode if m in rules.modes])
    if extra:
        options = _or_list([msg("model.a_option", option=option) for option in extra])
        return msg("model.reason.extra", options=options, needs=needs)
    return msg("model.reason.only" if Mode.TEXT in rules.modes else "model.reason.needs", needs=needs)


def check_defaults(defaults: VideoSpec) -> None:
    """Saved defaults must be values some model offers; what fits is decided per request."""
    if defaults.model is not None and defaults.model not in MODELS:
        raise _no_such_model(defaults.model)
    _check_values(defaults)


def _no_such_model(name: str) -> RequestRefused:
    return RequestRefused.keyed("model.no_such", name=repr(name), models=", ".join(MODELS))


def _check_values(asked: VideoSpec) -> None:
    if asked.resolution is not None and asked.resolution not in RESOLUTIONS:
        raise RequestRefused.keyed("model.resolution_one_of", resolutions=", ".join(RESOLUTIONS))
    named = MODELS.get(asked.model or "")
    # A model without the usual durations, asked for by name: its own rule, not the usual one.
    if (
        asked.duration is not None
        and named is not None
        and not named.auto
        and asked.duration not in named.durations
    ):
        offered = CombosText(
            "model.combos", combos=frozenset(c for combos in named.modes.values() for c in combos)
        )
        raise RequestRefused.keyed(
            "model.not_duration", what=named.name, seconds=asked.duration, offered=offered
        )
    if asked.duration is not None and asked.duration not in DURATIONS:
        auto = {d for rules in MODELS.values() if rules.auto for d in rules.durations}
        others = [
            msg("model.duration_on", durations=_duration_list(r.durations), model=r.name)
            for r in MODELS.values()
            if not r.auto and not r.durations <= auto
        ]
        rest: Message | str = ""
        if others:
            joined = others[0]
            for other in others[1:]:
                joined = msg("model.words.semicolon", a=joined, b=other)
            rest = msg("model.in_parens", text=joined)
        raise RequestRefused.keyed("model.duration_must", durations=_duration_list(auto), named=rest)


def _check_offered(rules: ModelRules, mode: Mode, asked: VideoSpec) -> None:
    offered = rules.combos(mode)
    what = msg("model.what", model=rules.name, mode=msg(f"mode.{mode.value}"))
    said = CombosText("model.combos", combos=offered)
    res, dur = asked.resolution, asked.duration
    if res is not None and all(r != res for r, _ in offered):
        raise _ModelCannot.keyed("model.not_resolution", what=what, resolution=res, offered=said)
    if dur is not None and all(d != dur for _, d in offered):
        raise _ModelCannot.keyed("model.not_duration", what=what, seconds=dur, offered=said)
    if res is not None and dur is not None and (res, dur) not in offered:
        durations = DurationsText(
            "model.durations", durations=tuple(sorted(d for r, d in offered if r == res))
        )
        raise _ModelCannot.keyed(
            "model.only_durations", what=what, resolution=res, durations=durations, offered=said
        )


def _check_within_limits(asked: VideoSpec, policy: OptionPolicy) -> None:
    res, dur = asked.resolution, asked.duration
    if (
        res is not None
        and policy.max_resolution
        and resolution_rank(res) > resolution_rank(policy.max_resolution)
    ):
        raise RequestRefused.keyed("refusal.server_max_resolution", resolution=policy.max_resolution)
    if dur is not None and policy.max_duration is not None and dur > policy.max_duration:
        raise RequestRefused.keyed("refusal.server_max_duration", seconds=policy.max_duration)


def _choose_combo(
    rules: ModelRules, mode: Mode, asked: VideoSpec, defaults: VideoSpec, policy: OptionPolicy
) -> Combo:
    _check_values(asked)
    _check_offered(rules, mode, asked)
    _check_within_limits(asked, policy)
    candidates = _fitting_combos(rules, mode, asked, policy)
    if not candidates:
        raise _ModelCannot(
            f"This server's policy ({policy.describe()}) leave nothing {rules.name} "
            f"({MODE_LABELS[mode]}) can make: it offers {describe_combos(rules.combos(mode))}."
        )
    res, dur = asked.resolution, asked.duration
    saved_res = defaults.resolution if defaults.resolution in RESOLUTIONS else None
    want_res = res or saved_res or rules.default_resolution
    want_dur = dur or (defaults.duration if defaults.duration in DURATIONS else None) or DEFAULT_DURATION

    def preference(combo: Combo) -> tuple[bool, bool, bool, bool, int]:
        r, d = combo
        return (
            r != want_res,
            d != want_dur,
            r != rules.default_resolution,
            d != DEFAULT_DURATION,
            -resolution_rank(r),
        )

    return min(candidates, key=preference)


def _filled(asked: VideoSpec, defaults: VideoSpec) -> dict[str, Any]:
    """Options no model decides: what the member asked, else their saved default, else the catalog's."""
    return {
        name: next((v for v in (getattr(asked, name), getattr(defaults, name)) if v is not None), default)
        for name, default in OPTION_DEFAULTS.items()
    }


# The modes whose official schema makes the prompt optional: the images say what to animate.
PROMPT_OPTIONAL_MODES = frozenset({Mode.IMAGE, Mode.FIRST_LAST, Mode.SUBJECT, Mode.UPSCALE})


def plan_request(
    asked: VideoSpec, *, defaults: VideoSpec = NO_DEFAULTS, policy: OptionPolicy = NO_POLICY
) -> Plan:
    """Validate and resolve ``asked`` into a :class:`Plan`, or raise :class:`RequestRefused`.

    ``defaults`` are the member's saved choices (a spec with an empty prompt); ``policy`` the server's.
    """
    prompt = clean_prompt(asked.prompt)
    if not prompt and asked.mode not in PROMPT_OPTIONAL_MODES:
        raise RequestRefused.keyed("refusal.prompt_empty")
    if len(prompt) > LONGEST_PROMPT_CHARS:
        raise RequestRefused.keyed("refusal.prompt_long", length=len(prompt), limit=LONGEST_PROMPT_CHARS)
    if asked.last_frame is not None and asked.first_frame is None:
        raise RequestRefused.keyed("refusal.last_without_first")
    if asked.subject is not None and (asked.first_frame is not None or asked.last_frame is not None):
        raise RequestRefused.keyed("refusal.subject_and_frames")
    check_references(asked)
    for medium in asked.media:
        if medium.kind is MediaKind.IMAGE:
            check_image(medium, _image_label(medium))
    mode = asked.mode
    rules = _choose_model(asked, defaults, mode, policy)
    try:
        resolution, duration = _choose_combo(rules, mode, asked, defaults, policy)
        if asked.fast and not rules.fast_pretreatment:
            raise _ModelCannot.keyed("model.no_fast", model=rules.name)
        if asked.fast and not rules.sends_fast(mode):
            raise RequestRefused.keyed("model.fast_not_for_mode", mode=msg(f"mode.{mode.value}"))
        reason = rules.refuses(asked)
        if reason is not None:
            raise _ModelCannot(reason)
    except _ModelCannot as exc:
        others = _who_else_could(rules, mode, asked, policy)
        why = exc.words or exc.message
        raise RequestRefused.of(msg("model.cannot_others", reason=why, others=others)) from None
    if len(prompt) > rules.max_prompt_chars:
        raise RequestRefused.keyed(
            "refusal.prompt_long_on", length=len(prompt), limit=rules.max_prompt_chars, model=rules.name
        )
    if rules.references is not None:
        check_references(asked, rules)
    resolved = replace(
        asked,
        **_filled(asked, defaults),
        prompt=prompt,
        model=rules.name,
        resolution=resolution,
        duration=duration,
        fast=bool(asked.fast) and rules.sends_fast(mode),
        ratio=asked.ratio or (rules.text_ratio if mode is Mode.TEXT else None),
    )
    return Plan(spec=resolved, cost_tenths=spec_price_tenths(resolved))


def _image_label(medium: MediaRef) -> Message:
    """How a refusal names the image: ``first_frame image``, ``reference image 'photo.png'``."""
    if medium.role.is_reference:
        if medium.filename:
            return msg("image.label.reference_named", name=repr(medium.filename))
        return msg("image.label.reference")
    return msg("image.label.role", role=medium.role.value)
