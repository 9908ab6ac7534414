"""Forgetting prompts: RETENTION_DAYS for finished tasks, and one member on a moderator's word."""

from __future__ import annotations

import dataclasses

from bot.spec import MediaRef, MediaRole
from storage import Storage, TaskState, UserPrefs
from tests.storage.conftest import GUILD, T0, USER, new_task

DAY = 86_400.0


async def finished(store: Storage, at: float, **overrides: object) -> int:
    task = await store.quota.reserve(new_task(**overrides), now=at)
    await store.tasks.transition(task.id, TaskState.CANCELLED, now=at)
    return task.id


async def prompt_of(store: Storage, task_id: int) -> str:
    return (await store.tasks.get(task_id)).spec.prompt


async def test_finished_prompts_older_than_the_retention_are_erased_once(store: Storage) -> None:
    old = await finished(store, T0 - 40 * DAY, prompt="an old secret")
    recent = await finished(store, T0 - 1 * DAY, prompt="a recent one")
    waiting = (await store.quota.reserve(new_task(prompt="still in line"), now=T0 - 40 * DAY)).id

    assert await store.retention.erase_finished_prompts(T0 - 30 * DAY) == 1
    assert await prompt_of(store, old) == ""
    assert await prompt_of(store, recent) == "a recent one"
    assert await prompt_of(store, waiting) == "still in line"  # unfinished: it still has to be made
    assert (await store.tasks.get(old)).state is TaskState.CANCELLED  # the accounting stays
    assert await store.retention.erase_finished_prompts(T0 - 30 * DAY) == 0  # nothing twice


async def test_the_media_links_go_with_the_prompt(store: Storage) -> None:
    base = new_task()
    spec = dataclasses.replace(
        base.spec, media=(MediaRef("https://cdn.discordapp.com/a.png", MediaRole.FIRST_FRAME),)
    )
    task = await store.quota.reserve(dataclasses.replace(base, spec=spec), now=T0 - 40 * DAY)
    assert (await store.tasks.get(task.id)).spec.media != ()
    await store.tasks.transition(task.id, TaskState.CANCELLED, now=T0 - 40 * DAY)
    assert await store.retention.erase_finished_prompts(T0) == 1
    assert (await store.tasks.get(task.id)).spec.media == ()


async def test_forget_member_erases_their_prompts_and_preferences_and_is_audited(store: Storage) -> None:
    theirs = await finished(store, T0, prompt="mine")
    waiting = (await store.quota.reserve(new_task(prompt="queued"), now=T0)).id
    other = await finished(store, T0, user_id=USER + 1, prompt="someone else's")
    elsewhere = await finished(store, T0, guild_id=GUILD + 1, prompt="another server")
    await store.prefs.set(USER, UserPrefs(dm_results=True))

    forgotten = await store.retention.forget_member(GUILD, USER, actor_id=99, now=T0)

    assert (forgotten.prompts, forgotten.preferences, forgotten.unfinished_kept) == (1, True, 1)
    assert await prompt_of(store, theirs) == ""
    assert await prompt_of(store, waiting) == "queued"
    assert await prompt_of(store, other) == "someone else's"
    assert await prompt_of(store, elsewhere) == "another server"  # that server's moderators decide
    assert await store.prefs.get(USER) == UserPrefs()
    [entry] = await store.audit.list(GUILD, target_user=USER)
    assert (entry.action, entry.target, entry.actor_id) == ("forget", "member", 99)
