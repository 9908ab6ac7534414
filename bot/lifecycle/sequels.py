"""Extend and Loop: a new clip made from a delivered video's own frames, joined to it.

**Extend**: the video's last frame is the first frame of a new clip, made with the image-to-video
model of the original's family (the catalog's :data:`~bot.catalog.SEQUELS`); the result is the video
and then the clip, without the frame they share. **Loop**: a clip from the video's last frame back to
its first (a first + last frame model), joined so it wraps around seamlessly. The result of either is
what was posted, so extending an extended video extends the whole.

At request time nothing is reserved until every check passed: who may (:meth:`Admission.edit_source`:
anyone in the server on a public result, only its owner on a private one; the clicker pays), the next
segment (model, resolution, duration) and its price, the total length under ``MAX_EXTENDED_SECONDS``
and within what the upload limit can carry, and the video itself, fetched (Discord's copy of the
posted file, else a fresh API link for a clip that was never joined) with its frames taken off the
loop and sent inline as the new task's images. A video that is gone is a refusal.

At delivery (:meth:`Sequels.join`, called once the new clip is downloaded) the original is fetched
again and joined to it off the loop. What came of it ("joined", or "alone" when anything failed: the
clip is posted by itself and the member told) is written before posting, so a restart mid-delivery
posts what was decided, once; the task is charged once, like any delivery.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import aiohttp

from bot.catalog import DEFAULT_DURATION, MIN_SHORT_SIDE, MODELS, SEQUELS, Combo, spec_price_tenths
from bot.i18n import translate
from bot.lifecycle.actor import Actor
from bot.lifecycle.admission import Admission
from bot.lifecycle.attachments import AttachmentUnavailable, fetch_attachment
from bot.lifecycle.delivery import Delivery
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.downloads import DOWNLOAD_PREFIX
from bot.lifecycle.images import FRAME_SCHEME, ImageUnavailable
from bot.lifecycle.notifier import ResultPost
from bot.lifecycle.refusal import RequestRefused
from bot.lifecycle.validation import VideoRequest
from bot.minimax.errors import MiniMaxError
from bot.spec import MediaKind, MediaRef, MediaRole, Mode, VideoSpec
from bot.video.fit import CannotFit, plan_for
from bot.video.frames import first_frame_png, last_frame_png
from bot.video.join import join
from bot.video.probe import NotReadable, VideoInfo, probe
from bot.video.worker import VideoWorker
from storage.errors import UnknownTask
from storage.models import JOINED_KINDS, Edit, Task

log = logging.getLogger(__name__)

KIND_VERBS = {"extend": "extend", "loop": "loop"}
# Frames taken at request time are kept this long (and this many) for the submit, which is usually
# seconds later; after that, or after a restart, the submit takes them again from the video.
KEEP_FRAMES_SECONDS = 15 * 60.0
KEPT_FRAMES = 8


class Unusable(Exception):
    """The video cannot be continued from; ``str()`` says why, for the member."""


class VideoGone(Unusable):
    """Neither Discord nor the API has the video any more."""


class FrameTooSmall(Unusable):
    """The video is smaller than the API takes as a first frame (short side over 300 px)."""


@dataclass(frozen=True)
class SequelOffer:
    """What an Extend or Loop of ``original`` would make: the next segment and what it costs."""

    original: Task
    kind: str  # "extend" or "loop"
    spec: VideoSpec  # the next segment, with the original's prompt and no images yet
    price_tenths: int
    total_seconds: float  # the original and the segment together


def video_seconds(task: Task) -> float:
    """How long a delivered video is: what was posted (the whole, for a joined one), else asked."""
    if task.delivered_seconds is not None:
        return task.delivered_seconds
    return float(task.spec.duration or DEFAULT_DURATION)


def next_segment(original: Task, kind: str, max_total: int) -> tuple[VideoSpec, float]:
    """The segment an Extend (or Loop) of ``original`` makes, and the length of the whole then.

    The model is the catalog's; its resolution and duration the original's where that model offers
    them (else its default resolution and the nearest duration), shortened to stay within
    ``max_total`` seconds when the original's would not. RequestRefused when nothing fits.
    """
    what = KIND_VERBS[kind]
    sequel = SEQUELS.get(original.model)
    if sequel is None:
        raise RequestRefused(
            f"Video #{original.id} was made with a model I cannot {what} ({original.model})."
        )
    model = sequel.extend if kind == "extend" else sequel.loop
    rules = MODELS[model]
    mode = Mode.IMAGE if kind == "extend" else Mode.FIRST_LAST
    have = video_seconds(original)
    room = max_total - have
    combos = [c for c in rules.combos(mode) if c[1] <= room]
    if not combos:
        raise RequestRefused(
            f"Video #{original.id} is {have:.0f} s long, and extended videos may be at most {max_total} s "
            f"here: there is no room for another segment. Nothing was charged."
        )
    resolution = original.spec.resolution
    wanted = original.spec.duration or DEFAULT_DURATION

    def preference(combo: Combo) -> tuple[bool, bool, int, int]:
        res, duration = combo
        return (res != resolution, res != rules.default_resolution, abs(duration - wanted), -duration)

    res, duration = min(combos, key=preference)
    spec = VideoSpec(
        prompt=original.prompt,
        model=model,
        resolution=res,
        duration=duration,
        prompt_optimizer=original.spec.prompt_optimizer,
    )
    return spec, have + duration


def _check_upload_room(original: Task, total_seconds: float, limit: int) -> None:
    """Refuse a whole that no re-encode could fit in ``limit`` bytes (the fit's own rule)."""
    info = VideoInfo(
        seconds=total_seconds,
        frames=max(1, round(total_seconds * 24)),
        width=original.width or 1280,
        height=original.height or 720,
        fps=Fraction(24),
        codec="h264",
        has_audio=bool(original.has_audio),
    )
    try:
        plan_for(info, limit)
    except CannotFit:
        raise RequestRefused(
            f"A {total_seconds:.0f} s video would not fit the {limit / 1_000_000:.0f} MB upload limit "
            "here, even re-encoded. Nothing was charged."
        ) from None


class Sequels:
    def __init__(
        self,
        deps: LifecycleDeps,
        admission: Admission,
        delivery: Delivery,
        *,
        download_dir: Path,
        video: VideoWorker,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self._deps = deps
        self._admission = admission
        self._delivery = delivery
        self._dir = download_dir
        self._video = video
        self._http = http
        self._own_http: aiohttp.ClientSession | None = None
        # videoframe: URL → (until, its data URL): the frames taken at request time, for the submit.
        self._kept: dict[str, tuple[float, str]] = {}

    async def stop(self) -> None:
        if self._own_http is not None:
            await self._own_http.close()
            self._own_http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is not None:
            return self._http
        if self._own_http is None:
            self._own_http = aiohttp.ClientSession()
        return self._own_http

    # ------------------------------------------------------------------------------ request

    async def offer(
        self, task_id: int, actor: Actor, kind: str, *, upload_limit: int | None = None
    ) -> SequelOffer:
        """What ``actor``'s Extend or Loop of ``task_id`` would make and cost (the modal shows it);
        RequestRefused when they may not, or the whole would be too long. Nothing is fetched."""
        original = await self._admission.edit_source(task_id, actor, KIND_VERBS[kind])
        spec, total = next_segment(original, kind, self._deps.settings.max_extended_seconds)
        limit = upload_limit or original.upload_limit
        if limit is None:
            limit = await self._deps.notifier.upload_limit(
                None if original.deliver_by_dm else original.guild_id
            )
        _check_upload_room(original, total, limit)
        return SequelOffer(original, kind, spec, spec_price_tenths(spec), total)

    async def request(
        self, task_id: int, actor: Actor, kind: str, prompt: str, *, upload_limit: int | None = None
    ) -> Task:
        """Reserve and queue the next segment for ``actor``: the checks of :meth:`offer`, then the
        video's frames (RequestRefused, nothing reserved, when the video is gone)."""
        offer = await self.offer(task_id, actor, kind, upload_limit=upload_limit)
        original = offer.original
        frames = await self._frames(original, kind)
        roles = (MediaRole.FIRST_FRAME, MediaRole.LAST_FRAME)[: len(frames)]
        media = tuple(
            MediaRef(url, role, MediaKind.IMAGE, checked=True)
            for url, role in zip(frames, roles, strict=True)
        )
        request = VideoRequest(
            guild_id=original.guild_id,
            channel_id=original.channel_id,
            user_id=actor.user_id,
            spec=replace(offer.spec, prompt=prompt, media=media),
            role_ids=actor.role_ids,
            parent_channel_id=await self._channel_parent(original.channel_id),
            private=original.deliver_by_dm,
            upload_limit=upload_limit if upload_limit is not None else original.upload_limit,
            edit=Edit(original.id, kind, original.user_id, original.result_message_id),
            locale=actor.locale,
        )
        return await self._admission.request(request)

    async def _frames(self, original: Task, kind: str) -> list[str]:
        """The new clip's images, as ``videoframe:`` URLs: the video's last frame (and, for a loop,
        its first). They are taken now, so a video that is gone or unreadable is refused before
        anything is reserved, and kept for the submitter a while (:meth:`frame_data_url`)."""
        which = ["last", "first"] if kind == "loop" else ["last"]
        try:
            taken = await self._take_frames(original, which)
        except Unusable as exc:
            raise RequestRefused(str(exc)) from None
        except NotReadable as exc:
            log.warning("Task %s: its video cannot be read for a %s: %s", original.id, kind, exc)
            raise RequestRefused(
                f"Video #{original.id} could not be read as a video, so I cannot {kind} it. "
                "Nothing was charged."
            ) from None
        urls = []
        for name, data_url in zip(which, taken, strict=True):
            url = f"{FRAME_SCHEME}{original.id}:{name}"
            self._remember(url, data_url)
            urls.append(url)
        return urls

    async def frame_data_url(self, url: str) -> str:
        """The submitter's hook: a ``videoframe:<task id>:<first|last>`` medium as a PNG data URL;
        taken again from the video when it is no longer kept (a restart, another process).
        ImageUnavailable (the task fails and is refunded) when the video is gone by then."""
        kept = self._kept.get(url)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        task_id, _, which = url.removeprefix(FRAME_SCHEME).partition(":")
        if not task_id.isdigit() or which not in ("first", "last"):
            raise ImageUnavailable(translate("en", "image.fetch.frame_unknown"))
        try:
            original = await self._deps.storage.tasks.get(int(task_id))
            (data_url,) = await self._take_frames(original, [which])
        except UnknownTask:
            raise ImageUnavailable(translate("en", "image.fetch.video_gone", task_id=task_id)) from None
        except Unusable as exc:
            raise ImageUnavailable(str(exc)) from None
        except NotReadable:
            raise ImageUnavailable(translate("en", "image.fetch.video_unreadable", task_id=task_id)) from None
        self._remember(url, data_url)
        return data_url

    def _remember(self, url: str, data_url: str) -> None:
        now = time.monotonic()
        for key in [k for k, (until, _) in self._kept.items() if until <= now]:
            del self._kept[key]
        while len(self._kept) >= KEPT_FRAMES:
            del self._kept[next(iter(self._kept))]  # the oldest
        self._kept[url] = (now + KEEP_FRAMES_SECONDS, data_url)

    async def _take_frames(self, original: Task, which: list[str]) -> list[str]:
        """``original``'s video fetched as posted, and the frames named in ``which`` as data URLs."""
        source = self._path(original.id, "source.mp4")
        images = {name: self._path(original.id, f"{name}.png") for name in which}
        try:
            await self._fetch_video(original, source)
            info = await self._video.run(probe, source)
            if min(info.width, info.height) <= MIN_SHORT_SIDE:
                raise FrameTooSmall(
                    f"Video #{original.id} is {info.width}×{info.height}: too small to continue from "
                    f"(the video service needs a frame over {MIN_SHORT_SIDE} px on its short side). "
                    "Nothing was charged."
                )
            for name, image in images.items():
                take = last_frame_png if name == "last" else first_frame_png
                await self._video.run(take, source, image)
            return [await asyncio.to_thread(_png_data_url, images[name]) for name in which]
        finally:
            for path in (source, *images.values()):
                await _discard(path)

    async def _fetch_video(self, task: Task, dest: Path) -> None:
        """``task``'s video as posted into ``dest``: Discord's copy of the message, else (for a video
        that was never joined, so the API's file is the whole) a fresh API link. VideoGone if neither."""
        deps = self._deps
        cap = max(1, deps.settings.max_download_bytes)
        try:
            url = await deps.notifier.result_video_url(task)
        except Exception:  # the notifier's fault is not the member's: try the API
            log.exception("Could not look up the posted video of task %s", task.id)
            url = None
        if url is not None:
            try:
                await fetch_attachment(self._session(), url, dest, max_bytes=cap)
                return
            except AttachmentUnavailable as exc:
                log.info("Task %s: its posted video could not be fetched (%s)", task.id, exc)
        gone = (
            f"Video #{task.id} is gone: its message was deleted, or its file is no longer available. "
            "Nothing was charged."
        )
        if task.join_state == "joined":
            raise VideoGone(gone)  # the API has only the last segment, not the whole
        link = await self._delivery.fresh_link(task)
        if link is None:
            raise VideoGone(gone)
        try:
            await deps.client.download(link.url, dest, max_bytes=cap)
        except MiniMaxError as exc:
            log.info("Task %s: its video could not be downloaded from the API (%s)", task.id, exc)
            raise VideoGone(gone) from None

    def _path(self, task_id: int, suffix: str) -> Path:
        return self._dir / f"{DOWNLOAD_PREFIX}{task_id}-{uuid.uuid4().hex[:8]}-{suffix}"

    async def _channel_parent(self, channel_id: int) -> int | None:
        try:
            return await self._deps.notifier.channel_parent(channel_id)
        except Exception:
            log.exception("Could not look up the parent of channel %s", channel_id)
            return None

    # ------------------------------------------------------------------------------ delivery

    async def join(self, task: Task, clip: ResultPost, dest: Path) -> tuple[Task, ResultPost]:
        """The delivery's hook: ``clip`` (the new segment, downloaded) joined to the original into
        ``dest``, and the task with what came of it; on any failure the clip alone (logged; the
        result message tells the member)."""
        if task.edit_kind not in JOINED_KINDS or task.edit_of is None:
            return task, clip
        if task.join_state == "alone":
            return task, clip  # decided before a restart: post what was decided
        if clip.file_path is None:
            log.warning("Task %s: the new clip is too big to download, so it cannot be joined", task.id)
            return await self._alone(task, clip)
        source = dest.with_name(f"{dest.stem}-source.mp4")
        try:
            original = await self._deps.storage.tasks.get(task.edit_of)
            await self._fetch_video(original, source)
            joined = await self._video.run(join, source, clip.file_path, dest, loop=task.edit_kind == "loop")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("Task %s: joining it to video #%s failed (%s); posting the clip alone",
                        task.id, task.edit_of, exc)  # fmt: skip
            return await self._alone(task, clip)
        finally:
            await _discard(source)
        task = await self._deps.storage.tasks.update_fields(
            task.id,
            join_state="joined",
            delivered_seconds=round(joined.info.seconds, 3),
            has_audio=joined.info.has_audio,
        )
        log.info(
            "Task %s: joined to video #%s (%s), %.2f s in all",
            task.id,
            task.edit_of,
            "stream copy" if joined.copied else "re-encoded",
            joined.info.seconds,
        )
        size = await asyncio.to_thread(lambda: dest.stat().st_size)
        return task, replace(clip, task=task, file_path=dest, size_bytes=size)

    async def _alone(self, task: Task, clip: ResultPost) -> tuple[Task, ResultPost]:
        task = await self._deps.storage.tasks.update_fields(task.id, join_state="alone")
        return task, replace(clip, task=task)


def _png_data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


async def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        await asyncio.to_thread(path.unlink, missing_ok=True)
