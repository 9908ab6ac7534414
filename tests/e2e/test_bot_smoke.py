"""``python -m bot``, unmodified, logs in to the fake Discord, syncs its commands and shuts down cleanly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.i18n.commands import de, es
from tests.e2e.harness import BotHarness
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

# The composition root imports these; while the bot is being assembled they may not exist yet.
_PARTS = ("bot.app", "cogs.notifier", "cogs.video", "cogs.admin")
_MISSING = [name for name in _PARTS if importlib.util.find_spec(name) is None]


@pytest.mark.skipif(bool(_MISSING), reason=f"bot not assembled yet: missing {_MISSING}")
async def test_the_real_bot_logs_in_syncs_its_commands_and_stops_cleanly(
    tmp_path: Path, fake_minimax: FakeMiniMax
) -> None:
    async with BotHarness(tmp_path, minimax=fake_minimax, expect_commands=("video", "videoadmin")) as h:
        video = h.fake.find_command("video")
        admin = h.fake.find_command("videoadmin")
        assert video is not None and admin is not None
        assert video["guild_id"] == str(h.fake.guild.id)  # DISCORD_GUILD_IDS means a guild sync
        assert any(o["type"] in (1, 2) for o in video["options"]), "video should be a command group"
        assert admin["default_member_permissions"] is not None, "videoadmin must be hidden from members"
        menu = h.fake.find_command("Animate image", type=3)
        for command in (video, admin, menu):  # guild context, guild install: declared, not Discord's default
            assert command is not None and (command["contexts"], command["integration_types"]) == ([0], [0])
        # The translator ran in the real sync: what Discord received carries the localizations.
        assert video["description_localizations"]["es-ES"] == es.DESCRIPTIONS[video["description"]]
        assert not video["name_localizations"]  # names stay English
        policy = next(o for o in admin["options"] if o["name"] == "policy")
        results = next(o for o in policy["options"] if o["name"] == "results")
        public = next(c for c in results["choices"] if c["value"] == "public")
        assert public["name_localizations"]["de"] == de.DESCRIPTIONS[public["name"]]
        code = await h.stop()
        assert code == 0, h.log_tail()
        h.assert_clean()
