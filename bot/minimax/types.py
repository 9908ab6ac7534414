"""Plain results of the MiniMax client: no dicts, no Discord, safe to store and compare."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TaskStatus(StrEnum):
    """The API's many status spellings, normalised to four."""

    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    status: TaskStatus
    raw_status: str
    progress: int | None = None  # percent 0-100 when the API gives it
    file_id: str | None = None
    width: int | None = None
    height: int | None = None
    download_url: str | None = None  # present when the answer embeds the file object
    error_code: int | None = None
    error_message: str | None = None
    output_seconds: float | None = None  # the video's length as the API bills it (V2 ``usage``)


@dataclass(frozen=True)
class FileInfo:
    file_id: str
    download_url: str
    backup_download_url: str | None = None
    size_bytes: int | None = None  # the API often says 0; None when unknown
    filename: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class ListedTask:
    """One entry of the V2 task list: what reconciling a lost submit answer matches on."""

    task_id: str
    created_at: float | None  # Unix seconds; None when the entry named no time we could read
    prompt: str | None  # the text it was asked with; None when the entry does not say
    model: str | None
    status: str
