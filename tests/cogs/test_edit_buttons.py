"""Remix on a delivered result: who may click, the modal's prefill and price, the new request, its card."""

from __future__ import annotations

from bot.catalog import credits_text, spec_price_tenths
from cogs import embeds
from cogs.buttons import DYNAMIC_ITEMS, result_view
from cogs.edit_buttons import RemixButton, RemixModal
from storage import TaskState
from tests.cogs.test_video import Env, env  # noqa: F401  # the cog environment and its fixture
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER, USER


async def _delivered(setup: Env, **options: object) -> None:
    await setup.generate(**options)
    assert (await setup.harness.wait_final(1)).state is TaskState.DELIVERED


async def test_anyone_in_the_server_may_remix_a_public_result_and_pays_for_it(env: Env) -> None:  # noqa: F811
    await _delivered(env, prompt="a paper boat on a rainy street")
    original = await env.harness.storage.tasks.get(1)
    clicked = env.interaction(OTHER_USER)
    await RemixButton(1).callback(clicked)  # type: ignore[arg-type]
    modal = clicked.last.modal
    assert isinstance(modal, RemixModal)
    assert modal.prompt.default == "a paper boat on a rainy street"
    assert credits_text(spec_price_tenths(original.spec)) == "1 credit" and "· 1 credit" in modal.title

    modal.prompt._value = "a paper boat on a sunny street"
    submitted = env.interaction(OTHER_USER)
    await modal.on_submit(submitted)  # type: ignore[arg-type]
    assert submitted.replies[0].kind == "defer" and "#2" in submitted.last.content
    remix = await env.harness.wait_final(2)
    assert remix.state is TaskState.DELIVERED
    assert (remix.prompt, remix.user_id) == ("a paper boat on a sunny street", OTHER_USER)
    assert remix.spec == original.spec.__class__(**{**vars(original.spec), "prompt": remix.prompt})
    assert remix.edit is not None and (remix.edit.of, remix.edit.kind, remix.edit.of_user_id) == (
        1,
        "remix",
        USER,
    )
    assert remix.edit.of_message_id == original.result_message_id is not None
    usage = await env.harness.storage.quota.usage(GUILD, OTHER_USER)
    assert usage.used_tenths == remix.cost_tenths, "the clicker pays"

    notifier = env.harness.notifier
    shown = embeds.status_embed(next(c for c in reversed(notifier.cards + notifier.edits) if c.task.id == 2))
    field = next(f for f in shown.fields if f.name == "Remix of")
    assert f"/{original.result_message_id})" in (field.value or "")
    assert f"<@{USER}>" in (field.value or ""), "the original's author is named"


async def test_only_the_owner_may_remix_a_private_result(env: Env) -> None:  # noqa: F811
    await env.harness.service.update_preferences(USER, dm_results=True)  # type: ignore[union-attr]
    await _delivered(env)
    stranger = env.interaction(OTHER_USER)
    await RemixButton(1).callback(stranger)  # type: ignore[arg-type]
    assert stranger.last.kind == "message" and "is private" in stranger.last.content
    assert stranger.last.ephemeral
    owner = env.interaction()
    await RemixButton(1).callback(owner)  # type: ignore[arg-type]
    assert isinstance(owner.last.modal, RemixModal)


async def test_a_video_not_delivered_cannot_be_remixed(env: Env) -> None:  # noqa: F811
    env.harness.fake.next_task(never_finish=True)
    await env.generate()
    clicked = env.interaction()
    await RemixButton(1).callback(clicked)  # type: ignore[arg-type]
    assert "was not delivered" in clicked.last.content
    assert len(await env.harness.storage.tasks.list_for_guild(GUILD, limit=10)) == 1, "nothing reserved"


async def test_remix_is_on_every_result_and_survives_restarts(env: Env) -> None:  # noqa: F811
    await _delivered(env)
    assert RemixButton in DYNAMIC_ITEMS
    ids = {item.custom_id for item in result_view(await env.harness.storage.tasks.get(1)).children}  # type: ignore[attr-defined]
    assert "video:remix:1" in ids
