"""Reference media (several per task) and the delivered facts, stored and read back."""

from __future__ import annotations

import dataclasses

from bot.spec import MediaKind, MediaRef, MediaRole, Mode, VideoSpec
from storage import NewTask, Storage
from tests.storage.conftest import CHANNEL, GUILD, T0, USER

REFS = (
    MediaRef("https://cdn/a.png", MediaRole.REFERENCE_IMAGE),
    MediaRef("https://cdn/b.png", MediaRole.REFERENCE_IMAGE),
    MediaRef("https://cdn/c.mp4", MediaRole.REFERENCE_VIDEO, MediaKind.VIDEO),
    MediaRef("https://cdn/d.mp3", MediaRole.REFERENCE_AUDIO, MediaKind.AUDIO),
)


def h3_task(media: tuple[MediaRef, ...]) -> NewTask:
    spec = VideoSpec(
        "a mood board",
        model="MiniMax-H3",
        duration=15,
        resolution="2K",
        ratio="16:9",
        prompt_optimizer=True,
        fast=False,
        media=media,
    )
    return NewTask(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, spec=spec, cost_tenths=10)


async def test_references_keep_their_order_roles_and_kinds(store: Storage) -> None:
    task = await store.quota.reserve(h3_task(REFS), now=T0)
    again = (await store.tasks.get(task.id)).spec
    assert [(m.url, m.role, m.kind, m.checked) for m in again.media] == [
        (m.url, m.role, m.kind, True) for m in REFS
    ]
    assert again.mode is Mode.REFERENCE and again == task.spec
    assert again.as_stored() == again  # regenerate makes the same request


async def test_a_task_without_references_stores_none(store: Storage) -> None:
    task = await store.quota.reserve(h3_task(()), now=T0)
    assert task.spec.media == () and task.delivered_seconds is None and task.has_audio is None


async def test_delivered_seconds_and_sound_are_kept(store: Storage) -> None:
    task = await store.quota.reserve(h3_task(()), now=T0)
    changed = await store.tasks.update_fields(task.id, delivered_seconds=15.083, has_audio=True)
    assert (changed.delivered_seconds, changed.has_audio) == (15.083, True)
    assert dataclasses.replace(await store.tasks.get(task.id), spec=changed.spec) == changed
