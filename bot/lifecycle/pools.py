"""Team credit pools as a member meets them: which they may use, their default, what is left.

Who may use a pool is storage's one rule (:meth:`storage.PoolAccess.may_use`: the pool's role, or
its channel); here it is fed from where the member asks. A thread counts as its parent channel, as
for the channel rules. Which pool pays is decided inside the reservation (:mod:`storage.quota`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Message, msg
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.validation import RequestRefused
from storage import Pool, PoolAccess, PoolUsage

# What `/video settings pool:` takes to mean "no default pool".
NO_POOL = "auto"


def fold_name(raw: str) -> str:
    """A pool's name as typed (``" Design "``) → as stored (``"design"``): names are lowercase."""
    return raw.strip().lower()


@dataclass(frozen=True)
class Whereabouts:
    """Who asks and where: what decides the pools a member may use."""

    guild_id: int | None
    user_id: int
    role_ids: tuple[int, ...] = ()
    channel_id: int | None = None
    parent_channel_id: int | None = None  # a thread's channel

    @property
    def access(self) -> PoolAccess:
        channels = tuple(c for c in (self.channel_id, self.parent_channel_id) if c is not None)
        return PoolAccess(tuple(self.role_ids), channels)


class MemberPools:
    def __init__(self, deps: LifecycleDeps) -> None:
        self._deps = deps

    async def usable(self, where: Whereabouts) -> list[PoolUsage]:
        """The pools this member may spend from here, by name (the order they are tried in)."""
        if where.guild_id is None:
            return []
        return await self._deps.storage.pools.usable(where.guild_id, where.access, now=self._deps.now())

    async def default(self, where: Whereabouts) -> Pool | None:
        if where.guild_id is None:
            return None
        return await self._deps.storage.pools.default(where.guild_id, where.user_id)

    async def set_default(self, where: Whereabouts, name: str | None) -> Pool | None:
        """The member's default pool in this server (``None``: none); one they may use here."""
        if where.guild_id is None:
            raise RequestRefused("Pools belong to a server: set a default pool inside one.")
        if name is None or fold_name(name) == NO_POOL:
            return await self._deps.storage.pools.set_default(where.guild_id, where.user_id, None)
        name = fold_name(name)
        usable = {u.pool.name: u.pool for u in await self.usable(where)}
        if name not in usable:
            raise RequestRefused(_not_yours(name, list(usable)) + " Your default pool was not changed.")
        return await self._deps.storage.pools.set_default(where.guild_id, where.user_id, name)


def _not_yours(name: str, usable: list[str]) -> str:
    listed = ", ".join(f"`{n}`" for n in usable[:10])
    hint = f" Yours here: {listed}." if listed else " You may use no pool here."
    return f"You can't spend from a pool called `{_plain(name)}` here.{hint}"


def _plain(name: str) -> str:
    """A name as the member typed it, safe inside backticks and short."""
    return name.replace("`", "'")[:40]


def pool_refusal(name: str, role_id: int | None, channel_id: int | None, *, exists: bool) -> Message:
    """Why a named pool may not pay: it does not exist, or it is for a role or a channel."""
    if not exists:
        return msg("refusal.pool.missing", name=_plain(name))
    role, channel = f"<@&{role_id}>", f"<#{channel_id}>"
    if role_id is not None and channel_id is not None:
        who = msg("refusal.pool.role_or_channel", role=role, channel=channel)
    elif role_id is not None:
        who = msg("refusal.pool.role", role=role)
    else:
        who = msg("refusal.pool.channel", channel=channel)
    return msg("refusal.pool.not_for_you", name=name, who=who)
