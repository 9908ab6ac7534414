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
NO_GUILD = "This command works only inside a server."


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
            raise RequestRefused(
                "The video service account needs a moderator's attention, so new videos are paused. "
                "Nothing was charged; please try again later.",
                reason=RefusalReason.ACCOUNT_PAUSED,
            )
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
            raise RequestRefused(_refusal_text(exc, takes=req.takes), reason=_reason(exc)) from None
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
                raise RequestRefused(NO_GUILD, reason=RefusalReason.OUTSIDE_GUILD)
            return None
        guild_id = req.guild_id
        check_served(self._deps.settings, guild_id)
        policy = await self._deps.storage.policy.get(guild_id)
        if policy.paused:
            raise RequestRefused(
                _refusal_text(GuildPaused(policy.pause_reason)) + " Please try again later.",
                reason=RefusalReason.GUILD_PAUSED,
            )
        rule_channel = req.parent_channel_id or req.channel_id
        if not await self._deps.storage.policy.channel_allowed(guild_id, rule_channel):
            rules = await self._deps.storage.policy.channel_rules(guild_id)
            where = ", ".join(f"<#{c}>" for c in rules.allowed[:10])
            hint = f" Use {where}." if where else ""
            raise RequestRefused(f"Videos can't be made in this channel.{hint}", reason=RefusalReason.CHANNEL)
        block = await self._deps.storage.limits.blocked(guild_id, req.user_id)
        if block is not None:
            raise RequestRefused(_refusal_text(UserBlocked(block.reason)), reason=RefusalReason.BLOCKED)
        filters = await self._deps.storage.policy.filters(guild_id)
        if filters:
            compiled = compile_filter_cached(tuple((f.pattern, f.is_regex) for f in filters))
            if matches(compiled, req.spec.prompt) is not None:
                raise RequestRefused(
                    "Your prompt was refused by this server's prompt filter. Nothing was charged; "
                    "please rephrase it.",
                    reason=RefusalReason.PROMPT_FILTER,
                )
        return policy

    async def regenerate(self, task_id: int, actor: Actor, *, upload_limit: int | None = None) -> Task:
        """A new task with the same options, reserved against whoever asked (requester or moderator).

        ``upload_limit``: the clicking interaction's, when it is in the original's server; otherwise
        (a click in a DM) the original's stays, since the result goes where the original was made.
        """
        original = await task_or_refusal(self._deps, task_id)
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused("That task belongs to another server.")
        if original.user_id != actor.user_id and not await moderates_here(self._deps, actor):
            raise RequestRefused(
                "Only the member who asked for this video, or a moderator, can regenerate it."
            )
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
            raise RequestRefused(f"Video #{original.id} was not delivered, so there is nothing to {what}.")
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused("That video belongs to another server.")
        if original.deliver_by_dm and original.user_id != actor.user_id:
            raise RequestRefused(
                f"Video #{original.id} is private: only the member who asked for it can {what} it."
            )

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
            raise RequestRefused(f"Task #{task_id} is not one of yours.")
        if can_cancel_at_api(task):
            cancelled = await cancel_at_api(self._deps, self._cards, task)
            if cancelled.group_id is not None and self.take_over is not None:
                await self.take_over(cancelled)
            return cancelled
        if task.state is not TaskState.QUEUED:
            raise RequestRefused(_not_cancellable(task))
        try:
            task = await self._deps.storage.tasks.transition(
                task.id, TaskState.CANCELLED, now=self._deps.now(), error_code="cancelled"
            )
        except IllegalTransition:
            raise RequestRefused(_not_cancellable(await task_or_refusal(self._deps, task_id))) from None
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


def _not_cancellable(task: Task) -> str:
    if task.error_code == "cancelled":  # cancelled at the API (it ends failed, refunded)
        return f"Task #{task.id} is already cancelled; there is nothing to cancel."
    if task.state.final:
        return f"Task #{task.id} is already {task.state.value}; there is nothing to cancel."
    return (
        f"Task #{task.id} was already sent to the video service ({task.state.value}), so it can no longer "
        "be cancelled. Credits are only charged if the video is delivered."
    )


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


def _refusal_text(exc: ReservationRefused, *, takes: int = 1) -> str:
    """Member-facing words for a refused reservation: what happened and what they can do.

    ``takes``: the request's takes (``variations``), reserved together: every figure is their sum."""
    text = _refusal_words(exc)
    if takes > 1 and not isinstance(exc, (TooManyInFlight, UserBlocked, GuildPaused, PoolNotUsable)):
        text = text.replace("this video costs", f"these {takes} takes cost")
        text += f" (All {takes} takes are reserved together, or none: try fewer `variations`.)"
    return text


def _refusal_words(exc: ReservationRefused) -> str:
    if isinstance(exc, QuotaExceeded):
        left = max(0, exc.limit_tenths - exc.used_tenths)
        pools = ", ".join(f"`{name}`" for name in exc.pools[:10])
        also = f" Your pools here ({pools}) don't have enough left either." if pools else ""
        return (
            f"You don't have enough credits: this video costs {format_credits(exc.cost_tenths)}, you have "
            f"{format_credits(left)} of {format_credits(exc.limit_tenths)} left this {exc.period}.{also} "
            f"Your credits renew {_timestamp(exc.resets_at)}; a cheaper option (lower resolution or "
            "shorter video) may fit now. See `/video quota`."
        )
    if isinstance(exc, PoolNotUsable):
        return pool_refusal(exc.name, exc.role_id, exc.channel_id, exists=exc.exists)
    if isinstance(exc, PoolExhausted):
        left = max(0, exc.limit_tenths - exc.used_tenths)
        return (
            f"The pool `{exc.name}` doesn't have enough left: this video costs "
            f"{format_credits(exc.cost_tenths)}, the pool has {format_credits(left)} of "
            f"{format_credits(exc.limit_tenths)} left this {exc.period}. Nothing was charged. It renews "
            f"{_timestamp(exc.resets_at)}; leave `pool` out to use your own credits or your other pools."
        )
    if isinstance(exc, GuildCapReached):
        return (
            f"This server has used its video budget for this {exc.period} "
            f"({format_credits(exc.used_tenths)} of {credits_text(exc.cap_tenths)}). "
            f"It renews {_timestamp(exc.resets_at)}."
        )
    if isinstance(exc, SpendLimitReached):
        return (
            f"The bot has used its overall video budget for this {exc.period} (set by its operator for "
            f"every server together). Nothing was charged. It renews {_timestamp(exc.resets_at)}."
        )
    if isinstance(exc, TooManyInFlight) and exc.asked > 1:
        return (
            f"You have {exc.in_flight} videos in progress and asked for {exc.asked} takes: that would "
            f"pass the most one member may have at once ({exc.limit}). Ask for fewer `variations`, wait "
            "for one to finish, or free a place with `/video cancel`. Nothing was charged."
        )
    if isinstance(exc, TooManyInFlight):
        return (
            f"You already have {exc.in_flight} videos in progress, the most one member may have at "
            f"once ({exc.limit}). Wait for one to finish, or free a place with `/video cancel`. "
            "Nothing was charged."
        )
    if isinstance(exc, UserBlocked):
        reason = f" Reason: {exc.reason}" if exc.reason else ""
        return (
            f"You are blocked from making videos in this server.{reason} "
            "Ask a moderator if this is a mistake."
        )
    if isinstance(exc, GuildPaused):
        reason = f" Reason: {exc.reason}." if exc.reason else ""
        return f"Video generation is paused in this server by the moderators.{reason}"
    return str(exc)
