"""The API key never reaches a log record, an exception text or a repr, even when the API echoes it."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import aiohttp
import pytest

from bot.minimax import errors
from bot.minimax.client import MiniMaxClient
from tests.bot.minimax.conftest import RecordingSleep
from tests.builders import sent_spec
from tests.fakes.fake_minimax import FakeMiniMax

SECRET = "sk-SECRET-0123456789abcdef"
WRONG = "sk-WRONG-fedcba9876543210"
TEXT = sent_spec("MiniMax-Hailuo-2.3", "a lighthouse at dusk", 6, "768P")


def exception_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, errors.MiniMaxError):
        texts.append(str(exc.user_message))
    return texts


@pytest.mark.parametrize("flavour", ["official", "reseller"])
async def test_key_absent_from_logs_and_errors(
    flavour: str,
    caplog: pytest.LogCaptureFixture,
    session: aiohttp.ClientSession,
    sleeps: RecordingSleep,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []

    async def expect_failure(call: object) -> None:
        try:
            await call  # type: ignore[misc]
        except errors.MiniMaxError as exc:
            raised.append(exc)
        else:
            pytest.fail("the call should have failed")

    async with FakeMiniMax(flavour=flavour, api_key=SECRET) as fake:  # type: ignore[arg-type]
        client = MiniMaxClient(session, SECRET, fake.base_url, timeout=0.3, max_retries=2, sleep=sleeps)
        task_id = await client.submit(TEXT)
        fake.finish_all()
        info = await client.query(task_id)
        assert info.file_id is not None
        file = await client.retrieve(info.file_id)
        await client.download(file.download_url, tmp_path / "v.mp4", max_bytes=10**7)

        fake.inject("submit", 2013, message=f"invalid params, api key {SECRET} looks odd")
        await expect_failure(client.submit(TEXT))
        fake.inject("query", 1004, message=f"login fail for Bearer {SECRET}")
        await expect_failure(client.query(task_id))
        fake.inject("query", 500, times=5)
        await expect_failure(client.query(task_id))
        fake.inject("submit", "drop")
        await expect_failure(client.submit(TEXT))
        fake.inject("submit", "slow", delay=30)
        await expect_failure(client.submit(TEXT))
        fake.inject("retrieve", 429, retry_after=999)
        await expect_failure(client.retrieve(info.file_id))
        fake.expire_urls()
        await expect_failure(client.download(file.download_url, tmp_path / "w.mp4", max_bytes=10**7))
        wrong = MiniMaxClient(session, WRONG, fake.base_url, sleep=sleeps)
        await expect_failure(wrong.submit(TEXT))
        await expect_failure(wrong.check_key())
        assert SECRET not in repr(client) and WRONG not in repr(wrong)

    assert len(raised) == 9
    assert any(isinstance(exc, errors.InvalidParameters) and "[redacted]" in str(exc) for exc in raised)
    for exc in raised:
        for text in exception_texts(exc):
            assert SECRET not in text
            assert WRONG not in text
    minimax_records = [r for r in caplog.records if r.name == "bot.minimax"]
    assert any("video_generation" in r.getMessage() and "attempt" in r.getMessage() for r in minimax_records)
    for record in caplog.records:
        rendered = logging.Formatter().format(record)
        assert SECRET not in rendered
        assert WRONG not in rendered
