"""The pure answer parser, on literal payloads of both flavours (shapes from the API notes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.minimax import errors
from bot.minimax.parsing import (
    MAX_RETRY_AFTER,
    as_id,
    decode_json,
    error_for_code,
    normalise_status,
    parse_progress,
    parse_query,
    parse_retrieve,
    parse_retry_after,
    parse_submit,
    payload_error,
    task_failure_error,
)
from bot.minimax.types import TaskInfo, TaskStatus

OK = {"status_code": 0, "status_msg": "success"}
FILE = {
    "file_id": 176844028768320,
    "bytes": 0,
    "created_at": 1700469398,
    "filename": "output.mp4",
    "purpose": "video_generation",
    "download_url": "https://cdn.example/output.mp4?sig=abc",
}


# ---------------------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Preparing", TaskStatus.QUEUED),
        ("Queueing", TaskStatus.QUEUED),
        ("Processing", TaskStatus.PROCESSING),
        ("Success", TaskStatus.SUCCEEDED),
        ("Fail", TaskStatus.FAILED),
        ("Failed", TaskStatus.FAILED),
        ("NOT_START", TaskStatus.QUEUED),
        ("SUBMITTED", TaskStatus.QUEUED),
        ("QUEUED", TaskStatus.QUEUED),
        ("IN_PROGRESS", TaskStatus.PROCESSING),
        ("SUCCESS", TaskStatus.SUCCEEDED),
        ("FAILURE", TaskStatus.FAILED),
        ("processing", TaskStatus.PROCESSING),
        ("success", TaskStatus.SUCCEEDED),
        ("failed", TaskStatus.FAILED),
        ("in-progress", TaskStatus.PROCESSING),
        ("  queueing ", TaskStatus.QUEUED),
        ("UNKNOWN", None),
        ("teleporting", None),
    ],
)
def test_status_spellings(raw: str, expected: TaskStatus | None) -> None:
    assert normalise_status(raw) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45%", 45),
        ("100%", 100),
        (45, 45),
        (45.9, 45),
        ("7", 7),
        (" 12 % ", 12),
        (140, 100),
        (-3, 0),
        ("", None),
        ("n/a", None),
        (None, None),
        (True, None),
        ([], None),
    ],
)
def test_progress(value: object, expected: int | None) -> None:
    assert parse_progress(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (176844028768320, "176844028768320"),
        ("176844028768320", "176844028768320"),
        (1.0, "1"),
        ("", None),
        ("  ", None),
        (None, None),
        (False, None),
    ],
)
def test_ids_are_text(value: object, expected: str | None) -> None:
    assert as_id(value) == expected


# ---------------------------------------------------------------------------------------- submit


def test_official_submit() -> None:
    assert parse_submit({"task_id": "106916112212032", "base_resp": OK}) == "106916112212032"


@pytest.mark.parametrize("code", [0, "0", "success", "SUCCESS"])
def test_reseller_submit_envelope(code: object) -> None:
    payload = {
        "code": code,
        "message": "",
        "request_id": "r-1",
        "data": {"task_id": "306792606023824", "task_status": "Queueing", "created_at": 1, "updated_at": 1},
    }
    assert parse_submit(payload) == "306792606023824"


def test_numeric_task_id_becomes_text() -> None:
    assert parse_submit({"task_id": 306792606023824, "base_resp": OK}) == "306792606023824"


@pytest.mark.parametrize(
    "payload",
    [
        {"base_resp": OK},
        {"task_id": "", "base_resp": OK},
        {"code": 0, "message": "ok", "data": {}},
        {"code": "success", "data": None},
    ],
)
def test_submit_without_task_id_is_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(errors.MalformedResponse):
        parse_submit(payload)


def test_submit_error_in_base_resp() -> None:
    with pytest.raises(errors.InvalidParameters) as caught:
        parse_submit(
            {"task_id": "", "base_resp": {"status_code": 2013, "status_msg": "invalid params, duration"}}
        )
    assert caught.value.code == 2013
    assert caught.value.user_message.endswith("invalid params, duration")


@pytest.mark.parametrize(("code", "kind"), [(1002, errors.RateLimited), ("1008", errors.InsufficientBalance)])
def test_reseller_error_envelope_maps_numeric_codes(code: object, kind: type[Exception]) -> None:
    with pytest.raises(kind):
        parse_submit({"code": code, "message": "nope", "request_id": "r", "data": None})


def test_reseller_text_code_is_a_plain_error() -> None:
    with pytest.raises(errors.MiniMaxError) as caught:
        parse_submit({"code": "task_not_exist", "message": "task_not_exist", "data": None})
    assert type(caught.value) is errors.MiniMaxError
    assert "task_not_exist" in str(caught.value)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            {"message": "额度不足", "type": "new_api_error", "code": "insufficient_user_quota"},
            errors.InsufficientBalance,
        ),
        ({"message": "bad token", "code": "invalid_api_key"}, errors.AuthFailed),
        ({"message": "slow down", "type": "rate_limit_exceeded"}, errors.RateLimited),
        ({"message": "who knows", "type": "new_api_error"}, errors.MiniMaxError),
    ],
)
def test_openai_style_gateway_errors(error: dict[str, Any], kind: type[errors.MiniMaxError]) -> None:
    found = payload_error({"error": error})
    assert type(found) is kind


# ---------------------------------------------------------------------------------------- error table


@pytest.mark.parametrize(
    ("code", "kind"),
    [(c, errors.TransientServerError) for c in (1000, 1001, 1013, 1024, 1033)]
    + [(c, errors.RateLimited) for c in (1002, 1039, 1041, 2045)]
    + [(1004, errors.AuthFailed), (2049, errors.AuthFailed), (1008, errors.InsufficientBalance)]
    + [(1026, errors.SensitiveInput), (1027, errors.SensitiveOutput)]
    + [(1042, errors.InvalidParameters), (2013, errors.InvalidParameters)]
    + [(c, errors.AccountProblem) for c in (2038, 2056, 1028, 1030, 2061)]
    + [
        (9999, errors.MiniMaxError),
        (401, errors.AuthFailed),
        (429, errors.RateLimited),
        (502, errors.TransientServerError),
    ],
)
def test_error_table(code: int, kind: type[errors.MiniMaxError]) -> None:
    error = error_for_code(code, "message from the API", http_status=200, retry_after=3.0)
    assert type(error) is kind
    assert error.code == code
    assert "message from the API" in str(error)
    if isinstance(error, errors.RateLimited):
        assert error.retry_after == 3.0


def test_invalid_parameters_keep_the_api_message_verbatim() -> None:
    error = error_for_code(2013, "invalid params, resolution 1080P does not support 10 s")
    assert str(error) == "invalid params, resolution 1080P does not support 10 s"


# ---------------------------------------------------------------------------------------- query


def test_official_query_success() -> None:
    info = parse_query(
        {
            "task_id": "106916112212032",
            "status": "Success",
            "file_id": "176844028768320",
            "video_width": 1920,
            "video_height": 1080,
            "base_resp": OK,
        },
        task_id="106916112212032",
    )
    assert info == TaskInfo(
        task_id="106916112212032",
        status=TaskStatus.SUCCEEDED,
        raw_status="Success",
        file_id="176844028768320",
        width=1920,
        height=1080,
    )


def test_official_query_processing_has_no_file() -> None:
    info = parse_query(
        {"task_id": "1", "status": "Processing", "file_id": "", "video_width": 0, "base_resp": OK},
        task_id="1",
    )
    assert (info.status, info.file_id, info.width, info.progress) == (TaskStatus.PROCESSING, None, None, None)


def gateway(status: str, inner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {
        "task_id": "42",
        "action": "generate",
        "status": status,
        "fail_reason": "",
        "submit_time": 1,
        "finish_time": 0,
        "progress": "45%",
        "data": inner,
    }
    data.update(extra)
    return {"code": "success", "message": "", "data": data}


def test_gateway_query_success_with_embedded_file() -> None:
    inner = {
        "task_id": "42",
        "status": "Success",
        "file_id": "176844028768320",
        "base_resp": OK,
        "file": FILE,
    }
    info = parse_query(gateway("SUCCESS", inner, progress="100%"), task_id="42")
    assert info.status is TaskStatus.SUCCEEDED
    assert info.progress == 100
    assert info.file_id == "176844028768320"
    assert info.download_url == FILE["download_url"]


def test_gateway_query_in_progress_reports_percentage() -> None:
    info = parse_query(
        gateway("IN_PROGRESS", {"task_id": "42", "status": "Processing", "base_resp": OK}), task_id="42"
    )
    assert (info.status, info.raw_status, info.progress) == (TaskStatus.PROCESSING, "IN_PROGRESS", 45)


def test_gateway_query_without_inner_body() -> None:
    info = parse_query(gateway("QUEUED", {}, progress=0), task_id="42")
    assert (info.status, info.progress) == (TaskStatus.QUEUED, 0)


def test_gateway_failure_takes_code_from_inner_base_resp() -> None:
    inner = {
        "task_id": "42",
        "status": "Fail",
        "base_resp": {"status_code": 1027, "status_msg": "output sensitive"},
    }
    info = parse_query(gateway("FAILURE", inner, fail_reason="output sensitive"), task_id="42")
    assert (info.status, info.error_code, info.error_message) == (TaskStatus.FAILED, 1027, "output sensitive")
    assert isinstance(task_failure_error(info), errors.SensitiveOutput)


def test_gateway_failure_code_found_in_fail_reason() -> None:
    info = parse_query(gateway("FAILURE", {}, fail_reason='upstream said {"status_code":1026}'), task_id="42")
    assert info.error_code == 1026
    assert isinstance(task_failure_error(info), errors.SensitiveInput)


def test_official_fail_with_zero_code_keeps_the_message() -> None:
    payload = {
        "task_id": "7",
        "status": "Fail",
        "base_resp": {"status_code": 0, "status_msg": "generation failed"},
    }
    info = parse_query(payload, task_id="7")
    assert (info.status, info.error_code, info.error_message) == (
        TaskStatus.FAILED,
        None,
        "generation failed",
    )
    assert type(task_failure_error(info)) is errors.MiniMaxError


def test_official_fail_with_moderation_code_is_a_task_result_not_an_exception() -> None:
    payload = {
        "task_id": "7",
        "status": "Fail",
        "base_resp": {"status_code": 1026, "status_msg": "input sensitive"},
    }
    info = parse_query(payload, task_id="7")
    assert (info.status, info.error_code, info.error_message) == (TaskStatus.FAILED, 1026, "input sensitive")


def test_moderation_code_without_status_is_a_failed_task() -> None:
    info = parse_query({"base_resp": {"status_code": 1027, "status_msg": "x"}}, task_id="9")
    assert (info.task_id, info.status, info.error_code) == ("9", TaskStatus.FAILED, 1027)


def test_callback_style_lowercase_status() -> None:
    info = parse_query({"task_id": "5", "status": "success", "file_id": 176, "base_resp": OK}, task_id="5")
    assert (info.status, info.file_id) == (TaskStatus.SUCCEEDED, "176")


def test_unknown_status_is_not_final() -> None:
    info = parse_query(gateway("UNKNOWN", {}), task_id="42")
    assert info.status is TaskStatus.PROCESSING
    assert info.raw_status == "UNKNOWN"


def test_most_advanced_status_wins_between_layers() -> None:
    inner = {"task_id": "42", "status": "Processing", "base_resp": OK}
    assert parse_query(gateway("QUEUED", inner), task_id="42").status is TaskStatus.PROCESSING


def test_success_without_any_file_is_malformed() -> None:
    with pytest.raises(errors.MalformedResponse):
        parse_query({"task_id": "1", "status": "Success", "file_id": "", "base_resp": OK}, task_id="1")


def test_query_without_status_is_malformed() -> None:
    with pytest.raises(errors.MalformedResponse):
        parse_query({"task_id": "1", "base_resp": OK}, task_id="1")


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"base_resp": {"status_code": 1002, "status_msg": "rpm"}}, errors.RateLimited),
        (
            {"task_id": "", "status": "", "base_resp": {"status_code": 1004, "status_msg": "login fail"}},
            errors.AuthFailed,
        ),
        ({"code": 1000, "message": "internal", "data": None}, errors.TransientServerError),
        ({"code": "task_not_exist", "message": "task_not_exist", "data": None}, errors.MiniMaxError),
    ],
)
def test_failed_query_calls_raise(payload: dict[str, Any], kind: type[errors.MiniMaxError]) -> None:
    with pytest.raises(kind):
        parse_query(payload, task_id="1")


def test_query_falls_back_to_the_requested_task_id() -> None:
    assert parse_query({"status": "Queueing", "base_resp": OK}, task_id="abc").task_id == "abc"


# ---------------------------------------------------------------------------------------- retrieve


def test_official_retrieve() -> None:
    info = parse_retrieve({"file": FILE, "base_resp": OK}, file_id="176844028768320")
    assert info.file_id == "176844028768320"
    assert info.download_url == FILE["download_url"]
    assert info.size_bytes is None  # the API says 0: unknown, not empty
    assert (info.filename, info.created_at, info.backup_download_url) == ("output.mp4", 1700469398, None)


def test_retrieve_in_an_envelope_with_backup_url_and_size() -> None:
    file = {**FILE, "bytes": 1234, "backup_download_url": "https://backup.example/x.mp4"}
    info = parse_retrieve({"code": 0, "message": "", "data": {"file": file}}, file_id="1")
    assert (info.size_bytes, info.backup_download_url) == (1234, "https://backup.example/x.mp4")


def test_retrieve_without_url_is_malformed() -> None:
    with pytest.raises(errors.MalformedResponse):
        parse_retrieve({"file": {**FILE, "download_url": ""}, "base_resp": OK}, file_id="1")


def test_retrieve_error() -> None:
    with pytest.raises(errors.InvalidParameters):
        parse_retrieve({"base_resp": {"status_code": 2013, "status_msg": "file not found"}}, file_id="1")


# ---------------------------------------------------------------------------------------- misc


@pytest.mark.parametrize("raw", [b"", b"<html>", b"[1, 2]", b'"text"', b'{"task_id": "12'])
def test_non_objects_are_malformed(raw: bytes) -> None:
    with pytest.raises(errors.MalformedResponse):
        decode_json(raw)


def test_retry_after_forms() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("1.5", now=now) == 1.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("86400", now=now) == parse_retry_after("inf", now=now) == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("The output video contains sensitive content", errors.SensitiveOutput),
        ("prompt failed sensitive check", errors.SensitiveInput),
        ("render node crashed", errors.MiniMaxError),
    ],
)
def test_failure_text_heuristics(message: str, kind: type[errors.MiniMaxError]) -> None:
    info = TaskInfo(task_id="1", status=TaskStatus.FAILED, raw_status="FAILURE", error_message=message)
    assert type(task_failure_error(info)) is kind
