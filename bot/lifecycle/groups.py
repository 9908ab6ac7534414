"""A group's one reply: the takes of ``/video generate variations:N``, delivered together.

Each take is a task of its own (submitted, polled, charged on delivery, refunded alone on failure),
but none is posted alone: a take whose video is done waits in ``downloading`` until every take of its
group is done or over (failed, cancelled). Then one job downloads every finished take, fits each to
the upload limit, and posts them in one reply (one attachment per take, ``take-1.mp4``…, buttons per
take; the failed ones listed as refunded). Takes that do not fit one message together go in
consecutive replies (:func:`pack`), none dropped; a take that no re-encode fits goes as its link.

Crash safety: every take moves to ``delivering`` before anything is posted, and
:meth:`~storage.tasks.TaskRepository.deliver_group` records the reply (each posted take delivered
and charged, ``group_posted_at`` on the first take) in one transaction after it is out. A restart
finds the group again (its takes ``delivering``, or :meth:`unposted_groups`), looks for a reply
already posted for each take before posting, and so posts it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bot.backoff import backoff
from bot.catalog import credits_text
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.delivery import DELIVERY_ATTEMPTS, DELIVERY_FAILED, REFITS, Delivery, DownloadRefused
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.downloads import DOWNLOAD_PREFIX
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.notifier import MemberRefused, ResultPost, UploadTooLarge
from storage.errors import IllegalTransition, LeaseLost, StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

MAX_FILES_PER_MESSAGE = 10  # Discord's most attachments on one message
_READY = (TaskState.DOWNLOADING, TaskState.DELIVERING)


def all_failed_message(takes: Sequence[Task]) -> str:
    refunded = credits_text(sum(t.cost_tenths for t in takes))
    return f"All {len(takes)} takes failed; every credit ({refunded}) was refunded. Please try again."


def pack(
    sizes: Sequence[int | None], limit: int, *, max_files: int = MAX_FILES_PER_MESSAGE
) -> list[list[int]]:
    """Which takes go in which message, in take order: files until the next would pass ``limit``
    bytes in all (or :data:`MAX_FILES_PER_MESSAGE`); a link (``None``) costs nothing. Every file
    is at most ``limit`` itself (fitted before), so each lands somewhere."""
    chunks: list[list[int]] = []
    used, files = 0, 0
    for index, size in enumerate(sizes):
        cost = size or 0
        if not chunks or used + cost > limit or (size is not None and files >= max_files):
            chunks.append([])
            used, files = 0, 0
        chunks[-1].append(index)
        used += cost
        files += size is not None
    return chunks


class _Retry(Exception):
    """This attempt failed in a way a later attempt may not."""


class GroupDelivery:
    def __init__(
        self, deps: LifecycleDeps, cards: StatusCards, failures: FailurePath, delivery: Delivery
    ) -> None:
        self._deps = deps
        self._cards = cards
        self._failures = failures
        self._delivery = delivery
        self._jobs = Jobs()  # group id → its reply
        self._urls: dict[int, str] = {}  # take id → the download URL its query named

    async def stop(self) -> None:
        await self._jobs.cancel_all()

    async def settle(self, group_id: int) -> None:
        await self._jobs.settle(group_id)

    async def ready(self, task: Task, download_url: str | None) -> None:
        """A take's video is done: deliver the group when it is its last one."""
        if download_url is not None:
            self._urls[task.id] = download_url
        if task.group_id is None:
            return
        try:
            first = await self._deps.storage.tasks.get(task.group_id)
        except StorageError:
            log.exception("Could not read group %s", task.group_id)
            return
        if first.group_posted_at is not None:
            # The group's reply went out without this take (another process held it then): it is
            # delivered on its own, so it is never left waiting.
            log.info("Take %s is ready after its group's reply; delivering it alone", task.id)
            await self._delivery.deliver(task, self._urls.pop(task.id, None), alone=True)
            return
        await self.check(task)

    async def check(self, task: Task) -> None:
        """Start the group's reply when every take is done or over, and it is not posted yet."""
        if task.group_id is not None:
            await self.check_group(task.group_id)

    async def check_group(self, group_id: int) -> None:
        if self._jobs.running(group_id):
            return
        try:
            takes = await self._deps.storage.tasks.group(group_id)
        except StorageError:
            log.exception("Could not read the takes of group %s", group_id)
            return
        if not takes or takes[0].group_posted_at is not None:
            return
        if not all(t.state.final or t.state in _READY for t in takes):
            return  # a take is still on its way: its end checks again
        self._jobs.start(self._deliver(group_id), name=f"deliver-group-{group_id}", key=group_id)

    async def _deliver(self, group_id: int) -> None:
        deps = self._deps
        try:
            for attempt in range(1, DELIVERY_ATTEMPTS + 1):
                try:
                    await self._attempt(group_id, last=attempt == DELIVERY_ATTEMPTS)
                    return
                except _Retry as exc:
                    log.warning("Delivering group %s failed (attempt %d): %s", group_id, attempt, exc)
                except Exception:
                    log.exception("Delivering group %s failed unexpectedly (attempt %d)", group_id, attempt)
                if attempt < DELIVERY_ATTEMPTS:
                    await asyncio.sleep(backoff(attempt, base=deps.timing.min_interval))
            # Every attempt failed: a take found posted is recorded, every other one fails (refunded).
            found: dict[int, int] = {}
            for take in await deps.storage.tasks.group(group_id):
                if take.state not in _READY:
                    continue
                message_id = await deps.notifier.find_result(take)
                if message_id is not None and take.state is TaskState.DELIVERING:
                    found[take.id] = message_id
                else:
                    await self._failures.fail(take, DELIVERY_FAILED, code="delivery_failed")
            takes = await deps.storage.tasks.group(group_id)
            if not found and not any(t.state is TaskState.DELIVERED for t in takes):
                await self._all_failed(takes[0], takes)
            else:
                await deps.storage.tasks.deliver_group(group_id, found, now=deps.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Delivering group %s crashed; it resumes at the next start", group_id)

    async def _attempt(self, group_id: int, *, last: bool = False) -> None:
        """One try at the group's reply. ``last``: a take that cannot be fetched now fails alone
        (refunded) and the others are posted without it."""
        deps = self._deps
        takes = await deps.storage.tasks.group(group_id)
        first = takes[0]
        if first.group_posted_at is not None:
            return
        live = [t for t in takes if t.state in _READY]
        if not live:
            await self._all_failed(first, takes)
            return
        posted: dict[int, int] = {}
        for take in live:
            if take.state is TaskState.DELIVERING:  # a crash mid-delivery: was it posted already?
                found = await deps.notifier.find_result(take)
                if found is not None:
                    posted[take.id] = found
        todo = [t for t in live if t.id not in posted]
        paths: list[Path] = []
        try:
            fetched = [await self._fetch(take, paths, last=last) for take in todo]
            takes = await deps.storage.tasks.group(group_id)  # a take may have failed meanwhile
            results = [r for r in fetched if r is not None]
            if not results and not posted:  # every take left failed alone (each refunded)
                await self._all_failed(first, takes)
                return
            if results:
                try:
                    posted.update(await self._post(first, takes, results, paths))
                except MemberRefused:
                    # One pick-up line for the group (it points to /video list), not one per take.
                    for number, result in enumerate(results):
                        await self._delivery.keep_for_member(result.task, tell=number == 0)
        finally:
            for path in paths:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(path.unlink, missing_ok=True)
        stored = await deps.storage.tasks.deliver_group(group_id, posted, now=deps.now())
        for take in stored:
            if take.id in posted:
                deps.expectations.forget(take)
                if take.finished_at is not None:
                    deps.metrics.delivered(deps.now() - take.finished_at)
                log.info(
                    "Take %s/%s (task %s) delivered as message %s",
                    take.take,
                    take.takes,
                    take.id,
                    posted[take.id],
                )
        try:
            await self._cards.refresh(stored[0])
        except Exception:  # the card is cosmetic; the delivery is done
            log.exception("Could not refresh the card of group %s", group_id)

    async def _fetch(self, take: Task, paths: list[Path], *, last: bool) -> ResultPost | None:
        """Download a take and move it to ``delivering`` (None: it moved on, is not ours, or failed
        alone: refused for good, or still failing at the ``last`` try)."""
        path = self._delivery.download_dir / f"{DOWNLOAD_PREFIX}{take.id}-{uuid.uuid4().hex[:8]}.mp4"
        paths.append(path)
        try:
            result = await self._delivery.fetch(take, self._urls.pop(take.id, None), path)
        except DownloadRefused as refused:  # this take alone: the others still arrive
            await self._failures.fail(take, refused.message, code=refused.code)
            return None
        except Exception as exc:
            if last:
                log.warning("Take %s could not be fetched at the last try: %s", take.id, exc)
                await self._failures.fail(take, DELIVERY_FAILED, code="delivery_failed")
                return None
            raise _Retry(f"take {take.id}: {exc}") from exc
        if take.state is TaskState.DOWNLOADING:
            try:
                moved = await self._delivery.downloaded(take, result)
            except LeaseLost:
                log.warning("Take %s is worked on by another process", take.id)
                return None
            if moved is None:
                return None
            take = moved
        return replace(result, task=take, filename=f"take-{take.take}.mp4")

    async def _post(
        self, first: Task, takes: Sequence[Task], results: list[ResultPost], paths: list[Path]
    ) -> dict[int, int]:
        """Post the takes in as few replies as fit the upload limit; take id → its message.

        A reply Discord refuses as too large (the limit is lower than believed) lowers the limit
        and the takes not yet posted are fitted again, as a single result is; the last try lets
        the notifier post their links instead."""
        deps = self._deps
        limit = await self._delivery.upload_limit_for(first)
        failed = tuple(t for t in takes if t.state in (TaskState.FAILED, TaskState.CANCELLED))
        posted: dict[int, int] = {}
        replies = 0
        for refit in range(REFITS + 1):
            waiting = [r for r in results if r.task.id not in posted]
            fitted = [await self._fit(r, limit, paths) for r in waiting]
            chunks = pack([r.size_bytes if r.file_path else None for r in fitted], limit)
            try:
                for number, chunk in enumerate(chunks):
                    files = any(fitted[i].file_path is not None for i in chunk)
                    post = ResultPost(
                        task=first,
                        via_dm=first.deliver_by_dm,
                        private=first.deliver_by_dm,
                        takes=tuple(fitted[i] for i in chunk),
                        failed=failed if replies + number == 0 else (),
                        part=(replies + number + 1, replies + len(chunks)),
                        refit=files and refit < REFITS,
                    )
                    message_id = await deps.notifier.post_result(post)
                    if message_id is None:
                        raise _Retry("the group's reply could not be posted anywhere")
                    for i in chunk:
                        posted[fitted[i].task.id] = message_id
                return posted
            except UploadTooLarge as exc:
                replies = len(set(posted.values()))
                refused = exc.size_bytes or limit
                limit = self._delivery.upload_limits.lower(first, refused, limit)
                log.info(
                    "Group %s: Discord refused %d bytes as too large; the limit there is now %d",
                    first.id,
                    refused,
                    limit,
                )
        return posted  # not reached: the last try never asks for a refit

    async def _fit(self, result: ResultPost, limit: int, paths: list[Path]) -> ResultPost:
        """``result`` fitted within ``limit`` (from its downloaded file, so a second fit starts from
        the original, not from the first re-encode)."""
        if result.file_path is None:
            return result
        target = result.file_path.with_name(f"{result.file_path.stem}-fit.mp4")
        if target not in paths:
            paths.append(target)
        return await self._delivery.to_fit(result.task, result, limit, target)

    async def _all_failed(self, first: Task, takes: Sequence[Task]) -> None:
        """Every take failed (or was cancelled): all refunded already; the card and one notice say
        so, and the group is recorded as answered."""
        deps = self._deps
        message = all_failed_message(takes)
        await self._cards.refresh(first, note=message)
        if any(t.state is TaskState.FAILED for t in takes):
            await self._failures.tell(first, message)
        try:
            await deps.storage.tasks.deliver_group(first.id, {}, now=deps.now())
        except (StorageError, IllegalTransition):
            log.exception("Could not record that group %s is answered", first.id)
