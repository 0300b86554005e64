"""How a typed message is read as the answer to a poll's options, or as no answer at all."""

from __future__ import annotations

import pytest

from bot.flows.poll import match_answer

AGREE = [["Setuju", "Agree"], ["Tidak setuju", "Disagree"], ["Ragu-ragu"]]
YES_NO = [["Ya", "Yes"], ["Tidak", "No"]]
ROADS = [["Perbaikan jalan"], ["Penerangan jalan"], ["Drainase"]]


@pytest.mark.parametrize(("typed", "expected"), [
    ("1", 0), ("3", 2), (" 2. ", 1), ("b", 1),
    ("setuju", 0), ("SETUJU!", 0), ("Disagree", 1), ("ragu ragu", 2),
    ("stuju", 0), ("setju", 0), ("tidak stuju", 1),
    ("gak setuju", 1), ("tdk setuju", 1), ("nggak setuju", 1),
    ("saya setuju", 0), ("saya tidak setuju", 1), ("setuju sekali pak", 0),
])
def test_an_answer_by_number_letter_word_or_typo(typed: str, expected: int) -> None:
    assert match_answer(typed, AGREE, numbers=True) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("ya", 0), ("iya", 0), ("y", 0), ("yes", 0), ("ok", 0),
    ("tidak", 1), ("gak", 1), ("ngga", 1), ("no", 1),
])
def test_yes_and_no_as_residents_write_them(typed: str, expected: int) -> None:
    assert match_answer(typed, YES_NO, numbers=False) == expected


@pytest.mark.parametrize("typed", [
    "jalan depan rumah rusak", "bagaimana cara bayar pbb?", "halo", "menu", "batal",
    "7", "0", "satu", "ok siap", "setuju tapi jalan depan rumah saya masih rusak parah",
])
def test_a_message_about_something_else_is_no_answer(typed: str) -> None:
    assert match_answer(typed, AGREE, numbers=True) is None


def test_numbers_answer_only_when_the_poll_is_in_front_of_the_resident() -> None:
    assert match_answer("2", AGREE, numbers=False) is None
    assert match_answer("b", AGREE, numbers=False) is None
    assert match_answer("setuju", AGREE, numbers=False) == 0


def test_a_word_shared_by_two_options_answers_neither() -> None:
    assert match_answer("jalan", ROADS, numbers=True) is None
    assert match_answer("perbaikan", ROADS, numbers=True) == 0  # the start of one label
    assert match_answer("penerangan jln", ROADS, numbers=True) == 1
    assert match_answer("jalan depan rumah rusak", ROADS, numbers=True) is None
