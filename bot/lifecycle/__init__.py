"""The task lifecycle: validate → reserve → queue → submit → poll → deliver, and recovery.

No Discord in here: the cogs build :class:`VideoRequest` objects and a :class:`Notifier` carries
messages out, so every step runs in tests against a fake API and a temporary database.
"""

from bot.lifecycle.actor import Actor
from bot.lifecycle.delivery import DownloadLink
from bot.lifecycle.notifier import DEFAULT_UPLOAD_LIMIT, Notifier, ResultPost, StatusCard
from bot.lifecycle.service import KEEP, QuotaView, VideoService
from bot.lifecycle.validation import ImageInput, Limits, Plan, Preferences, RequestRefused, VideoRequest

__all__ = [
    "DEFAULT_UPLOAD_LIMIT",
    "KEEP",
    "Actor",
    "DownloadLink",
    "ImageInput",
    "Limits",
    "Notifier",
    "Plan",
    "Preferences",
    "QuotaView",
    "RequestRefused",
    "ResultPost",
    "StatusCard",
    "VideoRequest",
    "VideoService",
]
