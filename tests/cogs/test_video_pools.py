"""Team pools as a member and a moderator meet them: the real callbacks, the kit's interactions.

`/videoadmin pool …` makes one; `/video generate pool:` (autocompleted with the member's pools)
spends from it, the card names it, `/video quota` shows what is left, `/video settings pool:` sets a
default. A pool the member may not use is refused privately, with nothing reserved.
"""

from __future__ import annotations

from typing import Any

from cogs import embeds
from cogs.admin import AdminCog
from tests.cogs.admin_fakes import VIP_ROLE, FakeInteraction, invoke, moderation, role
from tests.cogs.admin_fakes import make_guild as admin_guild
from tests.cogs.admin_fakes import make_member as admin_member
from tests.cogs.test_video import Env, env  # noqa: F401  # the /video fixture
from tests.fakes.lifecycle_harness import GUILD, USER

TEAM_ROLE = VIP_ROLE  # a real role of the admin fakes' guild
MANAGER = 11


async def make_pool(env: Env, name: str = "team", credits: float = 3) -> None:  # noqa: F811
    cog = AdminCog(moderation(env.harness.storage))
    guild = admin_guild(GUILD)
    manager = admin_member(guild, MANAGER, 300)  # the fakes' Manage Server role
    reply = await invoke(
        AdminCog.pool_create,
        cog,
        FakeInteraction(manager, guild=guild),
        name=name,
        credits=credits,
        period="week",
        role=role(guild, TEAM_ROLE),
    )
    assert reply.embed is not None, reply.text()


def member(env: Env, *roles: int) -> Any:  # noqa: F811
    return env.interaction(roles=list(roles))


async def test_a_named_pool_pays_and_the_card_names_it(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    interaction = await env.generate(member(env, TEAM_ROLE), pool="Team")
    assert "#" in interaction.last.content and interaction.last.ephemeral
    (task,) = await env.harness.storage.tasks.list_for_guild(GUILD)
    assert task.pool_name == "team"
    card = await env.harness.service.status_card(task)  # type: ignore[union-attr]
    cost = {f.name: f.value for f in embeds.status_embed(card).fields}["Cost"]
    assert cost == "1 credit · pool `team`"


async def test_a_pool_the_member_may_not_use_is_refused_privately(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    refused = await env.generate(member(env), pool="team")
    assert refused.last.ephemeral
    assert f"is for members with <@&{TEAM_ROLE}>" in refused.last.content
    assert "Nothing was charged" in refused.last.content
    unknown = await env.generate(member(env, TEAM_ROLE), pool="ghost")
    assert "no pool called `ghost`" in unknown.last.content
    assert await env.task_count() == 0


async def test_the_pool_option_suggests_only_the_members_pools(env: Env) -> None:  # noqa: F811
    await make_pool(env, "team")
    choices = await env.cog._generate_pool(member(env, TEAM_ROLE), "")
    assert [(c.name, c.value) for c in choices] == [("team · 3 of 3 left this week", "team")]
    assert await env.cog._generate_pool(member(env), "") == []
    assert await env.cog._generate_pool(member(env, TEAM_ROLE), "zz") == []


async def test_quota_lists_the_pools_and_what_is_left(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    await env.generate(member(env, TEAM_ROLE), pool="team")
    interaction = member(env, TEAM_ROLE)
    await env.cog.quota.callback(env.cog, interaction)  # type: ignore[arg-type]
    embed = interaction.last.embed
    assert embed is not None and len(embed.fields) <= 25 and len(embed) <= 6000
    fields = {f.name: f.value or "" for f in embed.fields}
    assert "`team`: 2 of 3 left this week (renews <t:" in fields["Team pools you may use here"]
    assert "your default pool, then your own credits" in fields["Team pools you may use here"]
    plain = member(env)
    await env.cog.quota.callback(env.cog, plain)  # type: ignore[arg-type]
    assert plain.last.embed is not None
    assert "Team pools you may use here" not in {f.name for f in plain.last.embed.fields}


async def test_settings_sets_and_clears_a_default_pool(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    settings = env.cog.settings.callback
    refused = member(env)
    await settings(env.cog, refused, pool="team")  # type: ignore[arg-type]
    assert "can't spend from a pool called `team`" in refused.last.content
    assert "default pool was not changed" in refused.last.content
    chosen = member(env, TEAM_ROLE)
    await settings(env.cog, chosen, pool="team")  # type: ignore[arg-type]
    assert chosen.last.embed is not None
    shown = {f.name: f.value for f in chosen.last.embed.fields}
    assert shown["Default pool (this server)"] == "`team`"
    task = await env.harness.service.request(  # type: ignore[union-attr]
        env.harness.request(role_ids=(TEAM_ROLE,))
    )
    assert task.pool_name == "team"  # the default pool pays before the member's own credits
    suggestions = await env.cog._settings_pool(member(env, TEAM_ROLE), "")
    assert [c.value for c in suggestions] == ["auto", "team"]
    cleared = member(env, TEAM_ROLE)
    await settings(env.cog, cleared, pool="auto")  # type: ignore[arg-type]
    assert cleared.last.embed is not None
    shown = {f.name: f.value for f in cleared.last.embed.fields}
    assert shown["Default pool (this server)"] == "none (your own credits first)"
    assert await env.harness.storage.pools.default(GUILD, USER) is None


async def test_the_admin_commands_show_list_set_and_delete(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    cog = AdminCog(moderation(env.harness.storage))
    guild = admin_guild(GUILD)
    manager = admin_member(guild, MANAGER, 300)
    shown = await invoke(AdminCog.pool_show, cog, FakeInteraction(manager, guild=guild), name="team")
    assert "3 of 3 left this week" in shown.text() and f"<@&{TEAM_ROLE}>" in shown.text()
    changed = await invoke(
        AdminCog.pool_set, cog, FakeInteraction(manager, guild=guild), name="team", credits=5, period="day"
    )
    assert "3 credits per week" in changed.text() and "**`team`: 5 credits per day" in changed.text()
    bad = await invoke(
        AdminCog.pool_set, cog, FakeInteraction(manager, guild=guild), name="team", period="year"
    )
    assert bad.content is not None and "day, week or month" in bad.content
    listed = await invoke(AdminCog.pool_list, cog, FakeInteraction(manager, guild=guild))
    assert "5 of 5 left this day" in listed.text()
    gone = await invoke(AdminCog.pool_delete, cog, FakeInteraction(manager, guild=guild), name="team")
    assert "deleted" in gone.text()
    empty = await invoke(AdminCog.pool_list, cog, FakeInteraction(manager, guild=guild))
    assert "No pools yet" in empty.text()
    plain = admin_member(guild, 12)
    refused = await invoke(AdminCog.pool_list, cog, FakeInteraction(plain, guild=guild))
    assert refused.content is not None and "Manage Server" in refused.content
    periods = await cog._periods(FakeInteraction(manager, guild=guild), "w")
    assert [c.value for c in periods] == ["week"]


async def test_pools_and_prices_in_quota_speak_the_members_language(env: Env) -> None:  # noqa: F811
    await make_pool(env)
    await env.generate(member(env, TEAM_ROLE), pool="team")
    await env.cog.settings.callback(env.cog, member(env, TEAM_ROLE), pool="team")  # type: ignore[arg-type]
    japanese = env.interaction(roles=[TEAM_ROLE], locale="ja", guild_locale="fr")
    await env.cog.quota.callback(env.cog, japanese)  # type: ignore[arg-type]
    embed = japanese.last.embed
    assert embed is not None
    fields = {f.name: f.value or "" for f in embed.fields}
    pools = fields["ここで使えるチームプール"]
    assert pools.startswith("`team` · 既定: 今週の残り 2 / 3(<t:") and "に回復)" in pools
    order = "既定のプール、次に自分のクレジット、次にほかのプール(名前順)"
    assert pools.endswith(f"指定しない場合は {order} の順に支払われます。")
    prices = fields["料金 · MiniMax-Hailuo-02"]
    assert "テキストから動画" in prices and "768P 6 s — **" in prices
    choices = await env.cog._generate_pool(env.interaction(roles=[TEAM_ROLE], locale="de"), "")
    assert [c.name for c in choices] == ["team · diese Woche noch 2 von 3 übrig"]
    english = member(env, TEAM_ROLE)
    await env.cog.quota.callback(env.cog, english)  # type: ignore[arg-type]
    assert english.last.embed is not None
    shown = {f.name: f.value or "" for f in english.last.embed.fields}
    team = shown["Team pools you may use here"]
    assert team.startswith("`team` · your default: 2 of 3 left this week (renews <t:")
    assert "text-to-video" in shown["Cost · MiniMax-Hailuo-02"]
