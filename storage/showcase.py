"""The showcase: the server's channel for shared videos, the posts made there and members' votes.

"Once per video" and "one vote per member" are primary keys, not checks in code, so two clicks at
the same instant cannot post twice or count twice. A share is claimed (a row without a message)
before it is posted and completed after; a claim whose post never came (the post failed, or the bot
died in between) is released or, once stale, taken over by the next share.
Votes are rows, so they survive restarts; a post a moderator removed stays removed, and its votes
stop counting in the rankings.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import audit
from storage.backend import Backend, Connection, Row, execute, fetch_all, fetch_int, fetch_one, upsert_sql
from storage.models import Change
from storage.periods import now_or

# A claim this old without its post is from a share that died half-way: the next share may take it.
STALE_CLAIM_SECONDS = 600.0
MAX_TOP = 25


@dataclass(frozen=True)
class Showcase:
    channel_id: int
    is_forum: bool


@dataclass(frozen=True)
class ShowcasePost:
    task_id: int
    guild_id: int
    channel_id: int | None  # None while claimed and not yet posted
    message_id: int | None
    shared_by: int
    shared_at: float
    removed_by: int | None = None
    removed_at: float | None = None

    @property
    def posted(self) -> bool:
        return self.message_id is not None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


@dataclass(frozen=True)
class ClaimResult:
    """``claimed``: this caller now owns the share and must post it (then :meth:`completed`);
    otherwise ``existing`` is the post (or fresh claim) that was there first."""

    claimed: bool
    existing: ShowcasePost | None = None


@dataclass(frozen=True)
class Vote:
    voted: bool  # the member's vote after the toggle
    count: int


@dataclass(frozen=True)
class TopEntry:
    task_id: int
    user_id: int
    prompt: str
    model: str
    guild_id: int
    channel_id: int
    message_id: int
    votes: int
    shared_at: float


_POST_COLUMNS = "task_id, guild_id, channel_id, message_id, shared_by, shared_at, removed_by, removed_at"


def _post(row: Row | None) -> ShowcasePost | None:
    if row is None:
        return None
    return ShowcasePost(
        task_id=row["task_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        shared_by=row["shared_by"],
        shared_at=row["shared_at"],
        removed_by=row["removed_by"],
        removed_at=row["removed_at"],
    )


async def _post_in(conn: Connection, task_id: int) -> ShowcasePost | None:
    return _post(
        await fetch_one(conn, f"SELECT {_POST_COLUMNS} FROM showcase_posts WHERE task_id = ?", (task_id,))
    )


async def _showcase_in(conn: Connection, guild_id: int) -> Showcase | None:
    row = await fetch_one(conn, "SELECT channel_id, is_forum FROM showcases WHERE guild_id = ?", (guild_id,))
    return None if row is None else Showcase(row["channel_id"], bool(row["is_forum"]))


class ShowcaseRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    # -- the channel -------------------------------------------------------------------------------

    async def get(self, guild_id: int) -> Showcase | None:
        async with self._db.read() as conn:
            return await _showcase_in(conn, guild_id)

    async def set(
        self, guild_id: int, channel_id: int, *, is_forum: bool, actor_id: int, now: float | None = None
    ) -> Change[Showcase]:
        """Make ``channel_id`` the guild's showcase (audited); posts made earlier stay where they are."""
        moment = now_or(now)
        after = Showcase(channel_id, is_forum)
        async with self._db.transaction() as conn:
            before = await _showcase_in(conn, guild_id)
            if before != after:
                await execute(
                    conn,
                    upsert_sql("showcases", ("guild_id",), ("channel_id", "is_forum", "set_by", "set_at")),
                    (guild_id, channel_id, int(is_forum), actor_id, moment),
                )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="showcase.set",
                target=f"channel:{channel_id}",
                before=before,
                after=after,
                now=moment,
            )

    # -- posts -------------------------------------------------------------------------------------

    async def post(self, task_id: int) -> ShowcasePost | None:
        async with self._db.read() as conn:
            return await _post_in(conn, task_id)

    async def claim(
        self, task_id: int, guild_id: int, *, shared_by: int, now: float | None = None
    ) -> ClaimResult:
        """Take the right to post ``task_id`` (once per video); a stale, unposted claim is taken over."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            existing = await _post_in(conn, task_id)
            if existing is not None:
                stale = not existing.posted and moment - existing.shared_at >= STALE_CLAIM_SECONDS
                if not stale:
                    return ClaimResult(False, existing)
                await execute(conn, "DELETE FROM showcase_posts WHERE task_id = ?", (task_id,))
            await execute(
                conn,
                "INSERT INTO showcase_posts (task_id, guild_id, shared_by, shared_at) VALUES (?, ?, ?, ?)",
                (task_id, guild_id, shared_by, moment),
            )
        return ClaimResult(True)

    async def completed(self, task_id: int, channel_id: int, message_id: int) -> None:
        """The claimed share was posted: record where, so votes and rankings can link to it."""
        async with self._db.transaction() as conn:
            await execute(
                conn,
                "UPDATE showcase_posts SET channel_id = ?, message_id = ? WHERE task_id = ?",
                (channel_id, message_id, task_id),
            )

    async def release(self, task_id: int) -> None:
        """The claimed share could not be posted: the next click may try again."""
        async with self._db.transaction() as conn:
            await execute(
                conn, "DELETE FROM showcase_posts WHERE task_id = ? AND message_id IS NULL", (task_id,)
            )

    async def remove(self, task_id: int, *, actor_id: int, now: float | None = None) -> Change[ShowcasePost]:
        """A moderator takes a post down (audited); it is not shared again and its votes stop counting."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            before = await _post_in(conn, task_id)
            if before is None or before.removed:
                return Change(before, before, None)
            await execute(
                conn,
                "UPDATE showcase_posts SET removed_by = ?, removed_at = ? WHERE task_id = ?",
                (actor_id, moment, task_id),
            )
            after = await _post_in(conn, task_id)
            return await audit.record_change(
                conn,
                guild_id=before.guild_id,
                actor_id=actor_id,
                action="showcase.remove",
                target=f"task:{task_id}",
                before=before,
                after=after,
                now=moment,
            )

    # -- votes -------------------------------------------------------------------------------------

    async def toggle_vote(self, task_id: int, user_id: int, *, now: float | None = None) -> Vote | None:
        """Add the member's vote, or take it back if they had one; None when there is no live post."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            post = await _post_in(conn, task_id)
            if post is None or not post.posted or post.removed:
                return None
            removed = await execute(
                conn, "DELETE FROM showcase_votes WHERE task_id = ? AND user_id = ?", (task_id, user_id)
            )
            voted = removed == 0
            if voted:
                await execute(
                    conn,
                    "INSERT INTO showcase_votes (task_id, user_id, voted_at) VALUES (?, ?, ?)",
                    (task_id, user_id, moment),
                )
            count = await fetch_int(conn, "SELECT COUNT(*) FROM showcase_votes WHERE task_id = ?", (task_id,))
        return Vote(voted, count)

    async def votes(self, task_id: int) -> int:
        async with self._db.read() as conn:
            return await fetch_int(conn, "SELECT COUNT(*) FROM showcase_votes WHERE task_id = ?", (task_id,))

    async def top(self, guild_id: int, since: float, *, limit: int = 10) -> list[TopEntry]:
        """The most-voted live posts shared since ``since``, most votes first (earlier share on a tie)."""
        limit = max(1, min(limit, MAX_TOP))
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT p.task_id, t.user_id, t.prompt, t.model, p.guild_id, p.channel_id, p.message_id, "
                "p.shared_at, (SELECT COUNT(*) FROM showcase_votes v WHERE v.task_id = p.task_id) AS votes "
                "FROM showcase_posts p JOIN tasks t ON t.id = p.task_id "
                "WHERE p.guild_id = ? AND p.shared_at >= ? AND p.message_id IS NOT NULL "
                "AND p.removed_at IS NULL "
                "ORDER BY votes DESC, p.shared_at ASC, p.task_id ASC LIMIT ?",
                (guild_id, since, limit),
            )
        return [
            TopEntry(
                task_id=r["task_id"],
                user_id=r["user_id"],
                prompt=r["prompt"],
                model=r["model"],
                guild_id=r["guild_id"],
                channel_id=r["channel_id"],
                message_id=r["message_id"],
                votes=r["votes"],
                shared_at=r["shared_at"],
            )
            for r in rows
        ]
