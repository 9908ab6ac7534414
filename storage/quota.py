"""Quota: the atomic reservation, refunds, usage and a moderator's fresh allowance.

The whole admission decision (pause, block, the member's tasks in flight, who pays: the member's
limit or a team pool, the guild cap, the operator's bot-wide ceiling) and the writes it
allows (task row + reserve row) run in one ``BEGIN IMMEDIATE`` transaction, so concurrent requests
(from coroutines or from other processes) cannot both see the same unused credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage import audit, ledger, pools
from storage.backend import Backend, Connection, fetch_one
from storage.checks import (
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_URL_CHARS,
    count,
    optional_int,
    optional_text,
    tenths,
    text,
)
from storage.errors import (
    ConstraintViolated,
    GuildCapReached,
    GuildPaused,
    IllegalTransition,
    InvalidValue,
    PoolExhausted,
    PoolNotUsable,
    QuotaExceeded,
    SpendLimitReached,
    TooManyInFlight,
    UserBlocked,
)
from storage.limits import best_role_limit_in, block_in, guild_default_in, override_in
from storage.models import (
    EDIT_KINDS,
    BotSpend,
    Change,
    Edit,
    GuildUsage,
    LedgerEntry,
    LimitSource,
    NewTask,
    Pool,
    SpendCeiling,
    Task,
    Usage,
)
from storage.periods import check_period, now_or, period_bounds
from storage.policy import policy_in
from storage.spec_columns import spec_to_columns
from storage.states import IN_FLIGHT_STATES, REFUNDING_STATES, TaskState
from storage.tasks import TASK_COLUMNS, load_task, row_to_task

MAX_TAKES = 4
"""The most takes one request may reserve together (``/video generate variations``)."""


@dataclass(frozen=True)
class QuotaDefaults:
    """The operator's limit (from the environment) for guilds that set none, and for DMs."""

    limit_tenths: int = 50
    period: str = "day"

    def __post_init__(self) -> None:
        tenths("default limit", self.limit_tenths)
        check_period(self.period)


@dataclass(frozen=True)
class _Limit:
    limit_tenths: int
    period: str
    source: LimitSource
    guild_period: str  # the period of the guild cap


def _check_new_task(task: NewTask) -> None:
    spec = task.spec
    # An image, first+last frame or subject request may have no prompt (the images say it all).
    text("prompt", spec.prompt, MAX_PROMPT_CHARS, allow_empty=bool(spec.media))
    text("model", spec.model, MAX_NAME_CHARS)
    tenths("cost", task.cost_tenths)
    optional_int("duration", spec.duration, minimum=1, maximum=3600)
    optional_text("resolution", spec.resolution, MAX_NAME_CHARS)
    for medium in spec.media:
        text(f"{medium.role.value}_url", medium.url, MAX_URL_CHARS)


async def _limit_in(
    conn: Connection, guild_id: int | None, user_id: int, role_ids: Sequence[int], defaults: QuotaDefaults
) -> _Limit:
    """Override > the highest of the member's roles > the guild default > the operator default."""
    if guild_id is None:
        return _Limit(defaults.limit_tenths, defaults.period, "default", defaults.period)
    guild = await guild_default_in(conn, guild_id)
    guild_period = guild.period if guild is not None else defaults.period
    override = await override_in(conn, guild_id, user_id)
    if override is not None:
        return _Limit(override.credits_tenths, override.period or guild_period, "override", guild_period)
    role_limit = await best_role_limit_in(conn, guild_id, role_ids)
    if role_limit is not None:
        return _Limit(role_limit, guild_period, "role", guild_period)
    if guild is not None:
        return _Limit(guild.credits_tenths, guild_period, "guild", guild_period)
    return _Limit(defaults.limit_tenths, defaults.period, "default", guild_period)


_IN_FLIGHT_SQL = ", ".join(f"'{state.value}'" for state in sorted(IN_FLIGHT_STATES))


async def _in_flight_in(conn: Connection, guild_id: int | None, user_id: int) -> int:
    """The member's tasks in this guild still queued or being worked on (index tasks_user)."""
    row = await fetch_one(
        conn,
        f"SELECT COUNT(*) FROM tasks WHERE user_id = ? AND guild_id IS ? AND state IN ({_IN_FLIGHT_SQL})",
        (user_id, guild_id),
    )
    assert row is not None
    return int(row[0])


def effective_cap(guild_cap: int | None, operator_cap: int | None) -> int | None:
    """The guild's own cap, never above the operator's most per guild (which also caps a guild
    that set none)."""
    if operator_cap is None:
        return guild_cap
    return operator_cap if guild_cap is None else min(guild_cap, operator_cap)


def _check_ceiling(ceiling: SpendCeiling | None) -> None:
    if ceiling is not None:
        tenths("spend limit", ceiling.limit_tenths)
        check_period(ceiling.period)


async def _usage_in(conn: Connection, guild_id: int | None, user_id: int, limit: _Limit, now: float) -> Usage:
    start, end = period_bounds(limit.period, now)
    used, pending = await ledger.user_usage(conn, guild_id, user_id, start, end)
    return Usage(used, limit.limit_tenths, limit.period, start, end, limit.source, pending)


class QuotaRepository:
    def __init__(self, db: Backend, defaults: QuotaDefaults | None = None) -> None:
        self._db = db
        self.defaults = defaults or QuotaDefaults()

    def _defaults(self, limit_tenths: int | None, period: str | None) -> QuotaDefaults:
        if limit_tenths is None and period is None:
            return self.defaults
        return QuotaDefaults(
            self.defaults.limit_tenths if limit_tenths is None else limit_tenths,
            self.defaults.period if period is None else period,
        )

    async def reserve(
        self,
        new_task: NewTask,
        *,
        role_ids: Sequence[int] = (),
        now: float | None = None,
        default_limit_tenths: int | None = None,
        default_period: str | None = None,
        spend_ceiling: SpendCeiling | None = None,
        max_in_flight: int | None = None,
        max_guild_cap_tenths: int | None = None,
        channel_ids: Sequence[int] = (),
        pool: str | None = None,
    ) -> Task:
        """Admit and record a request, or raise a :class:`ReservationRefused` and write nothing.

        ``role_ids`` are the member's roles (the caller knows them; storage knows no Discord).
        ``spend_ceiling`` is the operator's limit over every server together (``None``: none);
        ``max_in_flight`` caps the member's unfinished tasks in this guild (``None``: no cap);
        ``max_guild_cap_tenths`` is the operator's most per guild (a guild without a cap gets it).
        ``channel_ids`` are where the member asks (the channel, and a thread's parent): with their
        roles they decide which team pools they may use. ``pool`` names the one pool to pay from
        (nothing else is tried); without it the payer is chosen by :func:`_payer_in`.
        The task is created ``queued`` with its cost reserved against its payer and the guild.
        """
        (task,) = await self.reserve_group(
            new_task,
            takes=1,
            role_ids=role_ids,
            now=now,
            default_limit_tenths=default_limit_tenths,
            default_period=default_period,
            spend_ceiling=spend_ceiling,
            max_in_flight=max_in_flight,
            max_guild_cap_tenths=max_guild_cap_tenths,
            channel_ids=channel_ids,
            pool=pool,
        )
        return task

    async def reserve_group(
        self,
        new_task: NewTask,
        *,
        takes: int,
        role_ids: Sequence[int] = (),
        now: float | None = None,
        default_limit_tenths: int | None = None,
        default_period: str | None = None,
        spend_ceiling: SpendCeiling | None = None,
        max_in_flight: int | None = None,
        max_guild_cap_tenths: int | None = None,
        channel_ids: Sequence[int] = (),
        pool: str | None = None,
    ) -> list[Task]:
        """:meth:`reserve` for ``takes`` tasks of the same request, all or none, in one transaction.

        Every limit is checked against the sum (``takes`` × the cost; ``takes`` more tasks in
        flight), and one payer pays for all of them: a pool with room for every take, else the
        member's own credits. With ``takes`` > 1 the tasks form a group (``group_id`` is the first
        take's id; ``take`` 1…N); one take is a task alone, exactly as :meth:`reserve` makes it.
        """
        _check_new_task(new_task)
        _check_ceiling(spend_ceiling)
        count("takes", takes, minimum=1, maximum=MAX_TAKES)
        if max_in_flight is not None:
            optional_int("max in flight", max_in_flight, minimum=1, maximum=1_000_000)
        defaults = self._defaults(default_limit_tenths, default_period)
        moment = now_or(now)
        guild_id, user_id = new_task.guild_id, new_task.user_id
        cost = new_task.cost_tenths * takes  # what the limits are checked against: every take
        async with self._db.transaction() as conn:
            limit = await _limit_in(conn, guild_id, user_id, role_ids, defaults)
            policy = None
            if guild_id is not None:
                policy = await policy_in(conn, guild_id)
                if policy.paused:
                    raise GuildPaused(policy.pause_reason)
                block = await block_in(conn, guild_id, user_id)
                if block is not None:
                    raise UserBlocked(block.reason)
            if max_in_flight is not None:
                in_flight = await _in_flight_in(conn, guild_id, user_id)
                if in_flight + takes > max_in_flight:
                    raise TooManyInFlight(in_flight, max_in_flight, asked=takes)
            access = pools.PoolAccess(tuple(role_ids), tuple(channel_ids))
            payer = await _payer_in(conn, new_task, cost, limit, access, pool, moment)
            cap = None if policy is None else effective_cap(policy.cap_tenths, max_guild_cap_tenths)
            if guild_id is not None and cap is not None:
                start, end = period_bounds(limit.guild_period, moment)
                guild_used = await ledger.guild_usage(conn, guild_id, start, end)
                if guild_used + cost > cap:
                    raise GuildCapReached(guild_used, cap, cost, limit.guild_period, end)
            if spend_ceiling is not None:
                spend = await _bot_spend_in(conn, spend_ceiling, moment)
                if spend.used_tenths + cost > spend.limit_tenths:
                    raise SpendLimitReached(
                        spend.used_tenths, spend.limit_tenths, cost, spend.period, spend.resets_at
                    )
            made: list[Task] = []
            for take in range(1, takes + 1):
                group = None if takes == 1 else _Take(made[0].id if made else None, take, takes)
                task = await _insert_task(conn, new_task, moment, payer, group)
                await ledger.add_reserve(
                    conn,
                    task_id=task.id,
                    guild_id=guild_id,
                    user_id=user_id,
                    tenths=new_task.cost_tenths,
                    now=moment,
                    pool_id=None if payer is None else payer.id,
                )
                made.append(task)
            if takes > 1:  # the first take names the group too (its own id, known once inserted)
                row = await fetch_one(
                    conn,
                    f"UPDATE tasks SET group_id = id WHERE id = ? RETURNING {', '.join(TASK_COLUMNS)}",
                    (made[0].id,),
                )
                assert row is not None
                made[0] = row_to_task(row)
            return made

    async def refund(self, task_id: int, *, now: float | None = None) -> bool:
        """Make sure a failed or cancelled task's credits are back; ``True`` if this call gave them.

        Moving a task to failed/cancelled already refunds; this is the idempotent repair path and
        may be called any number of times. A task still running or delivered is refused.
        """
        async with self._db.transaction() as conn:
            task = await load_task(conn, task_id)
            if task.state not in REFUNDING_STATES:
                raise IllegalTransition(task_id, task.state, "refunded")
            return await ledger.add_refund(conn, task_id, now_or(now))

    async def usage(
        self,
        guild_id: int | None,
        user_id: int,
        *,
        role_ids: Sequence[int] = (),
        now: float | None = None,
        default_limit_tenths: int | None = None,
        default_period: str | None = None,
    ) -> Usage:
        """What the member has used and may still use in the current period, and why that limit."""
        defaults = self._defaults(default_limit_tenths, default_period)
        moment = now_or(now)
        async with self._db.snapshot() as conn:
            limit = await _limit_in(conn, guild_id, user_id, role_ids, defaults)
            return await _usage_in(conn, guild_id, user_id, limit, moment)

    async def guild_usage(
        self,
        guild_id: int,
        *,
        now: float | None = None,
        default_period: str | None = None,
        max_guild_cap_tenths: int | None = None,
    ) -> GuildUsage:
        """The guild's spending in its period, against its cap (``None``: no cap), the operator's
        maximum included as :meth:`reserve` applies it."""
        defaults = self._defaults(None, default_period)
        moment = now_or(now)
        async with self._db.snapshot() as conn:
            guild = await guild_default_in(conn, guild_id)
            period = guild.period if guild is not None else defaults.period
            start, end = period_bounds(period, moment)
            used = await ledger.guild_usage(conn, guild_id, start, end)
            policy = await policy_in(conn, guild_id)
        return GuildUsage(used, effective_cap(policy.cap_tenths, max_guild_cap_tenths), period, start, end)

    async def bot_spend(self, ceiling: SpendCeiling, *, now: float | None = None) -> BotSpend:
        """The whole bot's spending (every server and DM) in the ceiling's period, against it."""
        _check_ceiling(ceiling)
        async with self._db.read() as conn:
            return await _bot_spend_in(conn, ceiling, now_or(now))

    async def grant_fresh_allowance(
        self,
        guild_id: int,
        user_id: int,
        *,
        actor_id: int,
        now: float | None = None,
        default_period: str | None = None,
    ) -> Change[int]:
        """A moderator's reset: what the member used this period stops counting (before → 0).

        Unlike clearing an override this keeps the member's limit; it forgives usage. It does not
        lower the guild's spending against its cap: those credits were really spent.
        """
        defaults = self._defaults(None, default_period)
        moment = now_or(now)
        async with self._db.transaction() as conn:
            limit = await _limit_in(conn, guild_id, user_id, (), defaults)
            start, end = period_bounds(limit.period, moment)
            used, _pending = await ledger.user_usage(conn, guild_id, user_id, start, end)
            await ledger.add_grant(conn, guild_id=guild_id, user_id=user_id, forgiven_tenths=used, now=moment)
            audit_id = await audit.record(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.grant",
                target=f"user:{user_id}",
                target_user_id=user_id,
                before={"used_tenths": used, "period": limit.period},
                after={"used_tenths": 0, "period": limit.period},
                now=moment,
            )
        return Change(used, 0, audit_id)

    async def entries_for_task(self, task_id: int) -> list[LedgerEntry]:
        async with self._db.read() as conn:
            return await ledger.entries_for_task(conn, task_id)


async def _pool_fits(conn: Connection, pool: Pool, cost: int, now: float) -> PoolExhausted | None:
    """``None`` when the pool has ``cost`` left this period; else the refusal naming what it has."""
    usage = await pools.usage_in(conn, pool, now)
    if usage.used_tenths + cost <= pool.credits_tenths:
        return None
    return PoolExhausted(
        pool.name, usage.used_tenths, pool.credits_tenths, cost, pool.period, usage.resets_at
    )


async def _payer_in(
    conn: Connection,
    task: NewTask,
    cost: int,
    limit: _Limit,
    access: pools.PoolAccess,
    named: str | None,
    now: float,
) -> Pool | None:
    """Who pays ``cost`` for ``task`` (every take of it): a team pool, or ``None`` for the member's
    own credits.

    A named pool is the only one tried, and must be one the member may use. Otherwise: the member's
    default pool (:func:`storage.pools.choose_order`), their own credits, then their other pools by
    name; the first with enough left pays. Raises the refusal of the named pool, or of the member's
    own credits (naming the pools that had too little too).
    """
    guild_id = task.guild_id
    if named is not None:
        pool = None if guild_id is None else await pools.pool_named_in(conn, guild_id, named)
        if pool is None:
            raise PoolNotUsable(named)
        if not access.may_use(pool):
            raise PoolNotUsable(named, pool.role_id, pool.channel_id)
        refusal = await _pool_fits(conn, pool, cost, now)
        if refusal is not None:
            raise refusal
        return pool
    usable: list[Pool] = []
    default = None
    if guild_id is not None:
        usable = [p for p in await pools.pools_in(conn, guild_id) if access.may_use(p)]
        default = await pools.default_in(conn, guild_id, task.user_id) if usable else None
    before, after = pools.choose_order(usable, default)
    for pool in before:
        if await _pool_fits(conn, pool, cost, now) is None:
            return pool
    usage = await _usage_in(conn, guild_id, task.user_id, limit, now)
    if usage.used_tenths + cost <= usage.limit_tenths:
        return None
    for pool in after:
        if await _pool_fits(conn, pool, cost, now) is None:
            return pool
    raise QuotaExceeded(
        usage.used_tenths,
        usage.limit_tenths,
        cost,
        usage.period,
        usage.resets_at,
        pools=tuple(p.name for p in usable),
    )


async def _bot_spend_in(conn: Connection, ceiling: SpendCeiling, now: float) -> BotSpend:
    start, end = period_bounds(ceiling.period, now)
    used = await ledger.bot_usage(conn, start, end)
    return BotSpend(used, ceiling.limit_tenths, ceiling.period, start, end)


@dataclass(frozen=True)
class _Take:
    """Which take of a group a task is: the group (the first take's id; None for the first take,
    whose id is not known before it is inserted), its number and how many."""

    group_id: int | None
    take: int
    takes: int


async def _insert_task(
    conn: Connection, task: NewTask, now: float, payer: Pool | None = None, group: _Take | None = None
) -> Task:
    try:
        return await _insert_task_row(conn, task, now, payer, group)
    except ConstraintViolated:
        if task.regenerated_from is not None:
            raise InvalidValue(
                "regenerated_from", f"is not a known task ({task.regenerated_from})."
            ) from None
        if task.edit is not None:
            raise InvalidValue("edit_of", f"is not a known task ({task.edit.of}).") from None
        raise


def _edit_columns(edit: Edit | None) -> dict[str, object]:
    if edit is None:
        return {}
    if edit.kind not in EDIT_KINDS:
        raise InvalidValue("edit_kind", f"must be one of {', '.join(EDIT_KINDS)} (got {edit.kind!r}).")
    return {
        "edit_of": edit.of,
        "edit_kind": edit.kind,
        "edit_of_user_id": optional_int("edit_of_user_id", edit.of_user_id),
        "edit_of_message_id": optional_int("edit_of_message_id", edit.of_message_id),
    }


async def _insert_task_row(
    conn: Connection, task: NewTask, now: float, payer: Pool | None, group: _Take | None
) -> Task:
    values: dict[str, object] = {
        "guild_id": task.guild_id,
        "channel_id": task.channel_id,
        "user_id": task.user_id,
        **spec_to_columns(task.spec),
        "cost_tenths": task.cost_tenths,
        "state": TaskState.QUEUED.value,
        "attempts": 0,
        "created_at": now,
        "deliver_by_dm": int(task.deliver_by_dm),
        "regenerated_from": task.regenerated_from,
        "upload_limit": optional_int("upload_limit", task.upload_limit, minimum=1),
        **_edit_columns(task.edit),
        "pool_id": None if payer is None else payer.id,
        "pool_name": None if payer is None else payer.name,
        "locale": optional_text("locale", task.locale, MAX_NAME_CHARS),
    }
    if group is not None:
        values.update(group_id=group.group_id, take=group.take, takes=group.takes)
    row = await fetch_one(
        conn,
        f"INSERT INTO tasks ({', '.join(values)}) VALUES ({', '.join(f':{c}' for c in values)}) "
        f"RETURNING {', '.join(TASK_COLUMNS)}",
        values,
    )
    assert row is not None  # RETURNING always yields the inserted row
    return row_to_task(row)
