"""VideoService: the one object the cogs talk to about videos.

It validates and prices a request, reserves credits and records the task in one transaction, puts
the task in the fair queue and posts its status card; in the background it submits, polls, delivers
and, at start-up, resumes every unfinished task from the state it was left in. Nothing here imports
Discord: the cogs hand in plain requests, a :class:`Notifier` carries messages out.
"""

from __future__ import annotations

import enum
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import aiohttp

from bot.catalog import (
    NO_POLICY,
    OptionPolicy,
    PriceRow,
    format_credits,
    option_policy,
    price_table,
)
from bot.config import Settings
from bot.lifecycle.account import AccountGate
from bot.lifecycle.actor import Actor, is_moderator
from bot.lifecycle.budget import QueryBudget
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.delivery import Delivery, DownloadLink
from bot.lifecycle.deps import Expectations, LifecycleDeps, VideoAPI
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.notifier import Notifier, StatusCard
from bot.lifecycle.prompt_filter import compile_filter_cached, matches
from bot.lifecycle.queue import FairQueue, QueueEntry
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.submitter import UNKNOWN_MESSAGE, Submitter
from bot.lifecycle.timing import PollTiming
from bot.lifecycle.tracker import Tracker
from bot.lifecycle.validation import RequestRefused, VideoRequest, check_defaults, plan_request
from bot.minimax.types import TaskInfo
from bot.spec import NO_DEFAULTS, SAVED_OPTIONS
from storage import Storage
from storage.errors import (
    GuildCapReached,
    GuildPaused,
    IllegalTransition,
    QuotaExceeded,
    ReservationRefused,
    StorageError,
    UnknownTask,
    UserBlocked,
)
from storage.models import GuildPolicy, GuildUsage, NewTask, Task, Usage, UserPrefs
from storage.states import TaskState

log = logging.getLogger(__name__)


CARD_REPAIR_WINDOW = 24 * 3600.0
CARD_REPAIR_LIMIT = 50
# A failure notice still owed after this long is given up (the member could never be reached).
NOTICE_REPAIR_WINDOW = 7 * 24 * 3600.0
# A failure notice repaired after a crash, for a failed task that kept no message of its own.
LOST_FAILURE_MESSAGE = "Your video could not be made. Your credits were refunded; please try again."


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP: Final = _Keep.KEEP


@dataclass(frozen=True)
class QuotaView:
    usage: Usage
    guild: GuildUsage | None
    prices: list[PriceRow]


def _timestamp(seconds: float) -> str:
    return f"<t:{int(seconds)}:R>"


class VideoService:
    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        client: VideoAPI,
        notifier: Notifier,
        clock: Callable[[], float] = time.time,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.notifier = notifier
        self._clock = clock
        queue = FairQueue()
        self.deps = LifecycleDeps(
            settings=settings,
            storage=storage,
            client=client,
            notifier=notifier,
            queue=queue,
            budget=QueryBudget(settings.poll_query_budget_per_minute),
            updater=StatusUpdater(
                notifier, interval=settings.status_edit_interval, on_moved=self._card_moved
            ),
            account=AccountGate(cooldown=settings.account_pause, store=storage.state, clock=clock),
            expectations=Expectations(storage),
            timing=PollTiming.from_settings(settings),
            clock=clock,
        )
        self.cards = StatusCards(self.deps)
        self.failures = FailurePath(self.deps, self.cards)
        download_dir = settings.download_dir or Path(tempfile.gettempdir()) / "hailuo-videobot"
        self.delivery = Delivery(self.deps, self.cards, self.failures, download_dir=download_dir)
        self.submitter = Submitter(
            self.deps, self.cards, self.failures, concurrency=settings.submit_concurrency, http=http
        )
        self.tracker = Tracker(self.deps, self.cards, self.failures, on_succeeded=self._on_succeeded)
        self._download_dir = download_dir
        self._started = False

    # ------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Resume every unfinished task, then start the submit queue and the poller."""
        if self._started:
            return
        self._started = True
        self.cards.allow_queue_refresh()
        self._download_dir.mkdir(parents=True, exist_ok=True)
        self.deps.updater.start()
        await self.deps.account.load()  # before the queue refills: a pause from before the restart holds
        await self.recover()
        if not self._started:
            # stop() ran while tasks were resuming: starting the loops now would outlive it, and a
            # delivery a resume started after stop() stopped them must not either.
            await self.delivery.stop()
            return
        self.submitter.start()
        self.tracker.start()

    async def stop(self) -> None:
        await self.cards.stop_queue_refresh()  # requests run it even before start()
        await self.deps.account.settle()
        if not self._started:
            return
        self._started = False
        await self.submitter.stop()
        await self.tracker.stop()
        await self.delivery.stop()
        # A submit allowed to finish during the stop may have paused the account: save it too.
        await self.deps.account.settle()
        await self.deps.updater.stop()

    async def recover(self) -> None:
        """Put every unfinished task back on its way; each state's next step is safe to repeat."""
        try:
            tasks = await self.storage.tasks.unfinished()
        except StorageError:
            log.exception("Could not read unfinished tasks; nothing resumed")
            return
        # First, while nothing of this run can be failing yet: only the previous run's owed notices.
        await self._repair_notices()
        # All at once (one pass), not one push and one position lookup per task: O(n), not O(n²).
        self.deps.queue.extend(
            QueueEntry(t.id, t.guild_id or 0, t.user_id) for t in tasks if t.state is TaskState.QUEUED
        )
        counts: dict[str, int] = {}
        for task in tasks:
            if not self._started:
                return  # stopping: the rest resume at the next start
            counts[task.state.value] = counts.get(task.state.value, 0) + 1
            try:
                await self._recover_one(task)
            except Exception:
                log.exception("Could not resume task %s (%s)", task.id, task.state)
        if tasks:
            log.info("Resumed unfinished tasks: %s", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        await self._repair_cards(tasks)

    async def _repair_cards(self, unfinished: list[Task]) -> None:
        """Re-render cards a crash (or a refused edit) may have left showing an old state.

        Cheap and bounded: unfinished tasks and those that finished in the last day, at most
        ``CARD_REPAIR_LIMIT``; the updater coalesces and paces the edits.
        """
        try:
            recent = await self.storage.tasks.recently_finished(
                self._clock() - CARD_REPAIR_WINDOW, limit=CARD_REPAIR_LIMIT
            )
        except StorageError:
            log.exception("Could not read recently finished tasks; their cards are not re-rendered")
            recent = []
        for task in [*unfinished, *recent]:
            if task.status_message_id is None or task.state is TaskState.SUBMITTING:
                continue
            try:
                latest = await self.storage.tasks.get(task.id)
                note = (
                    latest.error_message if latest.state.final or latest.state is TaskState.UNKNOWN else None
                )
                await self.cards.refresh(latest, note=note)
            except Exception:
                log.exception("Could not re-render the card of task %s", task.id)

    async def _repair_notices(self) -> None:
        """Tell members about failures a crash kept from them.

        A failure is saved (and refunded) before its notice is posted and the posting is recorded
        after, so a crash in between leaves a task whose notice is owed. The channel (then the DMs)
        is searched first: a notice that went out just before the crash is recorded, not repeated.
        """
        try:
            owed = await self.storage.tasks.unnotified(
                self._clock() - NOTICE_REPAIR_WINDOW, limit=CARD_REPAIR_LIMIT
            )
        except StorageError:
            log.exception("Could not read the failure notices owed; they are retried at the next start")
            return
        for task in owed:
            if not self._started:
                return  # stopping: the rest at the next start
            try:
                if await self.notifier.find_failure(task) is not None:
                    await self.storage.tasks.update_fields(task.id, notified_at=self._clock())
                    continue
                log.info("Task %s is %s but its notice was not posted; posting it", task.id, task.state.value)
                fallback = UNKNOWN_MESSAGE if task.state is TaskState.UNKNOWN else LOST_FAILURE_MESSAGE
                await self.failures.tell(task, task.error_message or fallback)
            except Exception:
                log.exception("Could not repair the failure notice of task %s", task.id)

    async def _recover_one(self, task: Task) -> None:
        if task.state is TaskState.QUEUED:
            self._enqueue(task)
            if task.status_message_id is None:
                await self._post_card(task)
        elif task.state is TaskState.SUBMITTING:
            # The create call may have reached the API: sending it again could bill twice.
            await self.submitter.mark_unknown(task, "the bot stopped while submitting")
        elif task.state in (TaskState.DOWNLOADING, TaskState.DELIVERING):
            self.delivery.start(task)
        # submitted/processing: their next_poll_at is stored and the poller picks them up;
        # unknown: a moderator resolves it.

    def wake(self) -> None:
        """Make the poller look at due tasks now (after a moderator resumed one, or in tests)."""
        self.tracker.wake()

    # ------------------------------------------------------------------------------ requests

    async def request(self, req: VideoRequest) -> Task:
        """Validate, price and reserve; queue the task and post its card. Raises RequestRefused."""
        policy = await self._check_guild_rules(req)
        prefs = await self.storage.prefs.get(req.user_id)
        plan = plan_request(req.spec, defaults=prefs.defaults, policy=_option_policy(policy))
        if self.deps.account.paused:
            raise RequestRefused(
                "The video service account needs a moderator's attention, so new videos are paused. "
                "Nothing was charged; please try again later."
            )
        new = NewTask(
            guild_id=req.guild_id,
            channel_id=req.channel_id,
            user_id=req.user_id,
            spec=plan.spec,
            cost_tenths=plan.cost_tenths,
            deliver_by_dm=prefs.dm_results or (policy is not None and not policy.results_public),
            regenerated_from=req.regenerated_from,
        )
        try:
            task = await self.storage.quota.reserve(
                new,
                role_ids=req.role_ids,
                now=self._clock(),
                default_limit_tenths=self.settings.default_quota_tenths,
                default_period=self.settings.default_quota_period,
            )
        except ReservationRefused as exc:
            raise RequestRefused(_refusal_text(exc)) from None
        log.info(
            "Task %s reserved: user %s, guild %s, %s %s %ss, %s tenths",
            task.id,
            task.user_id,
            task.guild_id,
            task.model,
            task.spec.resolution,
            task.spec.duration,
            task.cost_tenths,
        )
        # Reserved: from here on the member must hear "on its way", whatever goes wrong with the card.
        self._enqueue(task)
        task = await self._post_card(task)
        self.cards.request_queue_refresh()  # a newcomer's fair turn may come before others' tasks
        return task

    async def _check_guild_rules(self, req: VideoRequest) -> GuildPolicy | None:
        """Pause, channel, block and the prompt filter: the guild's rules before any model rule."""
        if req.guild_id is None:
            return None
        guild_id = req.guild_id
        policy = await self.storage.policy.get(guild_id)
        if policy.paused:
            raise RequestRefused(_refusal_text(GuildPaused(policy.pause_reason)) + " Please try again later.")
        rule_channel = req.parent_channel_id or req.channel_id
        if not await self.storage.policy.channel_allowed(guild_id, rule_channel):
            rules = await self.storage.policy.channel_rules(guild_id)
            where = ", ".join(f"<#{c}>" for c in rules.allowed[:10])
            hint = f" Use {where}." if where else ""
            raise RequestRefused(f"Videos can't be made in this channel.{hint}")
        block = await self.storage.limits.blocked(guild_id, req.user_id)
        if block is not None:
            raise RequestRefused(_refusal_text(UserBlocked(block.reason)))
        filters = await self.storage.policy.filters(guild_id)
        if filters:
            compiled = compile_filter_cached(tuple((f.pattern, f.is_regex) for f in filters))
            if matches(compiled, req.spec.prompt) is not None:
                raise RequestRefused(
                    "Your prompt was refused by this server's prompt filter. Nothing was charged; "
                    "please rephrase it."
                )
        return policy

    async def regenerate(self, task_id: int, actor: Actor) -> Task:
        """A new task with the same options, reserved against whoever asked (requester or moderator)."""
        original = await self._get(task_id)
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused("That task belongs to another server.")
        if original.user_id != actor.user_id and not await self.is_moderator(actor):
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
        )
        return await self.request(request)

    async def _channel_parent(self, channel_id: int) -> int | None:
        try:
            return await self.notifier.channel_parent(channel_id)
        except Exception:
            log.exception("Could not look up the parent of channel %s", channel_id)
            return None

    async def cancel(self, task_id: int, actor: Actor) -> Task:
        """Cancel a task that was not sent yet; the storage refunds in the same transaction."""
        task = await self._get(task_id)
        if task.guild_id != actor.guild_id or (
            task.user_id != actor.user_id and not await self.is_moderator(actor)
        ):
            raise RequestRefused(f"Task #{task_id} is not one of yours.")
        if task.state is not TaskState.QUEUED:
            raise RequestRefused(_not_cancellable(task))
        try:
            task = await self.storage.tasks.transition(
                task.id, TaskState.CANCELLED, now=self._clock(), error_code="cancelled"
            )
        except IllegalTransition:
            raise RequestRefused(_not_cancellable(await self._get(task_id))) from None
        self.deps.queue.remove(task.id)
        log.info("Task %s cancelled by %s", task.id, actor.user_id)
        await self.cards.refresh(
            task, note=f"Cancelled. {format_credits(task.cost_tenths)} credits refunded."
        )
        self.cards.request_queue_refresh()
        return task

    # ------------------------------------------------------------------------------ queries

    async def task_for(self, task_id: int, actor: Actor) -> Task:
        """A task the actor may look at: their own (here, or from a DM, where results may be sent),
        or any in their guild for a moderator."""
        task = await self._get(task_id)
        if task.user_id == actor.user_id and actor.guild_id in (None, task.guild_id):
            return task
        if task.guild_id != actor.guild_id or not await self.is_moderator(actor):
            raise RequestRefused(f"Task #{task_id} is not one of yours.")
        return task

    async def post_missing_card(self, task_id: int) -> Task:
        """Try again to post the card of a task that has none (the channel refused the first one).

        The cogs call it once a fallback exists (an interaction follow-up); a task that has a card,
        or is over, is left alone. Never raises for a Discord failure, like the first try.
        """
        task = await self._get(task_id)
        if task.status_message_id is not None or task.state.final:
            return task
        return await self._post_card(task)

    async def fresh_link(self, task: Task) -> DownloadLink:
        """A new link for a video that was delivered as a link which has since expired.

        ``task`` comes from :meth:`task_for` (the caller checked who asks). Raises RequestRefused,
        in plain words, when there is nothing to renew or the video service will not give a link.
        """
        if task.state is not TaskState.DELIVERED:
            raise RequestRefused(f"Video #{task.id} was not delivered, so there is no link to renew.")
        link = await self.delivery.fresh_link(task)
        if link is None:
            raise RequestRefused(
                f"The video service would not give a new download link for video #{task.id}; it keeps "
                "finished videos only for a while. Use Regenerate to make it again."
            )
        return link

    async def status_card(self, task: Task) -> StatusCard:
        return await self.cards.card(task, note=task.error_message if task.state.final else None)

    async def recent_tasks(
        self, guild_id: int | None, user_id: int, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[Task], int]:
        tasks = await self.storage.tasks.recent_for_user(guild_id, user_id, limit=limit, offset=offset)
        total = await self.storage.tasks.count_for_user(guild_id, user_id)
        return tasks, total

    async def quota(self, guild_id: int | None, user_id: int, role_ids: Sequence[int] = ()) -> QuotaView:
        usage = await self.storage.quota.usage(
            guild_id,
            user_id,
            role_ids=role_ids,
            now=self._clock(),
            default_limit_tenths=self.settings.default_quota_tenths,
            default_period=self.settings.default_quota_period,
        )
        guild = None
        policy = None
        if guild_id is not None:
            guild = await self.storage.quota.guild_usage(
                guild_id, now=self._clock(), default_period=self.settings.default_quota_period
            )
            policy = await self.storage.policy.get(guild_id)
        return QuotaView(usage=usage, guild=guild, prices=price_table(_option_policy(policy)))

    def queue_position(self, task_id: int) -> int | None:
        return self.deps.queue.positions().get(task_id)

    async def is_moderator(self, actor: Actor) -> bool:
        """The one moderator rule (:func:`bot.lifecycle.actor.is_moderator`) with the guild's role."""
        if actor.guild_id is None:
            return False
        return is_moderator(actor, (await self.storage.policy.get(actor.guild_id)).moderator_role_id)

    # ------------------------------------------------------------------------------ preferences

    async def preferences(self, user_id: int) -> UserPrefs:
        return await self.storage.prefs.get(user_id)

    async def update_preferences(
        self, user_id: int, *, dm_results: bool | _Keep = KEEP, **options: object
    ) -> UserPrefs:
        """Change the named defaults (options of :data:`~bot.spec.SAVED_OPTIONS`); ``None`` means "let
        the bot choose", ``KEEP`` (or leaving one out) keeps it. Raises RequestRefused."""
        changes: dict[str, Any] = {name: value for name, value in options.items() if value is not KEEP}
        unknown = sorted(set(changes) - set(SAVED_OPTIONS))
        if unknown:
            raise TypeError(f"not options a member can save: {', '.join(unknown)}")
        check_defaults(replace(NO_DEFAULTS, **changes))
        current = await self.storage.prefs.get(user_id)
        updated = UserPrefs(
            defaults=replace(current.defaults, **changes),
            dm_results=current.dm_results if isinstance(dm_results, _Keep) else dm_results,
        )
        return await self.storage.prefs.set(user_id, updated)

    # ------------------------------------------------------------------------------ moderation

    @property
    def submissions_paused(self) -> bool:
        return self.deps.account.paused

    def resume_submissions(self) -> None:
        """A moderator fixed the API account: let queued tasks go out again now."""
        self.deps.account.resume()
        self.deps.queue.notify()

    def policy_changed(self, guild_id: int) -> None:
        """A guild was paused or resumed: let the submit queue re-read it now."""
        self.deps.queue.notify()

    async def refresh_card(self, task: Task, *, note: str | None = None) -> None:
        """Re-render a task's status card after a moderator moved the task on."""
        await self.cards.refresh(task, note=note)

    # ------------------------------------------------------------------------------ internals

    async def _get(self, task_id: int) -> Task:
        try:
            return await self.storage.tasks.get(task_id)
        except UnknownTask:
            raise RequestRefused(f"There is no task #{task_id}.") from None

    def _enqueue(self, task: Task) -> None:
        self.deps.queue.push(QueueEntry(task.id, task.guild_id or 0, task.user_id))

    async def _post_card(self, task: Task) -> Task:
        """Post the card and remember it; never raises (the credits are reserved by now, and the
        task goes ahead without a card: a failure here must not read as "nothing was charged")."""
        try:
            card = await self.cards.card(task)
            message_id = await self.notifier.post_status(card)
        except Exception:
            log.exception("Posting the status card of task %s failed", task.id)
            return task
        if message_id is None:
            return task
        try:
            stored = await self.storage.tasks.update_fields(task.id, status_message_id=message_id)
            if stored.state is not card.task.state or stored.progress != card.task.progress:
                await self.cards.refresh(stored)  # it moved on while the card was being posted
        except Exception:
            log.exception("Could not record the status card %s of task %s", message_id, task.id)
            return replace(task, status_message_id=message_id)
        return stored

    async def _card_moved(self, task_id: int, message_id: int) -> None:
        """The notifier reposted a deleted card: remember the new message."""
        try:
            await self.storage.tasks.update_fields(task_id, status_message_id=message_id)
        except StorageError:
            log.exception("Could not record the new status message of task %s", task_id)

    async def _on_succeeded(self, task: Task, info: TaskInfo) -> None:
        self.delivery.start(task, info.download_url)


def _option_policy(policy: GuildPolicy | None) -> OptionPolicy:
    if policy is None:
        return NO_POLICY
    return option_policy(policy.allowed_models, policy.max_resolution, policy.max_duration)


def _not_cancellable(task: Task) -> str:
    if task.state.final:
        return f"Task #{task.id} is already {task.state.value}; there is nothing to cancel."
    return (
        f"Task #{task.id} was already sent to the video service ({task.state.value}), so it can no longer "
        "be cancelled. Credits are only charged if the video is delivered."
    )


def _refusal_text(exc: ReservationRefused) -> str:
    """Member-facing words for a refused reservation: what happened and what they can do."""
    if isinstance(exc, QuotaExceeded):
        left = max(0, exc.limit_tenths - exc.used_tenths)
        return (
            f"You don't have enough credits: this video costs {format_credits(exc.cost_tenths)}, you have "
            f"{format_credits(left)} of {format_credits(exc.limit_tenths)} left this {exc.period}. "
            f"Your credits renew {_timestamp(exc.resets_at)}; a cheaper option (lower resolution or "
            "shorter video) may fit now. See `/video quota`."
        )
    if isinstance(exc, GuildCapReached):
        return (
            f"This server has used its video budget for this {exc.period} "
            f"({format_credits(exc.used_tenths)} of {format_credits(exc.cap_tenths)} credits). "
            f"It renews {_timestamp(exc.resets_at)}."
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
