"""Queries: what members and moderators look up about videos, with who may see what decided once.

Read-only but for one repair: a card the channel refused the first time can be posted again
(:meth:`Queries.post_missing_card`) once an interaction gives the bot a way back into the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.catalog import NO_POLICY, OptionPolicy, PriceRow, option_policy, price_table
from bot.lifecycle.actor import Actor, is_moderator
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.delivery import Delivery, DownloadLink
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.intake import post_card
from bot.lifecycle.notifier import StatusCard
from bot.lifecycle.pools import MemberPools, Whereabouts
from bot.lifecycle.served import check_served
from bot.lifecycle.validation import RequestRefused
from storage.errors import UnknownTask
from storage.models import GuildPolicy, GuildUsage, PoolUsage, Task, Usage, UserPrefs
from storage.states import TaskState


@dataclass(frozen=True)
class QuotaView:
    usage: Usage
    guild: GuildUsage | None
    prices: list[PriceRow]
    pools: tuple[PoolUsage, ...] = ()  # the team pools the member may use here, by name
    default_pool: str | None = None  # their default pool here, if they may still use it


async def task_or_refusal(deps: LifecycleDeps, task_id: int) -> Task:
    """The task, if it exists and belongs to a server the bot serves (or to no server)."""
    try:
        task = await deps.storage.tasks.get(task_id)
    except UnknownTask:
        raise RequestRefused.keyed("refusal.no_task", task_id=task_id) from None
    check_served(deps.settings, task.guild_id)
    return task


async def moderates_here(deps: LifecycleDeps, actor: Actor) -> bool:
    """The one moderator rule (:func:`bot.lifecycle.actor.is_moderator`) with the guild's role."""
    if actor.guild_id is None:
        return False
    return is_moderator(actor, (await deps.storage.policy.get(actor.guild_id)).moderator_role_id)


def server_options(policy: GuildPolicy | None) -> OptionPolicy:
    """What a server allows of the catalog (a direct message: everything)."""
    if policy is None:
        return NO_POLICY
    return option_policy(policy.allowed_models, policy.max_resolution, policy.max_duration)


class Queries:
    def __init__(self, deps: LifecycleDeps, cards: StatusCards, delivery: Delivery) -> None:
        self._deps = deps
        self._cards = cards
        self._delivery = delivery

    async def task_for(self, task_id: int, actor: Actor) -> Task:
        """A task the actor may look at: their own (here, or from a DM, where results may be sent),
        or any in their guild for a moderator."""
        task = await task_or_refusal(self._deps, task_id)
        if task.user_id == actor.user_id and actor.guild_id in (None, task.guild_id):
            return task
        if task.guild_id != actor.guild_id or not await moderates_here(self._deps, actor):
            raise RequestRefused.keyed("refusal.not_yours", task_id=task_id)
        return task

    async def post_missing_card(self, task_id: int) -> Task:
        """Try again to post the card of a task that has none (the channel refused the first one).

        The cogs call it once a fallback exists (an interaction follow-up); a task that has a card,
        or is over, is left alone. Never raises for a Discord failure, like the first try.
        """
        task = await task_or_refusal(self._deps, task_id)
        if task.status_message_id is not None or task.state.final:
            return task
        return await post_card(self._deps, self._cards, task)

    async def fresh_link(self, task: Task) -> DownloadLink:
        """A new link for a video that was delivered as a link which has since expired.

        ``task`` comes from :meth:`task_for` (the caller checked who asks). Raises RequestRefused,
        in plain words, when there is nothing to renew or the video service will not give a link.
        """
        if task.state is not TaskState.DELIVERED:
            raise RequestRefused.keyed("refusal.link.not_delivered", task_id=task.id)
        link = await self._delivery.fresh_link(task)
        if link is None:
            raise RequestRefused.keyed("refusal.link.gone", task_id=task.id)
        return link

    async def status_card(self, task: Task) -> StatusCard:
        return await self._cards.card(task, note=task.error_message if task.state.final else None)

    async def recent_tasks(
        self, guild_id: int | None, user_id: int, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[Task], int]:
        tasks = await self._deps.storage.tasks.recent_for_user(guild_id, user_id, limit=limit, offset=offset)
        total = await self._deps.storage.tasks.count_for_user(guild_id, user_id)
        return tasks, total

    async def quota(
        self,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        *,
        channel_id: int | None = None,
        parent_channel_id: int | None = None,
    ) -> QuotaView:
        allowance, period = self._deps.settings.personal_allowance(guild_id)
        usage = await self._deps.storage.quota.usage(
            guild_id,
            user_id,
            role_ids=role_ids,
            now=self._deps.now(),
            default_limit_tenths=allowance,
            default_period=period,
        )
        guild = None
        policy = None
        if guild_id is not None:
            guild = await self._deps.storage.quota.guild_usage(
                guild_id,
                now=self._deps.now(),
                default_period=self._deps.settings.default_quota_period,
                max_guild_cap_tenths=self._deps.settings.max_guild_cap_credits_tenths,
            )
            policy = await self._deps.storage.policy.get(guild_id)
        where = Whereabouts(guild_id, user_id, tuple(role_ids), channel_id, parent_channel_id)
        member_pools = MemberPools(self._deps)
        pools = tuple(await member_pools.usable(where))
        default = await member_pools.default(where)
        usable_default = default is not None and any(p.pool == default for p in pools)
        return QuotaView(
            usage=usage,
            guild=guild,
            prices=price_table(server_options(policy)),
            pools=pools,
            default_pool=default.name if default is not None and usable_default else None,
        )

    def queue_position(self, task_id: int) -> int | None:
        return self._deps.queue.positions().get(task_id)

    async def preferences(self, user_id: int) -> UserPrefs:
        return await self._deps.storage.prefs.get(user_id)
