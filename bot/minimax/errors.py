"""One exception hierarchy for the API: each carries the API's code and a message safe for members.

``str(error)`` is for logs and moderators; ``error.user_message`` is what a member may read. Neither
ever contains the API key. ``error.request_id`` is the id the API (or the gateway in front of it)
gave the answer, when it named one: what its support asks for when a moderator looks into a task.
"""

from __future__ import annotations


class MiniMaxError(Exception):
    """Base of every client error."""

    user_message = "The video service had a problem. Your credits were refunded."
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.request_id = request_id

    @property
    def request_note(self) -> str:
        """`` (request id …)`` to append to a log line, or "" when the answer named no id."""
        return f" (request id {self.request_id})" if self.request_id else ""


class TransientServerError(MiniMaxError):
    user_message = "The video service is having trouble right now. Your credits were refunded."
    retryable = True


class RateLimited(TransientServerError):
    user_message = "The video service is busy right now. Please try again in a minute."

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, request_id=request_id)
        self.retry_after = retry_after


class ServiceUnavailable(TransientServerError):
    """HTTP 503 with no body at all: a balancer in front of the API turned the request away before
    anything handled it, so even a submit certainly created nothing. A 503 *with* a body (a
    gateway's page) is a plain TransientServerError: a gateway may have passed the request on."""


class MalformedResponse(TransientServerError):
    user_message = "The video service sent an answer we could not read. Your credits were refunded."


class NotTheAPI(MiniMaxError):
    """An error answer that is not the API's own (a web server's 404 page): usually a wrong base URL,
    such as a reseller's without its path prefix."""


class AuthFailed(MiniMaxError):
    user_message = "The bot's video service account is not working. The moderators have been told."


class InsufficientBalance(MiniMaxError):
    user_message = "The bot's video service account is out of balance. The moderators have been told."


class AccountProblem(MiniMaxError):
    """Verification required, plan quota, model not on the plan: moderators must act."""

    user_message = "The bot's video service account cannot make this video. The moderators have been told."


# The account needs a moderator (a key, a balance, a plan), whatever the call.
ACCOUNT_ERRORS = (AuthFailed, InsufficientBalance, AccountProblem)


class SensitiveInput(MiniMaxError):
    user_message = (
        "The video service refused your prompt or image as sensitive content. "
        "Please rephrase it. Your credits were refunded."
    )


class SensitiveOutput(MiniMaxError):
    user_message = (
        "The generated video was withheld by the video service's content filter. "
        "Try a different prompt. Your credits were refunded."
    )


class InvalidParameters(MiniMaxError):
    """2013 and 1042: the API's own message says which parameter and is safe to show."""

    @property
    def user_message(self) -> str:  # type: ignore[override]
        return f"The video service rejected the request: {self.args[0]}"


class SubmitOutcomeUnknown(MiniMaxError):
    """The submit was sent but no answer came back: a task may or may not exist, so never resend."""

    user_message = (
        "We could not confirm whether the video service accepted this request. "
        "It was not sent again, so you won't be charged twice; a moderator will check it."
    )


class DownloadError(MiniMaxError):
    retryable = True


class DownloadExpired(DownloadError):
    """403/404/410 on the download URL: retrieve the file again for a fresh URL."""


class DownloadTooLarge(DownloadError):
    retryable = False

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class UnsafeDownload(DownloadError):
    """The download URL (or a redirect) is not http(s), or points at a loopback, private, link-local
    or reserved address that is not the API's own host: never fetched (:mod:`bot.minimax.download_guard`)."""

    user_message = (
        "The video service gave a download address the bot may not fetch, so nothing was posted. "
        "Your credits were refunded."
    )
    retryable = False


class NotAVideo(DownloadError):
    """The download's body is not an MP4 (no ``ftyp`` box at its start): never posted."""

    user_message = (
        "The video service sent a file that is not a video, so nothing was posted. "
        "Your credits were refunded."
    )
    retryable = False


class UnreadableVideo(NotAVideo):
    """The download starts like an MP4 (an ``ftyp`` box) but cannot be read as a video: truncated,
    corrupt, no video track, no frames (:func:`bot.video.probe.probe` says which). Never posted; its
    outcome is its parent's (fail and refund)."""

    user_message = (
        "The video service sent a damaged video file that cannot be played, so nothing was posted. "
        "Your credits were refunded; please try again."
    )


class NetworkError(TransientServerError):
    """No HTTP answer at all. ``request_sent`` tells whether the server may have acted on the request.

    Only a request that certainly never left (refused or timed-out connect) may be sent again when it
    is not idempotent, such as a submit.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent
