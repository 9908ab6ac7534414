"""What the lifecycle needs from a chat platform, as a Protocol over plain data.

The services decide *what* to tell members and *when*; a notifier only knows *how* to put it in front
of them. Keeping Discord behind this seam lets the whole lifecycle run in tests with a recording fake,
and keeps every Discord failure (deleted message, lost permission) on the notifier's side: its methods
report what they managed to do and never raise into the poller, with one exception that is a
verdict, not a failure: :class:`MemberRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from storage.models import Task

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # an unboosted Discord server


class MemberRefused(Exception):
    """Only the member's side refused the result: Discord would not let the bot DM them (their DMs
    are closed to it, they blocked it, or they share no server with it any more), and no other place
    that is theirs (an interaction follow-up still within its window) was left to try.

    Raised by :meth:`Notifier.post_result`. The video was made, so it is charged and kept for the
    member to fetch (:mod:`bot.lifecycle.outcomes`, the ``POST`` column), never refunded: a refund
    would let anyone with closed DMs make billed videos for free.
    """


class UploadTooLarge(Exception):
    """Discord refused the file as too large (HTTP 413, error 40005): the limit where it was posted
    is lower than the bot believed. Raised by :meth:`Notifier.post_result` for a result with
    ``refit`` set, so the delivery lowers the limit and posts a smaller re-encode (or the link);
    without it the notifier posts the link itself."""

    def __init__(self, size_bytes: int | None) -> None:
        super().__init__(f"a {size_bytes}-byte upload was refused as too large")
        self.size_bytes = size_bytes


@dataclass(frozen=True)
class StatusCard:
    """Everything the status card shows; the notifier renders it, it does not look anything up."""

    task: Task
    queue_position: int | None = None  # the exact place, near the front of the queue only
    in_line: bool = False  # queued further back: the card says "in line" (and ``eta``)
    expected_seconds: float | None = None  # how long a generation like this usually takes
    eta: float | None = None  # unix time the video is expected, for a relative timestamp
    note: str | None = None  # a line for the member, e.g. why it failed
    # A group's card (``variations``): every take as last seen, by take number (``task`` is the
    # first take, whose card it is); empty for a task alone.
    takes: tuple[Task, ...] = ()


@dataclass(frozen=True)
class ResultPost:
    """A finished video: a local file to upload, or a link (over the upload limit) with its expiry.

    With a file, ``link`` (when known) is the fallback should the upload be refused as too large.
    """

    task: Task
    via_dm: bool
    # Private results (the member's ``dm_results`` or the server's policy): never fall back to the
    # channel. The delivery sets it for every task delivered by DM.
    private: bool = False
    file_path: Path | None = None
    filename: str = "video.mp4"
    link: str | None = None
    link_expires_at: float | None = None
    size_bytes: int | None = None  # of ``file_path`` (the re-encode when ``refitted``)
    # The file is a re-encode made to fit the upload limit: the card says so (full quality: Details).
    refitted: bool = False
    # A file refused as too large raises :class:`UploadTooLarge` (the delivery makes a smaller one)
    # instead of falling back to the link.
    refit: bool = False
    # The video's first frame as a small JPEG, shown on the result (with the file or the link alone);
    # None when it could not be made or would not fit beside the file.
    poster_path: Path | None = None
    # A group's reply (``variations``): each take's file or link (``task`` is the first take, whose
    # card the reply answers; the post's own file and link are unused), the takes that failed (listed
    # as refunded), and which of the group's consecutive replies this is (1-based, of how many).
    takes: tuple[ResultPost, ...] = ()
    failed: tuple[Task, ...] = ()
    part: tuple[int, int] = (1, 1)


@runtime_checkable
class Notifier(Protocol):
    async def post_status(self, card: StatusCard) -> int | None:
        """Post the status card in the task's channel; the message id, or None if it could not."""
        ...

    async def edit_status(self, card: StatusCard) -> int | None:
        """Show ``card`` on the task's status message; the id of the message now showing it.

        Returns a different id when the old message was gone and a new one was posted, None when
        nothing could be shown.
        """
        ...

    async def open_thread(self, task: Task) -> int | None:
        """Open a thread on the task's status card (the team's talk about this take); its id, or
        None when it could not (the card is in a thread already, or the bot may not)."""
        ...

    async def post_result(self, result: ResultPost) -> int | None:
        """Deliver the video (in the task's thread, else the channel replying to the card, or by DM);
        the message id or None.

        Raises :class:`MemberRefused` when every place tried refused it on the member's side only,
        and :class:`UploadTooLarge` when ``result.refit`` is set and the file was refused as too large.
        """
        ...

    async def post_pickup(self, task: Task) -> int | None:
        """Tell the requester of a private video they could not be sent (:class:`MemberRefused`) how
        to get it. In the channel it says only that a private video is ready and to use
        ``/video status``: nothing of the prompt or the images. The message id, or None."""
        ...

    async def post_failure(self, task: Task, message: str) -> int | None:
        """Tell the requester a task failed (or needs a moderator); the message id or None."""
        ...

    async def find_result(self, task: Task) -> int | None:
        """The id of a result already posted for ``task`` (after a crash mid-delivery), else None."""
        ...

    async def find_failure(self, task: Task) -> int | None:
        """The id of a failure notice already posted for ``task`` (after a crash between the task
        failing and the notice going out), else None."""
        ...

    async def upload_limit(self, guild_id: int | None) -> int:
        """The largest file the bot may upload where this guild's results go."""
        ...

    async def result_video_url(self, task: Task) -> str | None:
        """A fresh URL of the video attached to ``task``'s result message (what Extend and Loop
        start from); None when the message or its video is gone, or the result was a link."""
        ...

    async def channel_parent(self, channel_id: int) -> int | None:
        """The parent channel when ``channel_id`` is a thread (whose rules follow its parent's)."""
        ...
