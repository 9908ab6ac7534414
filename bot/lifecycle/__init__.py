"""The task lifecycle: validate → reserve → queue → submit → poll → deliver, and recovery.

No Discord in here: the cogs build a :class:`~bot.spec.VideoSpec` (in a :class:`VideoRequest`) and a
:class:`Notifier` carries messages out, so every step runs in tests against a fake API and a temporary
database.

May import: ``bot.spec``, ``bot.catalog``, ``bot.minimax``, ``bot.config``, ``storage`` (its public API),
``aiohttp`` (downloads) and ``regex``. Never ``discord``, ``cogs``, ``aiosqlite`` or ``storage.db``
(ruff TID251).
"""

from bot.lifecycle.actor import Actor
from bot.lifecycle.delivery import DownloadLink, kept_for_member
from bot.lifecycle.notifier import DEFAULT_UPLOAD_LIMIT, MemberRefused, Notifier, ResultPost, StatusCard
from bot.lifecycle.pools import NO_POOL, Whereabouts
from bot.lifecycle.service import KEEP, QuotaView, VideoService
from bot.lifecycle.validation import Plan, RequestRefused, VideoRequest

__all__ = [
    "DEFAULT_UPLOAD_LIMIT",
    "KEEP",
    "NO_POOL",
    "Actor",
    "DownloadLink",
    "MemberRefused",
    "Notifier",
    "Plan",
    "QuotaView",
    "RequestRefused",
    "ResultPost",
    "StatusCard",
    "VideoRequest",
    "VideoService",
    "Whereabouts",
    "kept_for_member",
]
