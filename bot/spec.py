"""The one description of a video: what a member asks for, what is priced, stored, sent and regenerated.

A :class:`VideoSpec` is built once by the command that receives the request and then travels unchanged in
shape: validation fills in what the member left to the bot (``None`` means "not given") and returns the same
type, storage flattens it to columns, the API client turns it into a request body, and "Regenerate" reads it
back. Adding an option means adding a field here, its rules to :mod:`bot.catalog`, a column (migration)
and the command option; nothing in between copies fields one by one.

Plain values only: this module imports nothing of the project, so storage may depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Mode(StrEnum):
    """What the video is made from; decided by which media the spec carries."""

    TEXT = "text"
    IMAGE = "image"
    FIRST_LAST = "first_last"
    SUBJECT = "subject"
    REFERENCE = "reference"  # MiniMax-H3's reference images, videos and audio
    UPSCALE = "upscale"  # a delivered 768P H3 video re-rendered at 2K (its base_video)


class MediaRole(StrEnum):
    """What a piece of media is for.

    A keyframe or subject role is one command option (and column stem, ``<role>_url``); the reference
    roles come from ``reference_1``…``reference_3`` or a message's attachments, several per request,
    and are named as the V2 API names them (``reference_image`` …).
    """

    FIRST_FRAME = "first_frame"
    LAST_FRAME = "last_frame"
    SUBJECT = "subject"
    REFERENCE_IMAGE = "reference_image"
    REFERENCE_VIDEO = "reference_video"
    REFERENCE_AUDIO = "reference_audio"
    BASE_VIDEO = "base_video"  # the video an upscale re-renders (V2 regeneration)

    @property
    def is_reference(self) -> bool:
        return self in REFERENCE_ROLES


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


# The reference role of each kind of medium (a reference's role follows from what the file is).
REFERENCE_ROLE_OF: dict[MediaKind, MediaRole] = {
    MediaKind.IMAGE: MediaRole.REFERENCE_IMAGE,
    MediaKind.VIDEO: MediaRole.REFERENCE_VIDEO,
    MediaKind.AUDIO: MediaRole.REFERENCE_AUDIO,
}
REFERENCE_ROLES = frozenset(REFERENCE_ROLE_OF.values())


@dataclass(frozen=True)
class MediaRef:
    """An image, video or audio file given as a Discord attachment or a URL.

    The metadata comes from Discord's attachment and lets validation refuse before anything is reserved.
    ``checked`` marks media of a stored task (regenerate): it passed the checks already and only its URL
    was kept.
    """

    url: str
    role: MediaRole
    kind: MediaKind = MediaKind.IMAGE
    filename: str = ""
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    checked: bool = False


@dataclass(frozen=True)
class VideoSpec:
    """A video's options; ``None`` means "let the bot choose" until validation resolves it."""

    prompt: str
    model: str | None = None
    duration: int | None = None
    resolution: str | None = None
    prompt_optimizer: bool | None = None
    fast: bool | None = None
    ratio: str | None = None  # aspect ratio such as ``16:9``, for the models that take one
    media: tuple[MediaRef, ...] = ()

    def medium(self, role: MediaRole) -> MediaRef | None:
        return next((m for m in self.media if m.role is role), None)

    def media_in(self, role: MediaRole) -> tuple[MediaRef, ...]:
        """Every medium of ``role`` (references come several at a time), in the order given."""
        return tuple(m for m in self.media if m.role is role)

    @property
    def references(self) -> tuple[MediaRef, ...]:
        return tuple(m for m in self.media if m.role.is_reference)

    @property
    def first_frame(self) -> MediaRef | None:
        return self.medium(MediaRole.FIRST_FRAME)

    @property
    def last_frame(self) -> MediaRef | None:
        return self.medium(MediaRole.LAST_FRAME)

    @property
    def subject(self) -> MediaRef | None:
        return self.medium(MediaRole.SUBJECT)

    @property
    def mode(self) -> Mode:
        roles = {m.role for m in self.media}
        if MediaRole.BASE_VIDEO in roles:
            return Mode.UPSCALE
        if roles & REFERENCE_ROLES:
            return Mode.REFERENCE
        if MediaRole.SUBJECT in roles:
            return Mode.SUBJECT
        if MediaRole.LAST_FRAME in roles:
            return Mode.FIRST_LAST
        if MediaRole.FIRST_FRAME in roles:
            return Mode.IMAGE
        return Mode.TEXT

    def with_media_urls(self, urls: Sequence[str]) -> VideoSpec:
        """The same spec with its media (in order, one URL each) pointing elsewhere: a data URL."""
        if len(urls) != len(self.media):
            raise ValueError(f"{len(urls)} URLs for {len(self.media)} media")
        return replace(
            self, media=tuple(replace(m, url=url) for m, url in zip(self.media, urls, strict=True))
        )

    def as_stored(self) -> VideoSpec:
        """The spec to make again (regenerate): every medium already checked, only its URL kept."""
        return replace(self, media=tuple(MediaRef(m.url, m.role, m.kind, checked=True) for m in self.media))


# Saved defaults with nothing saved: a spec with no prompt and every option left to the bot.
NO_DEFAULTS = VideoSpec(prompt="")

# The options a member may save as their defaults (``/video settings``); each is a field above.
SAVED_OPTIONS: tuple[str, ...] = ("model", "resolution", "duration", "prompt_optimizer")


def media_from_urls(urls: dict[MediaRole, str | None]) -> tuple[MediaRef, ...]:
    """Stored media back from their URLs, in role order (``None``: not given)."""
    given = ((role, urls.get(role)) for role in MediaRole)
    return tuple(MediaRef(url=url, role=role, checked=True) for role, url in given if url is not None)
