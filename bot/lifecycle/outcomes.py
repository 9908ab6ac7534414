"""What happens to a task when a call to the API (or to Discord) raises: the one table to read.

To answer "what happens when the API says X": find X's class in :data:`TABLE` (the classes are in
:mod:`bot.minimax.errors`; :mod:`bot.minimax.parsing` says which API code becomes which class), then
read the column of the phase the task was in. A class without a row of its own takes its nearest
parent's (:func:`outcome_for` walks the class's MRO); :class:`Exception` stands for everything that is
not an API error (a bug, a full disk, a Discord failure).

Phases, and who acts on them:

``SUBMIT``
    The create call (:class:`~bot.lifecycle.submitter.Submitter`). A submit is sent again only when
    the first attempt certainly created nothing: the request never left (a :class:`NetworkError`
    that gets this far), a rate limit (HTTP 429 or a rate-limit code: :class:`RateLimited`), a 503
    with no body (:class:`ServiceUnavailable`), or the API's own answer naming a transient code such
    as 1000 (a :class:`TransientServerError` that is not a 5xx). Everything else ambiguous (an
    unreadable answer, a request sent without an answer, any other 5xx with a page or without, 500
    and 502 included: a gateway may have passed the submit on, and it is billed) reaches the
    submitter as :class:`SubmitOutcomeUnknown`, never resent (``_submit_may_retry`` in
    :mod:`bot.minimax.client` draws that line).
``QUERY``
    A status query of a running task failed as a call (:class:`~bot.lifecycle.tracker.Tracker`).
``GENERATION``
    The query worked and says the task failed at the API; the API's code is classified like a call
    error (:func:`bot.minimax.parsing.task_failure_error`).
``RETRIEVE``
    Asking for the finished video's download URL (:class:`~bot.lifecycle.delivery.Delivery`; a
    gateway that names no file is asked with a query instead, same phase).
``DOWNLOAD``
    Fetching the video file from that URL (the delivery). Every hop is checked first
    (:mod:`bot.minimax.download_guard`): a URL that is not http(s) or points at a loopback, private,
    link-local or reserved address (:class:`UnsafeDownload`), or a body that is not an MP4
    (:class:`NotAVideo`), fails the task at once; so does a file that starts like an MP4 but cannot
    be read as a video, truncated or corrupt (:class:`UnreadableVideo`, probed before posting).
``POST``
    Posting the result to Discord (the delivery's notifier). No API call happens here: every API
    class has a cell only so the table is complete, and the notifier's errors are the ``Exception``
    row, except :class:`~bot.lifecycle.notifier.MemberRefused`: only the member's side refused the
    video (their DMs are closed to the bot), so it is charged and kept for them, never refunded; and
    :class:`~bot.lifecycle.notifier.UploadTooLarge`: Discord refused the file as too large (413 /
    40005), so the limit of that place is lowered and a smaller re-encode (or the link) is posted.

Outcomes are described on :class:`Outcome`. Retries are bounded, and what follows the last one is
"fail and refund": a submit after ``MAX_SUBMIT_ATTEMPTS`` attempts, a query at the task's time-out
(``TASK_TIMEOUT``), a retrieve, download or post after ``DELIVERY_ATTEMPTS`` delivery attempts (but
a video that was posted, or kept for a member who refused it, is never refunded). The API's request
id, when its answer carried one, is on the error (``MiniMaxError.request_id``) and goes into the log
line with the task id; an unknown task keeps it in its stored message, where a moderator resolving
it can quote it to the API's support.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple

from bot.lifecycle.notifier import MemberRefused, UploadTooLarge
from bot.minimax.errors import (
    AccountProblem,
    AuthFailed,
    DownloadError,
    DownloadExpired,
    DownloadTooLarge,
    InsufficientBalance,
    InvalidParameters,
    MalformedResponse,
    MiniMaxError,
    NetworkError,
    NotAVideo,
    NotTheAPI,
    RateLimited,
    SensitiveInput,
    SensitiveOutput,
    ServiceUnavailable,
    SubmitOutcomeUnknown,
    TransientServerError,
    UnreadableVideo,
    UnsafeDownload,
)


class Phase(enum.Enum):
    SUBMIT = "submit"
    QUERY = "query"
    GENERATION = "generation"
    RETRIEVE = "retrieve"
    DOWNLOAD = "download"
    POST = "post"


class Outcome(enum.Enum):
    RETRY = "retry later, with backoff"
    """Try the same step again later (the phase's bound above), the task keeping its state."""
    THROTTLE = "hold every call, then retry"
    """As RETRY, and first hold every call of its kind (submits or queries) for the API's
    Retry-After, or one slot's worth when it named none: the limit is the account's, not the task's."""
    FAIL = "fail and refund"
    """The task fails, its credits are refunded, the member is told the error's ``user_message``."""
    PAUSE_ACCOUNT = "pause the account, fail and refund"
    """The account needs a moderator: submissions pause (saved, so a restart keeps the pause), then
    the task fails and is refunded. Queued tasks wait for the pause."""
    UNKNOWN = "mark unknown"
    """The API may or may not have the task: never resent. A V2 (H3) task is first looked for in
    the API's task list (:mod:`bot.lifecycle.reconcile`; what it finds leads to :data:`RECONCILED`);
    a V1 task, or a V2 one the list cannot settle, waits for a moderator, who resolves it with
    ``/videoadmin tasks`` (resume with the API's task id, or refund)."""
    RENEW_URL = "retrieve a fresh URL, download again"
    """The signed download URL expired: a fresh one is retrieved and the download tried once more."""
    POST_LINK = "post the link instead of the file"
    """The video is over the upload limit: the member gets its download link (valid an hour)."""
    REFIT = "lower the upload limit, post a smaller re-encode"
    """Discord's limit is lower than believed: it is lowered for that server (until a restart), the
    video re-encoded to fit the new one and posted again; when no re-encode fits, the link."""
    KEEP_FOR_MEMBER = "charge it, keep it for the member to fetch"
    """The video was made and only the member's side refused it: it is charged (delivered, with no
    result message), the member is told where they can be how to get it (``/video status`` and
    Details give a fresh download link), and nothing is refunded."""


class Row(NamedTuple):
    """One error class's outcome in each phase."""

    submit: Outcome
    query: Outcome
    generation: Outcome
    retrieve: Outcome
    download: Outcome
    post: Outcome

    def at(self, phase: Phase) -> Outcome:
        outcome: Outcome = getattr(self, phase.value)
        return outcome


# Short names, so the table reads as a grid.
RETRY, THROTTLE, FAIL, PAUSE, UNKNOWN, RENEW, LINK, KEEP, REFIT = (
    Outcome.RETRY,
    Outcome.THROTTLE,
    Outcome.FAIL,
    Outcome.PAUSE_ACCOUNT,
    Outcome.UNKNOWN,
    Outcome.RENEW_URL,
    Outcome.POST_LINK,
    Outcome.KEEP_FOR_MEMBER,
    Outcome.REFIT,
)

# fmt: off
TABLE: Mapping[type[BaseException], Row] = {
    #                      submit    query     generation retrieve  download  post
    MiniMaxError:          Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    TransientServerError:  Row(RETRY,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    RateLimited:           Row(THROTTLE, THROTTLE, FAIL,      THROTTLE, RETRY,    RETRY),
    ServiceUnavailable:    Row(RETRY,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    MalformedResponse:     Row(RETRY,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    NetworkError:          Row(RETRY,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    NotTheAPI:             Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    AuthFailed:            Row(PAUSE,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    InsufficientBalance:   Row(PAUSE,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    AccountProblem:        Row(PAUSE,    RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    SensitiveInput:        Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    SensitiveOutput:       Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    InvalidParameters:     Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    SubmitOutcomeUnknown:  Row(UNKNOWN,  RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    DownloadError:         Row(FAIL,     RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    DownloadExpired:       Row(FAIL,     RETRY,    FAIL,      RETRY,    RENEW,    RETRY),
    DownloadTooLarge:      Row(FAIL,     RETRY,    FAIL,      RETRY,    LINK,     RETRY),
    UnsafeDownload:        Row(FAIL,     RETRY,    FAIL,      RETRY,    FAIL,     RETRY),
    NotAVideo:             Row(FAIL,     RETRY,    FAIL,      RETRY,    FAIL,     RETRY),
    UnreadableVideo:       Row(FAIL,     RETRY,    FAIL,      RETRY,    FAIL,     RETRY),
    # Not an API error: a bug or a local fault. A submit that raised one may have been sent.
    Exception:             Row(UNKNOWN,  RETRY,    FAIL,      RETRY,    RETRY,    RETRY),
    # Not an API error either: the member's side refused the result (only the notifier raises it).
    MemberRefused:         Row(UNKNOWN,  RETRY,    FAIL,      RETRY,    RETRY,    KEEP),
    # Not an API error: Discord refused the file as too large (only the notifier raises it).
    UploadTooLarge:        Row(UNKNOWN,  RETRY,    FAIL,      RETRY,    RETRY,    REFIT),
}
# fmt: on

# What each worker knows how to do in each phase; the table may use nothing else (a test checks).
HANDLED: Mapping[Phase, frozenset[Outcome]] = {
    Phase.SUBMIT: frozenset({RETRY, THROTTLE, FAIL, PAUSE, UNKNOWN}),
    Phase.QUERY: frozenset({RETRY, THROTTLE, FAIL}),
    Phase.GENERATION: frozenset({FAIL}),
    Phase.RETRIEVE: frozenset({RETRY, THROTTLE}),
    Phase.DOWNLOAD: frozenset({RETRY, RENEW, LINK, FAIL}),
    Phase.POST: frozenset({RETRY, KEEP, REFIT}),
}


class ListMatch(enum.Enum):
    """How many entries of the V2 task list could be an ``unknown`` task (:mod:`bot.lifecycle.reconcile`)."""

    ONE = "one"
    NONE = "none"
    MANY = "many"


# What reconciling an unknown V2 task from the list does, per what it found.
RECONCILED: Mapping[ListMatch, str] = {
    ListMatch.ONE: "resume it: track the listed task from there, never resend",
    ListMatch.NONE: "fail and refund, once the window passed with the list read and the task absent",
    ListMatch.MANY: "leave it unknown for a moderator (the candidates' ids are logged)",
}


def row_for(error: type[BaseException]) -> Row:
    """The row of ``error``'s class, or of its nearest parent that has one."""
    for cls in error.__mro__:
        row = TABLE.get(cls)
        if row is not None:
            return row
    raise LookupError(f"{error.__name__} is not an Exception: no outcome")


def outcome_for(phase: Phase, error: BaseException) -> Outcome:
    """What happens to the task when ``error`` is raised in ``phase``."""
    return row_for(type(error)).at(phase)


def retry_after(error: BaseException) -> float | None:
    """The wait the API asked for, if any (only a rate-limit answer names one)."""
    return error.retry_after if isinstance(error, RateLimited) else None


def reason_code(error: BaseException) -> str:
    """A short reason for statistics: the API's code when there is one, else the error's kind."""
    code = error.code if isinstance(error, MiniMaxError) else None
    return str(code) if code is not None else type(error).__name__
