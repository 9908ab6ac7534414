"""How large a file the bot may upload where a result goes, and what Discord's refusals taught it.

The limit is Discord's, never a number of ours: the interaction's ``attachment_size_limit`` stored
with the task at request time, and what the notifier reports for the guild now (or for DMs): the
smaller of the two, since a server can lose its boost between the request and the result. Discord
can still refuse a file as too large (HTTP 413, error 40005: a server lost its boost, a guess was
wrong): the place's limit is then lowered to the next known tier below the refused size, for every
later result there until a restart, and the delivery makes a smaller re-encode.
"""

from __future__ import annotations

from storage.models import Task

MIB = 1024 * 1024
# Discord's upload limits (boost tiers and the old default): where to step down to after a refusal.
KNOWN_LIMITS = (500 * MIB, 100 * MIB, 50 * MIB, 25 * MIB, 10 * MIB, 8 * MIB)
FALLBACK_SHARE = 0.75  # below every known tier: three quarters of what was refused


class UploadLimits:
    def __init__(self) -> None:
        self._lowered: dict[int | None, int] = {}  # guild id (None: DMs) → lowered limit

    @staticmethod
    def place(task: Task) -> int | None:
        """Where the result goes, as a key: the guild, or None for a result by DM."""
        return None if task.deliver_by_dm else task.guild_id

    def limit(self, task: Task, reported: int) -> int:
        """The limit for ``task``'s result: its stored limit and ``reported`` (the smaller), and
        never more than a refusal there taught. A result by DM goes by the DM's reported limit."""
        stored = None if task.deliver_by_dm else task.upload_limit
        believed = reported if stored is None else min(stored, reported)
        lowered = self._lowered.get(self.place(task))
        return believed if lowered is None else min(believed, lowered)

    def lower(self, task: Task, refused_bytes: int, current: int) -> int:
        """A ``refused_bytes`` upload was too large where ``task``'s result goes: the new limit."""
        below = min(refused_bytes, current)
        new = next((tier for tier in KNOWN_LIMITS if tier < below), int(below * FALLBACK_SHARE))
        place = self.place(task)
        self._lowered[place] = min(new, self._lowered.get(place, new))
        return self._lowered[place]
