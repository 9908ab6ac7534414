"""Where videos are downloaded (a private folder next to the database), what a crash left there (gone
at start-up), and how many deliveries run at once (``DELIVERY_CONCURRENCY``)."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.lifecycle.downloads import default_download_dir
from storage import TaskState
from tests.builders import make_settings
from tests.fakes.lifecycle_harness import Harness

BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def names_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


# ---------------------------------------------------------------------------------- the folder


def test_the_default_folder_is_next_to_the_database() -> None:
    assert default_download_dir(Path("data/videobot.sqlite3")) == Path("data/videobot-downloads")


async def test_the_default_folder_is_created_private_next_to_the_database(
    harness: Harness, tmp_path: Path
) -> None:
    database = tmp_path / "state" / "bot.sqlite3"
    service = await harness.start(download_dir=None, database_path=database)
    folder = tmp_path / "state" / "bot-downloads"
    assert folder.is_dir() and mode_of(folder) == 0o700
    task = await service.request(harness.request())
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task.id)) == 1
    assert names_in(folder) == []


async def test_an_existing_default_folder_is_made_private(harness: Harness, tmp_path: Path) -> None:
    folder = tmp_path / "bot-downloads"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    await harness.start(download_dir=None, database_path=tmp_path / "bot.sqlite3")
    assert mode_of(folder) == 0o700


async def test_a_named_folder_is_created_private_but_an_existing_one_keeps_its_mode(
    harness: Harness, tmp_path: Path
) -> None:
    new = tmp_path / "new" / "videos"
    await harness.start(download_dir=new)
    assert mode_of(new) == 0o700
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    theirs.chmod(0o750)
    await harness.start(download_dir=theirs)
    assert mode_of(theirs) == 0o750


async def test_leftover_downloads_are_removed_at_start_up_and_nothing_else(
    harness: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("task-3-1a2b3c4d.mp4", "task-4-5e6f7a8b.mp4.part", "notes.txt", "task-list.txt"):
        (folder / name).write_bytes(b"x")
    await harness.start(download_dir=folder)
    assert names_in(folder) == ["notes.txt", "task-list.txt"]


# ---------------------------------------------------------------------------------- concurrency


def test_delivery_concurrency_is_a_setting() -> None:
    assert load_settings(BASE, env_file=None).delivery_concurrency == 4
    assert load_settings({**BASE, "DELIVERY_CONCURRENCY": "2"}, env_file=None).delivery_concurrency == 2
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match="DELIVERY_CONCURRENCY"):
            load_settings({**BASE, "DELIVERY_CONCURRENCY": bad}, env_file=None)
    assert make_settings().delivery_concurrency == 4


async def test_at_most_delivery_concurrency_downloads_run_at_once(harness: Harness) -> None:
    real = harness.client.download
    release = asyncio.Event()
    in_flight = most = 0

    async def held(url: str, dest: Path, *, max_bytes: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await release.wait()
            return await real(url, dest, max_bytes=max_bytes)
        finally:
            in_flight -= 1

    harness.client.download = held  # type: ignore[method-assign]
    service = await harness.start(delivery_concurrency=2, default_quota_tenths=100)
    tasks = [await service.request(harness.request(prompt=f"a fox, take {n}")) for n in range(4)]

    # Every delivery accounted for: two downloading, two waiting for a slot.
    deadline = asyncio.get_running_loop().time() + 10
    while not (in_flight == 2 and service.delivery.waiting() == 2):
        assert asyncio.get_running_loop().time() < deadline, (in_flight, service.delivery.waiting())
        await asyncio.sleep(0.005)
    release.set()
    for task in tasks:
        assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert most == 2
    assert service.delivery.waiting() == 0
