"""Builders for the plain values many tests need: a spec, a task to reserve, a request, ``Settings``.

Why one place: the same nine-field ``NewTask`` and the same secret-only ``Settings`` were written out
in a dozen tests, positionally in most, so a field added to either (a new video option) meant
editing every one. A test states only what it is about: ``make_new_task(prompt="…", duration=10)``.

The spec builders take the flat keyword names the options have on the command (``first_frame=``,
``fast=``) and in the database (``first_frame_url=``, ``fast_pretreatment=``), so a test says what it
means in the words a member or a moderator would see, and builds the one :class:`VideoSpec` from them.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Secret, Settings
from bot.lifecycle import VideoRequest
from bot.spec import MediaRef, MediaRole, VideoSpec
from storage.migrations import MIGRATIONS
from storage.models import NewTask, Task

# The ids of the lifecycle harness's guild, channel and member (``tests.fakes.lifecycle_harness``).
GUILD, CHANNEL, USER = 111, 222, 333
PROMPT = "a red fox running through snow"


def make_new_task(
    *,
    guild_id: int | None = GUILD,
    channel_id: int = CHANNEL,
    user_id: int = USER,
    prompt: str = PROMPT,
    **overrides: Any,
) -> NewTask:
    """A 6-second 768P text-to-video on MiniMax-Hailuo-2.3 costing one credit, unless overridden."""
    fields: dict[str, Any] = {
        "model": "MiniMax-Hailuo-2.3",
        "mode": "text",
        "cost_tenths": 10,
        "duration": 6,
        "resolution": "768P",
        **overrides,
    }
    return new_task_of(guild_id=guild_id, channel_id=channel_id, user_id=user_id, prompt=prompt, **fields)


def make_settings(**overrides: Any) -> Settings:
    """Settings with test secrets and a small default quota (5 credits a day); the rest as shipped,
    except the cap on a member's tasks in flight: quota and queue tests queue many tasks for one
    member (the cap's own tests set ``max_queued_per_member``)."""
    values: dict[str, Any] = {
        "discord_token": Secret("discord-token"),
        "minimax_api_key": Secret("minimax-key"),
        "default_quota_tenths": 50,
        "default_quota_period": "day",
        "max_queued_per_member": 1000,
        **overrides,
    }
    return Settings(**values)


_SPEC_FIELDS = frozenset(f.name for f in dataclasses.fields(VideoSpec)) - {"media"}


def sent_spec(
    model: str,
    prompt: str,
    duration: int | None = None,
    resolution: str | None = None,
    *,
    first_frame_image: str | None = None,
    last_frame_image: str | None = None,
    subject_image: str | None = None,
    prompt_optimizer: bool = True,
    fast_pretreatment: bool = False,
) -> VideoSpec:
    """A spec exactly as the client is to send it (the API's own field names)."""
    return VideoSpec(
        prompt=prompt,
        model=model,
        duration=duration,
        resolution=resolution,
        prompt_optimizer=prompt_optimizer,
        fast=fast_pretreatment,
        media=_media(
            {
                MediaRole.FIRST_FRAME: first_frame_image,
                MediaRole.LAST_FRAME: last_frame_image,
                MediaRole.SUBJECT: subject_image,
            }
        ),
    )


def image(url: str, **metadata: Any) -> MediaRef:
    """An attached image; the option it is given as (``first_frame=``…) sets its role."""
    return MediaRef(url=url, role=MediaRole.FIRST_FRAME, **metadata)


def _media(given: dict[MediaRole, MediaRef | str | None]) -> tuple[MediaRef, ...]:
    media = []
    for role, value in given.items():
        if value is None:
            continue
        media.append(MediaRef(url=value, role=role) if isinstance(value, str) else replace(value, role=role))
    return tuple(media)


def spec_from_fields(fields: dict[str, Any]) -> tuple[VideoSpec, dict[str, Any]]:
    """Split flat keywords into a spec (options and media) and the rest."""
    rest = dict(fields)
    media = _media(
        {role: rest.pop(role.value, None) or rest.pop(f"{role.value}_url", None) for role in MediaRole}
    )
    if "fast_pretreatment" in rest:
        rest["fast"] = rest.pop("fast_pretreatment")
    options = {name: rest.pop(name) for name in list(rest) if name in _SPEC_FIELDS}
    return VideoSpec(**options, media=media), rest


def video_request(**fields: Any) -> VideoRequest:
    """A request from flat keywords: ``guild_id``…``user_id`` plus any option or medium."""
    spec, rest = spec_from_fields(fields)
    return VideoRequest(spec=spec, **rest)


def new_task_of(
    guild_id: int | None,
    channel_id: int,
    user_id: int,
    prompt: str,
    model: str,
    mode: str,
    cost_tenths: int,
    duration: int | None = None,
    resolution: str | None = None,
    **more: Any,
) -> NewTask:
    """A resolved task as a reservation stores it; ``mode`` is what the media make it (kept for the
    positional shape tests use), so it is not stored from here."""
    fields = {"prompt": prompt, "model": model, "duration": duration, "resolution": resolution, **more}
    fields.setdefault("prompt_optimizer", True)
    fields.setdefault("fast_pretreatment", False)
    spec, rest = spec_from_fields(fields)
    return NewTask(guild_id, channel_id, user_id, spec, cost_tenths, **rest)


def task_of(**fields: Any) -> Task:
    """A stored task from flat keywords (every field not given is ``None``), for code that only reads it."""
    spec, rest = spec_from_fields(fields)
    rest.pop("mode", None)  # the media decide it
    values: dict[str, Any] = {f.name: None for f in dataclasses.fields(Task) if f.name != "spec"}
    values.update(rest)
    return Task(spec=spec, **values)


def write_damaged_database(path: Path) -> Path:
    """A real bot database (every migration, a few hundred audit-sized rows) with one page of a table
    overwritten by garbage, as a torn write or a bad disk would leave it. The header still reads, so
    the file opens; only reading that page fails."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for migration in MIGRATIONS:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        conn.executemany("INSERT INTO filler (text) VALUES (?)", [("x" * 500,) for _ in range(200)])
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()
    data = bytearray(path.read_bytes())
    page = len(data) // page_size - 2  # one of the filler table's pages, created last
    data[page * page_size : (page + 1) * page_size] = b"\xde\xad\xbe\xef" * (page_size // 4)
    path.write_bytes(bytes(data))
    return path
