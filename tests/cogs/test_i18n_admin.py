"""`/videoadmin` confirmations in the moderator's own Discord locale (they are ephemeral), through
the real command callbacks against a real temporary database; English stays as test_admin asserts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.i18n import translate
from cogs.admin import AdminCog
from storage import Storage
from tests.cogs.admin_fakes import (
    CHANNEL_ID,
    MANAGER_ROLE,
    VIP_ROLE,
    invoke,
    make_guild,
    make_member,
    moderation,
    role,
    text_channel,
)
from tests.cogs.test_admin import StubService
from tests.fakes import interactions as kit

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC).timestamp()
MANAGER, TARGET = 11, 20


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "admin.sqlite3", default_limit_tenths=50, default_period="day")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def guild() -> discord.Guild:
    return make_guild()


@pytest.fixture
def cog(storage: Storage) -> AdminCog:
    return AdminCog(moderation(storage, StubService(), clock=lambda: NOW))


def moderator(guild: discord.Guild, locale: str) -> kit.KitInteraction:
    """The manager's interaction, their Discord client set to ``locale`` (the server's is English)."""
    member = make_member(guild, MANAGER, MANAGER_ROLE)
    return kit.make_interaction(None, user=member, guild=guild, channel_id=CHANNEL_ID, locale=locale)


async def test_quota_set_confirms_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, TARGET)
    reply = await invoke(
        AdminCog.quota_set, cog, moderator(guild, "de"), member=target, credits=3, period="week"
    )
    assert reply.ephemeral
    embed = reply.embed
    assert embed is not None
    assert embed.title == f"Kontingent von {target.display_name}"
    assert embed.fields[0].name == "Eigene Zuteilung"
    assert embed.fields[0].value == "keine eigene Zuteilung → **3 Credits pro Woche**"
    assert embed.fields[1].name == "Hinweis"
    assert embed.fields[1].value == translate("de", "admin.quota.set_note", mention=target.mention)
    again = await invoke(
        AdminCog.quota_set, cog, moderator(guild, "de"), member=target, credits=3, period="week"
    )
    assert (
        again.embed is not None
        and again.embed.description == "Nichts geändert: Es war bereits so eingestellt."
    )


async def test_quota_reset_default_and_role_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, TARGET)
    cleared = await invoke(
        AdminCog.quota_reset, cog, moderator(guild, "ja"), member=target, mode="clear-override"
    )
    assert cleared.embed is not None and cleared.embed.title == f"{target.display_name} の利用枠"
    assert cleared.embed.description == "変更はありません。すでにその設定になっています。"
    fresh = await invoke(
        AdminCog.quota_reset, cog, moderator(guild, "ja"), member=target, mode="fresh-allowance"
    )
    assert fresh.embed is not None and fresh.embed.fields[0].name == "この期間の使用量"
    default = await invoke(AdminCog.quota_default, cog, moderator(guild, "ja"), credits=4, period="week")
    assert default.embed is not None and default.embed.title == "サーバーのデフォルト利用枠"
    assert "→ **1週間あたり4 " in default.embed.fields[0].value
    assert "（ボットのデフォルト）" in default.embed.fields[0].value
    limited = await invoke(
        AdminCog.quota_role, cog, moderator(guild, "ja"), role=role(guild, VIP_ROLE), credits=7.5
    )
    assert limited.embed is not None and limited.embed.title == "ロール VIP の利用枠"
    assert limited.embed.fields[0].value.startswith("このロールに上限なし → ")


async def test_block_and_unblock_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, TARGET)
    blocked = await invoke(AdminCog.block, cog, moderator(guild, "de"), member=target, reason="Spam")
    assert blocked.embed is not None and blocked.embed.title == f"Sperre von {target.display_name}"
    assert blocked.embed.fields[0].value == "nicht gesperrt → **gesperrt (Spam)**"
    assert blocked.embed.fields[1].value == translate("de", "admin.block.note")
    freed = await invoke(AdminCog.unblock, cog, moderator(guild, "de"), member=target)
    assert freed.embed is not None and freed.embed.fields[0].value == "gesperrt (Spam) → **nicht gesperrt**"


async def test_pause_and_resume_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    paused = await invoke(AdminCog.pause, cog, moderator(guild, "ja"), reason="メンテナンス")
    assert paused.embed is not None and paused.embed.title == "動画の作成"
    fields = {f.name: f.value for f in paused.embed.fields}
    assert fields["作成"] == "稼働中 → **一時停止中**"
    assert fields["一時停止の理由"] == "— → **メンテナンス**"
    assert fields["メモ"] == translate("ja", "admin.pause.note")
    resumed = await invoke(AdminCog.resume, cog, moderator(guild, "ja"))
    assert resumed.embed is not None
    assert {f.name: f.value for f in resumed.embed.fields}["作成"] == "一時停止中 → **稼働中**"


async def test_english_locale_keeps_the_english_wording(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, TARGET)
    reply = await invoke(AdminCog.block, cog, moderator(guild, "en-GB"), member=target)
    assert reply.embed is not None and reply.embed.title == f"Block of {target.display_name}"
    assert reply.embed.fields[0].value == "not blocked → **blocked**"


async def test_channels_allow_and_deny_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    videos = text_channel(guild)
    allowed = await invoke(AdminCog.channels_allow, cog, moderator(guild, "de"), channel=videos)
    assert allowed.embed is not None and allowed.embed.title == "Wo /video funktioniert"
    assert (
        allowed.embed.fields[0].value
        == "keine Regel (folgt der Zulassungsliste) → **auf der Zulassungsliste**"
    )
    assert allowed.embed.fields[1].value == (
        f"Die Zulassungsliste war leer (jeder Kanal). /video funktioniert jetzt nur in: <#{CHANNEL_ID}>"
    )
    denied = await invoke(
        AdminCog.channels_deny, cog, moderator(guild, "de"), channel=videos, open_other_channels=True
    )
    assert denied.embed is not None
    assert denied.embed.fields[1].value == translate("de", "admin.channels.last_denied")


async def test_filter_add_and_remove_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    added = await invoke(AdminCog.filter_add, cog, moderator(guild, "ja"), pattern="spider")
    assert added.embed is not None and added.embed.title == "プロンプトフィルター"
    assert added.embed.fields[0].name == "項目"
    assert added.embed.fields[1].value == translate("ja", "admin.filter.add_note")
    removed = await invoke(AdminCog.filter_remove, cog, moderator(guild, "ja"), pattern="spider")
    assert removed.embed is not None and removed.embed.fields[0].value.endswith("→ **削除済み**")


async def test_pool_create_set_delete_show_list_in_german_and_japanese(
    cog: AdminCog, guild: discord.Guild
) -> None:
    vip = role(guild, VIP_ROLE)
    created = await invoke(
        AdminCog.pool_create, cog, moderator(guild, "de"), name="design", credits=10, period="week", role=vip
    )
    assert created.embed is not None and created.embed.title == "Teampool"
    assert created.embed.fields[0].value == (
        f"keiner → **`design`: 10 Credits pro Woche, für Mitglieder mit <@&{VIP_ROLE}>**"
    )
    assert created.embed.fields[1].value == translate("de", "admin.pool.create_note")
    changed = await invoke(AdminCog.pool_set, cog, moderator(guild, "ja"), name="design", credits=5)
    assert changed.embed is not None and changed.embed.title == "チームプール"
    assert "**`design`: 1週間あたり5 " in changed.embed.fields[0].value
    shown = await invoke(AdminCog.pool_show, cog, moderator(guild, "ja"), name="design")
    assert shown.embed is not None and shown.embed.title == "チームプール design"
    assert shown.embed.fields[0].value.startswith(f"対象: <@&{VIP_ROLE}> を持つメンバー。")
    deleted = await invoke(AdminCog.pool_delete, cog, moderator(guild, "de"), name="design")
    assert deleted.embed is not None and deleted.embed.fields[0].value.endswith("→ **gelöscht**")
    empty = await invoke(AdminCog.pool_list, cog, moderator(guild, "de"))
    assert empty.embed is not None and empty.embed.title == "Teampools"
    assert empty.embed.description == "Noch keine Pools: `/videoadmin pool create` legt einen an."


async def test_lists_and_policy_in_german_and_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    nobody = await invoke(AdminCog.blocks, cog, moderator(guild, "de"))
    assert nobody.embed is not None and nobody.embed.title == "Gesperrte Mitglieder"
    assert nobody.embed.description == "Niemand ist gesperrt."
    await invoke(
        AdminCog.block, cog, moderator(guild, "de"), member=make_member(guild, TARGET), reason="Spam"
    )
    listed = await invoke(AdminCog.blocks, cog, moderator(guild, "ja"))
    assert listed.embed is not None and listed.embed.footer.text == "1 人をブロック中"
    assert listed.embed.description is not None and listed.embed.description.startswith(
        f"<@{TARGET}> · <@{MANAGER}> が "
    )
    empty = await invoke(AdminCog.filter_list, cog, moderator(guild, "ja"))
    assert empty.embed is not None and empty.embed.description == translate("ja", "admin.filter.empty")
    where = await invoke(AdminCog.channels_list, cog, moderator(guild, "de"))
    assert (
        where.embed is not None
        and where.embed.fields[0].value == "jeder Kanal (die Zulassungsliste ist leer)"
    )
    policy = await invoke(AdminCog.policy, cog, moderator(guild, "ja"))
    assert policy.embed is not None and policy.embed.title == "サーバーの動画ポリシー"
    fields = {f.name: f.value for f in policy.embed.fields}
    assert fields["作成"] == "稼働中"
    assert fields["デフォルトの利用枠"].endswith("（ボットのデフォルト）")
    assert policy.embed.footer.text == "/videoadmin policy とそのオプションで変更できます。"


async def test_quota_show_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    target = make_member(guild, TARGET)
    reply = await invoke(AdminCog.quota_show, cog, moderator(guild, "de"), member=target)
    assert reply.embed is not None and reply.embed.title == "Kontingent"
    assert reply.embed.description == f"Mitglied: {target.mention}"
    fields = {f.name: f.value for f in reply.embed.fields}
    assert fields["Dieser Zeitraum"].startswith("**0** von 5 Credits pro Tag verbraucht; 5 übrig\n")
    assert fields["Limit stammt von"] == "dem Standard des Bots"
    assert fields["Eigene Zuteilung"] == "keine eigene Zuteilung"
    assert fields["Gesperrt"] == "nicht gesperrt"


async def test_policy_values_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    reply = await invoke(AdminCog.policy, cog, moderator(guild, "ja"), results="private", threads="on")
    assert reply.embed is not None
    fields = {f.name: f.value for f in reply.embed.fields}
    assert fields["結果"] == "チャンネルで公開 → **リクエストした人のみ**"
    assert fields["動画ごとのスレッド"] == "ボットのデフォルト（THREAD_PER_VIDEO） → **オン**"


# -- the moderation service's refusals, in the moderator's language ------------------------------------


async def test_bad_values_are_refused_in_german_and_japanese(
    cog: AdminCog, guild: discord.Guild, storage: Storage
) -> None:
    target = make_member(guild, TARGET)
    negative = await invoke(AdminCog.quota_set, cog, moderator(guild, "de"), member=target, credits=-1)
    assert negative.ephemeral and negative.embed is None
    assert negative.content == "`credits` darf nicht negativ sein. Es wurde nichts geändert."
    too_many = await invoke(AdminCog.quota_set, cog, moderator(guild, "ja"), member=target, credits=10_001)
    assert too_many.content == "`credits` は最大 10,000 クレジットです。何も変更されていません。"
    models = await invoke(AdminCog.policy, cog, moderator(guild, "de"), allowed_models="Sora-9000")
    assert models.content is not None
    assert models.content.startswith("Unbekanntes Modell: Sora-9000. Wähle aus: ")
    assert await storage.limits.override(guild.id, TARGET) is None


async def test_a_member_without_rights_is_refused_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    member = make_member(guild, TARGET)
    plain = kit.make_interaction(None, user=member, guild=guild, channel_id=CHANNEL_ID, locale="ja")
    reply = await invoke(AdminCog.blocks, cog, plain)
    assert reply.ephemeral and reply.embed is None
    assert reply.content == "動画のモデレーターコマンドを使うには「サーバー管理」権限が必要です。"


async def test_pool_and_channel_refusals_in_german_and_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    missing = await invoke(AdminCog.pool_show, cog, moderator(guild, "ja"), name="nope")
    assert missing.content == (
        "このサーバーに `nope` というプールはありません。`/videoadmin pool list` で一覧を確認できます。"
    )
    nobody = await invoke(
        AdminCog.pool_create, cog, moderator(guild, "de"), name="design", credits=10, period="week"
    )
    assert nobody.content == translate("de", "admin.refused.pool_who")
    assert nobody.content is not None and nobody.content.endswith("Es wurde nichts geändert.")
    videos = text_channel(guild)
    await invoke(AdminCog.channels_allow, cog, moderator(guild, "de"), channel=videos)
    last = await invoke(AdminCog.channels_deny, cog, moderator(guild, "de"), channel=videos)
    assert last.content is not None
    assert last.content.startswith(f"<#{CHANNEL_ID}> ist der einzige Kanal auf der Zulassungsliste")


async def test_policy_cap_and_moderator_role_notes_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    vip = role(guild, VIP_ROLE)
    reply = await invoke(AdminCog.policy, cog, moderator(guild, "de"), cap="50", moderator_role=vip)
    assert reply.embed is not None
    notes = {f.name: f.value for f in reply.embed.fields}["Hinweis"].split("\n")
    assert notes == [
        "Das Limit zählt die Credits aller zusammen, pro Tag (der Kontingentzeitraum des Servers).",
        translate("de", "admin.policy.moderator_role_note", role=vip.mention),
    ]
    assert notes[1].startswith(f"Mitglieder mit {vip.mention} dürfen jetzt /videoadmin nutzen")


async def test_outside_a_server_is_refused_in_german(cog: AdminCog, guild: discord.Guild) -> None:
    member = make_member(guild, MANAGER, MANAGER_ROLE)
    direct = kit.make_interaction(None, user=member, guild=None, channel_id=CHANNEL_ID, locale="de")
    reply = await invoke(AdminCog.blocks, cog, direct)
    assert reply.content == translate("de", "error.outside_guild")
    assert reply.content != translate("en", "error.outside_guild")


async def test_a_bad_filter_entry_is_refused_in_japanese(cog: AdminCog, guild: discord.Guild) -> None:
    everything = await invoke(AdminCog.filter_add, cog, moderator(guild, "ja"), pattern="/.*/")
    assert everything.content == (
        "その正規表現はすべてのプロンプトに一致します。もっと具体的にしてください。何も変更されていません。"
    )
    missing = await invoke(AdminCog.filter_remove, cog, moderator(guild, "de"), pattern="spider")
    assert missing.content == (
        "`spider` steht nicht im Prompt-Filter; siehe `/videoadmin filter list`. Es wurde nichts geändert."
    )
