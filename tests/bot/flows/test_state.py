"""Flow state as conversations stored it before it was typed: each loads and is written back
with the same keys and values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.flows.campaign import Compose, Shown
from bot.flows.faq import FaqState
from bot.flows.rating import RatingState
from bot.flows.report import Editing
from bot.flows.staff import StaffQuestion
from bot.flows.state import FlowState, Navigation, ReportDraft
from bot.flows.subscribe import SubscribeState

SAVED = "2026-12-07T02:00:00+00:00"
PHOTO = {"path": "ab/abcdef.jpg", "content_type": "image/jpeg", "size": 48213,
         "sha256": "abcdef"}

# Conversation JSON as the dict-based flows wrote it (a flow's keys among other flows' keys).
OLD_SHAPES: list[tuple[type[FlowState], dict[str, Any]]] = [
    (ReportDraft, {"draft": {
        "photos": [PHOTO], "saved_at": SAVED, "category": "jalan_rusak",
        "kecamatan": "12.75.02", "kelurahan": "12.75.02.1005", "lat": 3.6, "lon": 98.49,
        "address": "Jl. Sudirman, depan Masjid Raya", "description": "Jalan berlubang besar",
        "similar": [4, 9], "similar_seen": True, "anonymous": False, "state": "photos",
        "candidates": ["12.75.02.1005"]}}),
    (Editing, {"_editing": True}),
    (RatingState, {"rating": {"report": 7, "ticket": "BJI-2026-000007"}}),
    (StaffQuestion, {"staff": {
        "report": 7, "ticket": "BJI-2026-000007", "chat": "-1001", "group": True,
        "name": "Rina", "back": ["report", "photos"], "options": [["skip", "Skip photos"]],
        "started": SAVED, "photos": [PHOTO], "note": "Lubang sudah ditambal",
        "reason": "Jalan provinsi"}}),
    (Compose, {"compose": {
        "groups": ["kim:12.75.02", "cgen"], "title": "Vaksinasi", "text_id": "Besok",
        "text_en": "Tomorrow", "image": "cd/cdef.jpg", "link": "https://binjaikota.go.id/",
        "weekly": True, "send_at": "2026-12-24T08:00:00+07:00"}}),
    (Shown, {"c_show": 12}),
    (FaqState, {"faq": {"topic": "aplikasi", "slug": "cara-lapor", "page": 1,
                        "see": ["e-pbb"], "q": "bagaimana cara bayar PBB?",
                        "category": "sampah"}}),
    (SubscribeState, {"sub_kel": "12.75.02.1005", "sub_choices": ["12.75.02.1005"]}),
]


@pytest.mark.parametrize(("kind", "stored"), OLD_SHAPES, ids=lambda v: getattr(v, "__name__", ""))
def test_state_stored_as_a_dict_loads_and_is_written_back_unchanged(
    kind: type[FlowState], stored: dict[str, Any]
) -> None:
    data = {**stored, "_stack": ["category"], "other": {"kept": 1}}
    ctx = SimpleNamespace(data=data, states={})
    state = kind.get(ctx)  # type: ignore[arg-type]
    assert state is not None
    written: dict[str, Any] = {"_stack": ["category"], "other": {"kept": 1}}
    kind.write(state, written)
    assert written == data


def test_a_dropped_state_leaves_the_other_keys() -> None:
    data = {"draft": {"saved_at": SAVED}, "_editing": True, "sub_kel": "12.75.02.1005"}
    ReportDraft.write(None, data)
    Editing.write(None, data)
    assert data == {"sub_kel": "12.75.02.1005"}


def test_keys_a_later_version_added_survive() -> None:
    ctx = SimpleNamespace(data={"draft": {"saved_at": SAVED, "priority": "high"}}, states={})
    draft = ReportDraft.get(ctx)  # type: ignore[arg-type]
    assert draft is not None
    assert draft.dump() == {"saved_at": SAVED, "priority": "high", "photos": []}


def test_a_state_this_version_cannot_read_is_dropped_not_fatal() -> None:
    ctx = SimpleNamespace(data={"rating": {"ticket": "BJI-2026-000007"}}, states={})
    assert RatingState.get(ctx) is None  # type: ignore[arg-type]


def test_the_old_router_keys_are_read_into_the_navigation_and_written_as_it() -> None:
    data: dict[str, Any] = {"_options": [["skip", "Skip"], ["nav:back", "⬅️ Back"]],
                            "_stack": ["description", "category"], "draft": {"saved_at": SAVED}}
    nav = Navigation.take(data)
    assert data == {"draft": {"saved_at": SAVED}}
    assert [(o.id, o.label) for o in nav.offered()] == [("skip", "Skip"), ("nav:back", "⬅️ Back")]
    assert nav.stack == ["description", "category"]
    nav.write(data)
    assert data["nav"] == {"options": [["skip", "Skip"], ["nav:back", "⬅️ Back"]],
                           "stack": ["description", "category"]}
    assert Navigation.take(dict(data)) == nav


def test_old_router_keys_written_by_an_earlier_version_count_over_the_navigation() -> None:
    # An earlier version running again after this one keeps "nav" as an unknown key, and its
    # own keys are the newer.
    data: dict[str, Any] = {"nav": {"options": [["a", "A"]], "stack": ["place"]},
                            "_options": [["b", "B"]]}
    nav = Navigation.take(data)
    assert data == {}
    assert nav.options == [("b", "B")] and nav.stack == []


def test_navigation_this_version_cannot_read_is_dropped_and_empty_is_not_stored() -> None:
    data: dict[str, Any] = {"_stack": "place", "other": 1}
    nav = Navigation.take(data)
    assert nav == Navigation()
    nav.write(data)
    assert data == {"other": 1}
