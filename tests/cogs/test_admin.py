"""`/videoadmin` through its real command callbacks, against a real temporary database.

Every test reads the database back: a refusal must leave every table exactly as it was, a change must
write its audit row with the acting moderator.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.lifecycle.prompt_filter import compile_filter, matches
from cogs.admin import AdminCog
from cogs.admin_views import TasksView
from cogs.pager import Pager
from cogs.replies import UserFacingError
from storage import NewTask, Storage, TaskState
from storage.db import fetch_all
from tests.builders import new_task_of
from tests.cogs.admin_fakes import (
    ADMIN_ROLE,
    CHANNEL_ID,
    GUILD_ID,
    MANAGER_ROLE,
    MOD_ROLE,
    OTHER_CHANNEL_ID,
    OTHER_GUILD_ID,
    OWNER_ID,
    PRO_ROLE,
    VIP_ROLE,
    VOICE_CHANNEL_ID,
    FakeInteraction,
    Reply,
    invoke,
    make_guild,
    make_member,
    make_user,
    moderation,
    role,
    text_channel,
)

# Friday 2024-03-15 12:00:00 UTC.
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC).timestamp()
PLAIN, MANAGER, MODERATOR, DM_USER, TARGET, BLOCKED = 10, 11, 12, 13, 20, 21
REFUSED = f"You need the Manage Server permission or the <@&{MOD_ROLE}> role"
DM_REFUSED = "This command works only inside a server."


class StubService:
    """Records the cog's calls into the video service (the real one is exercised in the e2e test)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.submissions_paused = False

    def resume_submissions(self) -> None:
        self.calls.append(("resume_submissions", None))
        self.submissions_paused = False

    def policy_changed(self, guild_id: int) -> None:
        self.calls.append(("policy_changed", guild_id))

    def wake(self) -> None:
        self.calls.append(("wake", None))

    async def refresh_card(self, task: Any, *, note: str | None = None) -> None:
        self.calls.append(("refresh", (task.id, task.state, note)))


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "admin.sqlite3", default_limit_tenths=50, default_period="day")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def guild() -> discord.Guild:
    return make_guild()


@pytest.fixture
def service() -> StubService:
    return StubService()


@pytest.fixture
def cog(storage: Storage, service: StubService) -> AdminCog:
    return AdminCog(moderation(storage, service, clock=lambda: NOW))


async def seed(storage: Storage) -> None:
    """A guild with a moderator role, an override, a role limit, a block, a filter and a pause."""
    at = NOW - 3600
    await storage.policy.update(GUILD_ID, actor_id=OWNER_ID, now=at, moderator_role_id=MOD_ROLE)
    await storage.limits.set_override(GUILD_ID, TARGET, 30, actor_id=OWNER_ID, now=at)
    await storage.limits.set_role_limit(GUILD_ID, PRO_ROLE, 40, actor_id=OWNER_ID, now=at)
    await storage.limits.block(GUILD_ID, BLOCKED, "spam", actor_id=OWNER_ID, now=at)
    await storage.policy.add_filter(GUILD_ID, "badword", actor_id=OWNER_ID, now=at)
    await storage.policy.pause(GUILD_ID, "maintenance", actor_id=OWNER_ID, now=at)
    await storage.pools.create(
        GUILD_ID, "seeded", 50, "week", role_id=VIP_ROLE, channel_id=None, actor_id=OWNER_ID, now=at
    )


async def snapshot(storage: Storage) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: the database as a value two moments can be compared by."""
    async with storage.db.read() as conn:
        tables = [
            r[0]
            for r in await fetch_all(
                conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            t: [tuple(r) for r in await fetch_all(conn, f"SELECT * FROM {t} ORDER BY rowid")] for t in tables
        }


async def audit_actors(storage: Storage) -> list[int]:
    return [e.actor_id for e in await storage.audit.list(GUILD_ID, limit=100)]


def actor(guild: discord.Guild, who: str) -> tuple[discord.Member | discord.User, discord.Guild | None]:
    if who == "member":
        return make_member(guild, PLAIN), guild
    if who == "manage_server":
        return make_member(guild, MANAGER, MANAGER_ROLE), guild
    if who == "moderator_role":
        return make_member(guild, MODERATOR, MOD_ROLE), guild
    return make_user(DM_USER), None


def new_task(user_id: int, **overrides: Any) -> NewTask:
    fields: dict[str, Any] = {
        "guild_id": GUILD_ID,
        "channel_id": CHANNEL_ID,
        "user_id": user_id,
        "prompt": "a red fox running through snow",
        "model": "MiniMax-Hailuo-2.3",
        "mode": "text",
        "cost_tenths": 10,
        "duration": 6,
        "resolution": "768P",
    }
    fields.update(overrides)
    return new_task_of(**fields)


# -- the permission matrix -------------------------------------------------------------------------

G = make_guild()  # only for building option values at collection time; ids match the fixture's guild

# (case id, command, options, does it change the database when allowed)
CASES: list[tuple[str, Any, Callable[[discord.Guild], dict[str, Any]], bool]] = [
    ("quota show", AdminCog.quota_show, lambda g: {"member": make_member(g, TARGET, VIP_ROLE)}, False),
    (
        "quota set",
        AdminCog.quota_set,
        lambda g: {"member": make_member(g, TARGET), "credits": 2.5, "period": "week"},
        True,
    ),
    (
        "quota reset clear-override",
        AdminCog.quota_reset,
        lambda g: {"member": make_member(g, TARGET), "mode": "clear-override"},
        True,
    ),
    (
        "quota reset fresh-allowance",
        AdminCog.quota_reset,
        lambda g: {"member": make_member(g, TARGET), "mode": "fresh-allowance"},
        True,
    ),
    ("quota default", AdminCog.quota_default, lambda g: {"credits": 3, "period": "week"}, True),
    ("quota role", AdminCog.quota_role, lambda g: {"role": role(g, VIP_ROLE), "credits": 7.5}, True),
    ("quota role-clear", AdminCog.quota_role_clear, lambda g: {"role": role(g, PRO_ROLE)}, True),
    ("block", AdminCog.block, lambda g: {"member": make_member(g, TARGET), "reason": "too many"}, True),
    ("unblock", AdminCog.unblock, lambda g: {"member": make_member(g, BLOCKED)}, True),
    ("blocks", AdminCog.blocks, lambda g: {}, False),
    ("filter add", AdminCog.filter_add, lambda g: {"pattern": "/n[a4]sty/"}, True),
    ("filter remove", AdminCog.filter_remove, lambda g: {"pattern": "badword"}, True),
    ("filter list", AdminCog.filter_list, lambda g: {}, False),
    ("pause", AdminCog.pause, lambda g: {"reason": "upgrade"}, True),
    ("resume", AdminCog.resume, lambda g: {}, True),
    ("channels allow", AdminCog.channels_allow, lambda g: {"channel": text_channel(g)}, True),
    ("channels deny", AdminCog.channels_deny, lambda g: {"channel": text_channel(g)}, True),
    ("channels list", AdminCog.channels_list, lambda g: {}, False),
    ("policy show", AdminCog.policy, lambda g: {}, False),
    (
        "policy set",
        AdminCog.policy,
        lambda g: {"max_duration": "6", "results": "private", "cap": "100"},
        True,
    ),
    ("stats", AdminCog.stats, lambda g: {"period": "7d"}, False),
    ("tasks", AdminCog.tasks, lambda g: {}, False),
    ("audit", AdminCog.audit, lambda g: {}, False),
    ("forget member", AdminCog.forget_member, lambda g: {"member": make_member(g, TARGET)}, True),
    ("showcase", AdminCog.showcase, lambda g: {"channel": text_channel(g)}, True),
    (
        "pool create",
        AdminCog.pool_create,
        lambda g: {"name": "art", "credits": 10, "period": "week", "role": role(g, VIP_ROLE)},
        True,
    ),
    ("pool set", AdminCog.pool_set, lambda g: {"name": "seeded", "credits": 7.5}, True),
    ("pool delete", AdminCog.pool_delete, lambda g: {"name": "seeded"}, True),
    ("pool show", AdminCog.pool_show, lambda g: {"name": "seeded"}, False),
    ("pool list", AdminCog.pool_list, lambda g: {}, False),
]


def test_every_command_is_in_the_matrix_and_hidden_from_members() -> None:
    from cogs.admin import command_names

    names = command_names(AdminCog(moderation(None)))
    # 21, /videoadmin forget member (#16), /videoadmin showcase and the 5 pool commands (#13)
    assert len(names) == 28
    assert {case[1].qualified_name for case in CASES} == set(names)
    group = AdminCog.videoadmin
    assert group.guild_only and group.default_permissions == discord.Permissions(manage_guild=True)


@pytest.mark.parametrize("who", ["member", "manage_server", "moderator_role", "dm"])
@pytest.mark.parametrize(("case", "command", "options", "changes"), CASES, ids=[c[0] for c in CASES])
async def test_permission_matrix(
    storage: Storage,
    cog: AdminCog,
    guild: discord.Guild,
    who: str,
    case: str,
    command: Any,
    options: Callable[[discord.Guild], dict[str, Any]],
    changes: bool,
) -> None:
    await seed(storage)
    before = await snapshot(storage)
    user, where = actor(guild, who)
    reply = await invoke(command, cog, FakeInteraction(user, guild=where), **options(guild))
    after = await snapshot(storage)

    assert reply.ephemeral
    if who in ("member", "dm"):
        assert reply.content is not None
        assert reply.content.startswith(REFUSED if who == "member" else DM_REFUSED)
        assert reply.embed is None and reply.view is None
        assert after == before
        return
    assert reply.embed is not None, reply.text()
    assert REFUSED not in reply.text()
    if changes:
        assert after != before
        assert after["audit_log"] != before["audit_log"]
        new_rows = len(after["audit_log"]) - len(before["audit_log"])
        assert (await audit_actors(storage))[:new_rows] == [user.id] * new_rows
        assert "→" in reply.text()
    else:
        assert after == before


async def test_owner_and_administrator_are_moderators(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    owner = make_member(guild, OWNER_ID)
    reply = await invoke(AdminCog.pause, cog, FakeInteraction(owner, guild=guild), reason="owner says")
    assert reply.embed is not None and "— → **owner says**" in reply.text()
    admin = make_member(guild, 77, ADMIN_ROLE)
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(admin, guild=guild))
    assert reply.embed is not None and "paused → **running**" in reply.text()
    assert await audit_actors(storage) == [77, OWNER_ID]


async def test_moderator_role_stops_working_once_removed(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    await seed(storage)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    moderator = make_member(guild, MODERATOR, MOD_ROLE)
    reply = await invoke(
        AdminCog.policy, cog, FakeInteraction(manager, guild=guild), remove_moderator_role=True
    )
    assert f"<@&{MOD_ROLE}> → **none (Manage Server only)**" in reply.text()
    before = await snapshot(storage)
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(moderator, guild=guild))
    assert reply.content == "You need the Manage Server permission to use the video moderator commands."
    assert await snapshot(storage) == before


# -- changes: before → after and the audit log ------------------------------------------------------


async def test_quota_set_confirms_before_after_and_audits(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    target = make_member(guild, TARGET, name="alice")
    reply = await invoke(
        AdminCog.quota_set,
        cog,
        FakeInteraction(manager, guild=guild),
        member=target,
        credits=2.5,
        period="week",
    )
    assert reply.embed is not None and reply.embed.title == "Allowance of alice"
    assert reply.embed.fields[0].value == "no override → **2.5 credits per week**"
    reply = await invoke(
        AdminCog.quota_set, cog, FakeInteraction(manager, guild=guild), member=target, credits=3
    )
    assert reply.embed is not None
    assert reply.embed.fields[0].value == "2.5 credits per week → **3 credits per the server's period**"

    entries = await storage.audit.list(GUILD_ID)
    assert [(e.action, e.actor_id, e.target_user_id) for e in entries] == [
        ("quota.set", MANAGER, TARGET),
        ("quota.set", MANAGER, TARGET),
    ]
    assert entries[1].before is None
    assert entries[1].after == {"user_id": TARGET, "credits_tenths": 25, "period": "week"}
    assert entries[0].before == {"user_id": TARGET, "credits_tenths": 25, "period": "week"}
    assert entries[0].after == {"user_id": TARGET, "credits_tenths": 30, "period": None}
    assert entries[0].created_at == NOW


async def test_unchanged_value_says_so_and_writes_no_audit(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    for _ in range(2):
        reply = await invoke(
            AdminCog.quota_default, cog, FakeInteraction(manager, guild=guild), credits=4, period="week"
        )
    assert reply.embed is not None
    assert reply.embed.description == "Nothing changed: it was already set that way."
    assert await storage.audit.count(GUILD_ID) == 1


async def test_quota_reset_fresh_allowance_forgives_usage_but_keeps_limit(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    target = make_member(guild, TARGET)
    await storage.limits.set_override(GUILD_ID, TARGET, 20, actor_id=OWNER_ID, now=NOW)
    await storage.quota.reserve(new_task(TARGET, cost_tenths=15), now=NOW - 60)
    reply = await invoke(
        AdminCog.quota_reset,
        cog,
        FakeInteraction(manager, guild=guild),
        member=target,
        mode="fresh-allowance",
    )
    assert reply.embed is not None
    assert reply.embed.fields[0].value == "1.5 credits → **0 credits**"
    usage = await storage.quota.usage(GUILD_ID, TARGET, now=NOW)
    assert (usage.used_tenths, usage.limit_tenths, usage.source) == (0, 20, "override")

    reply = await invoke(
        AdminCog.quota_reset, cog, FakeInteraction(manager, guild=guild), member=target, mode="clear-override"
    )
    assert reply.embed is not None
    assert reply.embed.fields[0].value == "2 credits per the server's period → **no override**"
    usage = await storage.quota.usage(GUILD_ID, TARGET, now=NOW, default_limit_tenths=50)
    assert (usage.limit_tenths, usage.source) == (50, "default")
    assert [e.action for e in await storage.audit.list(GUILD_ID)][:2] == ["quota.clear", "quota.grant"]


async def test_quota_show_explains_where_the_limit_comes_from(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    await storage.limits.set_role_limit(GUILD_ID, VIP_ROLE, 80, actor_id=OWNER_ID, now=NOW)
    await storage.limits.set_role_limit(GUILD_ID, PRO_ROLE, 120, actor_id=OWNER_ID, now=NOW)
    await storage.quota.reserve(new_task(TARGET, cost_tenths=25), role_ids=[VIP_ROLE, PRO_ROLE], now=NOW - 10)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    target = make_member(guild, TARGET, VIP_ROLE, PRO_ROLE)
    reply = await invoke(AdminCog.quota_show, cog, FakeInteraction(manager, guild=guild), member=target)
    text = reply.text()
    assert "used **2.5** of 12 credits per day; 9.5 left" in text
    assert "pending (reserved, not yet delivered): 2.5" in text
    assert f"their best role (<@&{PRO_ROLE}>)" in text
    assert f"<@&{PRO_ROLE}>: 12 credits" in text


async def test_pause_and_resume_tell_the_service(
    storage: Storage, cog: AdminCog, guild: discord.Guild, service: StubService
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.pause, cog, FakeInteraction(manager, guild=guild), reason="budget review")
    assert "running → **paused**" in reply.text()
    assert "— → **budget review**" in reply.text()
    policy = await storage.policy.get(GUILD_ID)
    assert (policy.paused, policy.pause_reason) == (True, "budget review")
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(manager, guild=guild))
    assert "paused → **running**" in reply.text()
    assert not (await storage.policy.get(GUILD_ID)).paused
    assert service.calls == [("policy_changed", GUILD_ID), ("policy_changed", GUILD_ID)]


async def test_the_operators_resume_also_lifts_a_bot_wide_account_pause(
    storage: Storage, guild: discord.Guild, service: StubService
) -> None:
    # The manager is also the bot's operator (OWNER_IDS): only they may lift a bot-wide pause.
    cog = AdminCog(moderation(storage, service, clock=lambda: NOW, owner_ids=(MANAGER,)))
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    service.submissions_paused = True  # the API reported an account problem
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(manager, guild=guild))
    assert "account problem" in reply.text() and "resumed now" in reply.text()
    assert ("resume_submissions", None) in service.calls
    assert not service.submissions_paused
    (entry,) = [e for e in await storage.audit.list(GUILD_ID) if e.action == "account.resume"]
    assert entry.actor_id == MANAGER and entry.after == {"submissions": "running"}


async def test_a_server_moderator_cannot_lift_the_bot_wide_account_pause(
    storage: Storage, cog: AdminCog, guild: discord.Guild, service: StubService
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)  # Manage Server here, but not the operator
    await storage.policy.pause(GUILD_ID, "budget review", actor_id=MANAGER, now=NOW)
    service.submissions_paused = True
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(manager, guild=guild))
    assert "paused → **running**" in reply.text(), "their own server's pause is theirs to lift"
    assert "Only the bot's operator can lift that pause" in reply.text()
    assert ("resume_submissions", None) not in service.calls and service.submissions_paused
    assert [e for e in await storage.audit.list(GUILD_ID) if e.action == "account.resume"] == []


async def test_the_applications_owner_is_the_operator(
    storage: Storage, cog: AdminCog, guild: discord.Guild, service: StubService
) -> None:
    """Without OWNER_IDS, the operator is whoever owns the application (discord.py's is_owner)."""
    client = commands.Bot(command_prefix="!", intents=discord.Intents.none(), owner_id=MANAGER)
    service.submissions_paused = True
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.resume, cog, FakeInteraction(manager, guild=guild, client=client))
    assert "resumed now" in reply.text() and not service.submissions_paused


async def test_policy_set_changes_only_given_fields(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(
        AdminCog.policy,
        cog,
        FakeInteraction(manager, guild=guild),
        allowed_models="minimax-hailuo-02, MiniMax-Hailuo-2.3, MiniMax-Hailuo-02",
        max_resolution="768P",
        cap="12.5",
        moderator_role=role(guild, VIP_ROLE),
    )
    text = reply.text()
    assert "every model → **MiniMax-Hailuo-02, MiniMax-Hailuo-2.3**" in text
    assert "any → **768P**" in text
    assert "no limit → **12.5 credits**" in text
    assert f"none (Manage Server only) → **<@&{VIP_ROLE}>**" in text
    # The role alone does not show the command: the note says where the server must allow it.
    assert "per day (the server's quota period)" in text
    assert f"Members with <@&{VIP_ROLE}> may now use /videoadmin" in text
    assert "Server Settings → Integrations" in text
    policy = await storage.policy.get(GUILD_ID)
    assert policy.allowed_models == ("MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3")
    assert (policy.max_resolution, policy.max_duration, policy.cap_tenths) == ("768P", None, 125)
    assert (policy.results_public, policy.moderator_role_id) == (True, VIP_ROLE)

    await invoke(
        AdminCog.policy, cog, FakeInteraction(manager, guild=guild), cap="none", max_resolution="any"
    )
    policy = await storage.policy.get(GUILD_ID)
    assert (policy.cap_tenths, policy.max_resolution, policy.allowed_models) == (
        None,
        None,
        ("MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3"),
    )
    assert await storage.audit.count(GUILD_ID) == 2


async def test_channel_rules(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    videos, chat = text_channel(guild, CHANNEL_ID), text_channel(guild, OTHER_CHANNEL_ID)

    async def run(command: Any, channel: discord.TextChannel) -> Reply:
        return await invoke(command, cog, FakeInteraction(manager, guild=guild), channel=channel)

    reply = await run(AdminCog.channels_deny, chat)
    assert "no rule (follows the allow-list) → **denied**" in reply.text()
    assert await storage.policy.channel_allowed(GUILD_ID, CHANNEL_ID)
    assert not await storage.policy.channel_allowed(GUILD_ID, OTHER_CHANNEL_ID)

    # Lifting a deny while the allow-list is empty must not start an allow-list.
    reply = await run(AdminCog.channels_allow, chat)
    assert "denied → **no rule (follows the allow-list)**" in reply.text()
    assert await storage.policy.channel_allowed(GUILD_ID, CHANNEL_ID)
    assert await storage.policy.channel_allowed(GUILD_ID, OTHER_CHANNEL_ID)

    reply = await run(AdminCog.channels_allow, videos)
    assert f"/video now works only in: <#{CHANNEL_ID}>" in reply.text()
    assert not await storage.policy.channel_allowed(GUILD_ID, OTHER_CHANNEL_ID)

    reply = await invoke(AdminCog.channels_list, cog, FakeInteraction(manager, guild=guild))
    assert f"<#{CHANNEL_ID}>" in reply.text() and "Allowed (only these)" in reply.text()

    # Denying the only allowed channel would open every other one: refused, nothing changes...
    before = await snapshot(storage)
    reply = await run(AdminCog.channels_deny, videos)
    assert reply.embed is None and reply.content is not None
    assert f"<#{CHANNEL_ID}> is the only channel on the allow-list" in reply.content
    assert "`/videoadmin pause`" in reply.content and "Nothing was changed." in reply.content
    assert await snapshot(storage) == before
    assert not await storage.policy.channel_allowed(GUILD_ID, OTHER_CHANNEL_ID)

    # ...unless the moderator says that is what they want.
    reply = await invoke(
        AdminCog.channels_deny,
        cog,
        FakeInteraction(manager, guild=guild),
        channel=videos,
        open_other_channels=True,
    )
    assert "That was the only channel on the allow-list" in reply.text()
    assert not await storage.policy.channel_allowed(GUILD_ID, CHANNEL_ID)
    assert await storage.policy.channel_allowed(GUILD_ID, OTHER_CHANNEL_ID)


async def test_filter_entries_are_stored_the_way_the_service_matches_them(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    for pattern in ("BadWord", "/n[a4]sty/"):
        reply = await invoke(AdminCog.filter_add, cog, FakeInteraction(manager, guild=guild), pattern=pattern)
        assert reply.embed is not None and reply.embed.colour == discord.Colour.green()
    stored = await storage.policy.filters(GUILD_ID)
    assert [(f.pattern, f.is_regex) for f in stored] == [("BadWord", False), ("n[a4]sty", True)]
    compiled = compile_filter((f.pattern, f.is_regex) for f in stored)
    assert matches(compiled, "a b\u0430dw\u200bord here") == "BadWord"  # Cyrillic а, zero-width space
    assert matches(compiled, "so N4STY") == "/n[a4]sty/"
    assert matches(compiled, "a nice fox") is None

    listing = await invoke(AdminCog.filter_list, cog, FakeInteraction(manager, guild=guild))
    assert f"`#{stored[1].id}` `/n[a4]sty/` · regex" in listing.text()

    choices = await cog._filter_choices(FakeInteraction(manager, guild=guild), "A4")  # type: ignore[arg-type]
    assert [(c.name, c.value) for c in choices] == [(f"#{stored[1].id} /n[a4]sty/", f"#{stored[1].id}")]
    plain = make_member(guild, PLAIN)
    assert await cog._filter_choices(FakeInteraction(plain, guild=guild), "") == []  # type: ignore[arg-type]

    reply = await invoke(
        AdminCog.filter_remove, cog, FakeInteraction(manager, guild=guild), pattern=f"#{stored[1].id}"
    )
    assert "`/n[a4]sty/` → **removed**" in reply.text()
    reply = await invoke(
        AdminCog.filter_remove, cog, FakeInteraction(manager, guild=guild), pattern="BadWord"
    )
    assert await storage.policy.filters(GUILD_ID) == []


@pytest.mark.parametrize("pattern", ["/\\bnsfw\\b/", "/gore|blood/", "/n[u0]de/"])
async def test_ordinary_regexes_are_accepted_by_filter_add(
    storage: Storage, cog: AdminCog, guild: discord.Guild, pattern: str
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.filter_add, cog, FakeInteraction(manager, guild=guild), pattern=pattern)
    assert reply.embed is not None and reply.embed.colour == discord.Colour.green(), reply.text()
    assert [(f.pattern, f.is_regex) for f in await storage.policy.filters(GUILD_ID)] == [
        (pattern[1:-1], True)
    ]


async def test_block_and_list(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    moderator = make_member(guild, MODERATOR, MOD_ROLE)
    await storage.policy.update(GUILD_ID, actor_id=OWNER_ID, moderator_role_id=MOD_ROLE)
    target = make_member(guild, TARGET)
    reply = await invoke(
        AdminCog.block,
        cog,
        FakeInteraction(moderator, guild=guild),
        member=target,
        reason="  flooding   the channel ",
    )
    assert "not blocked → **blocked (flooding the channel)**" in reply.text()
    block = await storage.limits.blocked(GUILD_ID, TARGET)
    assert block is not None and (block.reason, block.blocked_by) == ("flooding the channel", MODERATOR)
    listing = await invoke(AdminCog.blocks, cog, FakeInteraction(moderator, guild=guild))
    assert f"<@{TARGET}> · by <@{MODERATOR}>" in listing.text() and "flooding the channel" in listing.text()
    reply = await invoke(AdminCog.unblock, cog, FakeInteraction(moderator, guild=guild), member=target)
    assert "blocked (flooding the channel) → **not blocked**" in reply.text()
    assert await storage.limits.blocked(GUILD_ID, TARGET) is None


# -- bad values are refused and change nothing ------------------------------------------------------

OTHER = make_guild(OTHER_GUILD_ID)

BAD_VALUES: list[tuple[str, Any, Callable[[discord.Guild], dict[str, Any]], str]] = [
    (
        "negative",
        AdminCog.quota_set,
        lambda g: {"member": make_member(g, TARGET), "credits": -1},
        "cannot be negative",
    ),
    (
        "two decimals",
        AdminCog.quota_set,
        lambda g: {"member": make_member(g, TARGET), "credits": 2.55},
        "at most one decimal",
    ),
    (
        "too many",
        AdminCog.quota_set,
        lambda g: {"member": make_member(g, TARGET), "credits": 10_001},
        "at most 10,000 credits",
    ),
    (
        "nan",
        AdminCog.quota_set,
        lambda g: {"member": make_member(g, TARGET), "credits": math.nan},
        "must be a number",
    ),
    (
        "member of another server",
        AdminCog.quota_set,
        lambda g: {"member": make_member(OTHER, TARGET), "credits": 1},
        "not in this server",
    ),
    (
        "default negative",
        AdminCog.quota_default,
        lambda g: {"credits": -0.5, "period": "day"},
        "cannot be negative",
    ),
    (
        "everyone role limit",
        AdminCog.quota_role,
        lambda g: {"role": g.default_role, "credits": 5},
        "@everyone cannot be a role limit",
    ),
    (
        "role of another server",
        AdminCog.quota_role,
        lambda g: {"role": role(OTHER, VIP_ROLE), "credits": 5},
        "does not exist in this server",
    ),
    (
        "voice channel",
        AdminCog.channels_allow,
        lambda g: {"channel": g.get_channel(VOICE_CHANNEL_ID)},
        "Pick a text channel",
    ),
    (
        "channel of another server",
        AdminCog.channels_deny,
        lambda g: {"channel": text_channel(OTHER)},
        "not in this server",
    ),
    (
        "unknown model",
        AdminCog.policy,
        lambda g: {"allowed_models": "Sora, MiniMax-Hailuo-02"},
        "Unknown model: Sora",
    ),
    ("negative cap", AdminCog.policy, lambda g: {"cap": "-3"}, "cannot be negative"),
    ("word cap", AdminCog.policy, lambda g: {"cap": "lots"}, "must be a number"),
    ("huge cap", AdminCog.policy, lambda g: {"cap": "2000000"}, "at most 1,000,000 credits"),
    (
        "everyone moderators",
        AdminCog.policy,
        lambda g: {"moderator_role": g.default_role},
        "would make every member a moderator",
    ),
    (
        "role and removal",
        AdminCog.policy,
        lambda g: {"moderator_role": role(g, VIP_ROLE), "remove_moderator_role": True},
        "not both",
    ),
    (
        "no video possible",
        AdminCog.policy,
        lambda g: {"allowed_models": "MiniMax-Hailuo-2.3", "max_resolution": "512P"},
        "no allowed model could make any video",
    ),
    ("broken regex", AdminCog.filter_add, lambda g: {"pattern": "/(/"}, "not valid"),
    ("match-all regex", AdminCog.filter_add, lambda g: {"pattern": "/.*/"}, "matches every prompt"),
    ("slow regex", AdminCog.filter_add, lambda g: {"pattern": "/(a+)+$/"}, "could make the filter very slow"),
    ("back-reference", AdminCog.filter_add, lambda g: {"pattern": "/(a)\\1/"}, "very slow"),
    ("empty entry", AdminCog.filter_add, lambda g: {"pattern": "   "}, "empty"),
    (
        "unknown entry",
        AdminCog.filter_remove,
        lambda g: {"pattern": "never-added"},
        "is not in the prompt filter",
    ),
    (
        "long reason",
        AdminCog.block,
        lambda g: {"member": make_member(g, TARGET), "reason": "x" * 301},
        "under 300 characters",
    ),
    ("long pause reason", AdminCog.pause, lambda g: {"reason": "y" * 400}, "under 300 characters"),
    ("cap of 1.05", AdminCog.policy, lambda g: {"cap": "1.05"}, "at most one decimal"),
    *(
        (f"long {what}", command, options, f"takes at most {limit} characters")
        for what, command, options, limit in [
            ("entry to remove", AdminCog.filter_remove, lambda g: {"pattern": "no such entry " * 200}, 202),
            ("model list", AdminCog.policy, lambda g: {"allowed_models": "Sora-9000, " * 300}, 300),
            ("cap", AdminCog.policy, lambda g: {"cap": "9" * 3000}, 20),
        ]
    ),
]


@pytest.mark.parametrize(
    ("case", "command", "options", "expected"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES]
)
async def test_bad_values_are_refused_and_change_nothing(
    storage: Storage,
    cog: AdminCog,
    guild: discord.Guild,
    case: str,
    command: Any,
    options: Callable[[discord.Guild], dict[str, Any]],
    expected: str,
) -> None:
    await seed(storage)
    before = await snapshot(storage)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(command, cog, FakeInteraction(manager, guild=guild), **options(guild))
    assert reply.ephemeral and reply.embed is None
    assert reply.content is not None and expected in reply.content
    assert await snapshot(storage) == before


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (AdminCog.filter_remove, {"pattern": "no such entry " * 200}),
        (AdminCog.policy, {"allowed_models": "Sora-9000, " * 300}),
        (AdminCog.policy, {"cap": "0." + "5" * 3000}),  # "takes at most one decimal, not 0.555…"
    ],
    ids=["filter remove", "allowed_models", "cap"],
)
async def test_a_refusal_repeating_long_text_still_fits_one_discord_message(
    storage: Storage, cog: AdminCog, guild: discord.Guild, command: Any, options: dict[str, Any]
) -> None:
    """The refusal repeated the moderator's text whole: over 2,000 characters, Discord refused the
    reply and the interaction went unanswered. Discord enforces ``max_length`` in its client; a
    command sent by other means is refused without the echo."""
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(command, cog, FakeInteraction(manager, guild=guild), **options)
    assert reply.content is not None and len(reply.content) <= 200
    assert "Nothing was changed" in reply.content


async def test_text_options_declare_a_max_length_that_fits_their_rules(storage: Storage) -> None:
    from discord.ext import commands

    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
    bot.moderation = moderation(storage)  # type: ignore[attr-defined]
    await bot.load_extension("cogs.admin")
    (group,) = [c for c in bot.tree.get_commands() if c.name == "videoadmin"]

    def options(item: dict[str, Any], path: str = "") -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for option in item.get("options") or []:
            where = f"{path} {option['name']}".strip()
            if option["type"] in (1, 2):
                found.update(options(option, where))
            else:
                found[where] = option
        return found

    text = {k: o.get("max_length") for k, o in options(group.to_dict(bot.tree)).items() if o["type"] == 3}
    assert text == {
        "block reason": 300,
        "filter add pattern": 202,
        "filter remove pattern": 202,
        "pause reason": 300,
        "policy allowed_models": 300,
        "policy cap": 20,
        "policy threads": None,  # a choice of three words: Discord sends only those
        "policy max_resolution": None,  # choices: Discord allows only those
        "policy max_duration": None,
        "policy results": None,
        "quota reset mode": None,
        "quota set period": None,
        "quota default period": None,
        "tasks state": None,
        "stats period": None,
        "pool create name": 32,  # a pool's name: storage.pools.NAME_PATTERN
        "pool create period": 7,  # autocompleted words, checked by the service
        "pool set name": 32,
        "pool set period": 7,
        "pool set clear": 7,
        "pool delete name": 32,
        "pool show name": 32,
    }


async def test_only_manage_server_changes_the_moderator_role(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    await seed(storage)
    before = await snapshot(storage)
    moderator = make_member(guild, MODERATOR, MOD_ROLE)
    reply = await invoke(
        AdminCog.policy, cog, FakeInteraction(moderator, guild=guild), moderator_role=role(guild, VIP_ROLE)
    )
    assert reply.content is not None and reply.content.startswith(
        "Only members with the Manage Server permission can change the moderator role"
    )
    assert await snapshot(storage) == before


# -- statistics ------------------------------------------------------------------------------------

USER_A, USER_B, USER_C = 30, 31, 32


def day(d: int, hour: int = 12) -> float:
    return datetime(2024, 3, d, hour, tzinfo=UTC).timestamp()


async def make_task(
    storage: Storage,
    user_id: int,
    created: float,
    end: TaskState,
    *,
    model: str = "MiniMax-Hailuo-2.3",
    resolution: str = "768P",
    cost: int = 10,
    generation: float = 60.0,
    error_code: str | None = None,
    guild_id: int = GUILD_ID,
) -> int:
    task = await storage.quota.reserve(
        new_task(user_id, model=model, resolution=resolution, cost_tenths=cost, guild_id=guild_id),
        now=created,
        default_limit_tenths=100_000,
    )
    if end is TaskState.DELIVERED:
        await storage.tasks.transition(task.id, TaskState.SUBMITTING, now=created + 1)
        await storage.tasks.transition(
            task.id, TaskState.SUBMITTED, now=created + 2, api_task_id=f"api-{task.id}"
        )
        await storage.tasks.transition(task.id, TaskState.DOWNLOADING, now=created + 2 + generation)
        await storage.tasks.transition(task.id, TaskState.DELIVERING, now=created + 2 + generation)
        await storage.tasks.transition(task.id, TaskState.DELIVERED, now=created + 2 + generation)
    elif end in (TaskState.FAILED, TaskState.CANCELLED):
        await storage.tasks.transition(task.id, end, now=created + 5, error_code=error_code)
    return task.id


async def seed_stats(storage: Storage) -> None:
    delivered = TaskState.DELIVERED
    await make_task(storage, USER_A, day(13), delivered, generation=60)
    await make_task(storage, USER_A, day(14), delivered, generation=90)
    await make_task(storage, USER_A, day(15, 9), delivered, generation=120)
    # 0.49 USD at 0.28 per credit is 1.75 credits, rounded half up to 1.8.
    await make_task(
        storage,
        USER_B,
        day(14),
        delivered,
        model="MiniMax-Hailuo-02",
        resolution="1080P",
        cost=18,
        generation=200,
    )
    await make_task(storage, USER_B, day(14), TaskState.FAILED, error_code="content_policy")
    await make_task(storage, USER_A, day(15, 8), TaskState.FAILED, error_code="timeout")
    await make_task(storage, USER_A, day(15, 9), TaskState.FAILED, error_code="content_policy")
    await make_task(storage, USER_C, day(15, 10), TaskState.CANCELLED, error_code="cancelled")
    await make_task(storage, USER_C, day(15, 11), TaskState.QUEUED)
    # Outside the window, and in another guild: never counted.
    await make_task(storage, USER_A, day(1), delivered)
    await make_task(storage, USER_A, day(15, 10), delivered, guild_id=OTHER_GUILD_ID)


async def test_stats_on_a_seeded_database(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    await seed_stats(storage)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.stats, cog, FakeInteraction(manager, guild=guild), period="7d")
    assert reply.embed is not None
    fields = {f.name: f.value for f in reply.embed.fields}
    assert reply.embed.title == "Video statistics · last 7 days"
    assert fields["Requested"] == "9"
    assert fields["Delivered"] == "4"
    assert fields["Failed"] == "3"
    assert fields["Success rate"] == "57.1 %"  # 4 of 7 finished
    assert fields["Median generation time"] == "1 min 45 s"  # median of 60, 90, 120, 200 s
    # 3 × $0.28 + $0.49 from the price table (not 4.8 rounded credits × $0.28 = $1.34).
    assert fields["Credits spent"] == "4.8 ($1.33)"
    assert fields["Other"] == "cancelled 1 · in progress 1"
    assert fields["Failures by reason"] == "`content_policy`: 2\n`timeout`: 1"
    assert fields["Top members"] == (
        f"1. <@{USER_A}> · 3 credits · 3 videos\n2. <@{USER_B}> · 1.8 credits · 1 video"
    )
    assert fields["Daily requests per model"] == (
        "```\n"
        "2024-03-08 → 2024-03-15 (UTC)\n"
        "MiniMax-Hailuo-02  ▁▁▁▁▁▁█▁ 1\n"
        "MiniMax-Hailuo-2.3 ▁▁▁▁▁▃▄█ 8\n"
        "```"
    )


async def test_stats_show_every_servers_spending_against_the_operators_ceiling(
    storage: Storage, guild: discord.Guild
) -> None:
    await seed_stats(storage)
    cog = AdminCog(moderation(storage, clock=lambda: NOW, spend_limit_usd=Decimal("2.80")))
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.stats, cog, FakeInteraction(manager, guild=guild), period="7d")
    assert reply.embed is not None
    fields = {f.name: f.value for f in reply.embed.fields}
    # Today (the ceiling's day): a delivered and a queued video here, a delivered one in another
    # server; the failed and cancelled ones were refunded.
    text = fields["Bot-wide spending (every server)"]
    assert text.startswith("3 of 10 credits this day (≈ $0.84 of $2.80), 7 left"), text
    assert "renews <t:" in text
    # Without a ceiling there is nothing to show.
    quiet = await invoke(
        AdminCog.stats,
        AdminCog(moderation(storage, clock=lambda: NOW)),
        FakeInteraction(manager, guild=guild),
    )
    assert quiet.embed is not None and "Bot-wide spending (every server)" not in {
        f.name for f in quiet.embed.fields
    }


async def test_stats_of_a_quiet_server(cog: AdminCog, guild: discord.Guild) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.stats, cog, FakeInteraction(manager, guild=guild), period="24h")
    assert reply.embed is not None
    fields = {f.name: f.value for f in reply.embed.fields}
    assert (fields["Requested"], fields["Success rate"], fields["Median generation time"]) == ("0", "—", "—")
    assert fields["Credits spent"] == "0 ($0.00)"
    assert "Daily requests per model" not in fields and "Top members" not in fields


# -- tasks: listing and resolving the unknown state -------------------------------------------------


async def unknown_task(storage: Storage, user_id: int = USER_A, cost: int = 10) -> int:
    task = await storage.quota.reserve(new_task(user_id, cost_tenths=cost), now=NOW - 600)
    await storage.tasks.transition(task.id, TaskState.SUBMITTING, now=NOW - 599)
    await storage.tasks.transition(task.id, TaskState.UNKNOWN, now=NOW - 598, error_code="submit_unknown")
    return task.id


async def test_refund_an_unknown_task(
    storage: Storage, cog: AdminCog, guild: discord.Guild, service: StubService
) -> None:
    stuck = await unknown_task(storage, cost=15)
    await make_task(storage, USER_B, NOW - 100, TaskState.DELIVERED)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.tasks, cog, FakeInteraction(manager, guild=guild), state="stuck")
    assert isinstance(reply.view, TasksView)
    assert f"`#{stuck}`" in reply.text() and "**unknown**" in reply.text()
    assert "delivered" not in reply.text()
    view = reply.view
    assert [o.value for o in view.choose.options] == [str(stuck)]
    assert view.refund.disabled and view.resume.disabled

    view.choose._values = [str(stuck)]
    click = FakeInteraction(manager, guild=guild)
    await view.choose.callback(click)
    assert click.last.kind == "edit" and not view.refund.disabled

    click = FakeInteraction(manager, guild=guild)
    await view.refund.callback(click)
    edit, confirmation = click.replies
    assert edit.kind == "edit" and "No tasks match." in edit.text()  # no longer stuck
    assert confirmation.kind == "followup" and confirmation.ephemeral
    assert f"unknown → **failed · 1.5 credits refunded to <@{USER_A}>**" in confirmation.text()

    task = await storage.tasks.get(stuck)
    assert (task.state, task.error_code) == (TaskState.FAILED, "unknown_refunded")
    assert [e.kind for e in await storage.quota.entries_for_task(stuck)] == ["reserve", "refund"]
    assert (await storage.quota.usage(GUILD_ID, USER_A, now=NOW)).used_tenths == 0
    latest = (await storage.audit.list(GUILD_ID, limit=1))[0]
    assert (latest.action, latest.actor_id, latest.target_user_id) == ("task.failed", MANAGER, USER_A)
    assert latest.before == {"state": "unknown"}
    assert service.calls[-1][0] == "refresh" and service.calls[-1][1][:2] == (stuck, TaskState.FAILED)

    # A second refund (a stale view, a double click) is refused and refunds nothing more.
    with pytest.raises(UserFacingError, match="no longer in the unknown state") as refused:
        await cog.refund_unknown(FakeInteraction(manager, guild=guild), stuck)  # type: ignore[arg-type]
    assert refused.value.text("en").endswith("(it is failed). Nothing was changed.")
    assert refused.value.text("de").endswith("(Zustand: Fehler). Es wurde nichts geändert.")
    assert [e.kind for e in await storage.quota.entries_for_task(stuck)] == ["reserve", "refund"]


async def test_refunding_the_only_task_of_the_last_page_shows_the_page_before(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    await storage.limits.set_override(GUILD_ID, USER_A, 1000, actor_id=OWNER_ID, now=NOW - 700)
    ids = [await unknown_task(storage) for _ in range(11)]  # page 2 holds only the oldest
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.tasks, cog, FakeInteraction(manager, guild=guild), state="unknown")
    view = reply.view
    assert isinstance(view, TasksView)
    await view.next.callback(FakeInteraction(manager, guild=guild))
    assert view.page == 1 and [o.value for o in view.choose.options] == [str(ids[0])]

    view.choose._values = [str(ids[0])]
    await view.choose.callback(FakeInteraction(manager, guild=guild))
    click = FakeInteraction(manager, guild=guild)
    await view.refund.callback(click)

    edit = click.replies[0]
    assert "Page 1 of 1" in edit.text() and f"`#{ids[10]}`" in edit.text()
    assert (view.page, view.pages) == (0, 1) and view.next.disabled


async def test_resume_an_unknown_task_with_its_api_id(
    storage: Storage, cog: AdminCog, guild: discord.Guild, service: StubService
) -> None:
    stuck = await unknown_task(storage)
    moderator = make_member(guild, MODERATOR, MOD_ROLE)
    await storage.policy.update(GUILD_ID, actor_id=OWNER_ID, moderator_role_id=MOD_ROLE)
    reply = await invoke(AdminCog.tasks, cog, FakeInteraction(moderator, guild=guild), state="unknown")
    view = reply.view
    assert isinstance(view, TasksView)
    view.choose._values = [str(stuck)]
    await view.choose.callback(FakeInteraction(moderator, guild=guild))
    click = FakeInteraction(moderator, guild=guild)
    await view.resume.callback(click)
    modal = click.last.modal
    assert modal is not None

    bad = FakeInteraction(moderator, guild=guild)
    modal.api_task_id._value = "not an id!"  # type: ignore[attr-defined]
    await modal.on_error(bad, await _raises(modal.on_submit(bad)))  # type: ignore[attr-defined]
    assert "does not look like a MiniMax task id" in (bad.last.content or "")
    assert (await storage.tasks.get(stuck)).state is TaskState.UNKNOWN

    done = FakeInteraction(moderator, guild=guild)
    modal.api_task_id._value = " 106916112212032 "  # type: ignore[attr-defined]
    await modal.on_submit(done)  # type: ignore[attr-defined]
    assert "unknown → **submitted · tracking API task `106916112212032`**" in done.last.text()
    task = await storage.tasks.get(stuck)
    assert (task.state, task.api_task_id, task.next_poll_at) == (TaskState.SUBMITTED, "106916112212032", NOW)
    assert [e.kind for e in await storage.quota.entries_for_task(stuck)] == ["reserve"]
    assert ("wake", None) in service.calls
    latest = (await storage.audit.list(GUILD_ID, limit=1))[0]
    assert (latest.action, latest.actor_id) == ("task.submitted", MODERATOR)


async def _raises(coro: Any) -> Exception:
    try:
        await coro
    except Exception as exc:
        return exc
    raise AssertionError("expected an error")


async def test_task_buttons_belong_to_their_moderator(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    stuck = await unknown_task(storage)
    await storage.policy.update(GUILD_ID, actor_id=OWNER_ID, moderator_role_id=MOD_ROLE)
    moderator = make_member(guild, MODERATOR, MOD_ROLE)
    reply = await invoke(AdminCog.tasks, cog, FakeInteraction(moderator, guild=guild))
    view = reply.view
    assert isinstance(view, TasksView)

    stranger = FakeInteraction(make_member(guild, PLAIN), guild=guild)
    assert await view.interaction_check(stranger) is False
    assert stranger.last.content == "These buttons belong to the moderator who ran the command."

    # The same moderator after losing the role: refused at click time, nothing changes.
    demoted = FakeInteraction(make_member(guild, MODERATOR), guild=guild)
    assert await view.interaction_check(demoted) is False
    assert (demoted.last.content or "").startswith(REFUSED)
    assert (await storage.tasks.get(stuck)).state is TaskState.UNKNOWN


async def test_tasks_filters_by_member_and_state(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    for _ in range(12):
        await make_task(storage, USER_A, NOW - 3000, TaskState.FAILED, error_code="timeout")
    await make_task(storage, USER_B, NOW - 3000, TaskState.FAILED, error_code="timeout")
    await make_task(storage, USER_B, NOW - 3000, TaskState.DELIVERED)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(
        AdminCog.tasks,
        cog,
        FakeInteraction(manager, guild=guild),
        member=make_member(guild, USER_A),
        state="failed",
    )
    assert reply.embed is not None and reply.embed.footer.text is not None
    assert reply.embed.footer.text.startswith("Page 1 of 2 · 12 tasks")
    assert f"<@{USER_B}>" not in reply.text()
    view = reply.view
    assert isinstance(view, TasksView) and view.previous.disabled and not view.next.disabled
    click = FakeInteraction(manager, guild=guild)
    await view.next.callback(click)
    assert click.last.embed is not None and click.last.embed.footer.text.startswith("Page 2 of 2")
    assert (click.last.embed.description or "").count("\n") == 1  # two tasks on the last page

    stuck_queued = await make_task(storage, USER_C, NOW - 5000, TaskState.QUEUED)
    fresh_queued = await make_task(storage, USER_C, NOW - 10, TaskState.QUEUED)
    reply = await invoke(AdminCog.tasks, cog, FakeInteraction(manager, guild=guild), state="stuck")
    assert f"`#{stuck_queued}`" in reply.text() and f"`#{fresh_queued}`" not in reply.text()


# -- audit -------------------------------------------------------------------------------------------


async def test_audit_is_paginated_and_filtered(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    target, other = make_member(guild, TARGET), make_member(guild, USER_B)
    for credits in range(1, 12):
        await invoke(
            AdminCog.quota_set, cog, FakeInteraction(manager, guild=guild), member=target, credits=credits
        )
    await invoke(AdminCog.block, cog, FakeInteraction(manager, guild=guild), member=other, reason="spam")

    reply = await invoke(AdminCog.audit, cog, FakeInteraction(manager, guild=guild))
    assert isinstance(reply.view, Pager)
    assert reply.embed is not None and reply.embed.footer.text == "Page 1 of 2 · 12 actions"
    text = reply.text()
    assert f"<@{MANAGER}> **block** <@{USER_B}>" in text
    assert "↳ reason: — → spam\n" in text  # bookkeeping fields (ids, times) are left out
    assert "↳ credits: 10 → 11" in text

    click = FakeInteraction(manager, guild=guild)
    await reply.view.next.callback(click)
    assert click.last.kind == "edit" and click.last.embed is not None
    assert click.last.embed.footer.text == "Page 2 of 2 · 12 actions"
    assert "↳ credits: 1 → 2" in click.last.text()
    assert "↳ credits: — → 1\n" in click.last.text()
    assert reply.view.next.disabled and not reply.view.previous.disabled

    reply = await invoke(AdminCog.audit, cog, FakeInteraction(manager, guild=guild), member=other)
    assert reply.embed is not None and reply.embed.footer.text == "Page 1 of 1 · 1 action"
    assert f"concerning <@{USER_B}>" in reply.text() and "quota.set" not in reply.text()


async def test_extension_loads_into_a_bot_and_builds_valid_command_payloads(storage: Storage) -> None:
    from discord.ext import commands

    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
    bot.moderation = moderation(storage)  # type: ignore[attr-defined]
    await bot.load_extension("cogs.admin")
    (group,) = [c for c in bot.tree.get_commands() if c.name == "videoadmin"]
    payload = group.to_dict(bot.tree)
    assert int(payload["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert payload["dm_permission"] is False and payload["contexts"] == [0]  # guild only
    subgroups = {o["name"]: o for o in payload["options"] if o["type"] == 2}
    assert sorted(subgroups) == ["channels", "filter", "forget", "pool", "quota"]
    assert sorted(o["name"] for o in subgroups["quota"]["options"]) == [
        "default",
        "reset",
        "role",
        "role-clear",
        "set",
        "show",
    ]
    reset = next(o for o in subgroups["quota"]["options"] if o["name"] == "reset")
    mode = next(o for o in reset["options"] if o["name"] == "mode")
    assert [c["value"] for c in mode["choices"]] == ["clear-override", "fresh-allowance"]
    assert mode["required"] is True


# -- the showcase ----------------------------------------------------------------------------------


async def test_showcase_takes_a_text_or_forum_channel_and_refuses_others(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    from bot.lifecycle.moderation import ShowcaseChannel
    from storage import Showcase

    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(
        AdminCog.showcase, cog, FakeInteraction(manager, guild=guild), channel=text_channel(guild)
    )
    assert f"none → **<#{CHANNEL_ID}> (text channel)**" in reply.text()
    assert await storage.showcase.get(GUILD_ID) == Showcase(CHANNEL_ID, False)
    from bot.lifecycle import Actor

    mod = await cog.service.authorize(Actor(MANAGER, GUILD_ID, manage_guild=True))
    forum = await cog.service.set_showcase(mod, ShowcaseChannel(OTHER_CHANNEL_ID, GUILD_ID, "forum"))
    assert forum.after == Showcase(OTHER_CHANNEL_ID, True)
    before = await snapshot(storage)
    with pytest.raises(Exception, match="text channel or a forum"):
        await cog.service.set_showcase(mod, ShowcaseChannel(VOICE_CHANNEL_ID, GUILD_ID, "other"))
    with pytest.raises(Exception, match="not in this server"):
        await cog.service.set_showcase(mod, ShowcaseChannel(CHANNEL_ID, OTHER_GUILD_ID, "text"))
    assert await snapshot(storage) == before
    assert [e.action for e in await storage.audit.list(GUILD_ID)] == ["showcase.set"] * 2


async def test_policy_threads_on_off_and_back_to_the_bots_default(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.policy, cog, FakeInteraction(manager, guild=guild), threads="on")
    assert "the bot's default (THREAD_PER_VIDEO) → **on**" in reply.text()
    assert (await storage.policy.get(GUILD_ID)).threads is True
    reply = await invoke(AdminCog.policy, cog, FakeInteraction(manager, guild=guild), threads="default")
    assert "on → **the bot's default (THREAD_PER_VIDEO)**" in reply.text()
    assert (await storage.policy.get(GUILD_ID)).threads is None
    shown = await invoke(AdminCog.policy, cog, FakeInteraction(manager, guild=guild))
    assert "Thread per video" in shown.text()
    assert [e.action for e in await storage.audit.list(GUILD_ID)] == ["policy.update"] * 2


async def test_stats_attaches_a_png_chart_shown_in_the_embed(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    from tests.bot.test_charts import png_size

    await seed_stats(storage)
    await storage.policy.update(GUILD_ID, actor_id=MANAGER, cap_tenths=100)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.stats, cog, FakeInteraction(manager, guild=guild), period="7d")
    assert reply.ephemeral and reply.embed is not None
    [chart] = reply.files
    assert chart.filename == "stats.png" and reply.embed.image.url == "attachment://stats.png"
    data = chart.fp.read()
    assert png_size(data) == (1200, 800) and 10_000 < len(data) < 1_000_000
    fields = {f.name: f.value for f in reply.embed.fields}
    assert (fields["Requested"], fields["Delivered"], fields["Credits spent"]) == ("9", "4", "4.8 ($1.33)")


async def test_the_chart_renders_off_the_event_loop_and_a_failed_one_costs_only_the_picture(
    storage: Storage, cog: AdminCog, guild: discord.Guild, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import cogs.stats_chart

    threads: list[threading.Thread] = []

    def broken(*_: Any) -> bytes:
        threads.append(threading.current_thread())
        raise RuntimeError("no fonts")

    monkeypatch.setattr(cogs.stats_chart, "render_stats_chart", broken)
    manager = make_member(guild, MANAGER, MANAGER_ROLE)
    reply = await invoke(AdminCog.stats, cog, FakeInteraction(manager, guild=guild), period="24h")
    assert threads and threads[0] is not threading.main_thread()
    assert reply.embed is not None and reply.files == [] and reply.embed.image.url is None
    assert {f.name: f.value for f in reply.embed.fields}["Requested"] == "0"
