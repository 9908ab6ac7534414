"""One bot process of the shared-work test: a whole VideoService on a PostgreSQL database.

``python shared_worker.py DATABASE_URL API_BASE DELIVERIES WINDOW RPM LEASE INDEX REQUESTS``

Prints ``ready <lease owner>`` once started, waits for a line on stdin, asks for REQUESTS videos
(unique prompts, spread over three guilds), prints ``requested``, then works until stdin closes (a
clean stop) or it is SIGKILLed. Results are "posted" by appending ``task_id message_id`` to the
DELIVERIES file, which every process reads back as its channel (so a process taking over a task
finds a post its dead predecessor made). WINDOW shortens the API's one-minute rate window, so the
test meets the limit in seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
from pathlib import Path

import aiohttp

from bot.lifecycle import ResultPost, VideoService
from bot.minimax import ratelimit
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from storage import Storage, Task
from tests.builders import video_request
from tests.fakes.lifecycle_harness import fast_settings
from tests.fakes.recording_notifier import RecordingNotifier

GUILDS = (7001, 7002, 7003)


class FileNotifier(RecordingNotifier):
    """Results go to one file shared by the processes, as a channel shared by the bot's shards."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._numbers = itertools.count(1)

    async def post_result(self, result: ResultPost) -> int | None:
        message_id = os.getpid() * 1_000_000 + next(self._numbers)
        with self.path.open("a") as out:  # one short O_APPEND write: lines never interleave
            out.write(f"{result.task.id} {message_id}\n")
        return message_id

    async def find_result(self, task: Task) -> int | None:
        if not self.path.exists():
            return None
        for line in self.path.read_text().splitlines():
            task_id, message_id = line.split()
            if int(task_id) == task.id:
                return int(message_id)
        return None


async def main(
    url: str, base: str, deliveries: str, window: float, rpm: int, lease: float, index: int, requests: int
) -> None:
    ratelimit.WINDOW_SECONDS = window
    storage = await Storage.open(url, default_limit_tenths=1_000_000)
    async with aiohttp.ClientSession() as session:
        client = MiniMaxClient(
            session,
            "test-key",
            base,
            timeout=10.0,
            max_retries=3,
            backoff_base=0.01,
            backoff_max=0.1,
            submit_limiter=SubmitRateLimiter(rpm),
        )
        settings = fast_settings(
            base,
            Path(tempfile.mkdtemp(prefix=f"shared-worker-{index}-")),
            minimax_rpm=rpm,
            lease_seconds=lease,
            poll_first_delay=0.3,
            poll_min_interval=0.2,
            poll_max_interval=0.5,
            minimax_query_rpm=6000,
        )
        service = VideoService(
            settings=settings,
            storage=storage,
            client=client,
            notifier=FileNotifier(Path(deliveries)),
            http=session,
        )
        await service.start()
        loop = asyncio.get_running_loop()
        print(f"ready {service.leases.owner}", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        for n in range(requests):
            await service.request(
                video_request(
                    guild_id=GUILDS[n % len(GUILDS)],
                    channel_id=GUILDS[n % len(GUILDS)] + 1,
                    user_id=9000 + index * 100 + n,
                    prompt=f"process {index} video {n}: a paper boat on a river",
                    model="MiniMax-H3",
                    duration=6,
                    resolution="768P",
                )
            )
        print("requested", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # EOF: stop cleanly
        await service.stop()
    await storage.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            args[0],
            args[1],
            args[2],
            float(args[3]),
            int(args[4]),
            float(args[5]),
            int(args[6]),
            int(args[7]),
        )
    )
