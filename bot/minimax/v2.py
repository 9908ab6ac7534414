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
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.catalog import MODELS, ApiFamily
from bot.minimax.errors import MalformedResponse
from bot.minimax.parsing import JSONObject, as_id, as_int, error_for_code, parse_progress, payload_error
from bot.minimax.types import ListedTask, TaskInfo, TaskStatus
from bot.spec import MediaKind, Mode, VideoSpec

log = logging.getLogger("bot.minimax")

SUBMIT_PATH = "/v2/video_generation"
QUERY_PATH = "/v2/query/video_generation"  # + /{task_id}: one task; bare, with page_num/page_size: the list
LIST_PAGE_SIZE = 50
REGENERATION_PATH = "/v2/video_regeneration"  # upscale a 768P result to 2K (content: text + base_video)
EXPAND_PATH = "/v2/h3_context_ir"  # prompt expansion: an asynchronous task, read through QUERY_PATH

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


def submit_path(spec: VideoSpec) -> str:
    """Where a V2 spec is created: an upscale (a ``base_video``) is a regeneration, the rest a create."""
    return REGENERATION_PATH if spec.mode is Mode.UPSCALE else SUBMIT_PATH


def cancel_path(task_id: str) -> str:
    """``DELETE`` here cancels a queued task (a finished one: deletes its record) [3p]."""
    return f"{SUBMIT_PATH}/{task_id}"


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


def _unix_seconds(value: object) -> float | None:
    """A creation time as Unix seconds: seconds or milliseconds as a number, or an ISO 8601 text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number / 1000 if number > 1e11 else number
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return _unix_seconds(float(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def _listed_prompt(entry: JSONObject) -> str | None:
    """The prompt of a list entry: a ``prompt``/``text`` field, or the text item of a ``content``
    list (the create body's shape), at the top or under ``request``/``input``."""
    for holder in (entry, _obj(entry.get("request")), _obj(entry.get("input"))):
        if holder is None:
            continue
        for key in ("prompt", "text"):
            if isinstance(holder.get(key), str):
                return str(holder[key])
        content = holder.get("content")
        if isinstance(content, list):
            for item in content:
                if (
                    isinstance(item, dict)
                    and item.get("type") == "text"
                    and isinstance(item.get("text"), str)
                ):
                    return str(item["text"])
    return None


def parse_v2_list(payload: Mapping[str, Any]) -> list[ListedTask]:
    """The entries of a V2 list answer: ``tasks``/``list``/``items`` at the top or under ``data``
    (or ``data`` itself a list). An entry without a task id is skipped and logged; a missing list
    is a malformed answer, never "no tasks" (that would refund a task the API may have)."""
    top = dict(payload)
    error = payload_error(top)
    if error is not None:
        raise error
    data = top.get("data")
    found: object = data if isinstance(data, list) else None
    for holder in (top, _obj(data)):
        if found is None and holder is not None:
            found = next(
                (holder[k] for k in ("tasks", "list", "items") if isinstance(holder.get(k), list)), None
            )
    if not isinstance(found, list):
        raise MalformedResponse("V2 list answer carries no list of tasks")
    entries: list[ListedTask] = []
    for raw in found:
        entry = _task_layer(raw) if isinstance(raw, dict) and "task" in raw else _obj(raw)
        task_id = as_id(entry.get("task_id")) or as_id(entry.get("id")) if entry is not None else None
        if entry is None or task_id is None:
            log.warning("V2 list: an entry without a task id was skipped")
            continue
        created = next(
            (
                t
                for k in ("created_at", "create_time", "created")
                if (t := _unix_seconds(entry.get(k))) is not None
            ),
            None,
        )
        model = entry.get("model")
        entries.append(
            ListedTask(
                task_id=task_id,
                created_at=created,
                prompt=_listed_prompt(entry),
                model=model if isinstance(model, str) else None,
                status=_text(entry.get("status")).lower(),
            )
        )
    return entries


def parse_v2_cancel(payload: Mapping[str, Any]) -> None:
    """A cancel answer: only its error matters (2013 and the like when the task is past queued)."""
    error = payload_error(dict(payload))
    if error is not None:
        raise error


def build_expansion_body(spec: VideoSpec) -> JSONObject:
    """The prompt-expansion body: the create body's ``model``, ``content``, ``duration`` and ``ratio``
    (as documented; no resolution)."""
    body = build_v2_body(spec)
    body.pop("resolution", None)
    return body


def parse_v2_expansion(payload: Mapping[str, Any], *, task_id: str) -> tuple[TaskStatus, str | None]:
    """A prompt-expansion task's status and, once it succeeded, its prompt (``task.content.prompt``).

    Read like a video query (every shape; a failed task is FAILED, a failed call raises), except that
    success carries a prompt, not a URL: a success naming none is malformed."""
    top = dict(payload)
    task = _task_layer(top)
    outer = {k: v for k, v in top.items() if not (task is top and k == "error")}
    error = payload_error(outer)
    if error is not None:
        raise error
    if task is None:
        raise MalformedResponse("prompt expansion answer carries no task status")
    raw = _text(task.get("status")).lower()
    status = _STATUSES.get(raw, TaskStatus.PROCESSING if raw else None)
    if status is None:
        raise MalformedResponse("prompt expansion answer carries no task status")
    if status is not TaskStatus.SUCCEEDED:
        return status, None
    content = _obj(task.get("content")) or {}
    prompt = _text(content.get("prompt")) or _text(task.get("prompt"))
    if not prompt:
        raise MalformedResponse(f"prompt expansion {task_id} succeeded but names no prompt")
    return status, prompt
