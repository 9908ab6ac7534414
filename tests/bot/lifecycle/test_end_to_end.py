"""Request → reserve → queue → submit → poll → download → post → charged, through the real service."""

from __future__ import annotations

from bot.catalog import price_tenths
from storage import TaskState
from tests.builders import image as attached_image
from tests.fakes.image_host import png_bytes
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, Harness


async def test_text_to_video_is_delivered_as_an_attachment_and_charged_once(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request(prompt="a red fox [Pan left]"))
    assert task.state is TaskState.QUEUED
    assert task.status_message_id is not None, "the status card was posted and its id kept"
    assert task.cost_tenths == price_tenths("MiniMax-Hailuo-2.3", "768P", 6)

    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    (posted,) = harness.notifier.results_for(task.id)
    assert done.result_message_id == posted.message_id
    assert posted.link is None and not posted.via_dm
    assert posted.data == harness.fake.file_bytes(harness.fake.tasks[done.api_task_id].file_id)
    assert await harness.ledger(task.id) == ["reserve", "charge"]

    (body,) = harness.fake.submissions
    assert body["model"] == "MiniMax-Hailuo-2.3"
    assert body["prompt"] == "a red fox [Pan left]"
    assert (body["duration"], body["resolution"]) == (6, "768P")
    assert "first_frame_image" not in body
    assert harness.fake.counts["submit"] == 1
    # The card ends delivered, and the downloaded temp file is gone.
    await harness.notifier.wait_for(
        lambda: (
            (card := harness.notifier.last_edit(task.id)) is not None
            and card.task.state is TaskState.DELIVERED
        )
    )
    assert list(harness.settings.download_dir.iterdir()) == []  # type: ignore[union-attr]


async def test_image_to_video_sends_the_image_inline_as_a_data_url(harness: Harness) -> None:
    url = harness.images.add("cat.png", png_bytes(640, 480))
    service = await harness.start()
    image = attached_image(
        url=url, filename="cat.png", content_type="image/png", size=2000, width=640, height=480
    )
    task = await service.request(harness.request(first_frame=image, prompt="the cat waves"))
    assert task.mode == "image" and task.spec.first_frame is not None and task.spec.first_frame.url == url

    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    (body,) = harness.fake.submissions
    assert body["first_frame_image"].startswith("data:image/png;base64,")
    assert url not in str(body), "the API never needs to reach Discord's CDN"
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_legacy_model_gets_its_only_duration_and_no_resolution(harness: Harness) -> None:
    """The 01 series: ``duration`` 6 (a reseller enforcing "required" refuses a body without it), no
    resolution (the docs' "safest is to omit"); checked failing when duration was left out."""
    service = await harness.start()
    task = await service.request(harness.request(model="T2V-01"))
    assert (task.spec.resolution, task.spec.duration) == ("720P", 6)
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    (body,) = harness.fake.submissions
    assert body["duration"] == 6 and "resolution" not in body


async def test_subject_model_gets_no_duration_its_schema_has_none(harness: Harness) -> None:
    service = await harness.start()
    url = harness.images.add("face.png", png_bytes(800, 600))
    subject = attached_image(url=url, filename="face.png", width=800, height=600)
    task = await service.request(harness.request(subject=subject, prompt=""))
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED and done.spec.prompt == ""
    (body,) = harness.fake.submissions
    assert body["model"] == "S2V-01" and "duration" not in body and "resolution" not in body


async def test_an_image_that_can_no_longer_be_fetched_fails_and_refunds(harness: Harness) -> None:
    service = await harness.start()
    gone = attached_image(
        url=harness.images.url("deleted.png"), filename="deleted.png", width=800, height=600
    )
    task = await service.request(harness.request(first_frame=gone))
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert done.error_code == "image_unavailable"
    assert harness.fake.counts["submit"] == 0
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    (message,) = harness.notifier.failures_for(task.id)
    assert "image" in message and "again" in message


async def test_results_go_by_dm_when_the_member_prefers(harness: Harness) -> None:
    service = await harness.start()
    await service.update_preferences(USER, dm_results=True)
    task = await service.request(harness.request())
    assert task.deliver_by_dm
    await harness.wait_final(task.id)
    (posted,) = harness.notifier.results_for(task.id)
    assert posted.via_dm


async def test_results_go_by_dm_when_the_guild_keeps_results_private(harness: Harness) -> None:
    await harness.storage.policy.update(GUILD, actor_id=1, results_public=False)
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    (posted,) = harness.notifier.results_for(task.id)
    assert posted.via_dm


async def test_status_card_shows_the_request(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request(channel_id=CHANNEL))
    card = harness.notifier.cards[0]
    assert card.task.id == task.id
    assert card.task.prompt == "a red fox running through snow"
    assert card.expected_seconds is not None
