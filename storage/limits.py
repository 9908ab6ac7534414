"""Who may spend how much: guild defaults, role limits, member overrides and blocks.

Each change takes the moderator's id and writes its audit row in the same transaction. A change
that changes nothing writes no audit row and returns ``audit_id=None``.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage import audit
from storage.backend import Backend, Connection, Row, fetch_all, fetch_one
from storage.checks import MAX_REASON_CHARS, optional_text, tenths
from storage.models import Block, Change, GuildDefault, RoleLimit, UserOverride
from storage.periods import check_period, now_or


async def guild_default_in(conn: Connection, guild_id: int) -> GuildDefault | None:
    row = await fetch_one(
        conn, "SELECT credits_tenths, period FROM guild_limits WHERE guild_id = ?", (guild_id,)
    )
    return None if row is None else GuildDefault(row["credits_tenths"], row["period"])


async def override_in(conn: Connection, guild_id: int, user_id: int) -> UserOverride | None:
    row = await fetch_one(
        conn,
        "SELECT user_id, credits_tenths, period FROM user_overrides WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )
    return None if row is None else UserOverride(row["user_id"], row["credits_tenths"], row["period"])


async def best_role_limit_in(conn: Connection, guild_id: int, role_ids: Sequence[int]) -> int | None:
    """The highest limit among the member's roles: a member gets their most generous role."""
    if not role_ids:
        return None
    marks = ", ".join("?" for _ in role_ids)
    row = await fetch_one(
        conn,
        f"SELECT MAX(credits_tenths) FROM role_limits WHERE guild_id = ? AND role_id IN ({marks})",
        (guild_id, *role_ids),
    )
    return None if row is None or row[0] is None else int(row[0])


async def block_in(conn: Connection, guild_id: int, user_id: int) -> Block | None:
    row = await fetch_one(
        conn,
        "SELECT user_id, reason, blocked_by, created_at FROM blocks WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )
    return None if row is None else _block(row)


def _block(row: Row) -> Block:
    return Block(row["user_id"], row["reason"], row["blocked_by"], row["created_at"])


class LimitsRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    # -- guild default ---------------------------------------------------------------------------

    async def guild_default(self, guild_id: int) -> GuildDefault | None:
        async with self._db.read() as conn:
            return await guild_default_in(conn, guild_id)

    async def set_guild_default(
        self, guild_id: int, credits_tenths: int, period: str, *, actor_id: int, now: float | None = None
    ) -> Change[GuildDefault]:
        after = GuildDefault(tenths("credits", credits_tenths), check_period(period))
        async with self._db.transaction() as conn:
            before = await guild_default_in(conn, guild_id)
            await conn.execute(
                "INSERT INTO guild_limits (guild_id, credits_tenths, period) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET credits_tenths = excluded.credits_tenths, "
                "period = excluded.period",
                (guild_id, after.credits_tenths, after.period),
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.default",
                target="guild",
                target_user_id=None,
                before=before,
                after=after,
                now=now_or(now),
            )

    # -- roles -----------------------------------------------------------------------------------

    async def role_limits(self, guild_id: int) -> list[RoleLimit]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT role_id, credits_tenths FROM role_limits WHERE guild_id = ? "
                "ORDER BY credits_tenths DESC, role_id",
                (guild_id,),
            )
        return [RoleLimit(r["role_id"], r["credits_tenths"]) for r in rows]

    async def set_role_limit(
        self, guild_id: int, role_id: int, credits_tenths: int, *, actor_id: int, now: float | None = None
    ) -> Change[RoleLimit]:
        after = RoleLimit(role_id, tenths("credits", credits_tenths))
        async with self._db.transaction() as conn:
            before = await self._role_in(conn, guild_id, role_id)
            await conn.execute(
                "INSERT INTO role_limits (guild_id, role_id, credits_tenths) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, role_id) DO UPDATE SET credits_tenths = excluded.credits_tenths",
                (guild_id, role_id, after.credits_tenths),
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.role",
                target=f"role:{role_id}",
                target_user_id=None,
                before=before,
                after=after,
                now=now_or(now),
            )

    async def clear_role_limit(
        self, guild_id: int, role_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[RoleLimit]:
        async with self._db.transaction() as conn:
            before = await self._role_in(conn, guild_id, role_id)
            await conn.execute(
                "DELETE FROM role_limits WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.role_clear",
                target=f"role:{role_id}",
                target_user_id=None,
                before=before,
                after=None,
                now=now_or(now),
            )

    @staticmethod
    async def _role_in(conn: Connection, guild_id: int, role_id: int) -> RoleLimit | None:
        row = await fetch_one(
            conn,
            "SELECT credits_tenths FROM role_limits WHERE guild_id = ? AND role_id = ?",
            (guild_id, role_id),
        )
        return None if row is None else RoleLimit(role_id, row["credits_tenths"])

    # -- member overrides ------------------------------------------------------------------------

    async def override(self, guild_id: int, user_id: int) -> UserOverride | None:
        async with self._db.read() as conn:
            return await override_in(conn, guild_id, user_id)

    async def overrides(self, guild_id: int) -> list[UserOverride]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT user_id, credits_tenths, period FROM user_overrides WHERE guild_id = ? "
                "ORDER BY user_id",
                (guild_id,),
            )
        return [UserOverride(r["user_id"], r["credits_tenths"], r["period"]) for r in rows]

    async def set_override(
        self,
        guild_id: int,
        user_id: int,
        credits_tenths: int,
        period: str | None = None,
        *,
        actor_id: int,
        now: float | None = None,
    ) -> Change[UserOverride]:
        """A member's own limit, above any role; ``period=None`` keeps the guild's period."""
        after = UserOverride(
            user_id, tenths("credits", credits_tenths), None if period is None else check_period(period)
        )
        async with self._db.transaction() as conn:
            before = await override_in(conn, guild_id, user_id)
            await conn.execute(
                "INSERT INTO user_overrides (guild_id, user_id, credits_tenths, period) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET credits_tenths = excluded.credits_tenths, "
                "period = excluded.period",
                (guild_id, user_id, after.credits_tenths, after.period),
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.set",
                target=f"user:{user_id}",
                target_user_id=user_id,
                before=before,
                after=after,
                now=now_or(now),
            )

    async def clear_override(
        self, guild_id: int, user_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[UserOverride]:
        async with self._db.transaction() as conn:
            before = await override_in(conn, guild_id, user_id)
            await conn.execute(
                "DELETE FROM user_overrides WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="quota.clear",
                target=f"user:{user_id}",
                target_user_id=user_id,
                before=before,
                after=None,
                now=now_or(now),
            )

    # -- blocks ----------------------------------------------------------------------------------

    async def blocked(self, guild_id: int, user_id: int) -> Block | None:
        async with self._db.read() as conn:
            return await block_in(conn, guild_id, user_id)

    async def is_blocked(self, guild_id: int, user_id: int) -> bool:
        return await self.blocked(guild_id, user_id) is not None

    async def blocks(self, guild_id: int) -> list[Block]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT user_id, reason, blocked_by, created_at FROM blocks WHERE guild_id = ? "
                "ORDER BY created_at, user_id",
                (guild_id,),
            )
        return [_block(r) for r in rows]

    async def block(
        self,
        guild_id: int,
        user_id: int,
        reason: str | None = None,
        *,
        actor_id: int,
        now: float | None = None,
    ) -> Change[Block]:
        moment = now_or(now)
        reason = optional_text("reason", reason, MAX_REASON_CHARS)
        async with self._db.transaction() as conn:
            before = await block_in(conn, guild_id, user_id)
            await conn.execute(
                "INSERT INTO blocks (guild_id, user_id, reason, blocked_by, created_at) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, "
                "blocked_by = excluded.blocked_by, created_at = excluded.created_at",
                (guild_id, user_id, reason, actor_id, moment),
            )
            after = Block(user_id, reason, actor_id, moment)
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="block",
                target=f"user:{user_id}",
                target_user_id=user_id,
                before=before,
                after=after,
                now=moment,
            )

    async def unblock(
        self, guild_id: int, user_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[Block]:
        async with self._db.transaction() as conn:
            before = await block_in(conn, guild_id, user_id)
            await conn.execute("DELETE FROM blocks WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="unblock",
                target=f"user:{user_id}",
                target_user_id=user_id,
                before=before,
                after=None,
                now=now_or(now),
            )
