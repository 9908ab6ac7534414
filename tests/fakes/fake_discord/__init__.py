"""A local stand-in for Discord's REST API v10, gateway and CDN that is strict about Discord's rules.

Why: unit tests with hand-made interaction objects cannot show that the real discord.py client logs
in, syncs its commands, answers within 3 seconds, answers once and uploads files the way Discord
accepts. This fake speaks enough of the real wire protocol for an unmodified discord.py 2.7 bot, and
where the real Discord would reject a request (or silently drop a late answer) it answers the same
way *and* writes a line to ``violations``, so a test can fail on it instead of a user noticing.

Everything lives in memory and runs in the test's event loop; the bot under test is a separate
process that talks to it over 127.0.0.1. Time-based rules read ``now()``, which tests can move
forward with ``advance_time()`` instead of sleeping.

The package is split by concern: ``rules`` (Discord's limits and the checks on what the bot sends),
``models`` (the world as plain data), ``gateway`` and ``rest`` (the two halves of the wire protocol,
as mixins) and ``server`` (:class:`FakeDiscord` itself). Import from the package, not the modules.
"""

from __future__ import annotations

from tests.fakes.fake_discord.gateway import (
    GatewayConnection,
    GatewayMixin,
    GatewaySession,
)
from tests.fakes.fake_discord.models import (
    CallbackAttempt,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    GuildSetup,
    InteractionRecord,
    RequestRecord,
    StoredAttachment,
    png_bytes,
    png_size,
)
from tests.fakes.fake_discord.rest import (
    RestMixin,
)
from tests.fakes.fake_discord.rules import (
    API,
    DEFAULT_UPLOAD_LIMIT,
    DISCORD_EPOCH_MS,
    MIB,
    PREMIUM_UPLOAD_LIMITS,
    RESPONSE_DEADLINE_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    CallbackType,
    DiscordRuleViolation,
    InteractionType,
    MessageFlag,
    Perm,
    command_problems,
    message_problems,
    modal_problems,
)
from tests.fakes.fake_discord.server import (
    FakeDiscord,
)

__all__ = [
    "API",
    "DEFAULT_UPLOAD_LIMIT",
    "DISCORD_EPOCH_MS",
    "MIB",
    "PREMIUM_UPLOAD_LIMITS",
    "RESPONSE_DEADLINE_SECONDS",
    "TOKEN_LIFETIME_SECONDS",
    "CallbackAttempt",
    "CallbackType",
    "DiscordRuleViolation",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewayConnection",
    "GatewayMixin",
    "GatewaySession",
    "GuildSetup",
    "InteractionRecord",
    "InteractionType",
    "MessageFlag",
    "Perm",
    "RequestRecord",
    "RestMixin",
    "StoredAttachment",
    "command_problems",
    "message_problems",
    "modal_problems",
    "png_bytes",
    "png_size",
]
