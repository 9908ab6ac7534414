"""Everything a lifecycle test needs in one place: fake API, temp database, recording notifier.

Settings are fast (tens of milliseconds) and the fake API's clock follows real time, so a task goes
from request to delivered in well under a second. Tests wait on the notifier's condition or poll
storage with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Secret, Settings
from bot.lifecycle import VideoRequest, VideoService
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from storage import Storage, Task, TaskState
from tests.builders import CHANNEL, GUILD, USER, make_settings, video_request
from tests.fakes.fake_minimax import FakeMiniMax, TaskPlan
from tests.fakes.image_host import ImageHost
from tests.fakes.recording_notifier import RecordingNotifier

OTHER_USER = 444

FAST_PLAN = TaskPlan(preparing=0.01, queueing=0.01, processing=0.05)


def fast_settings(base_url: str, download_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "minimax_api_key": Secret("test-key"),
        "minimax_base_url": base_url,
        "minimax_rpm": 1000,
        "poll_first_delay": 0.03,
        "poll_min_interval": 0.02,
        "poll_max_interval": 0.1,
        "poll_share_of_rate": 1.0,
        "minimax_query_rpm": 60_000,
        "task_timeout": 20.0,
        "status_edit_interval": 0.01,
        "minimax_timeout": 5.0,
        "download_dir": download_dir,
        "account_pause": 600.0,
        "submit_concurrency": 2,
    }
    values.update(overrides)
    return make_settings(**values)


class Harness:
    def __init__(
        self,
        fake: FakeMiniMax,
        storage: Storage,
        notifier: RecordingNotifier,
        settings: Settings,
        session: aiohttp.ClientSession,
        images: ImageHost,
    ) -> None:
        self.fake = fake
        self.storage = storage
        self.notifier = notifier
        self.settings = settings
        self.session = session
        self.images = images
        self.client = self.make_client(settings.minimax_rpm)
        self.service: VideoService | None = None

    def make_client(self, rpm: int) -> MiniMaxClient:
        """A client with its own submit limiter (a restarted process starts with a fresh one)."""
        return MiniMaxClient(
            self.session,
            self.fake.api_key,
            self.fake.base_url,
            timeout=5.0,
            max_retries=3,
            backoff_base=0.001,
            backoff_max=0.01,
            submit_limiter=SubmitRateLimiter(rpm),
        )

    def new_service(self, **settings_overrides: Any) -> VideoService:
        settings = (
            dataclasses.replace(self.settings, **settings_overrides) if settings_overrides else self.settings
        )
        return VideoService(
            settings=settings,
            storage=self.storage,
            client=self.client,
            notifier=self.notifier,
            http=self.session,
        )

    async def start(self, **settings_overrides: Any) -> VideoService:
        """A fresh service (as after a restart), started."""
        await self.stop()
        self.service = self.new_service(**settings_overrides)
        await self.service.start()
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None

    @staticmethod
    def request(**overrides: Any) -> VideoRequest:
        fields: dict[str, Any] = {
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "user_id": USER,
            "prompt": "a red fox running through snow",
        }
        fields.update(overrides)
        return video_request(**fields)

    async def wait_state(self, task_id: int, states: Iterable[TaskState], within: float = 10.0) -> Task:
        """Poll storage until the task is in one of ``states`` (or fail after ``within`` seconds)."""
        wanted = set(states)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            task = await self.storage.tasks.get(task_id)
            if task.state in wanted:
                return task
            if loop.time() > deadline:
                raise AssertionError(f"task {task_id} stayed {task.state}, expected one of {sorted(wanted)}")
            await asyncio.sleep(0.005)

    async def wait_final(self, task_id: int, within: float = 10.0) -> Task:
        return await self.wait_state(
            task_id, (TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED, TaskState.UNKNOWN), within
        )

    async def ledger(self, task_id: int) -> list[str]:
        return [e.kind for e in await self.storage.quota.entries_for_task(task_id)]


@asynccontextmanager
async def lifecycle_harness(
    tmp_path: Path, *, flavour: str = "official", plan: TaskPlan = FAST_PLAN, **settings_overrides: Any
) -> AsyncIterator[Harness]:
    async with (
        FakeMiniMax(flavour=flavour, plan=dataclasses.replace(plan), speed=1.0) as fake,  # type: ignore[arg-type]
        ImageHost() as images,
        aiohttp.ClientSession() as session,
    ):
        storage = await Storage.open(tmp_path / "bot.sqlite3", default_limit_tenths=50, default_period="day")
        settings = fast_settings(fake.base_url, tmp_path / "downloads", **settings_overrides)
        fake.require_duration = True  # what the bot sends must pass a reseller enforcing its spec
        harness = Harness(fake, storage, RecordingNotifier(), settings, session, images)
        try:
            yield harness
        finally:
            await harness.stop()
            await storage.close()
