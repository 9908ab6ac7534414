"""Team credit pools: a guild's shared allowances, who may spend from them, and their spending.

A pool belongs to one guild and is used by the members who have its role **or** ask in its channel
(:meth:`PoolAccess.may_use`, the one rule; the reservation in :mod:`storage.quota` and every list a
member sees apply it). Its spending is the ledger's (:func:`storage.ledger.pool_usage`): reserved on
accept, charged on delivery, refunded on failure, counted in the pool's own UTC period.

Moderator changes write their audit row in the same transaction. A deleted pool keeps its row
(``deleted_at``) so the tasks and ledger rows that name it stay whole; only pools not deleted are
found by name, listed, or used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from storage import audit, ledger
from storage.backend import Backend, Connection, Row, fetch_all, fetch_one, insert
from storage.checks import optional_int, tenths
from storage.errors import InvalidValue
from storage.models import Change, Pool, PoolUsage
from storage.periods import check_period, now_or, period_bounds
from storage.policy import UNSET, _Unset

# Lowercase letters, digits, "-" and "_", like a Discord option value a member types: a name needs
# no escaping in a card or a mention-free reply, and "Design" and "design" cannot both exist.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_POOLS_PER_GUILD = 25  # what one autocomplete list shows
_COLUMNS = "id, guild_id, name, credits_tenths, period, role_id, channel_id"
_LIVE = "deleted_at IS NULL"


def check_name(name: object) -> str:
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise InvalidValue(
            "name", "must be 1 to 32 lowercase letters, digits, - or _, starting with a letter or digit."
        )
    return name


@dataclass(frozen=True)
class PoolAccess:
    """What decides which pools a member may use: their roles and where they ask (the channel and,
    in a thread, its parent)."""

    role_ids: tuple[int, ...] = ()
    channel_ids: tuple[int, ...] = ()

    def may_use(self, pool: Pool) -> bool:
        return (pool.role_id is not None and pool.role_id in self.role_ids) or (
            pool.channel_id is not None and pool.channel_id in self.channel_ids
        )


def _pool(row: Row) -> Pool:
    return Pool(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        credits_tenths=row["credits_tenths"],
        period=row["period"],
        role_id=row["role_id"],
        channel_id=row["channel_id"],
    )


def _check(pool: Pool) -> Pool:
    check_name(pool.name)
    tenths("credits", pool.credits_tenths)
    check_period(pool.period)
    optional_int("role_id", pool.role_id)
    optional_int("channel_id", pool.channel_id)
    if pool.role_id is None and pool.channel_id is None:
        raise InvalidValue("pool", "needs a role or a channel (or both): who may spend from it.")
    return pool


async def pool_named_in(conn: Connection, guild_id: int, name: str) -> Pool | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM pools WHERE guild_id = ? AND name = ? AND {_LIVE}", (guild_id, name)
    )
    return None if row is None else _pool(row)


async def pools_in(conn: Connection, guild_id: int) -> list[Pool]:
    """The guild's pools, by name: the documented order in which they are tried."""
    rows = await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM pools WHERE guild_id = ? AND {_LIVE} ORDER BY name", (guild_id,)
    )
    return [_pool(r) for r in rows]


async def usage_in(conn: Connection, pool: Pool, now: float) -> PoolUsage:
    start, end = period_bounds(pool.period, now)
    used, pending = await ledger.pool_usage(conn, pool.id, start, end)
    return PoolUsage(pool, used, pending, start, end)


async def default_in(conn: Connection, guild_id: int, user_id: int) -> Pool | None:
    """The member's default pool here, unless it was deleted since."""
    row = await fetch_one(
        conn,
        f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} FROM pool_defaults d "
        "JOIN pools p ON p.id = d.pool_id WHERE d.guild_id = ? AND d.user_id = ? AND p.deleted_at IS NULL",
        (guild_id, user_id),
    )
    return None if row is None else _pool(row)


class PoolRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    # -- what members and moderators read ---------------------------------------------------------

    async def get(self, guild_id: int, name: str, *, now: float | None = None) -> PoolUsage | None:
        async with self._db.snapshot() as conn:
            pool = await pool_named_in(conn, guild_id, name)
            return None if pool is None else await usage_in(conn, pool, now_or(now))

    async def all(self, guild_id: int, *, now: float | None = None) -> list[PoolUsage]:
        moment = now_or(now)
        async with self._db.snapshot() as conn:
            return [await usage_in(conn, pool, moment) for pool in await pools_in(conn, guild_id)]

    async def usable(self, guild_id: int, access: PoolAccess, *, now: float | None = None) -> list[PoolUsage]:
        """The pools this member may spend from here, by name, with what is left in each."""
        moment = now_or(now)
        async with self._db.snapshot() as conn:
            return [
                await usage_in(conn, pool, moment)
                for pool in await pools_in(conn, guild_id)
                if access.may_use(pool)
            ]

    # -- a member's default -----------------------------------------------------------------------

    async def default(self, guild_id: int, user_id: int) -> Pool | None:
        async with self._db.read() as conn:
            return await default_in(conn, guild_id, user_id)

    async def set_default(self, guild_id: int, user_id: int, name: str | None) -> Pool | None:
        """The member's default pool here (``None``: none). The caller checked they may use it."""
        async with self._db.transaction() as conn:
            if name is None:
                await conn.execute(
                    "DELETE FROM pool_defaults WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
                )
                return None
            pool = await pool_named_in(conn, guild_id, check_name(name))
            if pool is None:
                raise InvalidValue("pool", f"{name!r} is not a pool of this server.")
            await conn.execute(
                "INSERT INTO pool_defaults (guild_id, user_id, pool_id) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET pool_id = excluded.pool_id",
                (guild_id, user_id, pool.id),
            )
            return pool

    # -- moderator changes --------------------------------------------------------------------------

    async def create(
        self,
        guild_id: int,
        name: str,
        credits_tenths: int,
        period: str,
        *,
        role_id: int | None,
        channel_id: int | None,
        actor_id: int,
        now: float | None = None,
    ) -> Change[Pool]:
        moment = now_or(now)
        draft = _check(Pool(0, guild_id, name, credits_tenths, period, role_id, channel_id))
        async with self._db.transaction() as conn:
            if await pool_named_in(conn, guild_id, name) is not None:
                raise InvalidValue("name", f"{name!r} is already a pool of this server.")
            if len(await pools_in(conn, guild_id)) >= MAX_POOLS_PER_GUILD:
                raise InvalidValue(
                    "pool", f"cannot be made: a server has at most {MAX_POOLS_PER_GUILD} pools."
                )
            pool_id = await insert(
                conn,
                "INSERT INTO pools (guild_id, name, credits_tenths, period, role_id, channel_id, "
                "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, name, credits_tenths, period, role_id, channel_id, actor_id, moment),
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="pool.create",
                target=f"pool:{name}",
                before=None,
                after=replace(draft, id=pool_id),
                now=moment,
            )

    async def update(
        self,
        guild_id: int,
        name: str,
        *,
        credits_tenths: int | _Unset = UNSET,
        period: str | _Unset = UNSET,
        role_id: int | _Unset | None = UNSET,
        channel_id: int | _Unset | None = UNSET,
        actor_id: int,
        now: float | None = None,
    ) -> Change[Pool]:
        """Change what is given (``UNSET``: keep it; ``None`` role/channel: clear it)."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            before = await pool_named_in(conn, guild_id, name)
            if before is None:
                raise InvalidValue("name", f"{name!r} is not a pool of this server.")
            after = before
            if not isinstance(credits_tenths, _Unset):
                after = replace(after, credits_tenths=credits_tenths)
            if not isinstance(period, _Unset):
                after = replace(after, period=period)
            if not isinstance(role_id, _Unset):
                after = replace(after, role_id=role_id)
            if not isinstance(channel_id, _Unset):
                after = replace(after, channel_id=channel_id)
            _check(after)
            await conn.execute(
                "UPDATE pools SET credits_tenths = ?, period = ?, role_id = ?, channel_id = ? WHERE id = ?",
                (after.credits_tenths, after.period, after.role_id, after.channel_id, after.id),
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="pool.set",
                target=f"pool:{name}",
                before=before,
                after=after,
                now=moment,
            )

    async def delete(
        self, guild_id: int, name: str, *, actor_id: int, now: float | None = None
    ) -> Change[Pool]:
        """No new reservation from it; the ones it holds are still charged or refunded to it."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            before = await pool_named_in(conn, guild_id, name)
            if before is None:
                raise InvalidValue("name", f"{name!r} is not a pool of this server.")
            await conn.execute("UPDATE pools SET deleted_at = ? WHERE id = ?", (moment, before.id))
            await conn.execute("DELETE FROM pool_defaults WHERE pool_id = ?", (before.id,))
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="pool.delete",
                target=f"pool:{name}",
                before=before,
                after=None,
                now=moment,
            )


def choose_order(usable: Sequence[Pool], default: Pool | None) -> tuple[list[Pool], list[Pool]]:
    """The pools tried when none is named: ``(before personal credits, after them)``. The member's
    default pool (if they may still use it) comes first, then their own credits, then the others by
    name."""
    first = [p for p in usable if default is not None and p.id == default.id]
    return first, [p for p in usable if p not in first]
