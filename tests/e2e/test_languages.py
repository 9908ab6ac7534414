"""Languages end to end, through the real discord.py client and the fake Discord: a French member's
private answers are French, while the channel's card follows the server's language (Spanish)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import translate
from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import card_of, card_title, video_env, wait_answer, wait_states
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


async def test_a_french_member_gets_french_replies_and_the_card_follows_the_servers_spanish(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    harness = BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin"))
    harness.fake.guild.preferred_locale = "es-ES"  # before the bot connects: its GUILD_CREATE says so
    async with harness as h:
        refused = await wait_answer(await h.invoke("video cancel", options={"task": 999}, locale="fr"))
        assert refused.text == "Il n'y a pas de tâche #999.", refused.text

        made = await wait_answer(
            await h.invoke("video generate", options={"prompt": "un phare au crépuscule"}, locale="fr")
        )
        assert made.task_id is not None, made.text
        await wait_states(h, {made.task_id: "delivered"}, timeout=20)

        def delivered_card() -> str | None:
            card = card_of(h, made.task_id)  # type: ignore[arg-type]
            title = card_title(card) if card is not None else ""
            return title if title.endswith(translate("es", "card.state.delivered")) else None

        title = await h.wait_until(delivered_card, 15, "the card to read delivered, in Spanish")
        assert title == f"Vídeo #{made.task_id} · ✅ Entregado"
        card = card_of(h, made.task_id)
        assert card is not None
        names = [field["name"] for field in card.embeds[0]["fields"]]
        assert names[:5] == ["Modelo", "Modo", "Opciones", "Pedido por", "Coste"], names
