"""The MiniMax client against the fake server, in both flavours: calls, error mapping, retries."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from bot.minimax import errors
from bot.minimax.client import MiniMaxClient, build_submit_body
from bot.minimax.parsing import task_failure_error
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import TaskStatus
from tests.bot.minimax.conftest import MakeClient, RecordingSleep
from tests.builders import sent_spec
from tests.fakes.fake_minimax import FakeMiniMax

TEXT = sent_spec("MiniMax-Hailuo-2.3", "A little pig runs happily on the highway.", 6, "768P")
IMAGE_URL = "https://images.example/frame.jpg"


async def finished_task(client: MiniMaxClient, fake: FakeMiniMax) -> str:
    task_id = await client.submit(TEXT)
    fake.finish_all()
    return task_id


# ---------------------------------------------------------------------------------------- happy paths


async def test_whole_cycle(fake_minimax_any: FakeMiniMax, make_client: MakeClient, tmp_path: Path) -> None:
    fake = fake_minimax_any
    client = make_client(fake)

    task_id = await client.submit(TEXT)
    assert task_id in fake.tasks

    info = await client.query(task_id)
    assert (info.task_id, info.status) == (task_id, TaskStatus.QUEUED)

    fake.clock.advance(fake.plan.preparing + fake.plan.queueing + fake.plan.processing / 2)
    info = await client.query(task_id)
    assert info.status is TaskStatus.PROCESSING
    if fake.flavour == "reseller":
        assert info.progress == 50

    fake.finish_all()
    info = await client.query(task_id)
    assert info.status is TaskStatus.SUCCEEDED
    assert info.file_id is not None
    assert (info.width, info.height) == (1366, 768)
    # Only the gateway embeds the file object; the official flavour needs a retrieve.
    assert (info.download_url is not None) is (fake.flavour == "reseller")

    file = await client.retrieve(info.file_id)
    assert file.file_id == info.file_id
    assert file.size_bytes is None
    dest = tmp_path / "video.mp4"
    written = await client.download(file.download_url, dest, max_bytes=10_000_000)
    assert written == fake.download_size
    assert dest.read_bytes() == fake.file_bytes(info.file_id)
    assert dest.read_bytes()[4:8] == b"ftyp"
    assert dict(fake.counts) == {"submit": 1, "query": 3, "retrieve": 1, "download": 1}


async def test_embedded_download_url_works(make_client: MakeClient, tmp_path: Path) -> None:
    async with FakeMiniMax(flavour="reseller") as fake:
        client = make_client(fake)
        info = await client.query(await finished_task(client, fake))
        assert info.download_url is not None
        assert (
            await client.download(info.download_url, tmp_path / "v.mp4", max_bytes=10**7)
            == fake.download_size
        )


async def test_reseller_answering_official_submit_bodies(make_client: MakeClient) -> None:
    async with FakeMiniMax(flavour="reseller", reseller_official_submit=True) as fake:
        client = make_client(fake)
        assert await client.submit(TEXT) in fake.tasks


async def test_requests_carry_bearer_key_and_no_group_id(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    task_id = await client.submit(TEXT)
    await client.query(task_id)
    for request in fake.requests:
        assert request.headers["Authorization"] == f"Bearer {fake.api_key}"
        assert "GroupId" not in request.query and "GroupId" not in request.headers
        assert request.path.startswith("/minimax/v1/" if fake.flavour == "reseller" else "/v1/")
    assert fake.requests[1].query == {"task_id": task_id}


async def test_trailing_slash_in_base_url(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax, base_url=fake_minimax.base_url + "/")
    assert await client.submit(TEXT) in fake_minimax.tasks


def test_submit_body_omits_unset_fields() -> None:
    legacy = sent_spec("T2V-01", "a cat")
    assert build_submit_body(legacy) == {"model": "T2V-01", "prompt": "a cat", "prompt_optimizer": True}


def test_submit_body_with_every_field() -> None:
    request = sent_spec(
        "MiniMax-Hailuo-02",
        "zoom",
        duration=10,
        resolution="768P",
        first_frame_image=IMAGE_URL,
        last_frame_image="data:image/png;base64,AAAA",
        prompt_optimizer=False,
        fast_pretreatment=True,
    )
    assert build_submit_body(request) == {
        "model": "MiniMax-Hailuo-02",
        "prompt": "zoom",
        "prompt_optimizer": False,
        "duration": 10,
        "resolution": "768P",
        "first_frame_image": IMAGE_URL,
        "last_frame_image": "data:image/png;base64,AAAA",
        "fast_pretreatment": True,
    }


async def test_subject_reference_shape(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax)
    await client.submit(sent_spec("S2V-01", "she waves", subject_image=IMAGE_URL))
    assert fake_minimax.submissions[-1]["subject_reference"] == [{"type": "character", "image": [IMAGE_URL]}]


def test_repr_hides_the_key(session: aiohttp.ClientSession) -> None:
    client = MiniMaxClient(session, "sk-very-secret", "https://api.minimax.io")
    assert "sk-very-secret" not in repr(client)


# ---------------------------------------------------------------------------------------- error codes

CODE_TABLE: list[tuple[int, type[errors.MiniMaxError]]] = [
    *((c, errors.TransientServerError) for c in (1000, 1001, 1013, 1024, 1033)),
    *((c, errors.RateLimited) for c in (1002, 1039, 1041, 2045)),
    (1004, errors.AuthFailed),
    (2049, errors.AuthFailed),
    (1008, errors.InsufficientBalance),
    (1026, errors.SensitiveInput),
    (1027, errors.SensitiveOutput),
    (1042, errors.InvalidParameters),
    (2013, errors.InvalidParameters),
    *((c, errors.AccountProblem) for c in (2038, 2056, 1028, 1030, 2061)),
    (1999, errors.MiniMaxError),
]


@pytest.mark.parametrize(("code", "kind"), CODE_TABLE)
@pytest.mark.parametrize("endpoint", ["submit", "query", "retrieve"])
async def test_api_codes_map_to_errors(
    fake_minimax_any: FakeMiniMax,
    make_client: MakeClient,
    endpoint: str,
    code: int,
    kind: type[errors.MiniMaxError],
) -> None:
    fake = fake_minimax_any
    client = make_client(fake, max_retries=0)
    task_id = await finished_task(client, fake)
    fake.inject(endpoint, code, message="words from the API")

    if endpoint == "query" and code in (1026, 1027):
        # A moderation verdict on a query describes the task; the call itself worked.
        info = await client.query(task_id)
        assert (info.status, info.error_code) == (TaskStatus.FAILED, code)
        assert type(task_failure_error(info)) is kind
        return
    with pytest.raises(errors.MiniMaxError) as caught:
        if endpoint == "submit":
            await client.submit(TEXT)
        elif endpoint == "query":
            await client.query(task_id)
        else:
            await client.retrieve(str(fake.tasks[task_id].file_id))
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert "words from the API" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.NotTheAPI),  # a bare status with no API body
        (401, errors.AuthFailed),
        (403, errors.AuthFailed),
        (429, errors.RateLimited),
        (500, errors.TransientServerError),
        (502, errors.TransientServerError),
        (503, errors.TransientServerError),
        (504, errors.TransientServerError),
    ],
)
async def test_http_statuses_map_to_errors(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, status: int, kind: type[errors.MiniMaxError]
) -> None:
    fake = fake_minimax_any
    client = make_client(fake, max_retries=0)
    task_id = await client.submit(TEXT)
    fake.inject("query", status)
    with pytest.raises(errors.MiniMaxError) as caught:
        await client.query(task_id)
    assert type(caught.value) is kind
    assert caught.value.http_status == status


async def test_malformed_query_answer(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax_any, max_retries=0)
    task_id = await client.submit(TEXT)
    fake_minimax_any.inject("query", "malformed")
    with pytest.raises(errors.MalformedResponse):
        await client.query(task_id)


async def test_wrong_key(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax_any, api_key="not-the-key")
    with pytest.raises(errors.AuthFailed):
        await client.submit(TEXT)
    with pytest.raises(errors.AuthFailed):
        await client.query("106916112212032")
    assert fake_minimax_any.tasks == {}
    assert fake_minimax_any.counts["submit"] == 1  # auth failures are not retried


async def test_wrong_key_as_http_401_on_the_official_host(make_client: MakeClient) -> None:
    async with FakeMiniMax(auth_failure="http401") as fake:
        with pytest.raises(errors.AuthFailed) as caught:
            await make_client(fake, api_key="nope").query("1")
    assert caught.value.http_status == 401


async def test_unknown_task(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax_any)
    with pytest.raises(errors.MiniMaxError) as caught:
        await client.query("12345")
    assert not isinstance(caught.value, errors.TransientServerError)
    assert fake_minimax_any.counts["query"] == 1


# ---------------------------------------------------------------------------------------- task outcomes


@pytest.mark.parametrize(("code", "kind"), [(1026, errors.SensitiveInput), (1027, errors.SensitiveOutput)])
async def test_moderated_task(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, code: int, kind: type[errors.MiniMaxError]
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    fake.fail_next_task(code)
    task_id = await client.submit(TEXT)
    fake.finish_all()
    info = await client.query(task_id)
    assert (info.status, info.error_code, info.file_id) == (TaskStatus.FAILED, code, None)
    assert info.error_message
    assert type(task_failure_error(info)) is kind


async def test_failed_task_without_code(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    fake.fail_next_task(0, "the render farm is on fire")
    task_id = await client.submit(TEXT)
    fake.finish_all()
    info = await client.query(task_id)
    assert (info.status, info.error_code) == (TaskStatus.FAILED, None)
    assert "render farm" in str(task_failure_error(info))


async def test_never_finishing_task(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    fake.never_finish_next_task()
    task_id = await client.submit(TEXT)
    fake.clock.advance(24 * 3600)
    assert (await client.query(task_id)).status is TaskStatus.PROCESSING


# ---------------------------------------------------------------------------------------- retries


async def test_query_retried_on_transient_errors(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    fake = fake_minimax_any
    client = make_client(fake, backoff_base=0.5, backoff_max=20.0)
    task_id = await client.submit(TEXT)
    fake.inject("query", 503)
    fake.inject("query", 1000)
    fake.inject("query", "malformed")
    info = await client.query(task_id)
    assert info.task_id == task_id
    assert fake.counts["query"] == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]  # exponential; rng=1.0 picks the ceiling of the jitter


async def test_backoff_is_capped(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, backoff_base=1.0, backoff_max=3.0, max_retries=4)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 500, times=4)
    await client.query(task_id)
    assert sleeps.delays == [1.0, 2.0, 3.0, 3.0]


async def test_jitter_scales_the_delay(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, backoff_base=2.0, rng=lambda: 0.25)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 502, times=2)
    await client.query(task_id)
    assert sleeps.delays == [0.5, 1.0]


async def test_query_gives_up_after_max_retries(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, max_retries=2)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 500, times=10)
    with pytest.raises(errors.TransientServerError):
        await client.query(task_id)
    assert fake_minimax.counts["query"] == 3
    assert len(sleeps.delays) == 2


async def test_retry_after_is_honoured(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, backoff_base=0.01)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 429, retry_after=7)
    await client.query(task_id)
    assert sleeps.delays == [7.0]
    assert fake_minimax.counts["query"] == 2


async def test_retry_after_longer_than_backoff_max_gives_up(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, backoff_max=10.0)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 429, retry_after=600)
    with pytest.raises(errors.RateLimited) as caught:
        await client.query(task_id)
    assert caught.value.retry_after == 300.0  # capped: see MAX_RETRY_AFTER
    assert sleeps.delays == []
    assert fake_minimax.counts["query"] == 1


@pytest.mark.parametrize("code", [1004, 1008, 2013, 2061])
async def test_fatal_errors_are_not_retried(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep, code: int
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    task_id = await finished_task(client, fake)
    fake.inject("retrieve", code, times=5)
    with pytest.raises(errors.MiniMaxError):
        await client.retrieve(str(fake.tasks[task_id].file_id))
    assert fake.counts["retrieve"] == 1
    assert sleeps.delays == []


async def test_query_survives_a_dropped_connection(
    fake_minimax: FakeMiniMax, make_client: MakeClient
) -> None:
    client = make_client(fake_minimax)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", "drop")
    assert (await client.query(task_id)).task_id == task_id
    assert fake_minimax.counts["query"] == 2


async def test_query_survives_a_slow_answer(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax, timeout=0.2)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", "slow", delay=30)
    assert (await client.query(task_id)).task_id == task_id
    assert fake_minimax.counts["query"] == 2


# ---------------------------------------------------------------------------------------- submit safety


# (fault, body): body None is the fake's HTML error page, "" no body at all.
@pytest.mark.parametrize(
    ("fault", "body"), [(429, None), (503, ""), (1002, None), (1039, None), (1041, None), (2045, None)]
)
async def test_submit_retried_when_no_task_was_created(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, fault: int, body: str | None
) -> None:
    """Only answers that certainly created nothing: a rate limit, or a bare 503 (a balancer refusing
    before anything was handled)."""
    fake = fake_minimax_any
    client = make_client(fake)
    fake.inject("submit", fault, message=body)
    task_id = await client.submit(TEXT)
    assert fake.counts["submit"] == 2
    assert list(fake.tasks) == [task_id]


@pytest.mark.parametrize(
    ("fault", "body"),
    [
        ("drop", None),
        ("malformed", None),
        ("no_task_id", None),
        *((status, None) for status in (500, 502, 503, 504, 501, 520, 524)),
        # A gateway that passed the submit on may answer 500/502 with or without a page: both bill.
        (500, ""),
        (502, ""),
        (502, '{"error": "upstream connect error"}'),
    ],
)
async def test_submit_never_resent_when_a_task_may_exist(
    fake_minimax_any: FakeMiniMax,
    make_client: MakeClient,
    sleeps: RecordingSleep,
    fault: int | str,
    body: str | None,
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    fake.inject("submit", fault, message=body)
    with pytest.raises(errors.SubmitOutcomeUnknown):
        await client.submit(TEXT)
    assert fake.counts["submit"] == 1
    assert sleeps.delays == []


async def test_submit_timeout_after_send_is_unknown_outcome(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient
) -> None:
    fake = fake_minimax_any
    client = make_client(fake, timeout=0.2)
    fake.inject("submit", "slow", delay=30)
    with pytest.raises(errors.SubmitOutcomeUnknown):
        await client.submit(TEXT)
    assert fake.counts["submit"] == 1
    assert len(fake.tasks) == 1  # the API did create it: resending would have made (and billed) two


@pytest.mark.parametrize("code", [1000, 1001, 2013, 1026, 1008])
async def test_submit_not_retried_on_other_api_errors(
    fake_minimax: FakeMiniMax, make_client: MakeClient, code: int
) -> None:
    client = make_client(fake_minimax)
    fake_minimax.inject("submit", code, times=3)
    with pytest.raises(errors.MiniMaxError) as caught:
        await client.submit(TEXT)
    assert not isinstance(caught.value, errors.SubmitOutcomeUnknown)
    assert fake_minimax.counts["submit"] == 1


async def test_submit_gives_up_on_persistent_rate_limit(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(fake_minimax, max_retries=3)
    fake_minimax.inject("submit", 1002, times=10)
    with pytest.raises(errors.RateLimited):
        await client.submit(TEXT)
    assert fake_minimax.counts["submit"] == 4
    assert fake_minimax.tasks == {}
    assert len(sleeps.delays) == 3


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_submit_retried_when_connection_refused(
    session: aiohttp.ClientSession, sleeps: RecordingSleep
) -> None:
    client = MiniMaxClient(session, "k", closed_port_url(), max_retries=2, sleep=sleeps, rng=lambda: 1.0)
    with pytest.raises(errors.NetworkError) as caught:
        await client.submit(TEXT)
    assert caught.value.request_sent is False
    assert len(sleeps.delays) == 2  # three attempts, none of which could have created a task


async def test_submit_uses_the_limiter_for_every_attempt(
    fake_minimax: FakeMiniMax, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    now = [0.0]
    limiter_sleeps: list[float] = []

    async def limiter_sleep(seconds: float) -> None:
        limiter_sleeps.append(seconds)
        now[0] += seconds

    limiter = SubmitRateLimiter(2, clock=lambda: now[0], sleep=limiter_sleep)
    client = make_client(fake_minimax, submit_limiter=limiter)
    fake_minimax.inject("submit", 1002)
    await client.submit(TEXT)  # 1002 → penalty of one slot (30 s), then the retry
    await client.submit(TEXT)  # the window (2 per minute) is full until the first attempt ages out
    assert fake_minimax.counts["submit"] == 3
    assert limiter_sleeps == [30.0, 30.0]
    assert sleeps.delays == []  # the limiter did the waiting, not the client's own backoff


async def test_rate_limited_submit_honours_retry_after_in_the_limiter(
    fake_minimax: FakeMiniMax, make_client: MakeClient
) -> None:
    now = [0.0]

    async def limiter_sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = SubmitRateLimiter(100, clock=lambda: now[0], sleep=limiter_sleep)
    client = make_client(fake_minimax, submit_limiter=limiter)
    fake_minimax.inject("submit", 429, retry_after=12)
    await client.submit(TEXT)
    assert now[0] == 12.0


# ---------------------------------------------------------------------------------------- downloads


def names_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


async def file_url(client: MiniMaxClient, fake: FakeMiniMax) -> tuple[str, str]:
    task_id = await finished_task(client, fake)
    file_id = str(fake.tasks[task_id].file_id)
    return file_id, (await client.retrieve(file_id)).download_url


async def test_download_is_streamed_in_chunks(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    fake_minimax.download_size = 3 * 1024 * 1024 + 17
    client = make_client(fake_minimax)
    file_id, url = await file_url(client, fake_minimax)
    dest = tmp_path / "sub" / "video.mp4"
    assert (
        await client.download(url, dest, max_bytes=fake_minimax.download_size) == fake_minimax.download_size
    )
    assert dest.read_bytes() == fake_minimax.file_bytes(file_id)
    assert not (tmp_path / "sub" / "video.mp4.part").exists()


async def test_an_unwritable_download_place_is_a_download_error_not_retried(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    """The caller handles MiniMax errors; a raw OSError would escape it (and retrying at once is futile)."""
    client = make_client(fake_minimax)
    _, url = await file_url(client, fake_minimax)
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(errors.DownloadError) as caught:
        await client.download(url, tmp_path / "a-file" / "v.mp4", max_bytes=10**7)
    assert not caught.value.retryable
    assert fake_minimax.counts["download"] == 1


async def test_download_sends_no_api_key(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(fake_minimax)
    _, url = await file_url(client, fake_minimax)
    await client.download(url, tmp_path / "v.mp4", max_bytes=10**7)
    downloads = [r for r in fake_minimax.requests if r.endpoint == "download"]
    assert downloads and all("Authorization" not in r.headers for r in downloads)


@pytest.mark.parametrize("content_length", [True, False])
async def test_download_too_large(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, content_length: bool
) -> None:
    fake_minimax.download_content_length = content_length
    fake_minimax.download_size = 2 * 1024 * 1024
    client = make_client(fake_minimax)
    _, url = await file_url(client, fake_minimax)
    dest = tmp_path / "video.mp4"
    with pytest.raises(errors.DownloadTooLarge) as caught:
        await client.download(url, dest, max_bytes=1024 * 1024)
    assert caught.value.limit == 1024 * 1024
    assert names_in(tmp_path) == []  # neither the file nor a partial one is left
    assert fake_minimax.counts["download"] == 1


async def test_download_of_exactly_the_limit_is_fine(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    fake_minimax.download_content_length = False
    client = make_client(fake_minimax)
    _, url = await file_url(client, fake_minimax)
    assert await client.download(url, tmp_path / "v.mp4", max_bytes=fake_minimax.download_size) > 0


async def test_expired_url_then_fresh_retrieve(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    file_id, url = await file_url(client, fake)
    fake.expire_urls()
    dest = tmp_path / "v.mp4"
    with pytest.raises(errors.DownloadExpired) as caught:
        await client.download(url, dest, max_bytes=10**7)
    assert caught.value.http_status == 403
    assert fake.counts["download"] == 1  # a fresh URL is needed, not a retry
    assert not dest.exists()
    fresh = await client.retrieve(file_id)
    assert await client.download(fresh.download_url, dest, max_bytes=10**7) == fake.download_size


async def test_url_expires_with_time(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(fake_minimax)
    _, url = await file_url(client, fake_minimax)
    fake_minimax.clock.advance(fake_minimax.url_ttl + 1)
    with pytest.raises(errors.DownloadExpired):
        await client.download(url, tmp_path / "v.mp4", max_bytes=10**7)


@pytest.mark.parametrize("fault", ["malformed", "drop", 500, 503])
async def test_interrupted_download_is_retried(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, fault: int | str
) -> None:
    fake_minimax.download_size = 300_000
    client = make_client(fake_minimax)
    file_id, url = await file_url(client, fake_minimax)
    fake_minimax.inject("download", fault)
    dest = tmp_path / "v.mp4"
    assert await client.download(url, dest, max_bytes=10**7) == 300_000
    assert dest.read_bytes() == fake_minimax.file_bytes(file_id)
    assert fake_minimax.counts["download"] == 2
    assert names_in(tmp_path) == ["v.mp4"]


async def test_failed_download_leaves_no_partial_file(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    fake_minimax.download_size = 300_000
    client = make_client(fake_minimax, max_retries=1)
    _, url = await file_url(client, fake_minimax)
    fake_minimax.inject("download", "malformed", times=2)
    with pytest.raises(errors.DownloadError):
        await client.download(url, tmp_path / "v.mp4", max_bytes=10**7)
    assert names_in(tmp_path) == []


# ---------------------------------------------------------------------------------------- check_key


async def test_check_key_accepts_a_good_key(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    await make_client(fake_minimax_any).check_key()
    assert fake_minimax_any.counts["query"] == 1


async def test_check_key_refuses_a_bad_key(fake_minimax_any: FakeMiniMax, make_client: MakeClient) -> None:
    with pytest.raises(errors.AuthFailed):
        await make_client(fake_minimax_any, api_key="wrong").check_key()


@pytest.mark.parametrize(("code", "kind"), [(2049, errors.AuthFailed), (1008, errors.InsufficientBalance)])
async def test_check_key_reports_account_problems(
    fake_minimax: FakeMiniMax, make_client: MakeClient, code: int, kind: type[errors.MiniMaxError]
) -> None:
    fake_minimax.inject("query", code)
    with pytest.raises(kind):
        await make_client(fake_minimax).check_key()


async def test_check_key_refuses_a_url_that_is_not_the_api(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient
) -> None:
    """A reseller's base URL without its path prefix reaches a 404 page: no key was checked at all."""
    client = make_client(fake_minimax_any, base_url=fake_minimax_any.base_url + "/not-the-prefix")
    with pytest.raises(errors.MiniMaxError, match="MINIMAX_BASE_URL") as caught:
        await client.check_key()
    assert caught.value.http_status == 404


async def test_check_key_reports_an_unreachable_service(
    fake_minimax: FakeMiniMax, make_client: MakeClient
) -> None:
    fake_minimax.inject("query", 503, times=10)
    with pytest.raises(errors.TransientServerError):
        await make_client(fake_minimax, max_retries=1).check_key()
