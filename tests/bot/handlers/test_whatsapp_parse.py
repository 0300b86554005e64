"""Twilio's inbound form becomes the neutral Inbound; numbers become E.164."""

from __future__ import annotations

import pytest

from bot.handlers.whatsapp_parse import parse_form
from bot.messages import Kind
from storage.phone import to_e164

SID = "SM" + "a" * 32


def form(**fields: str) -> dict[str, str]:
    base = {"MessageSid": SID, "From": "whatsapp:+6281234567890", "WaId": "6281234567890",
            "ProfileName": "Budi", "Body": "", "NumMedia": "0"}
    base.update(fields)
    return base


@pytest.mark.parametrize("raw,expected", [
    ("whatsapp:+6281234567890", "+6281234567890"),
    ("+62 812-3456-7890", "+6281234567890"),
    ("081234567890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),  # a WaId has no plus sign
    ("whatsapp:+447700900123", "+447700900123"),
    ("not a number", None),
    ("", None),
])
def test_numbers_are_normalised_to_e164(raw: str, expected: str | None) -> None:
    assert to_e164(raw) == expected


def test_text_with_profile_name_and_sender() -> None:
    inbound = parse_form(form(Body="Jalan rusak di depan sekolah"))
    assert inbound is not None
    assert (inbound.kind, inbound.text) == (Kind.TEXT, "Jalan rusak di depan sekolah")
    assert (inbound.user_key, inbound.event_id) == ("+6281234567890", SID)
    assert (inbound.display_name, inbound.locale_hint) == ("Budi", "id")


def test_the_sender_falls_back_to_the_whatsapp_id() -> None:
    inbound = parse_form(form(From="", Body="halo"))
    assert inbound is not None and inbound.user_key == "+6281234567890"


def test_a_form_without_a_message_or_sender_is_ignored() -> None:
    assert parse_form(form(MessageSid="")) is None
    assert parse_form(form(From="", WaId="")) is None


def test_a_shared_location_with_address_or_label() -> None:
    inbound = parse_form(form(Latitude="3.6050", Longitude="98.4920",
                              Address="Jl. T. Amir Hamzah", Label="Masjid Raya"))
    assert inbound is not None and inbound.kind == Kind.LOCATION
    assert inbound.location is not None
    assert (inbound.location.latitude, inbound.location.longitude) == (3.605, 98.492)
    assert inbound.location.address == "Jl. T. Amir Hamzah"
    labelled = parse_form(form(Latitude="3.6", Longitude="98.49", Label="Pasar Tavip"))
    assert labelled is not None and labelled.location is not None
    assert labelled.location.address == "Pasar Tavip"


def test_a_quick_reply_answer_is_an_option() -> None:
    inbound = parse_form(form(ButtonPayload="m:track", ButtonText="🔎 Cek status laporan",
                              Body="🔎 Cek status laporan"))
    assert inbound is not None
    assert (inbound.kind, inbound.option_id) == (Kind.OPTION, "m:track")
    picked = parse_form(form(ListId="kec:1275010", ListTitle="Binjai Kota"))
    assert picked is not None and picked.option_id == "kec:1275010"


@pytest.mark.parametrize("content_type,message_type,kind", [
    ("image/jpeg", "image", Kind.PHOTO),
    ("image/webp", "sticker", Kind.STICKER),
    ("image/png", "document", Kind.DOCUMENT),
    ("application/pdf", "document", Kind.DOCUMENT),
    ("audio/ogg", "audio", Kind.VOICE),
    ("video/mp4", "video", Kind.VIDEO),
    ("text/vcard", "", Kind.CONTACT),
])
def test_media_kinds(content_type: str, message_type: str, kind: Kind) -> None:
    inbound = parse_form(form(NumMedia="1", MediaUrl0="https://api.twilio.com/x",
                              MediaContentType0=content_type, MessageType=message_type,
                              Body="caption"))
    assert inbound is not None and inbound.kind == kind
    [media] = inbound.media
    assert (media.kind, media.content_type, media.ref) == (kind, content_type,
                                                           "https://api.twilio.com/x")
    assert inbound.text == "caption"


def test_several_media_in_one_message() -> None:
    inbound = parse_form(form(NumMedia="2", MediaUrl0="https://api.twilio.com/a",
                              MediaContentType0="image/jpeg", MediaUrl1="https://api.twilio.com/b",
                              MediaContentType1="image/png"))
    assert inbound is not None and [m.ref for m in inbound.media] == [
        "https://api.twilio.com/a", "https://api.twilio.com/b"]


def test_a_slash_command_is_a_command() -> None:
    inbound = parse_form(form(Body="/bahasa en"))
    assert inbound is not None
    assert (inbound.kind, inbound.command, inbound.command_arg) == (Kind.COMMAND, "bahasa", "en")


@pytest.mark.parametrize("fields", [
    {"From": "+6281234567890"},  # an SMS, not WhatsApp
    {"From": "messenger:12345", "WaId": "6281234567890"},
    {"MessageSid": "SM" + "a" * 31},  # a field shifted into its neighbour
    {"MessageSid": "SM" + "a" * 32 + "N"},
    {"MessageSid": "XX" + "a" * 32},
])
def test_what_is_not_a_whatsapp_message_is_ignored(fields: dict[str, str]) -> None:
    assert parse_form(form(**fields, Body="halo")) is None


def test_the_bots_own_number_is_never_answered() -> None:
    own = "+14155238886"
    assert parse_form(form(From=f"whatsapp:{own}", WaId=own[1:], Body="halo"),
                      own_number=own) is None
    assert parse_form(form(Body="halo"), own_number=own) is not None
