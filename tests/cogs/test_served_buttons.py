"""Every persistent button is refused in a server the bot does not serve (ALLOWED_GUILD_IDS).

Regenerate and Details had the gate; Upscale, Remix, Share, Vote and Remove, added later, were
declared without it (the lifecycle still refused the task, but the click reached it).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cogs.buttons import DYNAMIC_ITEMS
from cogs.guilds import ServedOnly
from tests.builders import make_settings
from tests.fakes.interactions import make_guild, make_interaction, make_member

SERVED, OTHER = 1000, 2000


def test_every_persistent_button_has_the_served_gate() -> None:
    assert [item.__name__ for item in DYNAMIC_ITEMS if not issubclass(item, ServedOnly)] == []


@pytest.mark.parametrize("item", DYNAMIC_ITEMS, ids=lambda item: item.__name__)
async def test_a_click_from_a_server_not_served_is_refused_before_it_runs(item: type) -> None:
    client = SimpleNamespace(service=SimpleNamespace(settings=make_settings(allowed_guild_ids=(SERVED,))))
    guild = make_guild(OTHER)
    interaction = make_interaction(client, user=make_member(guild, 7), guild=guild)
    assert await item(1).interaction_check(interaction) is False
    (reply,) = interaction.replies
    assert reply.ephemeral
