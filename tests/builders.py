"""Builders for the plain values many tests need: a task to reserve, a minimal ``Settings``.

Why one place: the same nine-field ``NewTask`` and the same secret-only ``Settings`` were written out
in a dozen tests, positionally in most, so a field added to either (a new video option) meant
editing every one. A test states only what it is about: ``make_new_task(prompt="…", duration=10)``.
"""

from __future__ import annotations

from typing import Any

from bot.config import Secret, Settings
from storage import NewTask

# The ids of the lifecycle harness's guild, channel and member (``tests.fakes.lifecycle_harness``).
GUILD, CHANNEL, USER = 111, 222, 333
PROMPT = "a red fox running through snow"


def make_new_task(
    *,
    guild_id: int | None = GUILD,
    channel_id: int = CHANNEL,
    user_id: int = USER,
    prompt: str = PROMPT,
    **overrides: Any,
) -> NewTask:
    """A 6-second 768P text-to-video on MiniMax-Hailuo-2.3 costing one credit, unless overridden."""
    fields: dict[str, Any] = {
        "model": "MiniMax-Hailuo-2.3",
        "mode": "text",
        "cost_tenths": 10,
        "duration": 6,
        "resolution": "768P",
        **overrides,
    }
    return NewTask(guild_id=guild_id, channel_id=channel_id, user_id=user_id, prompt=prompt, **fields)


def make_settings(**overrides: Any) -> Settings:
    """Settings with test secrets and a small default quota (5 credits a day); the rest as shipped."""
    values: dict[str, Any] = {
        "discord_token": Secret("discord-token"),
        "minimax_api_key": Secret("minimax-key"),
        "default_quota_tenths": 50,
        "default_quota_period": "day",
        **overrides,
    }
    return Settings(**values)
