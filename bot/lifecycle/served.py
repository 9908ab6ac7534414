"""Which servers the bot serves (``ALLOWED_GUILD_IDS``), as the lifecycle applies it.

The cogs refuse other servers' interactions before anything runs and the bot leaves those servers;
the lifecycle checks again where a task can be reached without such an interaction (a result's
Regenerate or Details clicked in a DM) and before a task queued earlier there is sent, so nothing
from such a server reaches the video API. The rule itself is :meth:`Settings.guild_allowed`.
"""

from __future__ import annotations

from typing import Final

from bot.config import Settings
from bot.i18n import translate
from bot.lifecycle.refusal import RefusalReason
from bot.lifecycle.validation import RequestRefused

NOT_SERVED: Final = translate("en", "refusal.not_served")


def check_served(settings: Settings, guild_id: int | None) -> None:
    """Raises RequestRefused for a server outside ``ALLOWED_GUILD_IDS`` (no server: always fine)."""
    if not settings.guild_allowed(guild_id):
        raise RequestRefused.keyed("refusal.not_served", reason=RefusalReason.NOT_SERVED)
