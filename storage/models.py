"""Plain dataclasses that go in and out of storage: ids are ints, times are UTC epoch seconds,
credits are integer tenths (``*_tenths``) so sums never round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from bot.spec import NO_DEFAULTS, Mode, VideoSpec
from storage.states import TaskState

T = TypeVar("T")

LimitSource = Literal["override", "role", "guild", "default"]


@dataclass(frozen=True)
class NewTask:
    """What a request carries into :meth:`QuotaRepository.reserve`; the rest is filled in later.

    ``spec`` is resolved (validation chose every option); storage flattens it to columns.
    """

    guild_id: int | None
    channel_id: int
    user_id: int
    spec: VideoSpec
    cost_tenths: int
    deliver_by_dm: bool = False
    regenerated_from: int | None = None
    # The interaction's attachment_size_limit (bytes) where it was asked for; None: not known.
    upload_limit: int | None = None
    edit: Edit | None = None  # made from another task's result (a remix)
    # The requester's Discord locale (``interaction.locale``): their DMs are in its language.
    locale: str | None = None


EDIT_KINDS = ("remix", "extend", "loop")
JOINED_KINDS = ("extend", "loop")  # made to be joined to the original's video
# How an Extend or Loop was delivered: the original and the new clip as one, or the clip alone.
JOIN_STATES = ("joined", "alone")


@dataclass(frozen=True)
class Edit:
    """A task made from another's result: which task, how (one of :data:`EDIT_KINDS`), and the
    original's author and result message at request time (its card names and links them)."""

    of: int
    kind: str
    of_user_id: int
    of_message_id: int | None


@dataclass(frozen=True)
class Task:
    id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    status_message_id: int | None
    result_message_id: int | None
    spec: VideoSpec  # what is made; media keep only their URLs
    cost_tenths: int
    api_task_id: str | None
    file_id: str | None
    state: TaskState
    api_status: str | None  # the API's raw status word, for moderators
    progress: int | None  # percent, when the API gives it
    error_code: str | None  # short machine reason, grouped by statistics
    error_message: str | None  # safe to show to the member
    attempts: int
    created_at: float
    submitted_at: float | None
    finished_at: float | None
    next_poll_at: float | None
    deliver_by_dm: bool
    regenerated_from: int | None
    width: int | None
    height: int | None
    video_bytes: int | None
    # When the member was told the task failed (or needs a moderator); None while they were not:
    # a restart tells those it finds (a crash between saving the failure and posting it).
    notified_at: float | None = None
    # What was delivered (``spec.duration`` is what was asked): read from the file, else the API's
    # usage figure; None until delivered, or when neither said.
    delivered_seconds: float | None = None
    has_audio: bool | None = None  # the delivered file has a sound track; None: not known
    # What Discord said the bot may upload where it was asked for (bytes), stored at request time
    # (the interaction's attachment_size_limit); None for tasks from before, or asked without one.
    upload_limit: int | None = None
    edit_of: int | None = None  # made from this task's result (see :class:`Edit`)
    edit_kind: str | None = None
    edit_of_user_id: int | None = None
    edit_of_message_id: int | None = None

    @property
    def edit(self) -> Edit | None:
        if self.edit_of is None or self.edit_kind is None or self.edit_of_user_id is None:
            return None
        return Edit(self.edit_of, self.edit_kind, self.edit_of_user_id, self.edit_of_message_id)

    thread_id: int | None = None  # the thread opened on its status card (results and failures go there)
    # The team pool that paid (None: the member's own credits), and its name at reservation time.
    pool_id: int | None = None
    pool_name: str | None = None
    # An Extend or Loop (see :data:`JOIN_STATES`): its result joined to the original, or alone.
    join_state: str | None = None
    # One of the takes of ``/video generate variations:N`` (reserved together): the first take's id,
    # this take's number (1…N) and N; None for a task alone. ``group_posted_at`` (the first take's):
    # when the group's reply was recorded as posted.
    group_id: int | None = None
    take: int | None = None
    takes: int | None = None
    group_posted_at: float | None = None
    # The requester's Discord locale at request time: what goes to them alone (by DM) is in its
    # language. None: a task from before it was kept (English).
    locale: str | None = None

    @property
    def in_group(self) -> bool:
        return self.group_id is not None

    @property
    def final(self) -> bool:
        return self.state.final

    @property
    def prompt(self) -> str:
        return self.spec.prompt

    @property
    def model(self) -> str:
        """The model it was made with (a stored spec always names one)."""
        return self.spec.model or ""

    @property
    def mode(self) -> Mode:
        return self.spec.mode


@dataclass(frozen=True)
class Usage:
    """A member's quota as the reservation sees it; ``used_tenths`` counts pending reservations."""

    used_tenths: int
    limit_tenths: int
    period: str
    period_start: float
    resets_at: float
    source: LimitSource
    pending_tenths: int = 0  # reserved for tasks not yet delivered or refunded

    @property
    def remaining_tenths(self) -> int:
        return max(0, self.limit_tenths - self.used_tenths)


@dataclass(frozen=True)
class GuildUsage:
    used_tenths: int
    cap_tenths: int | None
    period: str
    period_start: float
    resets_at: float


@dataclass(frozen=True)
class SpendCeiling:
    """The operator's bot-wide ceiling: credits (tenths) reserved over every server per UTC period."""

    limit_tenths: int
    period: str


@dataclass(frozen=True)
class BotSpend:
    """What the whole bot reserved (and did not refund) in the ceiling's period, against it."""

    used_tenths: int
    limit_tenths: int
    period: str
    period_start: float
    resets_at: float


@dataclass(frozen=True)
class Pool:
    """A team credit pool: ``credits_tenths`` per ``period`` shared by the members who have
    ``role_id`` or ask in ``channel_id`` (either is enough; at least one is set)."""

    id: int
    guild_id: int
    name: str
    credits_tenths: int
    period: str
    role_id: int | None
    channel_id: int | None


@dataclass(frozen=True)
class PoolUsage:
    """A pool's spending in its current period; ``used_tenths`` counts pending reservations."""

    pool: Pool
    used_tenths: int
    pending_tenths: int
    period_start: float
    resets_at: float

    @property
    def remaining_tenths(self) -> int:
        return max(0, self.pool.credits_tenths - self.used_tenths)


@dataclass(frozen=True)
class GuildDefault:
    credits_tenths: int
    period: str


@dataclass(frozen=True)
class RoleLimit:
    role_id: int
    credits_tenths: int


@dataclass(frozen=True)
class UserOverride:
    user_id: int
    credits_tenths: int
    period: str | None  # None: the guild's period


@dataclass(frozen=True)
class Block:
    user_id: int
    reason: str | None
    blocked_by: int
    created_at: float


@dataclass(frozen=True)
class PromptFilter:
    id: int
    pattern: str
    is_regex: bool  # False: a word or phrase, matched case-insensitively by the caller
    created_by: int
    created_at: float


@dataclass(frozen=True)
class GuildPolicy:
    allowed_models: tuple[str, ...] = ()  # empty: every model
    max_resolution: str | None = None
    max_duration: int | None = None
    results_public: bool = True
    moderator_role_id: int | None = None
    cap_tenths: int | None = None  # guild-wide credits per the guild's default period
    paused: bool = False
    pause_reason: str | None = None
    threads: bool | None = None  # a thread per video: on, off, or None (the bot's THREAD_PER_VIDEO)


@dataclass(frozen=True)
class ChannelRules:
    """Where ``/video`` may run: with an empty allow-list every channel not denied is allowed."""

    allowed: tuple[int, ...] = ()
    denied: tuple[int, ...] = ()


@dataclass(frozen=True)
class UserPrefs:
    """A member's own defaults: a partial spec (``None``: let the bot choose), and where results go."""

    defaults: VideoSpec = NO_DEFAULTS
    dm_results: bool = False


@dataclass(frozen=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int
    action: str  # e.g. "quota.set", "block", "policy.update"
    target: str  # e.g. "user:123", "role:456", "channel:789", "guild", "task:12"
    target_user_id: int | None
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
    created_at: float


@dataclass(frozen=True)
class Change(Generic[T]):
    """What a moderator's change did, for the before → after confirmation."""

    before: T | None
    after: T | None
    audit_id: int | None  # None: nothing changed, nothing logged


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    kind: str
    guild_id: int | None
    user_id: int
    task_id: int | None
    tenths: int
    created_at: float
    pool_id: int | None = None  # reserved from this team pool (None: the member's own credits)


@dataclass(frozen=True)
class ModelStats:
    model: str
    requested: int
    delivered: int
    failed: int
    credits_tenths: int


@dataclass(frozen=True)
class DailyModelCount:
    day: str  # ISO date, UTC
    model: str
    requested: int
    delivered: int
    credits_tenths: int


@dataclass(frozen=True)
class DeliveredCombo:
    """Delivered videos of one (model, resolution, duration): what the API priced each of them at.

    Storage knows no prices; the caller multiplies by its price table, which is exact where
    ``credits × one credit's dollars`` would carry the rounding of credits to tenths.
    """

    model: str
    resolution: str | None
    duration: int | None
    delivered: int
    credits_tenths: int


@dataclass(frozen=True)
class UserSpend:
    user_id: int
    credits_tenths: int
    delivered: int


@dataclass(frozen=True)
class GuildStats:
    """Tasks requested in ``[since, until)``; credits are those charged for delivered ones."""

    since: float
    until: float
    requested: int
    delivered: int
    failed: int
    cancelled: int
    in_progress: int
    failed_by_reason: Mapping[str, int] = field(default_factory=dict)
    credits_charged_tenths: int = 0
    success_rate: float | None = None  # delivered / (delivered + failed); None before any finished
    median_generation_seconds: float | None = None
    per_model: tuple[ModelStats, ...] = ()
    daily: tuple[DailyModelCount, ...] = ()
    top_users: tuple[UserSpend, ...] = ()
    delivered_by_combo: tuple[DeliveredCombo, ...] = ()
