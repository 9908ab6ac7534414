"""Admission: a request becomes a reserved, queued task, or a refusal that says what to change.

The server's rules come first (pause, channel, block, prompt filter), then the model rules
(:mod:`bot.lifecycle.validation` over the catalog), then the reservation, which checks every credit
limit in the same transaction as it records the task. Nothing is reserved for a refused request, and a
reserved task always hears "on its way" (its card may still fail to post). Regenerate and cancel are
admission's too: a regenerate is a new request from a stored spec, a cancel gives the reservation back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final

from bot.catalog import credits_text, format_credits
from bot.i18n import Message, credits, msg
from bot.lifecycle.actor import Actor
from bot.lifecycle.api_cancel import can_cancel_at_api, cancel_at_api, cancelled_note
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.intake import enqueue, post_card
from bot.lifecycle.pools import Whereabouts, fold_name, pool_refusal
from bot.lifecycle.prompt_filter import compile_filter_cached, matches
from bot.lifecycle.queries import moderates_here, server_options, task_or_refusal
from bot.lifecycle.refusal import RefusalReason
from bot.lifecycle.served import check_served
from bot.lifecycle.spending import spend_ceiling
from bot.lifecycle.validation import Plan, RequestRefused, VideoRequest, check_defaults, plan_request
from bot.spec import NO_DEFAULTS, SAVED_OPTIONS
from storage.errors import (
    GuildCapReached,
    GuildPaused,
    IllegalTransition,
    PoolExhausted,
    PoolNotUsable,
    QuotaExceeded,
    ReservationRefused,
    SpendLimitReached,
    TooManyInFlight,
    UserBlocked,
)
from storage.models import Edit, GuildPolicy, NewTask, Task, UserPrefs
from storage.quota import MAX_TAKES
from storage.states import TaskState

log = logging.getLogger(__name__)


# A request with no guild while USER_INSTALL is off (also the command gate's words, cogs.scope).


class Keep(enum.Enum):
    KEEP = enum.auto()


KEEP: Final = Keep.KEEP


def _timestamp(seconds: float) -> str:
    return f"<t:{int(seconds)}:R>"


class Admission:
    def __init__(self, deps: LifecycleDeps, cards: StatusCards) -> None:
        self._deps = deps
        self._cards = cards
        # A cancelled take of a group: the group's reply may be due (set by the service).
        self.take_over: Callable[[Task], Awaitable[None]] | None = None

    async def plan(self, req: VideoRequest) -> Plan:
        """What ``req`` would make and cost, under the guild's rules and the member's defaults;
        nothing reserved (the prompt preview reads it). Raises RequestRefused."""
        policy = await self._check_guild_rules(req)
        prefs = await self._deps.storage.prefs.get(req.user_id)
        return plan_request(req.spec, defaults=prefs.defaults, policy=server_options(policy))

    async def request(self, req: VideoRequest) -> Task:
        """Validate, price and reserve; queue the task and post its card. Raises RequestRefused."""
        try:
            return await self._request(req)
        except RequestRefused as exc:
            self._deps.metrics.refused(exc.reason)
            raise

    async def _request(self, req: VideoRequest) -> Task:
        policy = await self._check_guild_rules(req)
        prefs = await self._deps.storage.prefs.get(req.user_id)
        plan = plan_request(req.spec, defaults=prefs.defaults, policy=server_options(policy))
        if self._deps.account.paused:
            raise RequestRefused.keyed("refusal.account_paused", reason=RefusalReason.ACCOUNT_PAUSED)
        _check_takes(req.takes)
        new = NewTask(
            guild_id=req.guild_id,
            channel_id=req.channel_id,
            user_id=req.user_id,
            spec=plan.spec,
            cost_tenths=plan.cost_tenths,
            deliver_by_dm=req.private
            or prefs.dm_results
            or (policy is not None and not policy.results_public),
            regenerated_from=req.regenerated_from,
            upload_limit=req.upload_limit,
            edit=req.edit,
            locale=req.locale,
        )
        # No guild (a DM, a personal install with USER_INSTALL=on): the personal allowance, and no
        # guild policy, pool or cap; the bot-wide ceiling applies either way.
        allowance, period = self._deps.settings.personal_allowance(req.guild_id)
        try:
            takes = await self._deps.storage.quota.reserve_group(
                new,
                takes=req.takes,
                role_ids=req.role_ids,
                now=self._deps.now(),
                default_limit_tenths=allowance,
                default_period=period,
                spend_ceiling=spend_ceiling(self._deps.settings),
                max_in_flight=self._deps.settings.max_queued_per_member,
                max_guild_cap_tenths=self._deps.settings.max_guild_cap_credits_tenths,
                channel_ids=_where(req).access.channel_ids,
                pool=None if req.pool is None else fold_name(req.pool),
            )
        except ReservationRefused as exc:
            raise RequestRefused.of(_refusal_text(exc, takes=req.takes), reason=_reason(exc)) from None
        task = takes[0]
        log.info(
            "Task %s reserved%s: user %s, guild %s, %s %s %ss, %s%s",
            task.id,
            ""
            if len(takes) == 1
            else f" with its {len(takes)} takes ({', '.join(str(t.id) for t in takes)})",
            task.user_id,
            task.guild_id,
            task.model,
            task.spec.resolution,
            task.spec.duration,
            credits_text(task.cost_tenths),
            "" if task.pool_id is None else f" from pool {task.pool_id}",
        )
        # Reserved: from here on the member must hear "on its way", whatever goes wrong with the card.
        for take in takes:
            enqueue(self._deps, take)
        task = await post_card(self._deps, self._cards, task, policy=policy)  # a group's one card
        self._cards.request_queue_refresh()  # a newcomer's fair turn may come before others' tasks
        return task

    async def _check_guild_rules(self, req: VideoRequest) -> GuildPolicy | None:
        """Pause, channel, block and the prompt filter: the guild's rules before any model rule.

        No guild (a DM, a personal install) is allowed only with ``USER_INSTALL=on``: checked here
        too, not only at the command gate, so no other path (a button, a modal) makes such a task
        once the operator switched it off.
        """
        if req.guild_id is None:
            if not self._deps.settings.user_install:
                raise RequestRefused.keyed("error.outside_guild", reason=RefusalReason.OUTSIDE_GUILD)
            return None
        guild_id = req.guild_id
        check_served(self._deps.settings, guild_id)
        policy = await self._deps.storage.policy.get(guild_id)
        if policy.paused:
            raise RequestRefused.keyed(
                "refusal.try_later",
                refusal=_refusal_text(GuildPaused(policy.pause_reason)),
                reason=RefusalReason.GUILD_PAUSED,
            )
        rule_channel = req.parent_channel_id or req.channel_id
        if not await self._deps.storage.policy.channel_allowed(guild_id, rule_channel):
            rules = await self._deps.storage.policy.channel_rules(guild_id)
            where = ", ".join(f"<#{c}>" for c in rules.allowed[:10])
            hint = msg("refusal.channel.use", where=where) if where else ""
            raise RequestRefused.keyed("refusal.channel", hint=hint, reason=RefusalReason.CHANNEL)
        block = await self._deps.storage.limits.blocked(guild_id, req.user_id)
        if block is not None:
            raise RequestRefused.of(_refusal_text(UserBlocked(block.reason)), reason=RefusalReason.BLOCKED)
        filters = await self._deps.storage.policy.filters(guild_id)
        if filters:
            compiled = compile_filter_cached(tuple((f.pattern, f.is_regex) for f in filters))
            if matches(compiled, req.spec.prompt) is not None:
                raise RequestRefused.keyed("refusal.prompt_filter", reason=RefusalReason.PROMPT_FILTER)
        return policy

    async def regenerate(self, task_id: int, actor: Actor, *, upload_limit: int | None = None) -> Task:
        """A new task with the same options, reserved against whoever asked (requester or moderator).

        ``upload_limit``: the clicking interaction's, when it is in the original's server; otherwise
        (a click in a DM) the original's stays, since the result goes where the original was made.
        """
        original = await task_or_refusal(self._deps, task_id)
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused.keyed("refusal.other_server_task")
        if original.user_id != actor.user_id and not await moderates_here(self._deps, actor):
            raise RequestRefused.keyed("refusal.regenerate_not_yours")
        # From a DM (a result sent there) the new task belongs where the original was made: that
        # server's rules, channel and limits apply; ``actor.role_ids`` are whatever the caller could
        # find out about the member there (none: the default limits).
        request = VideoRequest(
            guild_id=original.guild_id,
            channel_id=original.channel_id,
            user_id=actor.user_id,
            spec=original.spec.as_stored(),
            role_ids=actor.role_ids,
            regenerated_from=original.id,
            parent_channel_id=await self._channel_parent(original.channel_id),
            private=original.deliver_by_dm,
            upload_limit=upload_limit if upload_limit is not None else original.upload_limit,
            locale=actor.locale,
        )
        return await self.request(request)

    async def remix(
        self, task_id: int, actor: Actor, prompt: str, *, upload_limit: int | None = None
    ) -> Task:
        """The video again with an edited prompt (same model, options and images), reserved against
        whoever clicked: anyone in the server on a public result, only its owner on a private one."""
        original = await task_or_refusal(self._deps, task_id)
        await self._may_edit(original, actor, "remix")
        request = VideoRequest(
            guild_id=original.guild_id,
            channel_id=original.channel_id,
            user_id=actor.user_id,
            spec=replace(original.spec.as_stored(), prompt=prompt),
            role_ids=actor.role_ids,
            parent_channel_id=await self._channel_parent(original.channel_id),
            private=original.deliver_by_dm,
            upload_limit=upload_limit if upload_limit is not None else original.upload_limit,
            edit=Edit(original.id, "remix", original.user_id, original.result_message_id),
            locale=actor.locale,
        )
        return await self.request(request)

    async def edit_source(self, task_id: int, actor: Actor, what: str) -> Task:
        """The result ``actor`` wants to ``what`` (remix, …), if they may: what its modal prefills."""
        original = await task_or_refusal(self._deps, task_id)
        await self._may_edit(original, actor, what)
        return original

    async def _may_edit(self, original: Task, actor: Actor, what: str) -> None:
        """The rule for Remix (and Extend, Loop): a delivered result of this server; a private one
        only by its owner (the clicker pays either way)."""
        if original.state is not TaskState.DELIVERED:
            raise RequestRefused.keyed(
                "refusal.edit_not_delivered", task_id=original.id, what=msg(f"verb.{what}")
            )
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused.keyed("refusal.other_server_video")
        if original.deliver_by_dm and original.user_id != actor.user_id:
            raise RequestRefused.keyed("refusal.edit_private", task_id=original.id, what=msg(f"verb.{what}"))

    async def _channel_parent(self, channel_id: int) -> int | None:
        try:
            return await self._deps.notifier.channel_parent(channel_id)
        except Exception:
            log.exception("Could not look up the parent of channel %s", channel_id)
            return None

    async def cancel(self, task_id: int, actor: Actor) -> Task:
        """Cancel a task that was not sent yet, or a sent one the API can still cancel
        (:mod:`bot.lifecycle.api_cancel`); the storage refunds in the same transaction."""
        task = await task_or_refusal(self._deps, task_id)
        if task.guild_id != actor.guild_id or (
            task.user_id != actor.user_id and not await moderates_here(self._deps, actor)
        ):
            raise RequestRefused.keyed("refusal.not_yours", task_id=task_id)
        if can_cancel_at_api(task):
            cancelled = await cancel_at_api(self._deps, self._cards, task)
            if cancelled.group_id is not None and self.take_over is not None:
                await self.take_over(cancelled)
            return cancelled
        if task.state is not TaskState.QUEUED:
            raise RequestRefused.of(_not_cancellable(task))
        try:
            task = await self._deps.storage.tasks.transition(
                task.id, TaskState.CANCELLED, now=self._deps.now(), error_code="cancelled"
            )
        except IllegalTransition:
            raise RequestRefused.of(_not_cancellable(await task_or_refusal(self._deps, task_id))) from None
        self._deps.queue.remove(task.id)
        log.info("Task %s cancelled by %s", task.id, actor.user_id)
        await self._cards.refresh(task, note=cancelled_note(task))
        self._cards.request_queue_refresh()
        if task.group_id is not None and self.take_over is not None:
            await self.take_over(task)
        return task

    async def update_preferences(
        self, user_id: int, *, dm_results: bool | Keep = KEEP, **options: object
    ) -> UserPrefs:
        """Change the named defaults (options of :data:`~bot.spec.SAVED_OPTIONS`); ``None`` means "let
        the bot choose", ``KEEP`` (or leaving one out) keeps it. Raises RequestRefused."""
        changes: dict[str, Any] = {name: value for name, value in options.items() if value is not KEEP}
        unknown = sorted(set(changes) - set(SAVED_OPTIONS))
        if unknown:
            raise TypeError(f"not options a member can save: {', '.join(unknown)}")
        check_defaults(replace(NO_DEFAULTS, **changes))
        current = await self._deps.storage.prefs.get(user_id)
        updated = UserPrefs(
            defaults=replace(current.defaults, **changes),
            dm_results=current.dm_results if isinstance(dm_results, Keep) else dm_results,
        )
        return await self._deps.storage.prefs.set(user_id, updated)


def _check_takes(takes: int) -> None:
    """``variations``: 1 to :data:`~storage.quota.MAX_TAKES` takes (the command's range says so
    too; this is the rule for any caller)."""
    if isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= MAX_TAKES:
        raise RequestRefused(
            f"`variations` must be a whole number from 1 to {MAX_TAKES} (got {takes!r}). "
            "Nothing was charged.",
            reason=RefusalReason.INVALID,
        )


def _where(req: VideoRequest) -> Whereabouts:
    return Whereabouts(req.guild_id, req.user_id, req.role_ids, req.channel_id, req.parent_channel_id)


def _not_cancellable(task: Task) -> Message:
    if task.error_code == "cancelled":  # cancelled at the API (it ends failed, refunded)
        return msg("refusal.cancel.already_cancelled", task_id=task.id)
    state = msg(f"state.{task.state.value}")
    if task.state.final:
        return msg("refusal.cancel.final", task_id=task.id, state=state)
    return msg("refusal.cancel.sent", task_id=task.id, state=state)


def _reason(exc: ReservationRefused) -> RefusalReason:
    """The refusals metric's label for a refused reservation."""
    for kind, reason in _RESERVATION_REASONS:
        if isinstance(exc, kind):
            return reason
    return RefusalReason.INVALID


_RESERVATION_REASONS: tuple[tuple[type[ReservationRefused], RefusalReason], ...] = (
    (QuotaExceeded, RefusalReason.QUOTA),
    (PoolNotUsable, RefusalReason.POOL),
    (PoolExhausted, RefusalReason.POOL),
    (GuildCapReached, RefusalReason.GUILD_CAP),
    (SpendLimitReached, RefusalReason.SPEND_LIMIT),
    (TooManyInFlight, RefusalReason.IN_FLIGHT),
    (UserBlocked, RefusalReason.BLOCKED),
    (GuildPaused, RefusalReason.GUILD_PAUSED),
)


def _refusal_text(exc: ReservationRefused, *, takes: int = 1) -> Message:
    """Member-facing words for a refused reservation: what happened and what they can do.

    ``takes``: the request's takes (``variations``), reserved together: every figure is their sum."""
    words = _refusal_words(exc, takes)
    if takes > 1 and not isinstance(exc, (TooManyInFlight, UserBlocked, GuildPaused, PoolNotUsable)):
        return msg("refusal.with_takes", text=words, together=msg("refusal.takes.together", takes=takes))
    return words


def _costs(cost_tenths: int, takes: int) -> Message:
    """ "this video costs 2" / "these 3 takes cost 6": what the refused request would cost."""
    if takes > 1:
        return msg("refusal.costs.takes", takes=takes, cost=format_credits(cost_tenths))
    return msg("refusal.costs.one", cost=format_credits(cost_tenths))


def _refusal_words(exc: ReservationRefused, takes: int) -> Message:
    if isinstance(exc, QuotaExceeded):
        left = max(0, exc.limit_tenths - exc.used_tenths)
        pools = ", ".join(f"`{name}`" for name in exc.pools[:10])
        return msg(
            "refusal.quota",
            costs=_costs(exc.cost_tenths, takes),
            left=format_credits(left),
            limit=format_credits(exc.limit_tenths),
            this_period=_this(exc.period),
            also=msg("refusal.quota.pools", pools=pools) if pools else "",
            renews=_timestamp(exc.resets_at),
        )
    if isinstance(exc, PoolNotUsable):
        return pool_refusal(exc.name, exc.role_id, exc.channel_id, exists=exc.exists)
    if isinstance(exc, PoolExhausted):
        left = max(0, exc.limit_tenths - exc.used_tenths)
        return msg(
            "refusal.pool.exhausted",
            name=exc.name,
            costs=_costs(exc.cost_tenths, takes),
            left=format_credits(left),
            limit=format_credits(exc.limit_tenths),
            this_period=_this(exc.period),
            renews=_timestamp(exc.resets_at),
        )
    if isinstance(exc, GuildCapReached):
        return msg(
            "refusal.guild_cap",
            this_period=_this(exc.period),
            used=format_credits(exc.used_tenths),
            cap=credits(exc.cap_tenths),
            renews=_timestamp(exc.resets_at),
        )
    if isinstance(exc, SpendLimitReached):
        return msg("refusal.spend_limit", this_period=_this(exc.period), renews=_timestamp(exc.resets_at))
    if isinstance(exc, TooManyInFlight) and exc.asked > 1:
        return msg("refusal.in_flight.takes", in_flight=exc.in_flight, takes=exc.asked, limit=exc.limit)
    if isinstance(exc, TooManyInFlight):
        return msg("refusal.in_flight", in_flight=exc.in_flight, limit=exc.limit)
    if isinstance(exc, UserBlocked):
        reason = msg("refusal.blocked.reason", reason=exc.reason) if exc.reason else ""
        return msg("refusal.blocked", reason=reason)
    if isinstance(exc, GuildPaused):
        reason = msg("refusal.guild_paused.reason", reason=exc.reason) if exc.reason else ""
        return msg("refusal.guild_paused", reason=reason)
    return Message("refusal.plain", {"text": str(exc)})


def _this(period: str) -> Message:
    """ "this day" / "this week" / "this month", in the reader's language."""
    return msg(f"period.this.{period}")
