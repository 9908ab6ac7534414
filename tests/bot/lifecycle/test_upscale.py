"""Upscale to 2K: a delivered 768P H3 video re-rendered through the V2 regeneration endpoint, as a
request of its own: priced at 2K per second × the delivered length, reserved, charged to who asked."""

from __future__ import annotations

import pytest

from bot.catalog import price_tenths
from bot.lifecycle import Actor, RequestRefused
from bot.spec import MediaRole, Mode
from storage import TaskState
from tests.bot.lifecycle.test_h3_lifecycle import h3_request, roomy
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER, USER, Harness
from tests.fakes.mp4 import probe

CLICKER = Actor(user_id=OTHER_USER, guild_id=GUILD)


async def test_a_delivered_768p_h3_video_is_upscaled_at_2k_and_charged_to_the_clicker(
    harness: Harness,
) -> None:
    """Checked failing before: there was no upscale at all."""
    await roomy(harness)
    service = await harness.start()
    original = await service.request(h3_request(duration=4, resolution="768P"))
    done = await harness.wait_final(original.id)
    assert done.state is TaskState.DELIVERED and done.delivered_seconds is not None

    upscale = await service.upscale(original.id, CLICKER)
    assert upscale.user_id == OTHER_USER and upscale.regenerated_from == original.id
    assert upscale.spec.mode is Mode.UPSCALE and upscale.spec.resolution == "2K"
    assert upscale.cost_tenths == price_tenths("MiniMax-H3", "2K", 4)
    made = await harness.wait_final(upscale.id)
    assert made.state is TaskState.DELIVERED, made.error_message
    assert await harness.ledger(upscale.id) == ["reserve", "charge"]
    assert await harness.ledger(original.id) == ["reserve", "charge"], "the original is untouched"

    regeneration = [r for r in harness.fake.requests if r.path.endswith("/v2/video_regeneration")]
    (sent,) = regeneration
    assert sent.body["model"] == "MiniMax-H3" and set(sent.body) == {"model", "content"}
    text, base = sent.body["content"]
    assert text == {"type": "text", "text": original.prompt}
    assert base["type"] == "video_url" and base["role"] == MediaRole.BASE_VIDEO.value
    assert f"/download/{harness.fake.tasks[done.api_task_id or ''].file_id}" in base["video_url"]["url"]
    (posted,) = harness.notifier.results_for(upscale.id)
    seconds, streams = probe(posted.data or b"")
    assert streams == ["video", "audio"] and 4.0 <= seconds <= 4.5


async def test_only_a_delivered_768p_h3_video_can_be_upscaled(harness: Harness) -> None:
    await roomy(harness)
    service = await harness.start()
    hailuo = await service.request(harness.request())
    two_k = await service.request(h3_request(duration=4, resolution="2K"))
    for task in (hailuo, two_k):
        await harness.wait_final(task.id)
        with pytest.raises(RequestRefused, match="cannot be upscaled") as refused:
            await service.upscale(task.id, CLICKER)
        assert refused.value.text("de").startswith(f"Video #{task.id} kann nicht hochskaliert werden")
    with pytest.raises(RequestRefused, match="another server"):
        await service.upscale(two_k.id, Actor(user_id=USER, guild_id=GUILD + 1))
