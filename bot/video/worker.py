"""Video work off the event loop, a bounded number at once.

Decoding and encoding are CPU-bound for seconds: on the loop they would stall every interaction, and
many at once would starve the poller of the machine's few cores. Each call runs in a worker thread
(PyAV releases the GIL inside FFmpeg) behind a semaphore of ``slots``; x264 already spreads one
encode over the cores, so one slot is the default. A cancelled caller stops waiting at once; the
thread finishes the operation it started (FFmpeg cannot be interrupted) and its output is the
caller's to discard.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_SLOTS = 1


class VideoWorker:
    def __init__(self, slots: int = DEFAULT_SLOTS) -> None:
        self._slots = asyncio.Semaphore(max(1, slots))
        self._waiting = 0

    def waiting(self) -> int:
        """Calls waiting for a slot."""
        return self._waiting

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            return await asyncio.to_thread(work, *args, **kwargs)
        finally:
            self._slots.release()
