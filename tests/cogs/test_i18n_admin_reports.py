"""`/videoadmin tasks`, `stats` and `audit` and the task buttons in the moderator's own Discord
locale (the replies are ephemeral), through the real callbacks against a real temporary database;
English stays as test_admin asserts."""

from __future__ import annotations

from decimal import Decimal

import discord

from bot.i18n import translate
from cogs.admin import AdminCog
from cogs.admin_views import TasksView
from cogs.pager import Pager
from storage import Storage, TaskState
from tests.cogs.admin_fakes import CHANNEL_ID, invoke, make_member, moderation
from tests.cogs.test_admin import NOW, USER_A, USER_B, make_task, seed_stats, unknown_task
from tests.cogs.test_i18n_admin import cog, guild, moderator, storage
from tests.fakes import interactions as kit

__all__ = ["cog", "guild", "storage"]  # the fixtures, shared with test_i18n_admin


async def test_tasks_list_and_refund_button_in_german(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    stuck = await unknown_task(storage, cost=15)
    reply = await invoke(AdminCog.tasks, cog, moderator(guild, "de"), state="stuck")
    embed = reply.embed
    assert embed is not None and embed.title == "Aufgaben · hängt"
    assert f"`#{stuck}` · <@{USER_A}> · " in (embed.description or "")
    assert "**unbekannt**" in (embed.description or "")
    assert embed.footer.text == (
        "Seite 1 von 1 · 1 Aufgabe · wähle unten eine Aufgabe im Zustand „unbekannt“, um sie zu klären"
    )
    view = reply.view
    assert isinstance(view, TasksView)
    assert view.choose.placeholder == "Aufgabe im Zustand „unbekannt“ klären…"
    assert view.refund.label == "Erstatten (als fehlgeschlagen markieren)"
    assert view.resume.label == "Mit der Aufgaben-ID der API fortsetzen…"
    assert (view.previous.label, view.next.label) == ("Zurück", "Weiter")
    assert view.choose.options[0].label.endswith(" · 1.5 Credits")

    # Before picking a task, the button says so in the clicker's language.
    early = moderator(guild, "ja")
    await view.on_error(early, await _raises(view.refund.callback(early)), view.refund)
    assert early.last.content == "先に状態が不明のタスクを選んでください。"

    view.choose._values = [str(stuck)]
    await view.choose.callback(moderator(guild, "de"))
    click = moderator(guild, "de")
    await view.refund.callback(click)
    edit, confirmation = click.replies
    assert "Keine passenden Aufgaben." in edit.text()
    assert confirmation.embed is not None and confirmation.embed.title == f"Aufgabe #{stuck}"
    field = confirmation.embed.fields[0]
    assert field.name == "Zustand"
    assert field.value == f"unbekannt → **fehlgeschlagen · 1.5 Credits an <@{USER_A}> erstattet**"
    assert (await storage.tasks.get(stuck)).state is TaskState.FAILED


async def test_task_buttons_answer_a_stranger_and_the_resume_dialog_in_french(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    stuck = await unknown_task(storage)
    reply = await invoke(AdminCog.tasks, cog, moderator(guild, "fr"))
    view = reply.view
    assert isinstance(view, TasksView)
    stranger = kit_interaction(guild, 99, "fr")
    assert await view.interaction_check(stranger) is False
    assert stranger.last.content == "Ces boutons appartiennent au modérateur qui a lancé la commande."

    view.choose._values = [str(stuck)]
    await view.choose.callback(moderator(guild, "fr"))
    click = moderator(guild, "fr")
    await view.resume.callback(click)
    modal = click.last.modal
    assert modal is not None and modal.title == "Reprendre avec l'id de tâche de l'API"
    field = modal.api_task_id.to_component_dict()  # type: ignore[attr-defined]
    assert field["label"] == "Id de tâche du tableau de bord MiniMax"
    assert field["placeholder"] == "ex. : 106916112212032"
    done = moderator(guild, "fr")
    modal.api_task_id._value = "106916112212032"  # type: ignore[attr-defined]
    await modal.on_submit(done)  # type: ignore[attr-defined]
    embed = done.last.embed
    assert embed is not None and embed.title == f"Tâche #{stuck}"
    assert embed.fields[0].value == "inconnue → **envoyée · suivi de la tâche API `106916112212032`**"
    assert embed.fields[1].name == "Remarque"
    assert embed.fields[1].value == translate("fr", "admin.buttons.resumed_note")


async def test_tasks_of_a_member_in_japanese(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    await make_task(storage, USER_A, NOW - 100, TaskState.DELIVERED)
    await make_task(storage, USER_A, NOW - 200, TaskState.DELIVERED)
    member = make_member(guild, USER_A)
    reply = await invoke(AdminCog.tasks, cog, moderator(guild, "ja"), member=member)
    assert reply.embed is not None and reply.embed.title == f"{member.display_name} のタスク"
    assert reply.embed.footer.text == "1/1 ページ · タスク 2 件"
    view = reply.view
    assert isinstance(view, TasksView)
    assert view.choose.options[0].label == "このページに状態が不明のタスクはありません"
    empty = await invoke(AdminCog.tasks, cog, moderator(guild, "ja"), state="cancelled")
    assert empty.embed is not None and empty.embed.description == "該当するタスクはありません。"


async def test_stats_in_german(storage: Storage, cog: AdminCog, guild: discord.Guild) -> None:
    await seed_stats(storage)
    reply = await invoke(AdminCog.stats, cog, moderator(guild, "de"), period="7d")
    embed = reply.embed
    assert embed is not None and embed.title == "Videostatistik · letzte 7 Tage"
    assert embed.description is not None and embed.description.endswith("(nach Zeitpunkt der Anfrage)")
    fields = {f.name: f.value for f in embed.fields}
    assert (fields["Angefordert"], fields["Ausgeliefert"], fields["Fehlgeschlagen"]) == ("9", "4", "3")
    assert fields["Erfolgsquote"] == "57.1 %"
    assert fields["Verbrauchte Credits"] == "4.8 ($1.33)"
    assert fields["Sonstige"] == "abgebrochen 1 · in Arbeit 1"
    assert fields["Fehlschläge nach Grund"] == "`content_policy`: 2\n`timeout`: 1"
    assert fields["Aktivste Mitglieder"] == (
        f"1. <@{USER_A}> · 3 Credits · 3 Videos\n2. <@{USER_B}> · 1.8 Credits · 1 Video"
    )
    assert fields["Anfragen pro Tag und Modell"].startswith("```\n2024-03-08 → 2024-03-15 (UTC)\n")


async def test_stats_spending_in_japanese(storage: Storage, guild: discord.Guild) -> None:
    await seed_stats(storage)
    cog = AdminCog(moderation(storage, clock=lambda: NOW, spend_limit_usd=Decimal("2.80")))
    reply = await invoke(AdminCog.stats, cog, moderator(guild, "ja"), period="24h")
    assert reply.embed is not None and reply.embed.title == "動画の統計 · 過去24時間"
    fields = {f.name: f.value for f in reply.embed.fields}
    text = fields["ボット全体の支出（全サーバー）"]
    assert text.startswith("今日は 10 クレジット 中 3（≈ $2.80 中 $0.84）、残り 7、処理中の動画を含む · <t:")
    assert text.endswith(":R>に更新")


async def test_audit_in_german_and_french(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, USER_B)
    nothing = await invoke(AdminCog.audit, cog, moderator(guild, "fr"))
    assert nothing.embed is not None and nothing.embed.title == "Journal d'audit"
    assert nothing.embed.description == "Actions de modération : aucune enregistrée."
    await invoke(AdminCog.quota_set, cog, moderator(guild, "de"), member=target, credits=2)
    await invoke(AdminCog.block, cog, moderator(guild, "de"), member=target, reason="Spam")
    await invoke(AdminCog.pause, cog, moderator(guild, "de"), reason="Wartung")
    reply = await invoke(AdminCog.audit, cog, moderator(guild, "de"))
    embed = reply.embed
    assert embed is not None and embed.title == "Protokoll"
    assert embed.footer.text == "Seite 1 von 1 · 3 Aktionen"
    text = embed.description or ""
    assert text.startswith("Aktionen der Moderation\n\n")
    assert "↳ Grund: — → Spam" in text and "↳ Credits: — → 2" in text
    assert "**pause** der Server\n↳ Pausengrund: — → Wartung; pausiert: False → True" in text
    mine = await invoke(AdminCog.audit, cog, moderator(guild, "fr"), member=target)
    assert mine.embed is not None and mine.embed.footer.text == "Page 1 sur 1 · 2 actions"
    assert isinstance(mine.view, Pager)
    assert (mine.view.previous.label, mine.view.next.label) == ("Précédent", "Suivant")
    assert (mine.embed.description or "").startswith(f"Actions de modération concernant <@{USER_B}>")


def kit_interaction(guild: discord.Guild, user_id: int, locale: str) -> kit.KitInteraction:
    return kit.make_interaction(
        None, user=make_member(guild, user_id), guild=guild, channel_id=CHANNEL_ID, locale=locale
    )


async def _raises(coro: object) -> Exception:
    try:
        await coro  # type: ignore[misc]
    except Exception as exc:
        return exc
    raise AssertionError("expected an error")


async def test_the_resume_dialogs_errors_are_in_the_moderators_language(
    storage: Storage, cog: AdminCog, guild: discord.Guild
) -> None:
    from bot.i18n import msg
    from cogs.replies import UserFacingError

    stuck = await unknown_task(storage)
    reply = await invoke(AdminCog.tasks, cog, moderator(guild, "ja"))
    view = reply.view
    assert isinstance(view, TasksView)
    view.choose._values = [str(stuck)]
    await view.choose.callback(moderator(guild, "ja"))
    click = moderator(guild, "ja")
    await view.resume.callback(click)
    modal = click.last.modal
    assert modal is not None
    refused = moderator(guild, "de")
    words = msg("refusal.no_task", task_id=stuck)
    await modal.on_error(refused, UserFacingError(words.render("en"), words=words))  # type: ignore[call-arg]
    assert refused.last.content == f"Es gibt keine Aufgabe #{stuck}."
    broken = moderator(guild, "ja")
    await modal.on_error(broken, RuntimeError("boom"))  # type: ignore[call-arg]
    assert broken.last.content == translate("ja", "error.unchanged")
    assert broken.last.content != translate("en", "error.unchanged")
