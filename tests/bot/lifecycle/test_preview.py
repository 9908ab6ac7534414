"""The prompt preview: MiniMax-H3's prompt expansion, checked like a request, nothing reserved."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lifecycle import RequestRefused
from tests.bot.lifecycle.test_h3_lifecycle import h3_request
from tests.fakes.fake_minimax import EXPANSION_SUFFIX
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness


@pytest.mark.parametrize("flavour", ["official", "reseller"])
async def test_the_expanded_prompt_comes_back_and_nothing_is_reserved(tmp_path: Path, flavour: str) -> None:
    async with lifecycle_harness(tmp_path, flavour=flavour) as harness:
        service = await harness.start()
        expanded = await service.preview_prompt(h3_request("a fox", duration=4, resolution="768P"))
        assert expanded.startswith("a fox") and EXPANSION_SUFFIX in expanded
        (sent,) = [r for r in harness.fake.requests if r.endpoint == "expand"]
        prefix = "/minimax" if flavour == "reseller" else ""
        assert sent.path == f"{prefix}/v2/h3_context_ir"
        assert sent.body == {
            "model": "MiniMax-H3",
            "content": [{"type": "text", "text": "a fox"}],
            "duration": 4,
            "ratio": "16:9",
        }
        assert harness.fake.submissions == [] and harness.fake.tasks == {}
        assert await harness.storage.tasks.list_for_guild(h3_request().guild_id or 0) == []


async def test_a_preview_is_refused_for_a_v1_model_and_for_what_a_request_refuses(harness: Harness) -> None:
    service = await harness.start()
    with pytest.raises(RequestRefused, match="only offered for MiniMax-H3"):
        await service.preview_prompt(harness.request(model="MiniMax-Hailuo-2.3"))
    with pytest.raises(RequestRefused, match="does not make"):
        await service.preview_prompt(h3_request(resolution="1080P"))
    assert harness.fake.counts["expand"] == 0


async def test_a_failed_expansion_is_a_clear_refusal(harness: Harness) -> None:
    harness.fake.inject("expand", 2013, message="invalid params, nope")
    service = await harness.start()
    with pytest.raises(RequestRefused, match=r"could not be made .* Nothing was charged") as refused:
        await service.preview_prompt(h3_request(duration=4, resolution="768P"))
    assert refused.value.text("pt-BR").startswith(
        "Não foi possível fazer a prévia do prompt (o serviço de vídeo não respondeu)."
    )
