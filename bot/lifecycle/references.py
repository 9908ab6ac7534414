"""The rules of reference media (MiniMax-H3's reference mode), checked before anything is reserved.

Two passes, because some rules hold whatever the model and some are the model's own: the first
(``rules`` omitted) refuses what no request may carry (a medium whose file is not what its role says,
keyframes mixed with references, audio alone); the second counts against the chosen model's
:class:`~bot.catalog.ReferenceLimits` and refuses what the bot cannot price. Each refusal says what
to change. Image rules (format, size, shape) are the same as for keyframes and checked by
:func:`bot.lifecycle.validation.check_image`.
"""

from __future__ import annotations

from bot.catalog import ModelRules
from bot.i18n import Message, msg
from bot.lifecycle.refusal import RequestRefused
from bot.spec import REFERENCE_ROLE_OF, MediaKind, MediaRole, VideoSpec


def kind_of_content(content_type: str | None, filename: str = "") -> MediaKind | None:
    """Image, video or audio from an attachment's content type (else its extension); None: none."""
    major = (content_type or "").split("/")[0].strip().lower()
    if major in ("image", "video", "audio"):
        return MediaKind(major)
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    for kind, extensions in _EXTENSIONS.items():
        if extension in extensions:
            return kind
    return None


_EXTENSIONS: dict[MediaKind, frozenset[str]] = {
    MediaKind.IMAGE: frozenset({"jpg", "jpeg", "png", "webp"}),
    MediaKind.VIDEO: frozenset({"mp4", "mov", "webm", "mkv"}),
    MediaKind.AUDIO: frozenset({"mp3", "wav", "m4a", "aac", "ogg", "flac"}),
}


def check_references(spec: VideoSpec, rules: ModelRules | None = None) -> None:
    """Raise :class:`RequestRefused` naming the fix when ``spec``'s references break a rule."""
    references = spec.references
    if not references:
        return
    if rules is None:
        _check_shape(spec)
        return
    limits = rules.references
    if limits is None:
        return  # the mode check refuses references on a model that takes none
    counts = {kind: sum(1 for m in references if m.kind is kind) for kind in MediaKind}
    for kind, most in (
        (MediaKind.IMAGE, limits.images),
        (MediaKind.VIDEO, limits.videos),
        (MediaKind.AUDIO, limits.audio),
    ):
        if counts[kind] > most:
            raise RequestRefused.keyed(
                f"model.reference.count.{kind.value}",
                model=rules.name,
                most=most,
                count=counts[kind],
                extra=counts[kind] - most,
            )
    if len(references) > limits.files:
        raise RequestRefused.keyed(
            "model.reference.files",
            model=rules.name,
            most=limits.files,
            count=len(references),
            extra=len(references) - limits.files,
        )
    if counts[MediaKind.VIDEO] and rules.reference_video_usd_per_second is None:
        raise RequestRefused.keyed("model.reference.video_price")


def _check_shape(spec: VideoSpec) -> None:
    references = spec.references
    for medium in references:
        if REFERENCE_ROLE_OF[medium.kind] is not medium.role:
            name = medium.filename or msg("model.reference.a_reference")
            raise RequestRefused.keyed("model.reference.not_media", name=name)
    keyframes = [m for m in spec.media if not m.role.is_reference]
    if keyframes:
        names = sorted({m.role.value for m in keyframes})
        roles: Message | str = names[0]
        for name in names[1:]:
            roles = msg("model.words.and", a=roles, b=name)
        raise RequestRefused.keyed("model.reference.with_frames", roles=roles)
    if all(m.role is MediaRole.REFERENCE_AUDIO for m in references):
        raise RequestRefused.keyed("model.reference.audio_alone")
