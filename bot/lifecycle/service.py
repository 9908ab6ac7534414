"""VideoService: the one object the cogs talk to about videos.

It composes the task lifecycle and starts and stops it; each job is a module of its own:
:mod:`~bot.lifecycle.admission` (validate, price, reserve, queue: a request becomes a task),
:mod:`~bot.lifecycle.queries` (what a member or moderator may look up), :mod:`~bot.lifecycle.recovery`
(every unfinished task resumed after a restart), and the background workers (submitter, tracker,
delivery). Nothing here imports Discord: the cogs hand in plain requests, a :class:`Notifier` carries
messages out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import aiohttp

from bot.config import Settings
from bot.lifecycle.account import AccountGate
from bot.lifecycle.actor import Actor
from bot.lifecycle.admission import KEEP, Admission, Keep
from bot.lifecycle.budget import QueryBudget
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.channel_queue import ChannelQueue, channel_queue
from bot.lifecycle.delivery import Delivery, DownloadLink
from bot.lifecycle.deps import Expectations, LifecycleDeps, VideoAPI
from bot.lifecycle.downloads import default_download_dir, prepare_download_dir
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.groups import GroupDelivery
from bot.lifecycle.intake import record_moved_card
from bot.lifecycle.leases import WorkLeases
from bot.lifecycle.notifier import Notifier, StatusCard
from bot.lifecycle.pools import MemberPools, Whereabouts
from bot.lifecycle.preview import PromptPreview
from bot.lifecycle.pushes import PushReceiver
from bot.lifecycle.queries import Queries, QuotaView, moderates_here
from bot.lifecycle.queue import FairQueue
from bot.lifecycle.reconcile import Reconciler
from bot.lifecycle.recovery import Recovery
from bot.lifecycle.retention import Retention
from bot.lifecycle.sequels import SequelOffer, Sequels
from bot.lifecycle.shared_limits import SharedSubmitWindow
from bot.lifecycle.showcase import ShowcaseService
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.submitter import Submitter
from bot.lifecycle.timing import PollTiming
from bot.lifecycle.tracker import Tracker
from bot.lifecycle.upscale import Upscaler
from bot.lifecycle.validation import VideoRequest
from bot.metrics import Metrics
from bot.minimax.callbacks import CallbackServer, CallbackSwitch
from bot.minimax.types import TaskInfo
from bot.video.worker import VideoWorker
from storage import Storage
from storage.models import Pool, PoolUsage, Task, UserPrefs

__all__ = ["KEEP", "QuotaView", "VideoService"]

log = logging.getLogger(__name__)


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
        metrics: Metrics | None = None,
        callbacks: CallbackSwitch | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.notifier = notifier
        self._clock = clock
        self.metrics = metrics if metrics is not None else Metrics()
        queue = FairQueue()
        self.metrics.watch_queue(queue.__len__)
        # PostgreSQL: other processes may share the database, the queue and the account's limits.
        shared = storage.shared
        self.leases = WorkLeases(storage, queue, seconds=settings.lease_seconds, clock=clock)
        self.deps = LifecycleDeps(
            settings=settings,
            storage=storage,
            client=client,
            notifier=notifier,
            queue=queue,
            budget=QueryBudget(
                settings.poll_query_budget_per_minute, store=storage.rates if shared else None
            ),
            updater=StatusUpdater(
                notifier,
                interval=settings.status_edit_interval,
                on_moved=self._card_moved,
                metrics=self.metrics,
            ),
            account=AccountGate(
                cooldown=settings.account_pause, store=storage.state, clock=clock, shared=shared
            ),
            expectations=Expectations(storage, first_delay=settings.poll_first_delay),
            timing=PollTiming.from_settings(settings),
            leases=self.leases,
            clock=clock,
            metrics=self.metrics,
            callbacks=callbacks,
            submit_window=SharedSubmitWindow(storage.rates, settings.minimax_rpm) if shared else None,
        )
        self.pushes = PushReceiver(self.deps)
        self._push_server: CallbackServer | None = None
        self.cards = StatusCards(self.deps)
        self.failures = FailurePath(self.deps, self.cards)
        download_dir = settings.download_dir or default_download_dir(settings.database_path)
        video = VideoWorker()  # one bound on video work for the whole bot (fits, joins, frames)
        self.delivery = Delivery(self.deps, self.cards, self.failures, download_dir=download_dir, video=video)
        self.submitter = Submitter(
            self.deps, self.cards, self.failures, concurrency=settings.submit_concurrency, http=http
        )
        self.reconciler = Reconciler(self.deps, self.cards, self.failures)
        self.submitter.reconciler = self.reconciler
        self.tracker = Tracker(self.deps, self.cards, self.failures, on_succeeded=self._on_succeeded)
        self.admission = Admission(self.deps, self.cards)
        self.preview = PromptPreview(self.deps)
        self.queries = Queries(self.deps, self.cards, self.delivery)
        self.upscaler = Upscaler(self.deps, self.admission, self.queries)
        self.sequels = Sequels(
            self.deps, self.admission, self.delivery, download_dir=download_dir, video=video, http=http
        )
        self.delivery.joiner = self.sequels.join  # Extend and Loop post the joined video
        # The takes of a group (``variations``) are posted together, when the last is done or over.
        self.groups = GroupDelivery(self.deps, self.cards, self.failures, self.delivery)
        self.delivery.group_ready = self.groups.ready
        self.failures.on_take_over = self.groups.check
        self.admission.take_over = self.failures.take_over
        self.submitter.frames = self.sequels.frame_data_url  # and start from its frames
        self.showcase = ShowcaseService(storage, clock)  # sharing delivered videos, and votes
        self.pools = MemberPools(self.deps)  # team credit pools as a member sees them
        self.recovery = Recovery(
            self.deps,
            self.cards,
            self.failures,
            submitter=self.submitter,
            delivery=self.delivery,
            running=lambda: self._started,
            groups=self.groups,
        )
        self.leases.on_taken = self.recovery.resume_taken
        self._download_dir = download_dir
        self._started = False
        self.resumed_count = 0  # unfinished tasks put back on their way at start (the ready line's)
        self.retention = (
            Retention(storage, settings.retention_days, clock=clock) if settings.retention_days else None
        )

    # ------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Resume every unfinished task, then start the submit queue and the poller."""
        if self._started:
            return
        self._started = True
        self.cards.allow_queue_refresh()
        prepare_download_dir(self._download_dir, private=self.settings.download_dir is None)
        self.deps.updater.start()
        await self.deps.account.load()  # before the queue refills: a pause from before the restart holds
        self.leases.start()  # renewing from the first claim: a long recovery keeps what it took
        await self.recover()
        if not self._started:
            # stop() ran while tasks were resuming: starting the loops now would outlive it, and a
            # delivery a resume started after stop() stopped them must not either.
            await self.delivery.stop()
            await self.leases.stop()
            return
        await self._start_push_server()  # before the first submit names it
        self.submitter.start()
        self.tracker.start()
        if self.retention is not None:
            self.retention.start()

    async def _start_push_server(self) -> None:
        """Listen for the API's pushes; a server that cannot start means polling as without them."""
        switch = self.deps.callbacks
        if switch is None or not switch.active:
            return
        server = CallbackServer(
            self.pushes,
            path=urlsplit(switch.url).path or "/",
            host=self.settings.callback_host,
            port=self.settings.callback_port,
        )
        try:
            await server.start()
        except OSError as exc:
            switch.disable(
                f"cannot listen on {self.settings.callback_host}:{self.settings.callback_port} ({exc})"
            )
            return
        self._push_server = server

    @property
    def push_port(self) -> int | None:
        """The port the push server listens on (a test's CALLBACK_PORT may be 0), None when off."""
        return self._push_server.port if self._push_server is not None else None

    async def stop(self) -> None:
        await self.cards.stop_queue_refresh()  # requests run it even before start()
        await self.sequels.stop()
        await self.deps.account.settle()
        if not self._started:
            return
        self._started = False
        if self.retention is not None:
            await self.retention.stop()
        if self._push_server is not None:
            await self._push_server.stop()
            self._push_server = None
        await self.submitter.stop()
        await self.reconciler.stop()
        await self.tracker.stop()
        await self.delivery.stop()
        await self.groups.stop()
        await self.leases.stop()  # nothing of ours runs now: the other processes may take it all
        # A submit allowed to finish during the stop may have paused the account: save it too.
        await self.deps.account.settle()
        await self.deps.updater.stop()

    async def recover(self) -> None:
        """Put every unfinished task back on its way (:class:`~bot.lifecycle.recovery.Recovery`)."""
        self.resumed_count += await self.recovery.run()

    def wake(self) -> None:
        """Make the poller look at due tasks now (after a moderator resumed one, or in tests)."""
        self.leases.kick()  # a task nobody holds yet is taken first
        self.tracker.wake()

    # ------------------------------------------------------------------------------ members

    async def request(self, req: VideoRequest) -> Task:
        """Validate, price and reserve; queue the task and post its card. Raises RequestRefused."""
        return await self.admission.request(req)

    async def preview_prompt(self, req: VideoRequest) -> str:
        """The expanded prompt MiniMax-H3 would work from (:mod:`bot.lifecycle.preview`): checked
        like a request, nothing reserved or charged. Raises RequestRefused."""
        plan = await self.admission.plan(req)
        return await self.preview.expand(plan.spec)

    async def upscale(self, task_id: int, actor: Actor) -> Task:
        """The 2K version of a delivered 768P H3 video, for ``actor`` (:mod:`bot.lifecycle.upscale`)."""
        return await self.upscaler.upscale(task_id, actor)

    async def regenerate(self, task_id: int, actor: Actor, *, upload_limit: int | None = None) -> Task:
        """A new task with the same spec, reserved against whoever asked (requester or moderator)."""
        return await self.admission.regenerate(task_id, actor, upload_limit=upload_limit)

    async def edit_source(self, task_id: int, actor: Actor, what: str) -> Task:
        """The delivered result ``actor`` may ``what`` (remix, …); RequestRefused otherwise."""
        return await self.admission.edit_source(task_id, actor, what)

    async def remix(
        self, task_id: int, actor: Actor, prompt: str, *, upload_limit: int | None = None
    ) -> Task:
        """The result again with an edited prompt, charged to ``actor`` (see ``Admission.remix``)."""
        return await self.admission.remix(task_id, actor, prompt, upload_limit=upload_limit)

    async def sequel_offer(
        self, task_id: int, actor: Actor, kind: str, *, upload_limit: int | None = None
    ) -> SequelOffer:
        """What an Extend or Loop (``kind``) of the result would make and cost; RequestRefused when
        ``actor`` may not or the whole would be too long (see :class:`~bot.lifecycle.sequels.Sequels`)."""
        return await self.sequels.offer(task_id, actor, kind, upload_limit=upload_limit)

    async def sequel(
        self, task_id: int, actor: Actor, kind: str, prompt: str, *, upload_limit: int | None = None
    ) -> Task:
        """Reserve an Extend or Loop of the result for ``actor``, who pays; RequestRefused when the
        video is gone or anything else stands in the way (nothing reserved then)."""
        return await self.sequels.request(task_id, actor, kind, prompt, upload_limit=upload_limit)

    async def cancel(self, task_id: int, actor: Actor) -> Task:
        """Cancel a task that was not sent yet; the storage refunds in the same transaction."""
        return await self.admission.cancel(task_id, actor)

    async def update_preferences(
        self, user_id: int, *, dm_results: bool | Keep = KEEP, **options: object
    ) -> UserPrefs:
        """Change a member's saved defaults (see :meth:`Admission.update_preferences`)."""
        return await self.admission.update_preferences(user_id, dm_results=dm_results, **options)

    async def preferences(self, user_id: int) -> UserPrefs:
        return await self.queries.preferences(user_id)

    async def task_for(self, task_id: int, actor: Actor) -> Task:
        """A task the actor may look at (see :meth:`Queries.task_for`)."""
        return await self.queries.task_for(task_id, actor)

    async def post_missing_card(self, task_id: int) -> Task:
        return await self.queries.post_missing_card(task_id)

    async def fresh_link(self, task: Task) -> DownloadLink:
        return await self.queries.fresh_link(task)

    async def status_card(self, task: Task) -> StatusCard:
        return await self.queries.status_card(task)

    async def recent_tasks(
        self, guild_id: int | None, user_id: int, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[Task], int]:
        return await self.queries.recent_tasks(guild_id, user_id, limit=limit, offset=offset)

    async def quota(
        self,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        *,
        channel_id: int | None = None,
        parent_channel_id: int | None = None,
    ) -> QuotaView:
        return await self.queries.quota(
            guild_id, user_id, role_ids, channel_id=channel_id, parent_channel_id=parent_channel_id
        )

    async def usable_pools(self, where: Whereabouts) -> list[PoolUsage]:
        """The team pools this member may spend from here, by name (the pool option's choices)."""
        return await self.pools.usable(where)

    async def default_pool(self, where: Whereabouts) -> Pool | None:
        return await self.pools.default(where)

    async def set_default_pool(self, where: Whereabouts, name: str | None) -> Pool | None:
        """The member's default pool here (``None``: none). Raises RequestRefused for a pool they
        may not use."""
        return await self.pools.set_default(where, name)

    async def may_outlast_followup(self, task: Task) -> bool:
        """See :meth:`StatusCards.may_outlast_followup` (the confirmation of a personal-install use)."""
        return await self.cards.may_outlast_followup(task)

    def queue_position(self, task_id: int) -> int | None:
        return self.queries.queue_position(task_id)

    async def channel_queue(self, channel_id: int) -> ChannelQueue:
        """What is being made in a channel now (see :mod:`bot.lifecycle.channel_queue`)."""
        return await channel_queue(self.deps, self.cards, channel_id)

    async def is_moderator(self, actor: Actor) -> bool:
        return await moderates_here(self.deps, actor)

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
        """Re-render a task's status card after a moderator moved the task on.

        A private task's card (results by DM) shows the channel nothing of ``note``, so the member
        is told it privately instead (by DM, else the ephemeral follow-up), and it is recorded.
        """
        await self.cards.refresh(task, note=note)
        if note is not None and task.deliver_by_dm:
            await self.failures.tell(task, note)
        if task.group_id is not None and task.state.final:
            await self.failures.take_over(task)  # the group's reply may be due now

    # ------------------------------------------------------------------------------ internals

    async def _card_moved(self, task_id: int, message_id: int) -> None:
        await record_moved_card(self.deps, task_id, message_id)

    async def _on_succeeded(self, task: Task, info: TaskInfo) -> None:
        self.delivery.start(task, info.download_url)
