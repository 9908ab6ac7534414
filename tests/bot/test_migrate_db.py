"""``python -m bot migrate-db --to postgresql://…``: every row moves, the copy is checked, a used
target is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import instance
from bot.config import load_settings
from bot.migrate_db import migrate_db
from storage import SpendCeiling, Storage, TaskState, UserPrefs
from storage.backend import fetch_all
from tests.builders import make_new_task
from tests.pg_server import SKIP_REASON, postgresql_tests_run

if not postgresql_tests_run():
    pytest.skip(SKIP_REASON, allow_module_level=True)

T0 = 1_715_774_400.0
GUILD, MOD = 1_200_000_000_000_000_001, 1_200_000_000_000_000_002  # real Discord ids pass 2^31
REPO = Path(__file__).resolve().parents[2]
TABLES = (
    "tasks",
    "ledger",
    "guild_limits",
    "role_limits",
    "user_overrides",
    "blocks",
    "channel_rules",
    "prompt_filters",
    "guild_policy",
    "audit_log",
    "user_prefs",
    "bot_state",
    "pools",
    "pool_defaults",
    "showcases",
    "showcase_posts",
    "showcase_votes",
)


def settings_for(db_path: Path) -> object:
    return load_settings(
        {"DISCORD_TOKEN": "t", "MINIMAX_API_KEY": "k", "DATABASE_PATH": str(db_path)}, env_file=None
    )


async def seed(path: Path) -> None:
    """A little of everything: tasks in each outcome (reserve, charge, refund), a grant, every
    moderator setting (each with its audit row), a member's prefs, a bot-state key."""
    store = await Storage.open(path, default_limit_tenths=1000)
    try:
        for i, outcome in enumerate(("queued", "delivered", "failed", "cancelled", "delivered")):
            task = await store.quota.reserve(make_new_task(guild_id=GUILD, user_id=3000 + i % 2), now=T0 + i)
            if outcome == "cancelled":
                await store.tasks.transition(task.id, TaskState.CANCELLED, now=T0 + i)
            elif outcome == "failed":
                await store.tasks.transition(task.id, "submitting", now=T0 + i)
                await store.tasks.transition(task.id, "failed", now=T0 + i, error_code="timeout")
            elif outcome == "delivered":
                for state in ("submitting", "submitted", "downloading", "delivering", "delivered"):
                    await store.tasks.transition(task.id, state, now=T0 + i, api_task_id=f"api-{i}")
        await seed_team(store)  # before the pause below, which refuses new requests
        await store.quota.grant_fresh_allowance(GUILD, 3001, actor_id=MOD, now=T0 + 10)
        await store.limits.set_guild_default(GUILD, 70, "week", actor_id=MOD, now=T0)
        await store.limits.set_override(GUILD, 3000, 30, actor_id=MOD, now=T0)
        await store.limits.set_role_limit(GUILD, 77, 40, actor_id=MOD, now=T0)
        await store.limits.block(GUILD, 4000, "spam", actor_id=MOD, now=T0)
        await store.policy.add_filter(GUILD, "badword", actor_id=MOD, now=T0)
        await store.policy.allow_channel(GUILD, 2000, actor_id=MOD, now=T0)
        await store.policy.pause(GUILD, "maintenance", actor_id=MOD, now=T0)
        await store.prefs.set(3000, UserPrefs(dm_results=True))
        await store.state.set("account_pause", '{"until": 1}', now=T0)
    finally:
        await store.close()


async def seed_team(store: Storage) -> None:
    """A team pool with a default member and a delivered pool-paid video, shared and voted on: pool
    rows, pool ledger rows (``ledger.pool_id``) and the showcase must move with everything else."""
    await store.pools.create(GUILD, "team", 50, "week", role_id=77, channel_id=None, actor_id=MOD, now=T0)
    await store.pools.set_default(GUILD, 3000, "team")
    task = await store.quota.reserve(
        make_new_task(guild_id=GUILD, user_id=3000), role_ids=[77], pool="team", now=T0 + 6
    )
    for state in ("submitting", "submitted", "downloading", "delivering", "delivered"):
        await store.tasks.transition(task.id, state, now=T0 + 6, api_task_id="api-team")
    await store.showcase.set(GUILD, 2100, is_forum=False, actor_id=MOD, now=T0)
    await store.showcase.claim(task.id, GUILD, shared_by=3000, now=T0 + 7)
    await store.showcase.completed(task.id, 2100, 9100)
    await store.showcase.toggle_vote(task.id, 3001, now=T0 + 8)


async def dump(target: str | Path) -> dict[str, list[tuple[object, ...]]]:
    store = await Storage.open(target)
    try:
        async with store.db.read() as conn:
            return {
                t: sorted((tuple(r) for r in await fetch_all(conn, f"SELECT * FROM {t}")), key=repr)
                for t in TABLES
            }
    finally:
        await store.close()


async def test_every_row_is_copied_and_verified(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    await seed(source)
    lines: list[str] = []
    assert await migrate_db(settings_for(source), pg_url, out=lines) == 0, lines  # type: ignore[arg-type]
    assert lines[-2].startswith(f"✓ copied {source} → postgresql://")
    before, after = await dump(source), await dump(pg_url)
    assert all(before[t] for t in TABLES), "the seed must fill every table"
    assert after == before

    # The bot carries on where it stopped: balances as before, new ids after the copied ones.
    assert await balances(pg_url) == await balances(source)
    store = await Storage.open(pg_url, default_limit_tenths=1000)
    try:
        task = await store.quota.reserve(make_new_task(guild_id=5, user_id=6), now=T0 + 30)
        assert task.id == max(row[0] for row in before["tasks"]) + 1
    finally:
        await store.close()


async def balances(target: str | Path) -> list[object]:
    store = await Storage.open(target, default_limit_tenths=1000)
    try:
        members = [await store.quota.usage(GUILD, user, now=T0 + 20) for user in (3000, 3001)]
        guild = await store.quota.guild_usage(GUILD, now=T0 + 20)
        spend = await store.quota.bot_spend(SpendCeiling(10_000, "month"), now=T0 + 20)
        pool = await store.pools.get(GUILD, "team", now=T0 + 20)
        assert pool is not None and pool.used_tenths > 0, "the pool-paid video must show in its pool"
        return [*members, guild, spend, pool]
    finally:
        await store.close()


async def test_a_target_with_rows_is_refused_and_left_alone(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    await seed(source)
    assert await migrate_db(settings_for(source), pg_url, out=[]) == 0  # type: ignore[arg-type]
    target_before = await dump(pg_url)
    lines: list[str] = []
    assert await migrate_db(settings_for(source), pg_url, out=lines) == 1  # type: ignore[arg-type]
    assert lines == [lines[0]] and "not empty" in lines[0] and "tasks (6 rows)" in lines[0]
    assert await dump(pg_url) == target_before


async def test_a_running_bot_on_the_file_is_refused(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    await seed(source)
    lines: list[str] = []
    running = instance.claim(source)  # stands in for the bot process
    try:
        assert await migrate_db(settings_for(source), pg_url, out=lines) == 1  # type: ignore[arg-type]
    finally:
        instance.release(running)
    assert "Another copy of the bot is running" in lines[0]


def test_the_command_line_copies_and_hides_the_password(tmp_path: Path, pg_url: str) -> None:
    import asyncio

    source = tmp_path / "bot.sqlite3"
    asyncio.run(seed(source))
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=t\nMINIMAX_API_KEY=k\nDATABASE_PATH={source}\n")
    url = pg_url.replace("postgres@", "postgres:hidden-pw@")  # trust auth: any password passes
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate-db", "--to", url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "✓ copied" in result.stdout and "tasks: 6 rows" in result.stdout
    assert "hidden-pw" not in result.stdout + result.stderr
