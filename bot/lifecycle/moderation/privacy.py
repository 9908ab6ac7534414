"""`/videoadmin forget member`: erase what the bot keeps of what a member wrote.

The rule (which tasks, which columns, audited in the same transaction) is storage's
(:meth:`storage.retention.RetentionRepository.forget_member`); this adds the moderator's checks.
"""

from __future__ import annotations

from bot.lifecycle.moderation._core import ModerationCore
from bot.lifecycle.moderation.records import MemberRef, Moderator
from storage import Forgotten


class PrivacyActions(ModerationCore):
    async def forget_member(self, mod: Moderator, member: MemberRef) -> Forgotten:
        """Erase the member's prompts (finished tasks in this server) and their preferences."""
        self.check_member(mod, member)
        return await self.storage.retention.forget_member(
            mod.guild_id, member.user_id, actor_id=mod.actor_id, now=self._clock()
        )
