"""Forgetting what members wrote: prompts of finished tasks after RETENTION_DAYS, and everything of
one member a moderator asks to forget.

A prompt is erased by emptying it (the column is NOT NULL), together with the task's media URLs
(Discord links to what the member attached). The rest of the row stays: credits, states and times
are the server's accounting, not what the member said. Only finished tasks (delivered, failed,
cancelled) lose their prompt: an unfinished one still needs it to be made.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.audit import record
from storage.backend import Backend, execute, fetch_int
from storage.periods import now_or
from storage.spec_columns import LISTED_MEDIA_COLUMN, SPEC_COLUMNS
from storage.states import FINAL_STATES

_MEDIA = tuple(c for c in SPEC_COLUMNS if c.endswith("_url") or c == LISTED_MEDIA_COLUMN)
_ERASE = ", ".join(["prompt = ''", *(f"{column} = NULL" for column in _MEDIA)])
_FINISHED = "state IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(FINAL_STATES)))
# A row already erased (empty prompt, no media) is not counted again.
_NOT_ERASED = "(prompt != '' OR " + " OR ".join(f"{c} IS NOT NULL" for c in _MEDIA) + ")"


@dataclass(frozen=True)
class Forgotten:
    """What ``forget_member`` erased, and the unfinished tasks it had to keep."""

    prompts: int
    preferences: bool
    unfinished_kept: int


class RetentionRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def erase_finished_prompts(self, finished_before: float) -> int:
        """Erase the prompts of tasks that finished before ``finished_before``; how many."""
        async with self._db.transaction() as conn:
            return await execute(
                conn,
                f"UPDATE tasks SET {_ERASE} WHERE {_FINISHED} AND {_NOT_ERASED} "
                "AND COALESCE(finished_at, created_at) < ?",
                (finished_before,),
            )

    async def forget_member(
        self, guild_id: int, user_id: int, *, actor_id: int, now: float | None = None
    ) -> Forgotten:
        """Erase a member's prompts in this server and their preferences, audited, in one transaction."""
        async with self._db.transaction() as conn:
            prompts = await execute(
                conn,
                f"UPDATE tasks SET {_ERASE} WHERE guild_id = ? AND user_id = ? AND {_FINISHED} "
                f"AND {_NOT_ERASED}",
                (guild_id, user_id),
            )
            unfinished = await fetch_int(
                conn,
                f"SELECT count(*) FROM tasks WHERE guild_id = ? AND user_id = ? AND NOT {_FINISHED}",
                (guild_id, user_id),
            )
            preferences = await execute(conn, "DELETE FROM user_prefs WHERE user_id = ?", (user_id,)) > 0
            preferences |= (
                await execute(
                    conn, "DELETE FROM pool_defaults WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
                )
                > 0
            )
            forgotten = Forgotten(prompts=prompts, preferences=preferences, unfinished_kept=unfinished)
            await record(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="forget",
                target="member",
                target_user_id=user_id,
                before={"prompts": prompts, "preferences": preferences},
                after={"unfinished_kept": unfinished},
                now=now_or(now),
            )
        return forgotten
