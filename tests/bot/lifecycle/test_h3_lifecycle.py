"""MiniMax-H3 through the one lifecycle: reserve, submit (V2), track, deliver with sound, charge.

The same service, workers and outcome table as every V1 test; only the catalog row differs. The fake
MiniMax answers V2 from its own rules and serves a real MP4 with an AAC track, a little longer than
asked (the 17n+5 frame grid), which the card then shows as delivered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import spec_price_tenths
from bot.lifecycle import RequestRefused, VideoRequest
from bot.spec import MediaKind, MediaRef, MediaRole, VideoSpec
from storage import TaskState
from tests.fakes.image_host import png_bytes
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, Harness, lifecycle_harness
from tests.fakes.mp4 import probe


def h3_request(prompt: str = "a lighthouse in a storm, thunder rolling", **options: object) -> VideoRequest:
    fields: dict[str, object] = {"model": "MiniMax-H3", "duration": 15, "resolution": "2K"}
    fields.update(options)
    spec = VideoSpec(prompt, **fields)  # type: ignore[arg-type]
    return VideoRequest(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, spec=spec)


async def roomy(harness: Harness) -> None:
    """A 15 s 2K H3 video costs 7 credits; the harness's default allowance is 5."""
    await harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)


@pytest.mark.parametrize("flavour", ["official", "reseller"])
async def test_h3_text_to_video_15_s_2k_is_delivered_with_sound(tmp_path: Path, flavour: str) -> None:
    async with lifecycle_harness(tmp_path, flavour=flavour) as harness:
        await roomy(harness)
        service = await harness.start()
        task = await service.request(h3_request())
        assert task.cost_tenths == 70 and task.spec.ratio == "16:9"

        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED, done.error_message
        (body,) = harness.fake.submissions
        assert body == {
            "model": "MiniMax-H3",
            "content": [{"type": "text", "text": "a lighthouse in a storm, thunder rolling"}],
            "resolution": "2K",
            "duration": 15,
            "ratio": "16:9",
        }
        prefix = "/minimax" if flavour == "reseller" else ""
        paths = {r.path.rsplit("/", 1)[0] if "/query/" in r.path else r.path for r in harness.fake.requests}
        assert f"{prefix}/v2/video_generation" in paths
        assert harness.fake.counts["retrieve"] == 0, "V2 answers name the video: nothing to retrieve"

        (posted,) = harness.notifier.results_for(task.id)
        seconds, streams = probe(posted.data or b"")
        assert streams == ["video", "audio"], "the result keeps its sound"
        assert done.spec.duration == 15 and done.delivered_seconds is not None
        assert abs(done.delivered_seconds - seconds) < 0.05 and 15.0 < done.delivered_seconds < 15.5
        assert done.has_audio is True
        assert await harness.ledger(task.id) == ["reserve", "charge"]
        print(f"\nH3 15 s 2K ({flavour}): API requests per delivered task: {dict(harness.fake.counts)}")


async def test_a_failed_h3_task_is_refunded_through_the_outcome_table(harness: Harness) -> None:
    await roomy(harness)
    harness.fake.fail_next_task(1027)
    service = await harness.start()
    task = await service.request(h3_request(duration=6, resolution="768P"))
    done = await harness.wait_final(task.id)
    assert (done.state, done.error_code) == (TaskState.FAILED, "1027")
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    (message,) = harness.notifier.failures_for(task.id)
    assert "content filter" in message


async def test_references_go_out_as_content_items_and_are_priced(harness: Harness) -> None:
    await roomy(harness)
    urls = [harness.images.add(f"board{n}.png", png_bytes(640, 480)) for n in range(7)]
    media = tuple(
        MediaRef(url, MediaRole.REFERENCE_IMAGE, filename=f"board{n}.png", content_type="image/png",
                 size=2000, width=640, height=480)
        for n, url in enumerate(urls)
    )  # fmt: skip
    audio = MediaRef(
        "https://cdn.example/theme.mp3", MediaRole.REFERENCE_AUDIO, MediaKind.AUDIO,
        filename="theme.mp3", content_type="audio/mpeg", size=5000,
    )  # fmt: skip
    service = await harness.start()
    request = VideoRequest(
        guild_id=GUILD, channel_id=CHANNEL, user_id=USER,
        spec=VideoSpec("the mood board comes alive", media=(*media, audio)),
    )  # fmt: skip
    task = await service.request(request)
    assert task.spec.model == "MiniMax-H3" and task.cost_tenths == spec_price_tenths(task.spec) == 20
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED, done.error_message
    (body,) = harness.fake.submissions
    roles = [item.get("role") for item in body["content"][1:]]
    assert roles == ["reference_image"] * 7 + ["reference_audio"]
    assert all(item["image_url"]["url"].startswith("data:image/png;base64,") for item in body["content"][1:8])
    assert body["content"][8]["audio_url"]["url"] == "https://cdn.example/theme.mp3"
    again = await harness.storage.tasks.get(task.id)
    assert [m.role for m in again.spec.media] == roles  # stored as asked, for regenerate


async def test_refused_references_reserve_nothing(harness: Harness) -> None:
    service = await harness.start()
    lone_audio = MediaRef("https://cdn.example/a.mp3", MediaRole.REFERENCE_AUDIO, MediaKind.AUDIO)
    with pytest.raises(RequestRefused, match="Reference audio needs a reference image or video"):
        await service.request(VideoRequest(GUILD, CHANNEL, USER, VideoSpec("a song", media=(lone_audio,))))
    assert await harness.storage.tasks.recent_for_user(GUILD, USER) == []
    assert (await harness.storage.quota.usage(GUILD, USER)).used_tenths == 0
    assert harness.fake.counts["submit"] == 0
