"""One exception hierarchy for storage, so callers can tell bad input from refusals from bugs.

Every message is written for the person who caused it (a member, a moderator or an operator) and
never contains secrets: storage holds none.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every storage error."""


class SchemaTooNew(StorageError):
    """The file was written by a newer version of the bot; opening it could corrupt it."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"The database schema is version {found}, but this version of the bot only knows up to "
            f"version {supported}. Upgrade the bot (or restore a backup made for this version); "
            "the file was left untouched."
        )
        self.found = found
        self.supported = supported


class DatabaseUnavailable(StorageError):
    """The database file cannot be opened or used at all: a directory, not SQLite, unreadable, locked.

    Raised instead of ``sqlite3``'s own errors so start-up and ``--check`` can print one clear line.
    """

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"Cannot open the database {path}: {reason}")
        self.path = path
        self.reason = reason


class DatabaseDamaged(DatabaseUnavailable):
    """SQLite's quick check found the file damaged (a torn write, a bad disk, a copy made mid-write).

    Running on would fail later, half-way through some member's request, or write more rows next to
    broken pages; start-up stops instead and names the setting to look at.
    """

    def __init__(self, path: object, detail: str) -> None:
        super().__init__(path, f"the file is damaged (SQLite's quick check: {detail}); restore a backup")
        self.detail = detail
        self.args = (
            f"The database at DATABASE_PATH ({path}) is damaged (SQLite's quick check: {detail}). "
            "Restore a backup, or move the file away to start with an empty database.",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class DatabaseError(StorageError):
    """The database failed while running: locked past the busy timeout, disk full, an I/O error.

    Raised instead of ``sqlite3``'s own errors so every caller's ``except StorageError`` covers it:
    the work was rolled back and can be tried again.
    """


class ConstraintViolated(DatabaseError):
    """A statement broke a uniqueness, reference or check rule of the schema; it changed nothing.

    Either engine's own integrity error becomes this, so a repository catches one type.
    """


class UnknownTask(StorageError):
    def __init__(self, task_id: int | str) -> None:
        super().__init__(f"There is no task {task_id}.")
        self.task_id = task_id


class IllegalTransition(StorageError):
    """A state change the state machine forbids; it is never written."""

    def __init__(self, task_id: int, from_state: str, to_state: str) -> None:
        super().__init__(f"Task {task_id} cannot go from {from_state} to {to_state}.")
        self.task_id = task_id
        self.from_state = from_state
        self.to_state = to_state


class LeaseLost(IllegalTransition):
    """The task's lease is another process's now (this one stalled past its expiry): the step is
    not taken, so the new owner alone goes on with the task."""

    def __init__(self, task_id: int, from_state: str, to_state: str, holder: str | None) -> None:
        super().__init__(task_id, from_state, to_state)
        self.args = (f"Task {task_id} is leased by {holder or 'nobody'}: not moved to {to_state}.",)
        self.holder = holder


class InvalidValue(StorageError):
    """A value outside its allowed range; ``str()`` says which and what is allowed."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


class ReservationRefused(StorageError):
    """Base of the reasons a reservation is refused; nothing was written."""


class UserBlocked(ReservationRefused):
    def __init__(self, reason: str | None) -> None:
        super().__init__(
            "You are blocked from generating videos in this server" + (f": {reason}" if reason else ".")
        )
        self.reason = reason


class GuildPaused(ReservationRefused):
    def __init__(self, reason: str | None) -> None:
        super().__init__("Video generation is paused in this server" + (f": {reason}" if reason else "."))
        self.reason = reason


class QuotaExceeded(ReservationRefused):
    def __init__(
        self,
        used_tenths: int,
        limit_tenths: int,
        cost_tenths: int,
        period: str,
        resets_at: float,
        pools: tuple[str, ...] = (),
    ) -> None:
        super().__init__(
            f"Quota exceeded: used {used_tenths / 10:g} of {limit_tenths / 10:g} credits this {period}, "
            f"this video costs {cost_tenths / 10:g}."
        )
        self.used_tenths = used_tenths
        self.limit_tenths = limit_tenths
        self.cost_tenths = cost_tenths
        self.period = period
        self.resets_at = resets_at
        self.pools = pools  # the member's pools, none of which had enough left either


class PoolNotUsable(ReservationRefused):
    """A pool named for a request does not exist here, or the member may not spend from it."""

    def __init__(self, name: str, role_id: int | None = None, channel_id: int | None = None) -> None:
        super().__init__(f"You cannot spend from the pool {name!r}.")
        self.name = name
        self.exists = role_id is not None or channel_id is not None
        self.role_id = role_id
        self.channel_id = channel_id


class PoolExhausted(ReservationRefused):
    """The pool named for a request has too little left this period."""

    def __init__(
        self, name: str, used_tenths: int, limit_tenths: int, cost_tenths: int, period: str, resets_at: float
    ) -> None:
        super().__init__(
            f"The pool {name!r} has used {used_tenths / 10:g} of {limit_tenths / 10:g} credits this "
            f"{period}, this video costs {cost_tenths / 10:g}."
        )
        self.name = name
        self.used_tenths = used_tenths
        self.limit_tenths = limit_tenths
        self.cost_tenths = cost_tenths
        self.period = period
        self.resets_at = resets_at


class GuildCapReached(ReservationRefused):
    def __init__(
        self, used_tenths: int, cap_tenths: int, cost_tenths: int, period: str, resets_at: float
    ) -> None:
        super().__init__(
            f"This server's spending cap is reached: {used_tenths / 10:g} of {cap_tenths / 10:g} credits "
            f"used this {period}."
        )
        self.used_tenths = used_tenths
        self.cap_tenths = cap_tenths
        self.cost_tenths = cost_tenths
        self.period = period
        self.resets_at = resets_at


class SpendLimitReached(ReservationRefused):
    """The operator's bot-wide ceiling (every server together) would be passed by this request."""

    def __init__(
        self, used_tenths: int, limit_tenths: int, cost_tenths: int, period: str, resets_at: float
    ) -> None:
        super().__init__(
            f"The bot's spending limit is reached: {used_tenths / 10:g} of {limit_tenths / 10:g} credits "
            f"used this {period} over every server, this video costs {cost_tenths / 10:g}."
        )
        self.used_tenths = used_tenths
        self.limit_tenths = limit_tenths
        self.cost_tenths = cost_tenths
        self.period = period
        self.resets_at = resets_at


class TooManyInFlight(ReservationRefused):
    """The member already has as many unfinished (queued or running) tasks as the operator allows."""

    def __init__(self, in_flight: int, limit: int, *, asked: int = 1) -> None:
        super().__init__(
            f"You already have {in_flight} videos in progress (at most {limit})."
            if asked == 1
            else f"{asked} takes with the {in_flight} videos in progress would pass the most ({limit})."
        )
        self.in_flight = in_flight
        self.limit = limit
        self.asked = asked  # tasks the request would add (the takes of one request)
