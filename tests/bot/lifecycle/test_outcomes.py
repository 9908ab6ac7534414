"""The outcome table: complete for every API error class and phase, and pinned on its key rows."""

from __future__ import annotations

import inspect

import pytest

from bot.lifecycle import outcomes
from bot.lifecycle.notifier import MemberRefused, UploadTooLarge
from bot.lifecycle.outcomes import HANDLED, TABLE, Outcome, Phase, outcome_for, row_for
from bot.minimax import errors

ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.MiniMaxError) and cls.__module__ == errors.__name__
]


def test_every_error_class_has_its_own_row_with_a_cell_for_each_phase() -> None:
    assert len(ERROR_CLASSES) >= 16
    for cls in ERROR_CLASSES:
        assert cls in TABLE, f"{cls.__name__} has no row in the outcome table"
        row = TABLE[cls]
        for phase in Phase:
            assert isinstance(row.at(phase), Outcome), (cls.__name__, phase)
    assert Exception in TABLE  # everything that is not an API error


@pytest.mark.parametrize("phase", list(Phase))
def test_every_cell_is_an_outcome_its_phase_knows_how_to_carry_out(phase: Phase) -> None:
    for cls, row in TABLE.items():
        assert row.at(phase) in HANDLED[phase], (cls.__name__, phase)


@pytest.mark.parametrize(
    ("phase", "error", "expected"),
    [
        # A submit that may have reached the API is never sent again.
        (Phase.SUBMIT, errors.SubmitOutcomeUnknown("sent, no answer"), Outcome.UNKNOWN),
        (Phase.SUBMIT, RuntimeError("a bug while submitting"), Outcome.UNKNOWN),
        # The account needs a moderator: pause, then fail and refund.
        (Phase.SUBMIT, errors.AuthFailed("key refused", code=1004), Outcome.PAUSE_ACCOUNT),
        (Phase.SUBMIT, errors.InsufficientBalance("no balance", code=1008), Outcome.PAUSE_ACCOUNT),
        (Phase.SUBMIT, errors.AccountProblem("verify", code=2038), Outcome.PAUSE_ACCOUNT),
        (Phase.SUBMIT, errors.RateLimited("busy", code=1002), Outcome.THROTTLE),
        (Phase.SUBMIT, errors.TransientServerError("HTTP 503", http_status=503), Outcome.RETRY),
        (Phase.SUBMIT, errors.NetworkError("cannot connect", request_sent=False), Outcome.RETRY),
        (Phase.SUBMIT, errors.SensitiveInput("refused", code=1026), Outcome.FAIL),
        (Phase.SUBMIT, errors.InvalidParameters("bad duration", code=2013), Outcome.FAIL),
        (Phase.SUBMIT, errors.NotTheAPI("404 page", http_status=404), Outcome.FAIL),
        (Phase.SUBMIT, errors.MiniMaxError("code 9999", code=9999), Outcome.FAIL),
        # A query error is retried (bounded by the task's time-out), even an account problem.
        (Phase.QUERY, errors.AuthFailed("key refused"), Outcome.RETRY),
        (Phase.QUERY, errors.RateLimited("busy"), Outcome.THROTTLE),
        (Phase.QUERY, errors.MalformedResponse("not JSON"), Outcome.RETRY),
        (Phase.QUERY, RuntimeError("a bug while polling"), Outcome.RETRY),
        # The API says the task failed: refunded, whatever the reason.
        (Phase.GENERATION, errors.SensitiveOutput("withheld", code=1027), Outcome.FAIL),
        (Phase.GENERATION, errors.RateLimited("busy", code=1002), Outcome.FAIL),
        (Phase.RETRIEVE, errors.RateLimited("busy"), Outcome.THROTTLE),
        (Phase.RETRIEVE, errors.InsufficientBalance("no balance"), Outcome.RETRY),
        (Phase.DOWNLOAD, errors.DownloadExpired("HTTP 403", http_status=403), Outcome.RENEW_URL),
        (Phase.DOWNLOAD, errors.DownloadTooLarge("too big", limit=10), Outcome.POST_LINK),
        (Phase.DOWNLOAD, errors.DownloadError("interrupted"), Outcome.RETRY),
        (Phase.POST, RuntimeError("Discord down"), Outcome.RETRY),
        # Only the member's side refused the video (DMs closed): charged and kept, never refunded.
        (Phase.POST, MemberRefused("DMs closed"), Outcome.KEEP_FOR_MEMBER),
        (Phase.POST, UploadTooLarge(20_000_000), Outcome.REFIT),
    ],
)
def test_key_rows(phase: Phase, error: BaseException, expected: Outcome) -> None:
    assert outcome_for(phase, error) is expected


def test_a_class_without_a_row_takes_its_nearest_parents() -> None:
    class GatewayHiccup(errors.TransientServerError):
        pass

    class Odd(ValueError):
        pass

    assert row_for(GatewayHiccup) is TABLE[errors.TransientServerError]
    assert row_for(Odd) is TABLE[Exception]


def test_reason_code_is_the_apis_code_else_the_kind() -> None:
    assert outcomes.reason_code(errors.SensitiveInput("x", code=1026)) == "1026"
    assert outcomes.reason_code(errors.NetworkError("x", request_sent=False)) == "NetworkError"
    assert outcomes.reason_code(RuntimeError("x")) == "RuntimeError"
