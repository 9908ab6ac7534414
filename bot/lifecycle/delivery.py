"""From a finished API task to a video in front of the member, exactly once.

The state is written before and after the one step that cannot be undone (posting): ``delivering``
before, ``delivered`` with the message id after. A crash in between leaves ``delivering``, and the
next attempt first asks the notifier whether the video is already there, so a member never gets it
twice, and is charged (once) only when it is.

One exception to "charged only when posted": a video the member's side refused
(:class:`~bot.lifecycle.notifier.MemberRefused`: their DMs are closed to the bot) is charged all the
same and kept for them (``delivered`` with no result message, :func:`kept_for_member`); they fetch
it with ``/video status`` or Details. Refunding it would make videos free for anyone who closes
their DMs; only a failure on the bot's or the API's side is refunded.

A video over the upload limit (:mod:`bot.lifecycle.upload_limits`) is re-encoded to fit it
(:func:`bot.video.fit.fit`, off the loop) and posted as an attachment that says so; only when no
re-encode can fit is its link posted instead. Discord
refusing a file as too large lowers the limit and posts a smaller one (the outcome table's REFIT).

Every downloaded file is read as a video (:func:`bot.video.probe.probe`, demuxing only) before
anything is posted: one that starts like an MP4 but is truncated or corrupt is
:class:`~bot.minimax.errors.UnreadableVideo`, which the outcome table fails and refunds, nothing
uploaded. A readable one gets a poster (its first frame as a small JPEG, :func:`bot.video.frames.poster`)
attached to the result, the card's image, so a link-only result or a video a client will not play
still shows what was made; the poster is a nicety: when it cannot be made, or it would push the
upload over the limit, the result goes without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.backoff import backoff
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.downloads import DOWNLOAD_PREFIX
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.mp4_facts import UNKNOWN, read_facts
from bot.lifecycle.notifier import Notifier, ResultPost, UploadTooLarge
from bot.lifecycle.outcomes import Outcome, Phase, outcome_for, reason_code, retry_after
from bot.lifecycle.upload_limits import UploadLimits
from bot.minimax.errors import MiniMaxError, UnreadableVideo
from bot.video.fit import CannotFit, fit
from bot.video.frames import poster
from bot.video.probe import NotReadable, probe
from bot.video.worker import VideoWorker
from storage.errors import IllegalTransition, StorageError
from storage.models import JOINED_KINDS, Task
from storage.states import TaskState

# An Extend's or Loop's new clip, joined to its original (:meth:`bot.lifecycle.sequels.Sequels.join`):
# the task as it is then, and what to post instead of the clip.
Joiner = Callable[[Task, ResultPost, Path], Awaitable[tuple[Task, ResultPost]]]

log = logging.getLogger(__name__)

# The API documents its download URLs as valid for an hour (observed longer): promise the hour.
LINK_TTL_SECONDS = 3600
DELIVERY_ATTEMPTS = 4
REFITS = 2  # smaller re-encodes after Discord refused a file as too large; then the link
DELIVERY_FAILED = (
    "The video was made, but we could not fetch it from the video service or post it here. "
    "Your credits were refunded; please try again."
)


# A delivered task whose video the member's side refused: charged, kept for them to fetch.
KEPT_CODE = "member_refused"


def kept_message(task: Task) -> str:
    """What the member reads about a video they could not be sent (the ``/video status`` card)."""
    return (
        f"Video #{task.id} was made (and charged), but Discord would not let me send it to you by DM: "
        "your DMs are closed to this bot, or you no longer share a server with it. "
        f"`/video status {task.id}` or the Details button gives you a download link."
    )


def kept_for_member(task: Task) -> bool:
    """Made and charged, but never in front of the member: they fetch it with a fresh link."""
    return task.state is TaskState.DELIVERED and task.error_code == KEPT_CODE


class _Retry(Exception):
    """This attempt failed in a way a later attempt may not."""


class DownloadRefused(Exception):
    """The download was refused for good (a forbidden address, not a video): fail and refund now."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _PostedNotRecorded(Exception):
    """The video is in front of the member but "delivered" could not be written: never refund it."""


@dataclass(frozen=True)
class DownloadLink:
    """A short-lived download URL of a finished video and when it stops working (unix time)."""

    url: str
    expires_at: float


class Delivery:
    def __init__(
        self,
        deps: LifecycleDeps,
        cards: StatusCards,
        failures: FailurePath,
        *,
        download_dir: Path,
        video: VideoWorker | None = None,
    ) -> None:
        self._deps = deps
        self._video = video if video is not None else VideoWorker()
        self.upload_limits = UploadLimits()
        self._cards = cards
        self._failures = failures
        self._dir = download_dir
        self._jobs = Jobs()  # task id → its delivery
        self.joiner: Joiner | None = None  # set by the service: Extend and Loop join before posting
        # Set by the service: a take of a group (``variations``) is delivered with its group.
        self.group_ready: Callable[[Task, str | None], Awaitable[None]] | None = None
        # At most DELIVERY_CONCURRENCY downloads (each with its upload) at once: a burst of finished
        # videos must not take all the bandwidth, nor hold that many files on disk.
        self._slots = asyncio.Semaphore(max(1, deps.settings.delivery_concurrency))
        self._waiting = 0

    async def stop(self) -> None:
        await self._jobs.cancel_all()

    @property
    def download_dir(self) -> Path:
        return self._dir

    def busy(self) -> int:
        return len(self._jobs)

    def waiting(self) -> int:
        """Deliveries waiting for one of the DELIVERY_CONCURRENCY slots."""
        return self._waiting

    def start(self, task: Task, download_url: str | None = None) -> None:
        """Deliver in the background (the poller must not wait for a download)."""
        if self._jobs.running(task.id):
            return
        self._jobs.start(self.deliver(task, download_url), name=f"deliver-{task.id}", key=task.id)

    async def deliver(self, task: Task, download_url: str | None = None, *, alone: bool = False) -> None:
        """Deliver ``task`` (a take of a group goes with its group, unless ``alone``)."""
        deps = self._deps
        if task.group_id is not None and self.group_ready is not None and not alone:
            await self.group_ready(task, download_url)  # one reply for the whole group
            return
        posted = False
        try:
            for attempt in range(1, DELIVERY_ATTEMPTS + 1):
                try:
                    await self._attempt(task, download_url)
                    return
                except _PostedNotRecorded:
                    posted = True  # the next attempt finds the message and records it
                    log.exception("Task %s was posted but not recorded (attempt %d)", task.id, attempt)
                except DownloadRefused as refused:
                    await self._failures.fail(task, refused.message, code=refused.code)
                    return
                except _Retry as exc:
                    log.warning("Delivering task %s failed (attempt %d): %s", task.id, attempt, exc)
                    download_url = None  # a fresh URL next time
                except StorageError:
                    log.exception("Storage error while delivering task %s", task.id)
                except Exception:
                    # A bug or a local fault (disk full): later attempts may pass; if none does, the
                    # member is told and refunded rather than left waiting with credits reserved.
                    log.exception("Delivering task %s failed unexpectedly (attempt %d)", task.id, attempt)
                if attempt < DELIVERY_ATTEMPTS:
                    await asyncio.sleep(backoff(attempt, base=deps.timing.min_interval))
                task = await deps.storage.tasks.get(task.id)
                if task.state not in (TaskState.DOWNLOADING, TaskState.DELIVERING):
                    return
            if posted:
                # Failing it would refund a video the member has, with a notice saying it failed.
                log.error("Task %s was posted but is not recorded yet; the next start records it", task.id)
                return
            await self._failures.fail(task, DELIVERY_FAILED, code="delivery_failed")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Delivering task %s crashed; it resumes at the next start", task.id)

    async def _attempt(self, task: Task, download_url: str | None) -> None:
        deps = self._deps
        task = await deps.storage.tasks.get(task.id)
        if task.state is TaskState.DELIVERING:
            posted = await deps.notifier.find_result(task)
            if posted is not None:
                log.info("Task %s was already posted as message %s; recording it", task.id, posted)
                await self._delivered(task, posted)
                return
        elif task.state is not TaskState.DOWNLOADING:
            return
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            await self._download_and_post(task, download_url)
        finally:
            self._slots.release()

    async def _download_and_post(self, task: Task, download_url: str | None) -> None:
        deps = self._deps
        path = self._dir / f"{DOWNLOAD_PREFIX}{task.id}-{uuid.uuid4().hex[:8]}.mp4"
        fitted = path.with_name(f"{path.stem}-fit.mp4")
        joined = path.with_name(f"{path.stem}-joined.mp4")
        poster_path = path.with_name(f"{path.stem}-poster.jpg")
        made = (path, fitted, joined, poster_path)
        try:
            result = await self.fetch(task, download_url, path)
            if task.state is TaskState.DOWNLOADING:
                moved = await self.downloaded(task, result)
                if moved is None:
                    return
                task = moved
            if self.joiner is not None and task.edit_kind in JOINED_KINDS:
                task, result = await self.joiner(task, result, joined)
            limit = await self.upload_limit_for(task)
            still = await self._poster(task, result, poster_path)
            post = await self.to_fit(task, result, limit, fitted, still)
            message_id: int | None = None
            for refit in range(REFITS + 1):
                # The last try lets the notifier fall back to the link by itself.
                post = replace(post, task=task, refit=post.file_path is not None and refit < REFITS)
                try:
                    message_id = await deps.notifier.post_result(post)
                except Exception as exc:
                    # What the outcome table says (:mod:`bot.lifecycle.outcomes`, the POST column).
                    outcome = outcome_for(Phase.POST, exc)
                    if outcome is Outcome.KEEP_FOR_MEMBER:
                        await _discard(path)
                        await self.keep_for_member(task)
                        return
                    if outcome is Outcome.REFIT and isinstance(exc, UploadTooLarge):
                        refused = exc.size_bytes or post.size_bytes or limit
                        limit = self.upload_limits.lower(task, refused, limit)
                        log.info(
                            "Task %s: Discord refused %d bytes as too large; the limit there is now %d",
                            task.id,
                            refused,
                            limit,
                        )
                        post = await self.to_fit(task, result, limit, fitted, still)
                        continue
                    # It may have been posted before the error: the next attempt looks before reposting.
                    log.exception("Posting the result of task %s raised", task.id)
                    message_id = None
                break
            # Gone before the task reads "delivered": a delivered task leaves nothing behind.
            for file in made:
                await _discard(file)
            if message_id is None:
                raise _Retry("the result could not be posted anywhere")
            await self._delivered(task, message_id)
        finally:
            for file in made:
                await _discard(file)

    async def downloaded(self, task: Task, result: ResultPost) -> Task | None:
        """``downloading`` → ``delivering``, with what was delivered read from the file itself (off
        the loop: H3 runs a little longer than asked and has sound; a link-only result keeps the
        API's figure). Checked against the lease: a process that stalled past it posts nothing
        (None: the task moved on meanwhile)."""
        deps = self._deps
        facts = await asyncio.to_thread(read_facts, result.file_path) if result.file_path else UNKNOWN
        try:
            return await deps.storage.tasks.transition(
                task.id,
                TaskState.DELIVERING,
                now=deps.now(),
                lease_owner=deps.leases.owner,
                video_bytes=result.size_bytes,
                delivered_seconds=facts.seconds or task.delivered_seconds,
                has_audio=facts.has_audio,
            )
        except IllegalTransition:
            return None

    async def upload_limit_for(self, task: Task) -> int:
        """Discord's limit where the result goes (:mod:`bot.lifecycle.upload_limits`)."""
        reported = await self._deps.notifier.upload_limit(None if task.deliver_by_dm else task.guild_id)
        return max(1, self.upload_limits.limit(task, reported))

    async def _poster(self, task: Task, result: ResultPost, dest: Path) -> tuple[Path, int] | None:
        """The first frame of the video about to be posted as a small JPEG in ``dest`` (off the loop)
        and its size; None when there is no file or it cannot be made (logged, never a failure)."""
        if result.file_path is None:
            return None
        try:
            made = await self._video.run(poster, result.file_path, dest)
            return made, made.stat().st_size
        except Exception:
            log.warning("Task %s: no poster frame; posting without one", task.id, exc_info=True)
            await _discard(dest)
            return None

    async def to_fit(
        self,
        task: Task,
        result: ResultPost,
        limit: int,
        fitted: Path,
        still: tuple[Path, int] | None = None,
    ) -> ResultPost:
        """``result`` as it is when its file is within ``limit``; over it, a re-encode that fits
        (into ``fitted``, off the loop), else its link alone. The poster ``still`` goes with it when
        the two together are within the limit (Discord counts a message's files together): a
        re-encode leaves room for it, a file that fits only alone goes alone."""
        poster_path, poster_bytes = still if still is not None else (None, 0)
        if result.file_path is None or result.size_bytes is None:
            return replace(result, poster_path=poster_path)
        if result.size_bytes <= limit:
            fits_both = result.size_bytes + poster_bytes <= limit
            return replace(result, poster_path=poster_path if fits_both else None)
        # Room for the poster beside the re-encode, unless the poster would take half of it.
        room = limit - poster_bytes if limit > 2 * poster_bytes else limit
        try:
            made = await self._video.run(fit, result.file_path, fitted, room)
        except (CannotFit, NotReadable) as exc:
            log.info("Task %s: no re-encode within %d bytes (%s); posting the link", task.id, room, exc)
            return replace(result, file_path=None, size_bytes=None, poster_path=poster_path)
        log.info(
            "Task %s: re-encoded from %d to %d bytes (%dx%d) to fit %d",
            task.id,
            result.size_bytes,
            made.size_bytes,
            made.plan.width,
            made.plan.height,
            limit,
        )
        fits_both = made.size_bytes + poster_bytes <= limit
        return replace(
            result,
            file_path=fitted,
            size_bytes=made.size_bytes,
            refitted=True,
            poster_path=poster_path if fits_both else None,
        )

    async def fetch(self, task: Task, download_url: str | None, path: Path) -> ResultPost:
        """Download (within ``MAX_DOWNLOAD_MB``: a bigger one can be re-encoded to fit the upload
        limit); over that, hand back the link instead."""
        deps = self._deps
        via_dm = task.deliver_by_dm
        # By DM is private, whoever chose it (the member's dm_results or the server): never the channel.
        private = via_dm
        cap = max(1, deps.settings.max_download_bytes)
        url = download_url
        for _ in range(2):
            if url is None:
                url = await self._retrieve(task)
            fetched_at = deps.now()
            try:
                size = await deps.client.download(url, path, max_bytes=cap)
                await _readable(path)
            except MiniMaxError as exc:
                # What the outcome table says (:mod:`bot.lifecycle.outcomes`).
                outcome = outcome_for(Phase.DOWNLOAD, exc)
                if outcome is Outcome.RENEW_URL:
                    log.info("Download URL of task %s expired; retrieving a fresh one", task.id)
                    url = None
                    continue
                if outcome is Outcome.POST_LINK:
                    log.info(
                        "Video of task %s exceeds %d bytes, too big to download; posting a link", task.id, cap
                    )
                    return ResultPost(
                        task=task,
                        via_dm=via_dm,
                        private=private,
                        link=url,
                        link_expires_at=fetched_at + LINK_TTL_SECONDS,
                    )
                if outcome is Outcome.FAIL:
                    log.warning("Task %s: the download was refused: %s", task.id, exc)
                    raise DownloadRefused(exc.user_message, code=reason_code(exc)) from None
                raise _Retry(f"download failed: {exc}{exc.request_note}") from None
            return ResultPost(
                task=task,
                via_dm=via_dm,
                private=private,
                file_path=path,
                filename=f"hailuo-{task.id}.mp4",
                size_bytes=size,
                link=url,
                link_expires_at=fetched_at + LINK_TTL_SECONDS,
            )
        raise _Retry("the download URL kept expiring")

    async def fresh_link(self, task: Task) -> DownloadLink | None:
        """A new download link for a delivered video whose posted link expired; None if the API
        will not give one (the file is gone, the account is broken: the reason goes to the log)."""
        try:
            url = await self._retrieve(task)
        except _Retry as exc:
            log.warning("No fresh download link for task %s: %s", task.id, exc)
            return None
        return DownloadLink(url, self._deps.now() + LINK_TTL_SECONDS)

    async def _retrieve(self, task: Task) -> str:
        """A fresh download URL: from the file id, or (a gateway that names no file) from a new query.

        One budget token, one request: the client does not retry on its own here, the delivery's
        attempts (with their backoff) do.
        """
        deps = self._deps
        if task.file_id is None and task.api_task_id is None:
            raise _Retry("the task has neither a file id nor an API task id")
        await deps.budget.acquire()
        try:
            if task.file_id is not None:
                return (await deps.client.retrieve(task.file_id, retries=0)).download_url
            assert task.api_task_id is not None
            info = await deps.client.query(task.api_task_id, retries=0, model=task.model)
        except MiniMaxError as exc:
            # What the outcome table says (:mod:`bot.lifecycle.outcomes`): only ever a retry.
            if outcome_for(Phase.RETRIEVE, exc) is Outcome.THROTTLE:
                deps.budget.penalize(retry_after(exc))
                raise _Retry(f"retrieve rate limited: {exc}{exc.request_note}") from None
            raise _Retry(f"retrieve failed: {exc}{exc.request_note}") from None
        if info.download_url is None:
            raise _Retry("the task has no file id and its query names no download URL")
        return info.download_url

    async def _delivered(self, task: Task, message_id: int) -> None:
        deps = self._deps
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.DELIVERED,
                now=deps.now(),
                result_message_id=message_id,
                # Keep the API's finish time: it is what the learned generation time measures.
                finished_at=task.finished_at if task.finished_at is not None else deps.now(),
            )
        except IllegalTransition as exc:
            log.warning("Task %s was posted but is %s; not charged", task.id, exc.from_state)
            return
        except Exception as exc:  # a locked database, a bug: the video is out all the same
            raise _PostedNotRecorded(str(exc)) from exc
        deps.expectations.forget(task)
        if task.finished_at is not None:  # when the API said the video was done (the tracker's stamp)
            deps.metrics.delivered(deps.now() - task.finished_at)
        log.info("Task %s delivered as message %s", task.id, message_id)
        try:
            await self._cards.refresh(task)
        except Exception:  # the card is cosmetic; the delivery is done
            log.exception("Could not refresh the card of delivered task %s", task.id)

    async def keep_for_member(self, task: Task, *, tell: bool = True) -> None:
        """Only the member's side refused the video: charge it, keep it for them, tell them how to
        get it. The state is written first; a crash before the notice loses only the notice (the
        member still finds the video in ``/video list``). ``tell=False``: another take of the same
        group already says it for every take."""
        deps = self._deps
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.DELIVERED,
                now=deps.now(),
                error_code=KEPT_CODE,
                error_message=kept_message(task),
                finished_at=task.finished_at if task.finished_at is not None else deps.now(),
            )
        except IllegalTransition as exc:
            log.warning("Task %s was refused by the member but is %s; not charged", task.id, exc.from_state)
            return
        deps.expectations.forget(task)
        log.info(
            "Task %s: the member's side refused the video (DMs closed); charged and kept for them",
            task.id,
        )
        try:
            await self._cards.refresh(task)
        except Exception:  # the card is cosmetic; the video is kept either way
            log.exception("Could not refresh the card of kept task %s", task.id)
        if tell:
            await _tell_pickup(deps.notifier, task)


async def _tell_pickup(notifier: Notifier, task: Task) -> None:
    try:
        posted = await notifier.post_pickup(task)
    except Exception:
        log.exception("Could not tell the member how to get kept task %s", task.id)
        return
    if posted is None:
        log.warning("Nobody could be told how to get kept task %s; it is in their /video list", task.id)


async def _readable(path: Path) -> None:
    """:class:`UnreadableVideo` unless ``path`` reads as a video (headers and packets, no decoding:
    milliseconds, so off the loop but not through the bounded video worker)."""
    try:
        await asyncio.to_thread(probe, path)
    except NotReadable as exc:
        raise UnreadableVideo(f"the downloaded file cannot be read as a video: {exc}") from None


async def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        await asyncio.to_thread(path.unlink, missing_ok=True)
