"""The real bot with every cog loaded, never connected: its command tree is exactly what a sync
would send, for tests that read the commands (docs, sizes, translations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import EXTENSIONS, VideoBot
from tests.fakes.lifecycle_harness import lifecycle_harness


@asynccontextmanager
async def loaded_bot(tmp_path: Path) -> AsyncIterator[VideoBot]:
    async with lifecycle_harness(tmp_path) as harness:
        bot = VideoBot(harness.settings, harness.storage, harness.client)
        bot.compose_services()
        try:
            # compose_services first, as setup_hook does before it loads the extensions.
            for extension in EXTENSIONS:
                await bot.load_extension(extension)
            yield bot
        finally:
            await bot.close()
