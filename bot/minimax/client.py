"""The MiniMax video API over one shared aiohttp session: submit, query, retrieve, download.

Every call goes through the same loop: send with explicit timeouts, classify the outcome into the
error hierarchy, and retry with jittered exponential backoff when retrying is safe. Safety differs by
call: query, retrieve and download are idempotent, but a submit that may have reached the API must
never be sent again (it could create and bill a second video), so it is retried only when the
request certainly created nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import pathlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

import aiohttp
from yarl import URL

from bot.backoff import backoff
from bot.minimax import v2
from bot.minimax.callbacks import CallbackSwitch
from bot.minimax.download_guard import (
    MAX_REDIRECTS,
    MP4_SNIFF_BYTES,
    REDIRECT_HTTP,
    DownloadGuard,
    is_mp4,
    not_a_video,
)
from bot.minimax.errors import (
    ACCOUNT_ERRORS,
    AuthFailed,
    DownloadError,
    DownloadExpired,
    DownloadTooLarge,
    InvalidParameters,
    MalformedResponse,
    MiniMaxError,
    NetworkError,
    NotTheAPI,
    RateLimited,
    ServiceUnavailable,
    SubmitOutcomeUnknown,
    TransientServerError,
    UnsafeDownload,
)
from bot.minimax.parsing import (
    TRANSIENT_CODES,
    JSONObject,
    decode_json,
    parse_query,
    parse_retrieve,
    parse_retry_after,
    parse_submit,
    payload_error,
    request_id_of,
)
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, ListedTask, TaskInfo, TaskStatus
from bot.spec import VideoSpec

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger("bot.minimax")

T = TypeVar("T")

SUBMIT_PATH = "/v1/video_generation"
QUERY_PATH = "/v1/query/video_generation"
RETRIEVE_PATH = "/v1/files/retrieve"

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # JSON answers are tiny; a huge one is a broken gateway
DOWNLOAD_CHUNK = 256 * 1024
# A download attempt's total deadline, in MINIMAX_TIMEOUT_SECONDS (the per-read time-out): 30 s → 5 min.
DOWNLOAD_DEADLINE_FACTOR = 10
_EXPIRED_HTTP = frozenset({403, 404, 410})
_REDACTED = "[redacted]"
_DOWNLOAD_HEADERS = {"Connection": "close"}  # see MiniMaxClient.__init__: never pool API-side connections
DOWNLOAD_ENDPOINT = "download"  # the metrics' endpoint label for a video download (any host)


def endpoint_of(path: str) -> str:
    """The metrics' endpoint label: the path, with a V2 query's task id left out (no ids in labels)."""
    if path.startswith(v2.QUERY_PATH + "/"):
        return v2.QUERY_PATH + "/{task_id}"
    return path


def build_submit_body(spec: VideoSpec) -> JSONObject:
    """The V1 JSON body: optional fields only when set, so each model gets what it accepts.

    Media URLs go out as they are (``https://`` or ``data:image/...;base64,``); which options a model
    must not receive is the catalog's to say (:func:`bot.catalog.as_sent`), before the spec gets here.
    """
    body: JSONObject = {"model": spec.model, "prompt": spec.prompt, "prompt_optimizer": spec.prompt_optimizer}
    if spec.duration is not None:
        body["duration"] = spec.duration
    if spec.resolution is not None:
        body["resolution"] = spec.resolution
    if spec.first_frame is not None:
        body["first_frame_image"] = spec.first_frame.url
    if spec.last_frame is not None:
        body["last_frame_image"] = spec.last_frame.url
    if spec.subject is not None:
        body["subject_reference"] = [{"type": "character", "image": [spec.subject.url]}]
    if spec.fast:
        body["fast_pretreatment"] = True
    return body


def _submit_may_retry(exc: MiniMaxError) -> bool:
    """True only when the failed submit certainly created no task: the request never left (a refused
    connect), a rate limit (HTTP 429 or a rate-limit code), or a 503 with no body (a balancer turning
    it away unhandled). Any other 5xx, with a page or without, may come from a gateway that passed the
    submit on first (and the API bills it): never resent, the task becomes "unknown"."""
    if isinstance(exc, NetworkError):
        return not exc.request_sent
    return isinstance(exc, RateLimited | ServiceUnavailable)


def _idempotent_may_retry(exc: MiniMaxError) -> bool:
    return isinstance(exc, TransientServerError)


def _download_may_retry(exc: MiniMaxError) -> bool:
    if isinstance(exc, DownloadExpired | DownloadTooLarge):
        return False
    return isinstance(exc, TransientServerError) or (isinstance(exc, DownloadError) and exc.retryable)


def _remove_quietly(path: pathlib.Path) -> None:
    """Best effort: a partial file that cannot be removed must not hide the error that left it."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _loggable(url: str) -> str:
    """Host and path only: download URLs carry signed tokens in their query."""
    try:
        parsed = URL(url)
    except ValueError:
        return "<unparsable url>"
    return f"{parsed.host}{parsed.path}"


class MiniMaxClient:
    """Typed calls to the MiniMax video API (official host or a reseller prefix such as ``/minimax``).

    The session is borrowed, not owned: the composition root opens and closes it. ``sleep`` and
    ``rng`` are injectable so retry tests run instantly and deterministically.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        submit_limiter: SubmitRateLimiter | None = None,
        rng: Callable[[], float] = random.random,
        download_deadline: float | None = None,
        metrics: Metrics | None = None,
        callback: CallbackSwitch | None = None,
    ) -> None:
        self._session = session
        self._metrics = metrics
        self._callback = callback
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        # "Connection: close" on every request, downloads included: no idle connection to the API is
        # ever kept, so a submit always goes out on a fresh one. On a pooled connection the server may
        # have dropped meanwhile, a disconnect would look like "sent, no answer" and turn a submit
        # that never arrived into an "unknown" a moderator must resolve. A handshake per call is
        # cheap at a few requests per video.
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "Connection": "close",
        }
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        # One download attempt, redirects and body included, ends by this deadline.
        self._download_deadline = (
            download_deadline if download_deadline is not None else DOWNLOAD_DEADLINE_FACTOR * timeout
        )
        self._guard = DownloadGuard(self._base_url)
        self._max_retries = max(0, max_retries)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._limiter = submit_limiter
        self._rng = rng

    def __repr__(self) -> str:
        return f"MiniMaxClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def download_deadline(self) -> float:
        """Seconds one download attempt may take in all (redirects and body)."""
        return self._download_deadline

    @property
    def callback(self) -> CallbackSwitch | None:
        """Push notifications (``CALLBACK_URL``): whether submits carry it, shared with the lifecycle."""
        return self._callback

    @property
    def submit_limiter(self) -> SubmitRateLimiter | None:
        """The pacing every submit passes; a caller may wait for a free slot before committing to one."""
        return self._limiter

    # ----------------------------------------------------------------------------------- the calls

    async def submit(self, spec: VideoSpec, *, retries: int | None = None) -> str:
        """Create a generation task and return its id.

        Raises SubmitOutcomeUnknown when the request may have reached the API but no usable answer
        came back; the caller must then *not* submit again but find out (or let a moderator decide).
        ``retries`` overrides the retry budget: 0 lets a caller that records each attempt retry itself.
        """
        limit = self._max_retries if retries is None else max(0, retries)
        # The API family is the model's (the catalog says which); everything below is shared.
        on_v2 = v2.on_v2(spec.model)
        body = v2.build_v2_body(spec) if on_v2 else build_submit_body(spec)
        path = v2.submit_path(spec) if on_v2 else SUBMIT_PATH
        attempt = 0
        without_callback, refusal = False, ""
        while True:
            attempt += 1
            if self._limiter is not None:
                await self._limiter.acquire()
            sent = dict(body)
            callback = self._callback if self._callback is not None and self._callback.active else None
            if callback is not None and not without_callback:
                sent["callback_url"] = callback.url
            try:
                task_id = await self._call_json("POST", path, parse_submit, json_body=sent, attempt=attempt)
            except InvalidParameters as exc:
                if callback is None or without_callback:
                    raise
                # A 2013 answer creates nothing (no task id, nothing billed), and a failed challenge
                # is answered exactly so: the same request once more without the callback is safe.
                # Only if that one is taken (or the message names the callback) was it the callback.
                if "callback" in str(exc).lower():
                    callback.disable(str(exc))
                else:
                    without_callback, refusal = True, str(exc)
                continue
            except MalformedResponse as exc:
                raise SubmitOutcomeUnknown(
                    f"submit answer unreadable, a task may exist: {exc}", request_id=exc.request_id
                ) from None
            except NetworkError as exc:
                if exc.request_sent:
                    raise SubmitOutcomeUnknown(
                        f"submit sent but no answer: {exc}", request_id=exc.request_id
                    ) from None
                await self._before_submit_retry(exc, attempt, limit)
            except TransientServerError as exc:
                if _submit_may_retry(exc):
                    await self._before_submit_retry(exc, attempt, limit)
                elif exc.code in TRANSIENT_CODES:
                    # MiniMax's own answer (never a 5xx) declining the call with its code: it says no
                    # task exists; the submitter may queue it again (the outcome table).
                    raise
                else:
                    # A gateway's 500, 502, 504, 520, 524... (or a reseller's envelope naming one): it
                    # may have passed the submit on before failing.
                    raise SubmitOutcomeUnknown(
                        f"submit sent, then {exc}; a task may exist",
                        http_status=exc.http_status,
                        request_id=exc.request_id,
                    ) from None
            else:
                if without_callback and self._callback is not None:
                    self._callback.disable(refusal)  # refused with it, taken without it
                return task_id

    async def query(self, task_id: str, *, retries: int | None = None, model: str | None = None) -> TaskInfo:
        """The task's state. A failed *task* is returned (status FAILED), only a failed *call* raises.

        ``retries`` overrides the retry budget: 0 lets a caller that paces every request (the poller's
        query budget) do its own, slower retrying instead of sending several requests per token.
        ``model`` (the task's) picks the API family; a V2 answer names the video URL directly.
        """

        async def once(attempt: int) -> TaskInfo:
            if v2.on_v2(model):
                return await self._call_json(
                    "GET",
                    v2.query_path(task_id),
                    functools.partial(v2.parse_v2_query, task_id=task_id),
                    attempt=attempt,
                )
            return await self._call_json(
                "GET",
                QUERY_PATH,
                functools.partial(parse_query, task_id=task_id),
                params={"task_id": task_id},
                attempt=attempt,
            )

        return await self._retrying("query", once, _idempotent_may_retry, retries=retries)

    async def list_v2_tasks(
        self, *, page_num: int = 1, page_size: int = v2.LIST_PAGE_SIZE
    ) -> list[ListedTask]:
        """One page of the account's recent V2 tasks, newest first (what reconciling reads)."""

        async def once(attempt: int) -> list[ListedTask]:
            return await self._call_json(
                "GET",
                v2.QUERY_PATH,
                v2.parse_v2_list,
                params={"page_num": str(page_num), "page_size": str(page_size)},
                attempt=attempt,
            )

        return await self._retrying("list", once, _idempotent_may_retry)

    async def start_prompt_expansion(self, spec: VideoSpec) -> str:
        """Start expanding ``spec``'s prompt (``POST /v2/h3_context_ir``); returns the task id. Safe to
        retry as a call: it makes no video and is not priced."""

        async def once(attempt: int) -> str:
            body = v2.build_expansion_body(spec)
            return await self._call_json(
                "POST", v2.EXPAND_PATH, parse_submit, json_body=body, attempt=attempt
            )

        return await self._retrying("expand", once, _idempotent_may_retry)

    async def prompt_expansion(self, task_id: str) -> tuple[TaskStatus, str | None]:
        """The expansion task's status, and its prompt once it succeeded."""

        async def once(attempt: int) -> tuple[TaskStatus, str | None]:
            parse = functools.partial(v2.parse_v2_expansion, task_id=task_id)
            return await self._call_json("GET", v2.query_path(task_id), parse, attempt=attempt)

        return await self._retrying("expand-query", once, _idempotent_may_retry)

    async def cancel_v2(self, task_id: str) -> None:
        """Cancel a queued V2 task. Raises when the API refuses (the task already runs, or is gone)."""

        async def once(attempt: int) -> None:
            return await self._call_json(
                "DELETE", v2.cancel_path(task_id), v2.parse_v2_cancel, attempt=attempt
            )

        return await self._retrying("cancel", once, _idempotent_may_retry)

    async def retrieve(self, file_id: str, *, retries: int | None = None) -> FileInfo:
        """The file's (short-lived) download URL. ``retries`` as for :meth:`query`."""

        async def once(attempt: int) -> FileInfo:
            return await self._call_json(
                "GET",
                RETRIEVE_PATH,
                functools.partial(parse_retrieve, file_id=file_id),
                params={"file_id": file_id},
                attempt=attempt,
            )

        return await self._retrying("retrieve", once, _idempotent_may_retry, retries=retries)

    async def download(self, url: str, dest: pathlib.Path, *, max_bytes: int) -> int:
        """Stream ``url`` to ``dest`` and return the bytes written.

        The body goes to ``dest.part`` chunk by chunk and is renamed only when complete, so ``dest``
        never holds half a video; on any failure the partial file is removed.
        """

        async def once(attempt: int) -> int:
            answered: list[int] = []  # the last hop's HTTP status, once one answered
            try:
                written = await self._download_once(
                    url, dest, max_bytes=max_bytes, attempt=attempt, answered=answered
                )
            except MiniMaxError as exc:
                self._count(DOWNLOAD_ENDPOINT, answered[-1] if answered else None, type(exc).__name__)
                raise
            self._count(DOWNLOAD_ENDPOINT, answered[-1] if answered else None, "ok")
            return written

        return await self._retrying("download", once, _download_may_retry)

    async def check_key(self) -> None:
        """Verify the key with a harmless query for a task that does not exist.

        Any answer that is not about the account (task not found, invalid parameters, even a task
        status) proves the key was accepted. Account problems and unreachable service raise.
        """
        try:
            await self.query("0")
        except (*ACCOUNT_ERRORS, TransientServerError):
            raise
        except NotTheAPI as exc:
            # A web server's error page: the key was never looked at, so nothing was proven.
            raise NotTheAPI(
                f"{self._base_url}{QUERY_PATH} is not the video API (HTTP {exc.http_status}); check "
                "MINIMAX_BASE_URL, and a reseller's path prefix",
                http_status=exc.http_status,
            ) from None
        except MiniMaxError as exc:
            log.debug("check_key: key accepted (the API answered %s)", type(exc).__name__)

    # ----------------------------------------------------------------------------------- plumbing

    async def _retrying(
        self,
        name: str,
        once: Callable[[int], Awaitable[T]],
        may_retry: Callable[[MiniMaxError], bool],
        *,
        retries: int | None = None,
    ) -> T:
        limit = self._max_retries if retries is None else max(0, retries)
        attempt = 0
        while True:
            attempt += 1
            try:
                return await once(attempt)
            except MiniMaxError as exc:
                if attempt > limit or not may_retry(exc):
                    raise
                delay = self._backoff(attempt, exc)
                if delay is None:
                    raise
                log.warning(
                    "minimax %s failed (attempt %d, %s: %s); retrying in %.2fs",
                    name,
                    attempt,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self._sleep(delay)

    async def _before_submit_retry(self, exc: MiniMaxError, attempt: int, limit: int) -> None:
        if attempt > limit:
            raise exc
        delay = self._backoff(attempt, exc)
        if delay is None:
            raise exc
        log.warning(
            "minimax submit not accepted (attempt %d, %s: %s); retrying", attempt, type(exc).__name__, exc
        )
        if isinstance(exc, RateLimited) and self._limiter is not None:
            # The limiter holds every submitter, not just this one; acquire() does the waiting.
            self._limiter.penalize(exc.retry_after)
            return
        await self._sleep(delay)

    def _backoff(self, attempt: int, exc: MiniMaxError) -> float | None:
        """Full-jitter delay; a Retry-After is honoured, or the call gives up if it is too long."""
        ceiling = backoff(attempt, base=self._backoff_base, cap=self._backoff_max)
        delay = self._rng() * ceiling
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        if retry_after is not None:
            if retry_after > self._backoff_max:
                return None
            delay = max(delay, retry_after)
        return delay

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED) if self._api_key else text

    async def _call_json(
        self,
        method: str,
        path: str,
        parse: Callable[[JSONObject], T],
        *,
        attempt: int,
        params: dict[str, str] | None = None,
        json_body: JSONObject | None = None,
    ) -> T:
        """One request; returns ``parse`` of the JSON object of a 2xx answer or raises the classified
        error, tagged with the answer's request id.

        Errors carried *inside* a 2xx body are left to the parser, which knows whether they describe
        the call or the task.
        """
        url = self._base_url + path
        request_id: str | None = None
        status: int | None = None
        try:
            try:
                async with self._session.request(
                    method, url, params=params, json=json_body, headers=self._headers, timeout=self._timeout
                ) as resp:
                    status = resp.status
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    request_id = request_id_of(resp.headers, None)
                    raw = await self._read_capped(resp)
            except aiohttp.ConnectionTimeoutError:
                log.warning("minimax %s %s: connect timed out (attempt %d)", method, path, attempt)
                raise NetworkError("connect timed out", request_sent=False) from None
            except aiohttp.ClientConnectorError as exc:
                log.warning("minimax %s %s: cannot connect (attempt %d)", method, path, attempt)
                raise NetworkError(f"cannot connect ({type(exc).__name__})", request_sent=False) from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning(
                    "minimax %s %s: no answer, %s (attempt %d)", method, path, type(exc).__name__, attempt
                )
                raise NetworkError(f"no answer ({type(exc).__name__})", request_sent=True) from None
            log.debug("minimax %s %s -> HTTP %d (attempt %d)", method, path, status, attempt)
            text = self._redact(raw.decode("utf-8", errors="replace"))
            try:
                payload: JSONObject | None = decode_json(text)
            except MalformedResponse:
                payload = None
            request_id = request_id or request_id_of({}, payload)
            result = parse(self._interpret(status, text, payload, retry_after))
        except MiniMaxError as exc:
            self._count(endpoint_of(path), status, type(exc).__name__)
            if exc.request_id is None:
                exc.request_id = request_id
            raise
        self._count(endpoint_of(path), status, "ok")
        return result

    def _count(self, endpoint: str, status: int | None, result: str) -> None:
        """One request in the metrics: its endpoint, its HTTP status (None: no answer), its outcome."""
        if self._metrics is not None:
            self._metrics.api_request(endpoint, status, result)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        if resp.content_length is not None and resp.content_length > MAX_ANSWER_BYTES:
            raise MalformedResponse(f"answer of {resp.content_length} bytes is too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise MalformedResponse("answer is too large")
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(
        self, status: int, text: str, payload: JSONObject | None, retry_after: float | None
    ) -> JSONObject:
        if status == 429:
            raise RateLimited("HTTP 429 Too Many Requests", http_status=429, retry_after=retry_after)
        if status == 503 and not text.strip():
            raise ServiceUnavailable("HTTP 503 with no body from the API", http_status=status)
        if status >= 500:
            raise TransientServerError(f"HTTP {status} from the API", http_status=status)
        if 200 <= status < 300:
            if payload is None:
                raise MalformedResponse(f"HTTP {status} answer is not a JSON object", http_status=status)
            return payload
        error = payload_error(payload, http_status=status, retry_after=retry_after) if payload else None
        if status in (401, 403) and (error is None or type(error) is MiniMaxError):
            raise AuthFailed(f"HTTP {status}: the API key was refused", http_status=status)
        if error is not None:
            raise error
        snippet = " ".join(text.split())[:200]
        raise NotTheAPI(f"HTTP {status} from the API: {snippet}", http_status=status)

    async def _download_once(
        self, url: str, dest: pathlib.Path, *, max_bytes: int, attempt: int, answered: list[int]
    ) -> int:
        where = _loggable(url)
        part = dest.with_name(dest.name + ".part")
        try:
            # The whole attempt, redirects and body, within one deadline: a per-read time-out alone
            # lets a server that trickles a byte at a time hold a delivery for ever.
            async with asyncio.timeout(self._download_deadline), self._open_download(url, attempt) as resp:
                answered.append(resp.status)
                self._check_download_status(resp.status)
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise DownloadTooLarge(
                        f"download is {resp.content_length} bytes, limit {max_bytes}", limit=max_bytes
                    )
                await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
                written = await self._stream_to(resp, part, max_bytes=max_bytes)
            await asyncio.to_thread(os.replace, part, dest)
            log.debug("minimax download %s: %d bytes", where, written)
            return written
        except (TimeoutError, aiohttp.ClientError) as exc:
            await asyncio.to_thread(_remove_quietly, part)
            log.warning("minimax download %s: %s (attempt %d)", where, type(exc).__name__, attempt)
            raise DownloadError(f"download interrupted ({type(exc).__name__})") from None
        except OSError as exc:
            # The local side (disk full, directory gone): retrying at once would fail the same way.
            await asyncio.to_thread(_remove_quietly, part)
            log.warning("minimax download %s: cannot write (%s)", where, exc.strerror or type(exc).__name__)
            error = DownloadError(f"cannot write the download ({exc.strerror or type(exc).__name__})")
            error.retryable = False
            raise error from None
        except BaseException:
            await asyncio.to_thread(_remove_quietly, part)
            raise

    @contextlib.asynccontextmanager
    async def _open_download(self, url: str, attempt: int) -> AsyncIterator[aiohttp.ClientResponse]:
        """The answer at the end of ``url``'s redirects, each hop checked by the guard first.

        Redirects are followed here, not by aiohttp, so that no hop is requested unchecked.
        """
        target = URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            await self._guard.check(target)
            # No Authorization header: the URL is pre-signed and usually on a CDN, not the API host.
            async with self._session.get(
                target, timeout=self._timeout, headers=_DOWNLOAD_HEADERS, allow_redirects=False
            ) as resp:
                where = _loggable(str(target))
                log.debug("minimax download %s -> HTTP %d (attempt %d)", where, resp.status, attempt)
                location = resp.headers.get("Location")
                if resp.status in REDIRECT_HTTP and location:
                    try:
                        target = target.join(URL(location))
                    except ValueError:
                        raise UnsafeDownload(f"download from {target.host} redirects to a bad URL") from None
                    continue
                yield resp
                return
        raise UnsafeDownload(f"download URL redirected more than {MAX_REDIRECTS} times")

    @staticmethod
    def _check_download_status(status: int) -> None:
        if status in _EXPIRED_HTTP:
            raise DownloadExpired(
                f"download URL refused with HTTP {status}; retrieve a fresh one", http_status=status
            )
        if status == 429:
            raise DownloadError("download rate limited (HTTP 429)", http_status=status)
        if status >= 500:
            raise DownloadError(f"download failed with HTTP {status}", http_status=status)
        if status != 200:
            error = DownloadError(f"download failed with HTTP {status}", http_status=status)
            error.retryable = False
            raise error

    @staticmethod
    async def _stream_to(resp: aiohttp.ClientResponse, part: pathlib.Path, *, max_bytes: int) -> int:
        """Write the body to ``part``; it must open with an MP4 ``ftyp`` box (checked on the first
        bytes, so an HTML page or anything else is refused before most of it is read)."""
        handle: IO[Any] = await asyncio.to_thread(part.open, "wb")
        written = 0
        head = b""
        try:
            async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                if len(head) < MP4_SNIFF_BYTES:
                    head += chunk[: MP4_SNIFF_BYTES - len(head)]
                    if len(head) == MP4_SNIFF_BYTES and not is_mp4(head):
                        raise not_a_video(resp.url.host or "?")
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadTooLarge(
                        f"download exceeded the limit of {max_bytes} bytes", limit=max_bytes
                    )
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        if not is_mp4(head):
            raise not_a_video(resp.url.host or "?")
        return written
