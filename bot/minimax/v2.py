"""The V2 video API (MiniMax-H3): its request body and its query answers, as pure functions.

V2 differs from V1 in shape, not in kind: a submit still answers a task id and a query still tells
a status, so the client's loop (send, classify, retry, pace) and the error hierarchy are V1's. What
differs is here: the body is ``{model, content[], resolution, duration, ratio}``; the query is
``GET /v2/query/video_generation/{task_id}``; statuses are ``queued/running/succeeded/failed/
cancelled``; and the answer carries the video's URL directly (no ``file_id``, no retrieve step),
which the lifecycle takes as :attr:`TaskInfo.download_url`.

Answers are read in every shape seen: the official ``{"task": {...}, "base_resp"}``, a top-level
``status`` (the official scripts accept it), and a reseller's ``{code, message, request_id, data}``
envelope around either. A part that cannot be read is logged, never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.catalog import MODELS, ApiFamily
from bot.minimax.errors import MalformedResponse
from bot.minimax.parsing import JSONObject, as_id, as_int, error_for_code, parse_progress, payload_error
from bot.minimax.types import TaskInfo, TaskStatus
from bot.spec import MediaKind, VideoSpec

log = logging.getLogger("bot.minimax")

SUBMIT_PATH = "/v2/video_generation"
QUERY_PATH = "/v2/query/video_generation"

_STATUSES: dict[str, TaskStatus] = {
    "queued": TaskStatus.QUEUED,
    "pending": TaskStatus.QUEUED,
    "running": TaskStatus.PROCESSING,
    "processing": TaskStatus.PROCESSING,
    "succeeded": TaskStatus.SUCCEEDED,
    "success": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    "fail": TaskStatus.FAILED,
    "cancelled": TaskStatus.FAILED,
    "canceled": TaskStatus.FAILED,
}
_CANCELLED = frozenset({"cancelled", "canceled"})

# How each medium goes into ``content``: the item's type by the medium's kind, its role by name.
_ITEM_TYPE = {MediaKind.IMAGE: "image_url", MediaKind.VIDEO: "video_url", MediaKind.AUDIO: "audio_url"}


def on_v2(model: str | None) -> bool:
    """Whether ``model`` is on the V2 API, as the catalog says (an unknown model: V1, as ever)."""
    rules = MODELS.get(model or "")
    return rules is not None and rules.family is ApiFamily.V2


def query_path(task_id: str) -> str:
    return f"{QUERY_PATH}/{task_id}"


def build_v2_body(spec: VideoSpec) -> JSONObject:
    """The V2 JSON body: one text item, then each medium with its role; options only when set."""
    content: list[JSONObject] = [{"type": "text", "text": spec.prompt}]
    for medium in spec.media:
        item_type = _ITEM_TYPE[medium.kind]
        content.append({"type": item_type, item_type: {"url": medium.url}, "role": medium.role.value})
    body: JSONObject = {"model": spec.model, "content": content}
    if spec.resolution is not None:
        body["resolution"] = spec.resolution
    if spec.duration is not None:
        body["duration"] = spec.duration
    if spec.ratio is not None:
        body["ratio"] = spec.ratio
    return body


def _obj(value: object) -> JSONObject | None:
    return value if isinstance(value, dict) else None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _task_layer(payload: JSONObject) -> JSONObject | None:
    """The object that carries the task's status, wherever the answer put it."""
    data = _obj(payload.get("data"))
    for holder in (payload, data):
        if holder is None:
            continue
        task = _obj(holder.get("task"))
        if task is not None:
            return task
    for holder in (payload, data):
        if holder is not None and _text(holder.get("status")):
            return holder
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 < number < 86_400 else None


def parse_v2_query(payload: Mapping[str, Any], *, task_id: str) -> TaskInfo:
    """A TaskInfo from a V2 query answer; a failed or cancelled *task* is returned (FAILED), a failed
    *call* raises."""
    top = dict(payload)
    task = _task_layer(top)
    # A call error is reported outside the task; a task's own ``error`` is the task's failure.
    outer = {k: v for k, v in top.items() if not (task is top and k == "error")}
    error = payload_error(outer)
    if error is not None:
        raise error
    if task is None:
        raise MalformedResponse("V2 query answer carries no task status")
    raw = _text(task.get("status"))
    status = _STATUSES.get(raw.lower())
    if status is None:
        if not raw:
            raise MalformedResponse("V2 query answer carries no task status")
        log.warning("V2 query: unheard-of status %r for task %s; treating it as running", raw, task_id)
        status = TaskStatus.PROCESSING
    content = _obj(task.get("content")) or {}
    url = _text(content.get("url")) or _text(content.get("video_url")) or None
    if status is TaskStatus.SUCCEEDED and url is None:
        raise MalformedResponse("V2 query answer reports success but names no video URL")
    usage = _obj(task.get("usage")) or _obj(top.get("usage")) or {}
    error_code: int | None = None
    error_message: str | None = None
    if status is TaskStatus.FAILED:
        failure = _obj(task.get("error")) or {}
        error_code = as_int(failure.get("code"))
        error_message = _text(failure.get("message")) or None
        if raw.lower() in _CANCELLED:
            error_message = error_message or "the task was cancelled at the video service"
        elif error_code is not None and error_message is None:
            error_message = str(error_for_code(error_code, ""))
    return TaskInfo(
        task_id=as_id(task.get("task_id")) or as_id(task.get("id")) or task_id,
        status=status,
        raw_status=raw,
        progress=parse_progress(task.get("progress")),
        download_url=url,
        error_code=error_code,
        error_message=error_message,
        output_seconds=_seconds(usage.get("output_seconds")),
    )
