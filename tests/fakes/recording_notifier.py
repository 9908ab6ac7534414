"""A Notifier that records everything the lifecycle tells members, for tests without Discord.

It behaves like a channel that keeps its messages: results can be looked up again (``find_result``),
status messages can be "deleted" to exercise the repost path, and posting can be made to fail.
Waiting is on a condition variable, never on sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.lifecycle.notifier import (
    DEFAULT_UPLOAD_LIMIT,
    MemberRefused,
    ResultPost,
    StatusCard,
    UploadTooLarge,
)
from cogs.followups import FollowupRegistry
from storage.models import Task


@dataclass
class PostedResult:
    message_id: int
    task_id: int
    via_dm: bool
    data: bytes | None  # the uploaded file's bytes (the file itself is deleted after posting)
    link: str | None
    link_expires_at: float | None
    filename: str
    refitted: bool = False  # the file is a re-encode made to fit the upload limit
    poster: bytes | None = None  # the poster frame's JPEG, read at posting (it is deleted after)


@dataclass
class GroupReply:
    """One reply of a group (``variations``): its takes (each a :class:`PostedResult` under the
    reply's message id), the takes it lists as failed, and which reply of how many it is."""

    message_id: int
    takes: list[PostedResult]
    failed: tuple[int, ...]
    part: tuple[int, int]


@dataclass
class RecordingNotifier:
    upload_limits: dict[int | None, int] = field(default_factory=dict)
    thread_parents: dict[int, int] = field(default_factory=dict)  # thread id → its channel
    default_upload_limit: int = DEFAULT_UPLOAD_LIMIT
    # What "Discord" really accepts (None: whatever is sent): a bigger file is refused as too large,
    # as a 413 / 40005 would be (UploadTooLarge when the post asks for it, else the link).
    accepts_bytes: int | None = None
    too_large: list[int] = field(default_factory=list)  # sizes refused as too large
    cards: list[StatusCard] = field(default_factory=list)
    edits: list[StatusCard] = field(default_factory=list)
    results: list[PostedResult] = field(default_factory=list)
    group_replies: list[GroupReply] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    deleted_status: set[int] = field(default_factory=set)
    fail_posts: int = 0  # post_result returns None this many times
    raise_failure_posts: int = 0  # post_failure raises this many times (Discord down)
    crash_posts: int = 0  # post_result raises this many times (a bug on the Discord side)
    post_status_ok: bool = True
    refuse_edits: int = 0  # edit_status shows nothing (returns None) this many times
    # Members whose DMs refuse the bot (Discord's 50007), with no interaction follow-up left: as
    # DiscordNotifier, a private result to them raises MemberRefused, a DM-preferring public one
    # falls back to the channel, and a DM-only failure notice reaches no one.
    dm_closed: set[int] = field(default_factory=set)
    pickups: list[int] = field(default_factory=list)  # task ids told how to get a kept video
    threads: dict[int, int] = field(default_factory=dict)  # task id → the thread opened on its card
    open_threads_ok: bool = True
    # (what, task id, the task's thread when it was posted): where results and failures went.
    thread_posts: list[tuple[str, int, int | None]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # What result_video_url answers per task id (a test serves the posted file, e.g. on ImageHost).
    video_urls: dict[int, str] = field(default_factory=dict)
    # Set: post_result waits for it before posting (a test stops the service there: a crash mid-post).
    post_gate: asyncio.Event | None = None
    # As DiscordNotifier's: the cogs keep interaction follow-ups here (they are never used to post).
    followups: FollowupRegistry = field(default_factory=FollowupRegistry)

    def __post_init__(self) -> None:
        self._ids = itertools.count(900_000)
        self._changed = asyncio.Condition()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(reached(), within)

    # -- the Notifier protocol ---------------------------------------------------------------

    async def post_status(self, card: StatusCard) -> int | None:
        self.calls.append(f"post_status:{card.task.id}")
        self.cards.append(card)
        await self._notify()
        return next(self._ids) if self.post_status_ok else None

    async def open_thread(self, task: Task) -> int | None:
        self.calls.append(f"open_thread:{task.id}")
        if not self.open_threads_ok:
            return None
        self.threads[task.id] = next(self._ids)
        await self._notify()
        return self.threads[task.id]

    async def edit_status(self, card: StatusCard) -> int | None:
        self.calls.append(f"edit_status:{card.task.id}:{card.task.state}")
        if self.refuse_edits > 0:
            self.refuse_edits -= 1
            await self._notify()
            return None
        self.edits.append(card)
        message_id = card.task.status_message_id
        if message_id is None or message_id in self.deleted_status:
            message_id = next(self._ids)  # reposted as a new message
        await self._notify()
        return message_id

    async def post_result(self, result: ResultPost) -> int | None:
        self.calls.append(f"post_result:{result.task.id}")
        if self.post_gate is not None:
            await self._notify()
            await self.post_gate.wait()
        if self.crash_posts > 0:
            self.crash_posts -= 1
            await self._notify()
            raise RuntimeError("simulated Discord bug")
        if self.fail_posts > 0:
            self.fail_posts -= 1
            await self._notify()
            return None
        via_dm = result.via_dm
        if via_dm and result.task.user_id in self.dm_closed:
            if result.private:
                await self._notify()
                raise MemberRefused(f"task {result.task.id}: DMs closed")
            via_dm = False  # the channel takes it
        if result.takes:
            return await self._post_group(result, via_dm)
        data = await asyncio.to_thread(Path(result.file_path).read_bytes) if result.file_path else None
        poster = await asyncio.to_thread(result.poster_path.read_bytes) if result.poster_path else None
        if data is not None and self.accepts_bytes is not None and len(data) > self.accepts_bytes:
            self.too_large.append(len(data))
            if result.refit:
                await self._notify()
                raise UploadTooLarge(len(data))
            data = None  # the link instead, as DiscordNotifier falls back
        posted = PostedResult(
            next(self._ids),
            result.task.id,
            via_dm,
            data,
            result.link if data is None else None,
            result.link_expires_at if data is None else None,
            result.filename,
            refitted=data is not None and result.refitted,
            poster=poster,
        )
        self.results.append(posted)
        self.thread_posts.append(("result", result.task.id, result.task.thread_id))
        await self._notify()
        return posted.message_id

    async def _post_group(self, result: ResultPost, via_dm: bool) -> int:
        files = [
            await asyncio.to_thread(Path(take.file_path).read_bytes) if take.file_path else None
            for take in result.takes
        ]
        total = sum(len(data) for data in files if data is not None)
        if self.accepts_bytes is not None and total > self.accepts_bytes:
            # Discord counts a message's files together.
            self.too_large.append(total)
            if result.refit:
                await self._notify()
                raise UploadTooLarge(total)
            files = [None] * len(files)  # every take as its link, as DiscordNotifier falls back
        message_id = next(self._ids)
        posted: list[PostedResult] = []
        for take, data in zip(result.takes, files, strict=True):
            posted.append(
                PostedResult(
                    message_id,
                    take.task.id,
                    via_dm,
                    data,
                    take.link if data is None else None,
                    take.link_expires_at if data is None else None,
                    take.filename,
                    refitted=data is not None and take.refitted,
                )
            )
        self.results.extend(posted)
        self.group_replies.append(
            GroupReply(message_id, posted, tuple(t.id for t in result.failed), result.part)
        )
        self.thread_posts.append(("result", result.task.id, result.task.thread_id))
        await self._notify()
        return message_id

    async def post_failure(self, task: Task, message: str) -> int | None:
        self.calls.append(f"post_failure:{task.id}")
        if self.raise_failure_posts > 0:
            self.raise_failure_posts -= 1
            raise RuntimeError("Discord is down")
        if task.deliver_by_dm and task.user_id in self.dm_closed:
            await self._notify()
            return None
        self.failures.append((task.id, message))
        self.thread_posts.append(("failure", task.id, task.thread_id))
        await self._notify()
        return next(self._ids)

    async def post_pickup(self, task: Task) -> int | None:
        self.calls.append(f"post_pickup:{task.id}")
        self.pickups.append(task.id)
        await self._notify()
        return next(self._ids)

    async def find_result(self, task: Task) -> int | None:
        self.calls.append(f"find_result:{task.id}")
        for posted in self.results:
            if posted.task_id == task.id:
                return posted.message_id
        return None

    async def find_failure(self, task: Task) -> int | None:
        self.calls.append(f"find_failure:{task.id}")
        return next((n for n, (task_id, _) in enumerate(self.failures, 1) if task_id == task.id), None)

    async def upload_limit(self, guild_id: int | None) -> int:
        return self.upload_limits.get(guild_id, self.default_upload_limit)

    async def channel_parent(self, channel_id: int) -> int | None:
        return self.thread_parents.get(channel_id)

    async def result_video_url(self, task: Task) -> str | None:
        self.calls.append(f"result_video_url:{task.id}")
        return self.video_urls.get(task.id)

    # -- helpers for assertions --------------------------------------------------------------

    def results_for(self, task_id: int) -> list[PostedResult]:
        return [r for r in self.results if r.task_id == task_id]

    def failures_for(self, task_id: int) -> list[str]:
        return [m for t, m in self.failures if t == task_id]

    def last_edit(self, task_id: int) -> StatusCard | None:
        for card in reversed(self.edits):
            if card.task.id == task_id:
                return card
        return None
