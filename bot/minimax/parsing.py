"""Turn MiniMax answers of either flavour into typed results or the right exception.

The official API and the resellers in front of it disagree on where things live (``task_id`` at the
top or under ``data``; the status in three places with a dozen spellings; ``file_id`` as a string or
a number; errors in ``base_resp``, in an envelope ``code`` or in an OpenAI-style ``error`` object).
Keeping all of that tolerance in one pure module, with no I/O, lets it be tested on literal payloads
and keeps the HTTP client a thin loop of send, classify and retry.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.minimax.errors import (
    AccountProblem,
    AuthFailed,
    InsufficientBalance,
    InvalidParameters,
    MalformedResponse,
    MiniMaxError,
    RateLimited,
    SensitiveInput,
    SensitiveOutput,
    TransientServerError,
)
from bot.minimax.types import FileInfo, TaskInfo, TaskStatus

JSONObject = dict[str, Any]

TRANSIENT_CODES = frozenset({1000, 1001, 1013, 1024, 1033})
RATE_LIMIT_CODES = frozenset({1002, 1039, 1041, 2045})
AUTH_CODES = frozenset({1004, 2049})
BALANCE_CODES = frozenset({1008})
SENSITIVE_INPUT_CODES = frozenset({1026})
SENSITIVE_OUTPUT_CODES = frozenset({1027})
INVALID_PARAMETER_CODES = frozenset({1042, 2013})
ACCOUNT_CODES = frozenset({2038, 2056, 1028, 1030, 2061})
KNOWN_CODES = (
    TRANSIENT_CODES
    | RATE_LIMIT_CODES
    | AUTH_CODES
    | BALANCE_CODES
    | SENSITIVE_INPUT_CODES
    | SENSITIVE_OUTPUT_CODES
    | INVALID_PARAMETER_CODES
    | ACCOUNT_CODES
)

# Envelope ``code`` values that mean success. Gateways use 0, "0", "success" and sometimes 200.
_SUCCESS_CODES = frozenset({"0", "success", "ok", "200"})

# Gateways of the new-api family answer OpenAI-style ``{"error": {"code": "..."}}`` bodies.
_TEXT_CODES: dict[str, type[MiniMaxError]] = {
    "insufficient_user_quota": InsufficientBalance,
    "insufficient_quota": InsufficientBalance,
    "quota_exceeded": InsufficientBalance,
    "invalid_api_key": AuthFailed,
    "invalid_token": AuthFailed,
    "unauthorized": AuthFailed,
    "rate_limit_exceeded": RateLimited,
    "too_many_requests": RateLimited,
}

_STATUSES: dict[str, TaskStatus] = {
    # Official spellings, any casing.
    "preparing": TaskStatus.QUEUED,
    "queueing": TaskStatus.QUEUED,
    "processing": TaskStatus.PROCESSING,
    "success": TaskStatus.SUCCEEDED,
    "fail": TaskStatus.FAILED,
    "failed": TaskStatus.FAILED,
    # Gateway spellings.
    "not_start": TaskStatus.QUEUED,
    "submitted": TaskStatus.QUEUED,
    "queued": TaskStatus.QUEUED,
    "in_progress": TaskStatus.PROCESSING,
    "failure": TaskStatus.FAILED,
    # Near misses seen in the wild; cheap to accept.
    "queuing": TaskStatus.QUEUED,
    "pending": TaskStatus.QUEUED,
    "running": TaskStatus.PROCESSING,
    "succeeded": TaskStatus.SUCCEEDED,
    "succeed": TaskStatus.SUCCEEDED,
    "completed": TaskStatus.SUCCEEDED,
}

_CODE_IN_TEXT = re.compile(r"\b(\d{4})\b")


def decode_json(raw: bytes | str) -> JSONObject:
    """Parse an answer body; anything but a JSON object is malformed."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponse(f"answer is not JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise MalformedResponse(f"answer is JSON {type(value).__name__}, not an object")
    return value


def as_int(value: object) -> int | None:
    """An integer from an int, an integral float or a string of digits; bools are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
    return None


def as_id(value: object) -> str | None:
    """An identifier as text: ``176844028768320`` and ``"176844028768320"`` are the same file."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_progress(value: object) -> int | None:
    """``"45%"``, ``45``, ``45.6`` or ``"45"`` → 45, clamped to 0-100; anything else → None."""
    number: float | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
    if number is None or number != number:  # NaN
        return None
    return max(0, min(100, int(number)))


# A Retry-After of a day (or "inf") would hold every query, delivery and submit of the bot that long;
# past a few minutes an answer is more likely a gateway's mistake than a plan.
MAX_RETRY_AFTER = 300.0


def normalise_status(raw: str) -> TaskStatus | None:
    """Map any documented spelling to a TaskStatus; None for ``UNKNOWN`` and unheard-of values."""
    key = raw.strip().lower().replace("-", "_").replace(" ", "_")
    return _STATUSES.get(key)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


# Where answers name the id the API (or a gateway) gave them: headers first, they come with every
# answer, even an HTML error page; then the body's top level and its ``base_resp``.
REQUEST_ID_HEADERS = ("Trace-Id", "X-Trace-Id", "X-Request-Id", "Request-Id")
REQUEST_ID_FIELDS = ("request_id", "trace_id", "requestId", "traceId")
# An id is quoted to moderators and support: only id-like text, never a stray header's content.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _clean_request_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if _REQUEST_ID.fullmatch(text) else None


def request_id_of(headers: Mapping[str, str], payload: Mapping[str, Any] | None) -> str | None:
    """The answer's request/trace id, or None when it names none (``headers`` case-insensitive)."""
    for name in REQUEST_ID_HEADERS:
        found = _clean_request_id(headers.get(name))
        if found is not None:
            return found
    if payload is None:
        return None
    for holder in (payload, _obj(payload.get("base_resp"))):
        for field in REQUEST_ID_FIELDS:
            found = _clean_request_id(holder.get(field)) if holder else None
            if found is not None:
                return found
    return None


def error_for_code(
    code: int,
    message: str,
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
) -> MiniMaxError:
    """The exception for a non-zero ``base_resp.status_code`` (or a numeric envelope code)."""
    message = message.strip() or "no message"
    text = f"MiniMax error {code}: {message}"
    if code in RATE_LIMIT_CODES:
        return RateLimited(text, code=code, http_status=http_status, retry_after=retry_after)
    if code in TRANSIENT_CODES:
        return TransientServerError(text, code=code, http_status=http_status)
    if code in AUTH_CODES:
        return AuthFailed(text, code=code, http_status=http_status)
    if code in BALANCE_CODES:
        return InsufficientBalance(text, code=code, http_status=http_status)
    if code in SENSITIVE_INPUT_CODES:
        return SensitiveInput(text, code=code, http_status=http_status)
    if code in SENSITIVE_OUTPUT_CODES:
        return SensitiveOutput(text, code=code, http_status=http_status)
    if code in INVALID_PARAMETER_CODES:
        # The API's own words go first: they are what a member is shown.
        return InvalidParameters(message, code=code, http_status=http_status)
    if code in ACCOUNT_CODES:
        return AccountProblem(text, code=code, http_status=http_status)
    # Gateways sometimes put an HTTP status in their envelope's code.
    if code in (401, 403):
        return AuthFailed(text, code=code, http_status=http_status)
    if code == 429:
        return RateLimited(text, code=code, http_status=http_status, retry_after=retry_after)
    if 500 <= code <= 599:
        return TransientServerError(text, code=code, http_status=http_status)
    return MiniMaxError(text, code=code, http_status=http_status)


def _error_for_any_code(
    code: object, message: str, *, http_status: int | None, retry_after: float | None
) -> MiniMaxError:
    number = as_int(code)
    if number is not None:
        return error_for_code(number, message, http_status=http_status, retry_after=retry_after)
    label = str(code).strip() if code is not None else ""
    text = f"MiniMax gateway error {label or '?'}: {message.strip() or 'no message'}"
    kind = _TEXT_CODES.get(label.lower())
    if kind is RateLimited:
        return RateLimited(text, http_status=http_status, retry_after=retry_after)
    if kind is not None:
        return kind(text, http_status=http_status)
    return MiniMaxError(text, http_status=http_status)


def _obj(value: object) -> JSONObject | None:
    return value if isinstance(value, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _envelope_code_ok(code: object) -> bool:
    if code is None:
        return True
    if isinstance(code, bool):
        return code
    return str(code).strip().lower() in _SUCCESS_CODES


def _base_resp_code(holder: Mapping[str, Any] | None) -> tuple[int, str]:
    base = _obj(holder.get("base_resp")) if holder else None
    if base is None:
        return 0, ""
    return as_int(base.get("status_code")) or 0, _text(base.get("status_msg"))


def payload_error(
    payload: Mapping[str, Any], *, http_status: int | None = None, retry_after: float | None = None
) -> MiniMaxError | None:
    """The error an answer reports about the *call*, or None when it reports success.

    Looks at an OpenAI-style ``error`` object, a gateway envelope ``code`` and ``base_resp`` at the
    top level and under ``data``; the official body embedded deeper in a query envelope describes the
    task, not the call, and is left to :func:`parse_query`.
    """
    error = payload.get("error")
    if isinstance(error, dict):
        message = _text(error.get("message"))
        code = error.get("code") or error.get("type")
        return _error_for_any_code(code, message, http_status=http_status, retry_after=retry_after)
    if isinstance(error, str) and error.strip():
        return MiniMaxError(f"MiniMax gateway error: {error.strip()}", http_status=http_status)
    if "code" in payload and not _envelope_code_ok(payload["code"]):
        message = _text(payload.get("message")) or _text(payload.get("msg"))
        return _error_for_any_code(payload["code"], message, http_status=http_status, retry_after=retry_after)
    for holder in (payload, _obj(payload.get("data"))):
        code, message = _base_resp_code(holder)
        if code != 0:
            return error_for_code(code, message, http_status=http_status, retry_after=retry_after)
    return None


def parse_submit(payload: Mapping[str, Any]) -> str:
    """The task id from a submit answer of either flavour."""
    error = payload_error(payload)
    if error is not None:
        raise error
    data = _obj(payload.get("data")) or {}
    task_id = as_id(payload.get("task_id")) or as_id(data.get("task_id"))
    if task_id is None:
        raise MalformedResponse("submit answer reports success but carries no task_id")
    return task_id


def _query_layers(payload: Mapping[str, Any]) -> tuple[JSONObject, JSONObject, JSONObject]:
    """(top level, gateway data, official body): missing layers are empty dicts."""
    top = dict(payload)
    gateway = _obj(payload.get("data")) or {}
    official = _obj(gateway.get("data")) or {}
    return top, gateway, official


def _file_object(*layers: Mapping[str, Any]) -> JSONObject:
    for layer in layers:
        found = _obj(layer.get("file"))
        if found is not None:
            return found
    return {}


def _known_code_in(text: str) -> int | None:
    for match in _CODE_IN_TEXT.finditer(text):
        code = int(match.group(1))
        if code in KNOWN_CODES:
            return code
    return None


def parse_query(payload: Mapping[str, Any], *, task_id: str) -> TaskInfo:
    """A TaskInfo from a query answer of either flavour.

    A *failed task* is a normal answer (status FAILED with ``error_code``/``error_message``); only a
    failed *call* raises. ``task_id`` is the id that was asked for, used when the answer omits it.
    """
    top, gateway, official = _query_layers(payload)
    raw_candidates = [
        _text(gateway.get("status")),
        _text(gateway.get("task_status")),
        _text(official.get("status")),
        _text(top.get("status")),
        _text(top.get("task_status")),
    ]
    raws = [raw for raw in raw_candidates if raw.strip()]
    normalised = {normalise_status(raw) for raw in raws} - {None}

    file_obj = _file_object(official, gateway, top)
    file_id = (
        as_id(official.get("file_id"))
        or as_id(gateway.get("file_id"))
        or as_id(top.get("file_id"))
        or as_id(file_obj.get("file_id"))
    )
    download_url = _text(file_obj.get("download_url")).strip() or None
    has_file = file_id is not None or download_url is not None

    task_code, task_message = 0, ""
    for layer in (official, gateway, top):
        code, message = _base_resp_code(layer)
        if code != 0:
            task_code, task_message = code, message
            break

    if TaskStatus.SUCCEEDED in normalised and has_file:
        status: TaskStatus | None = TaskStatus.SUCCEEDED
    elif TaskStatus.FAILED in normalised:
        status = TaskStatus.FAILED
    elif normalised:
        status = max(normalised, key=_status_rank)
    else:
        status = None  # no status, ``UNKNOWN`` or a new spelling: decided below after the error checks

    if status is not TaskStatus.FAILED:
        error = payload_error(payload)
        if error is None and task_code != 0:
            error = error_for_code(task_code, task_message)
        if isinstance(error, SensitiveInput | SensitiveOutput) and status is not TaskStatus.SUCCEEDED:
            # A moderation verdict is about the task, whichever layer carried it and with or without
            # a status: the task is over, the call itself worked.
            status = TaskStatus.FAILED
            task_code = error.code or task_code
            task_message = task_message or _text(top.get("message")) or str(error)
        elif error is not None:
            raise error
        elif not raws:
            raise MalformedResponse("query answer carries no task status")
        elif status is None:
            status = TaskStatus.PROCESSING

    chosen = next((raw for raw in raws if normalise_status(raw) is status), raws[0] if raws else "")
    progress = next(
        (
            parsed
            for parsed in (
                parse_progress(gateway.get("progress")),
                parse_progress(top.get("progress")),
                parse_progress(official.get("progress")),
            )
            if parsed is not None
        ),
        None,
    )

    error_code: int | None = None
    error_message: str | None = None
    if status is TaskStatus.FAILED:
        fail_reason = _text(gateway.get("fail_reason")) or _text(top.get("fail_reason"))
        envelope_message = _text(top.get("message")) if not _envelope_code_ok(top.get("code")) else ""
        quiet_message = next(
            (m for m in _base_resp_messages(official, gateway, top) if m.lower() != "success"), ""
        )
        error_message = (task_message or fail_reason or quiet_message or envelope_message).strip() or None
        error_code = task_code or (_known_code_in(fail_reason) if fail_reason else None)
    elif status is TaskStatus.SUCCEEDED and not has_file:
        raise MalformedResponse("query answer reports success but names no file")

    return TaskInfo(
        task_id=as_id(official.get("task_id"))
        or as_id(gateway.get("task_id"))
        or as_id(top.get("task_id"))
        or task_id,
        status=status,
        raw_status=chosen or status.value,
        progress=progress,
        file_id=file_id,
        width=_positive(official.get("video_width")) or _positive(top.get("video_width")),
        height=_positive(official.get("video_height")) or _positive(top.get("video_height")),
        download_url=download_url,
        error_code=error_code,
        error_message=error_message,
    )


def _base_resp_messages(*layers: Mapping[str, Any]) -> list[str]:
    """Every ``status_msg``: a Fail may carry code 0 and its reason only in the message."""
    return [message for layer in layers if (message := _base_resp_code(layer)[1].strip())]


def _status_rank(status: TaskStatus | None) -> int:
    order = (TaskStatus.QUEUED, TaskStatus.PROCESSING, TaskStatus.SUCCEEDED, TaskStatus.FAILED)
    return order.index(status) if status is not None else -1


def _positive(value: object) -> int | None:
    number = as_int(value)
    return number if number is not None and number > 0 else None


def parse_retrieve(payload: Mapping[str, Any], *, file_id: str) -> FileInfo:
    """A FileInfo from a retrieve answer; the file object may sit at ``file`` or ``data.file``."""
    error = payload_error(payload)
    if error is not None:
        raise error
    data = _obj(payload.get("data")) or {}
    file_obj = _file_object(payload, data)
    if not file_obj and "download_url" in data:
        file_obj = data
    download_url = _text(file_obj.get("download_url")).strip()
    if not download_url:
        raise MalformedResponse("retrieve answer carries no download_url")
    size = _positive(file_obj.get("bytes"))
    return FileInfo(
        file_id=as_id(file_obj.get("file_id")) or file_id,
        download_url=download_url,
        backup_download_url=_text(file_obj.get("backup_download_url")).strip() or None,
        size_bytes=size,
        filename=_text(file_obj.get("filename")) or None,
        created_at=as_int(file_obj.get("created_at")),
    )


def task_failure_error(info: TaskInfo) -> MiniMaxError:
    """The exception that explains a FAILED task, so services report it like any other error.

    Without a code, a message that mentions sensitive content is still classified (gateways often
    give only a ``fail_reason`` text); anything else is a plain MiniMaxError.
    """
    message = info.error_message or f"task {info.task_id} failed"
    if info.error_code:
        return error_for_code(info.error_code, message)
    lowered = message.lower()
    if "sensitive" in lowered or "moderation" in lowered:
        if "output" in lowered or "video" in lowered or "generated" in lowered:
            return SensitiveOutput(f"task {info.task_id} failed: {message}")
        return SensitiveInput(f"task {info.task_id} failed: {message}")
    return MiniMaxError(f"task {info.task_id} failed: {message}")
