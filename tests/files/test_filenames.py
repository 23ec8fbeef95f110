"""Declared file names made safe to display (security bar, tests 51 and 52)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meetwarden.server.files.filenames import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    sanitize_filename,
)


@pytest.mark.parametrize(
    ("declared", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x", "x"),
        ("C:\\x", "x"),
        ("C:x.txt", "x.txt"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("\\\\server\\share\\deck.pptx", "deck.pptx"),
        ("a\x00.png", "a.png"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2067photo\u2069\u200b.png", "photo.png"),
        ("report.pdf.", "report.pdf"),
        ("report.exe . .", "report.exe"),
        (".htaccess", "htaccess"),
        ("...hidden.txt", "hidden.txt"),
        ("  two   words\there\n.txt", "two words here .txt"),
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("CON.txt", "_CON.txt"),
        ("cafe\u0301.txt", "café.txt"),  # NFC
        ("bell\x07\x1b[31m.txt", "bell[31m.txt"),
        ("", "file"),
        ("..", "file"),
        ("\u202e\u200b\x00", "file"),
    ],
)
def test_declared_names_are_shown_safely(declared: str, shown: str) -> None:
    assert sanitize_filename(declared) == shown


def test_missing_name_falls_back() -> None:
    assert sanitize_filename(None) == "file"
    assert sanitize_filename("", fallback="upload") == "upload"


def test_300_character_name_is_cut_keeping_its_extension() -> None:
    shown = sanitize_filename("a" * 300 + ".pdf")

    assert len(shown) == MAX_NAME_CHARS
    assert shown.endswith("a.pdf")


def test_long_multibyte_name_fits_file_system_limits_and_keeps_its_extension() -> None:
    shown = sanitize_filename("日本語" * 100 + ".png")

    assert len(shown.encode("utf-8")) <= MAX_NAME_BYTES
    assert shown.endswith("語.png")


def test_name_too_long_to_keep_the_extension_is_cut_whole() -> None:
    assert sanitize_filename("abcdefgh.pdf", max_chars=4) == "abcd"


@given(st.text(max_size=400))
def test_any_name_becomes_one_visible_bounded_leaf(declared: str) -> None:
    shown = sanitize_filename(declared)

    assert shown
    assert not set(shown) & set('/\\\x00<>:"|?*')
    assert all(unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in shown)
    assert not shown.startswith((".", " "))
    assert not shown.endswith((".", " "))
    assert "  " not in shown
    assert len(shown) <= MAX_NAME_CHARS
    assert len(shown.encode("utf-8")) <= MAX_NAME_BYTES
    assert shown == unicodedata.normalize("NFC", shown)
    assert sanitize_filename(shown) == shown
