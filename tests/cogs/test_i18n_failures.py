"""Failure reasons and card notes in the reader's language (issue 13): the core stores English, the
failure notice, the card and the Details button render it in the server's or the clicker's."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bot.i18n import translate
from bot.i18n.notes import localise_note, stored_note
from bot.lifecycle import StatusCard
from bot.lifecycle.api_cancel import cancelled_note
from bot.lifecycle.delivery import DELIVERY_FAILED, kept_message
from bot.lifecycle.moderation.tasks import REFUND_MESSAGE
from bot.lifecycle.reconcile import NOT_LISTED_MESSAGE, RECONCILING_NOTE
from bot.lifecycle.recovery import LOST_FAILURE_MESSAGE
from bot.lifecycle.served import NOT_SERVED
from bot.lifecycle.submitter import CRASH_MESSAGE, unknown_message
from bot.lifecycle.tracker import TIMEOUT_MESSAGE
from bot.minimax import errors
from cogs import embeds
from cogs.notifier import DiscordNotifier
from storage import TaskState
from tests.cogs.test_notifier import FakeBot, make_task

API_ERRORS = [
    errors.MiniMaxError,
    errors.TransientServerError,
    errors.RateLimited,
    errors.MalformedResponse,
    errors.AuthFailed,
    errors.InsufficientBalance,
    errors.AccountProblem,
    errors.SensitiveInput,
    errors.SensitiveOutput,
    errors.SubmitOutcomeUnknown,
    errors.UnsafeDownload,
    errors.NotAVideo,
    errors.UnreadableVideo,
]


def stored_texts() -> list[str]:
    """Every English reason or note the core stores or puts on a card."""
    task = make_task(id=7, state=TaskState.DELIVERED)
    return [
        *(cls("x").user_message for cls in API_ERRORS),
        errors.InvalidParameters("invalid duration").user_message,
        CRASH_MESSAGE,
        NOT_LISTED_MESSAGE,
        RECONCILING_NOTE,
        LOST_FAILURE_MESSAGE,
        NOT_SERVED,
        TIMEOUT_MESSAGE.format(minutes="30"),
        "The video request was lost. Your credits were refunded.",  # the tracker's, inline
        DELIVERY_FAILED,
        REFUND_MESSAGE,
        unknown_message(None),
        unknown_message("req-42"),
        kept_message(task),
        f"Take 2/3: {DELIVERY_FAILED}",
        cancelled_note(make_task(cost_tenths=10)),
        translate("en", "image.fetch.frame_unknown"),
        translate("en", "image.fetch.video_gone", task_id="4"),
        translate("en", "image.fetch.video_unreadable", task_id="4"),
        *(
            translate("en", f"image.fetch.{k}")
            for k in ("gone", "too_large", "download_failed", "not_an_image")
        ),
        cancelled_note(make_task(cost_tenths=18)),
    ]


@pytest.mark.parametrize("text", stored_texts())
def test_every_stored_reason_has_a_key_and_english_is_unchanged(text: str) -> None:
    found = stored_note(text)
    assert found is not None, text
    assert found.render("en") == text
    assert localise_note(text, "en-US") == text
    for locale in ("es-ES", "pt-BR", "fr", "de", "ja"):
        assert localise_note(text, locale) != text, (locale, text)


def test_placeholders_are_read_back_and_nested_reasons_translated() -> None:
    assert localise_note(TIMEOUT_MESSAGE.format(minutes="12.5"), "de").startswith(
        "Der Videodienst hat dieses Video nicht rechtzeitig fertiggestellt (12.5 Minuten)"
    )
    assert localise_note(f"Take 2/3: {CRASH_MESSAGE}", "ja") == "テイク 2/3: " + translate(
        "ja", "failure.crash"
    )
    unknown = localise_note(unknown_message("req-42"), "es")
    assert unknown.startswith(translate("es", "failure.submit_unknown"))
    assert unknown.endswith("solicitud req-42.")
    # The API's own wording stays as it came; the frame around it is translated.
    rejected = errors.InvalidParameters("duration must be 6 or 10").user_message
    assert localise_note(rejected, "fr") == "Le service vidéo a refusé la demande : duration must be 6 or 10"


def test_a_cancel_note_says_the_amount_in_the_language() -> None:
    assert (
        localise_note(cancelled_note(make_task(cost_tenths=18)), "de")
        == "Abgebrochen. 1.8 Credits erstattet."
    )
    assert (
        localise_note(cancelled_note(make_task(cost_tenths=10)), "de") == "Abgebrochen. 1 Credit erstattet."
    )
    assert (
        localise_note(cancelled_note(make_task(cost_tenths=10)), "ja")
        == "キャンセルしました。1 クレジットを返金しました。"
    )


def test_a_text_of_no_key_stays_as_stored() -> None:
    assert stored_note("The image at https://x/y.png could not be fetched.") is None
    assert localise_note("It broke.", "de") == "It broke."


async def test_the_failure_notice_is_in_the_servers_language() -> None:
    bot = FakeBot()
    bot.guilds[1] = SimpleNamespace(filesize_limit=8 * 1024 * 1024, preferred_locale=discord.Locale.german)
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    await notifier.post_failure(make_task(state=TaskState.FAILED), errors.SensitiveInput.user_message)
    (sent,) = bot.channels[2].sent
    embed = sent.kwargs["embed"]
    assert embed.description == translate("de", "failure.sensitive_input")
    assert embed.description.startswith("Der Videodienst hat deinen Prompt")


async def test_an_english_servers_notice_is_byte_for_byte_the_stored_text() -> None:
    bot = FakeBot()
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    message = TIMEOUT_MESSAGE.format(minutes="30")
    await notifier.post_failure(make_task(state=TaskState.FAILED), message)
    (sent,) = bot.channels[2].sent
    assert sent.kwargs["embed"].description == message


def test_the_card_note_follows_the_servers_language() -> None:
    task = make_task(state=TaskState.FAILED, error_message=DELIVERY_FAILED)
    card = embeds.channel_card_embed(StatusCard(task, note=f"Take 1/2: {DELIVERY_FAILED}"), "es-ES")
    notes = [f.value for f in card.fields if f.name == translate("es", "card.note")]
    assert notes == ["Toma 1/2: " + translate("es", "failure.delivery")]
    english = embeds.channel_card_embed(StatusCard(task, note=RECONCILING_NOTE), "en-US")
    assert [f.value for f in english.fields if f.name == "Note"] == [RECONCILING_NOTE]


def test_details_give_the_reason_in_the_clickers_language() -> None:
    task = make_task(
        state=TaskState.FAILED, error_message=NOT_LISTED_MESSAGE, error_code="unknown_not_listed"
    )
    embed = embeds.details_embed(task, "ja")
    why = [f.value for f in embed.fields if f.name == translate("ja", "details.why")]
    assert why == [translate("ja", "failure.not_listed")]


def test_image_checks_name_the_image_in_the_readers_language() -> None:
    from bot.i18n import msg
    from bot.lifecycle.refusal import RequestRefused
    from bot.lifecycle.validation import check_image
    from bot.spec import MediaRef, MediaRole

    small = MediaRef("https://x/a.png", MediaRole.FIRST_FRAME, filename="a.png", width=200, height=300)
    with pytest.raises(RequestRefused) as refused:
        check_image(small, msg("image.label.role", role="first_frame"))
    assert refused.value.message == (
        "The first_frame image is 200×300 px; its shorter side must be over 300 px. Use a larger image."
    )
    assert refused.value.text("de").startswith("Das Bild first_frame hat 200×300 px")
    assert refused.value.text("ja").startswith("first_frame 画像は 200×300 px です。")
    gif = MediaRef("https://x/b", MediaRole.FIRST_FRAME, content_type="image/gif")
    with pytest.raises(RequestRefused) as refused:
        check_image(gif, msg("image.label.attached"))
    assert refused.value.message.startswith(
        "The attached image must be a JPG, PNG or WebP image, and 'the attachment' is not."
    )
    assert refused.value.text("es-ES").startswith(
        "La imagen adjunta debe ser una imagen JPG, PNG o WebP, y el archivo adjunto no lo es."
    )


def test_reference_rules_refuse_in_the_readers_language() -> None:
    from bot.lifecycle.references import check_references
    from bot.lifecycle.refusal import RequestRefused
    from bot.spec import MediaKind, MediaRef, MediaRole, VideoSpec

    audio = MediaRef("https://x/a.mp3", MediaRole.REFERENCE_AUDIO, kind=MediaKind.AUDIO, filename="a.mp3")
    first = MediaRef("https://x/f.png", MediaRole.FIRST_FRAME, filename="f.png")
    last = MediaRef("https://x/l.png", MediaRole.LAST_FRAME, filename="l.png")
    with pytest.raises(RequestRefused) as refused:
        check_references(VideoSpec(prompt="", media=(audio, first, last)))
    assert refused.value.message.startswith("References cannot be combined with first_frame and last_frame:")
    assert refused.value.text("de").startswith(
        "Referenzen lassen sich nicht mit first_frame und last_frame kombinieren"
    )
    assert refused.value.text("ja").startswith("参照は first_frame と last_frame と組み合わせられません。")
    with pytest.raises(RequestRefused) as refused:
        check_references(VideoSpec(prompt="", media=(audio,)))
    assert refused.value.message.startswith("Reference audio needs a reference image or video too")
    assert refused.value.text("es-419") == translate("es", "model.reference.audio_alone")


def test_model_refusals_in_the_readers_language() -> None:
    from bot.lifecycle.validation import RequestRefused, plan_request
    from bot.spec import VideoSpec

    with pytest.raises(RequestRefused) as refused:
        plan_request(VideoSpec(prompt="a boat", model="Hailuo-9"))
    assert refused.value.message.startswith("There is no model called 'Hailuo-9'. Choose one of: ")
    assert refused.value.text("fr").startswith("Aucun modèle ne s'appelle 'Hailuo-9'. Choisis-en un parmi : ")
    with pytest.raises(RequestRefused) as refused:
        plan_request(VideoSpec(prompt="a boat", resolution="4K"))
    assert refused.value.message.startswith("Resolution must be one of ")
    assert refused.value.text("ja").startswith("解像度は次のいずれかにしてください: ")


def test_what_a_model_offers_and_who_could_in_the_readers_language() -> None:
    from bot.catalog import OptionPolicy
    from bot.lifecycle.validation import RequestRefused, plan_request
    from bot.spec import VideoSpec

    only_t2v = OptionPolicy(allowed_models=frozenset({"T2V-01"}))
    with pytest.raises(RequestRefused) as refused:
        plan_request(VideoSpec(prompt="a boat", resolution="1080P"), policy=only_t2v)
    english = refused.value.message
    assert "T2V-01 (text-to-video) does not make 1080P videos. It offers 720P: 6 s." in english
    assert "MiniMax-Hailuo-2.3 and MiniMax-Hailuo-02 could, but this server does not allow them." in english
    german = refused.value.text("de")
    assert german.startswith("T2V-01 (" + translate("de", "mode.text") + ") erstellt keine Videos in 1080P.")
    assert (
        "MiniMax-Hailuo-2.3 und MiniMax-Hailuo-02 könnten es, aber dieser Server erlaubt sie nicht." in german
    )
    spanish = refused.value.text("es-ES")
    assert "Ofrece 720P: " + translate("es", "unit.seconds", seconds=6) in spanish


def test_why_a_model_cannot_make_a_mode_in_the_readers_language() -> None:
    from bot.lifecycle.validation import RequestRefused, plan_request
    from bot.spec import VideoSpec

    with pytest.raises(RequestRefused) as refused:
        plan_request(VideoSpec(prompt="a boat", model="MiniMax-Hailuo-2.3-Fast"))
    assert "cannot make text-to-video videos (it needs a first_frame image)" in refused.value.message
    german = refused.value.text("de")
    assert german.startswith("MiniMax-Hailuo-2.3-Fast kann keine Videos vom Typ")
    assert "(es geht nur mit einem first_frame-Bild)" in german


def test_duration_lists_in_the_readers_language() -> None:
    from bot.lifecycle.validation import RequestRefused, plan_request
    from bot.spec import VideoSpec

    with pytest.raises(RequestRefused) as refused:
        plan_request(VideoSpec(prompt="a boat", duration=7))
    assert refused.value.message.startswith("Duration must be 6 or 10 seconds")
    assert refused.value.text("de").startswith("Die Dauer muss 6 oder 10 Sekunden betragen")
    assert refused.value.text("ja").startswith("長さは 6")
