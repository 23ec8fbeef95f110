"""The full-name check: what a participant typing a name sees (security-bar tests 34-37)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetwarden.policies import names
from meetwarden.policies.model import FullName
from meetwarden.policies.names import (
    NAME_REASONS,
    NameVerdict,
    check_full_name,
    name_skeleton,
    normalize_name,
)
from meetwarden.server.i18n import reason_text


def english(verdict: NameVerdict) -> str:
    """What the person reads: the sentence the edge writes from the verdict, in English."""
    return reason_text(verdict.reason or "", verdict.params, "en")


DEFAULTS = FullName()
# "Alice Host" contains the default blocked word "host": look-alike tests drop the
# block list so that the look-alike rule is the one that decides.
NO_BLOCKED_WORDS = FullName(blocked_words=())
OPTIONAL = FullName(required=False)
HOST = "Alice Host"

RULE_OF_REASON = {
    "name_symbols": "/entry/full_name/required",
    "name_missing": "/entry/full_name/required",
    "name_invalid_characters": "/entry/full_name",
    "name_too_long": "/entry/full_name/max_length",
    "name_not_a_name": "/entry/full_name/required",
    "name_too_short": "/entry/full_name/min_words",
    "name_blocked_word": "/entry/full_name/blocked_words",
    "name_lookalike": "/entry/full_name/reject_lookalikes_of",
}

ZALGO = "Z\u0334\u0321\u0327\u031b\u0358a\u0338\u0360\u0361\u035cl\u0337go Smith"


def check(raw: str, rules: FullName = DEFAULTS, protected: tuple[str, ...] = ()) -> NameVerdict:
    return check_full_name(raw, rules, protected)


def refused_for(verdict: NameVerdict, reason: str) -> bool:
    return not verdict.ok and verdict.reason == reason and verdict.rule == RULE_OF_REASON[reason]


# accepted names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Jean-Luc Picard",
        "José 张",
        "José张",
        "张伟",
        "山田太郎",
        "佐々木 健",
        "ジョン・スミス",
        "김민준",
        "O'Brien Mary",
        "Ana M.",
        "J.R.R. Tolkien",
        "Ελένη Παπαδοπούλου",
        "Иван Петров",
        "محمد علي",
        "אברהם כהן",
        "सुनील कुमार",
        "สมชาย ใจดี",
        "Hostess Smith",
        "Ghost Rider",
        "Nguyễn Văn An",
        "王小明",
        "O’Brien Mary",
        "Gal·la Puig",
        "Smith, John",
        "ʻIolani Kahale",
    ],
)
def test_full_names_across_scripts_are_accepted(raw: str) -> None:
    verdict = check(raw, protected=(HOST,))
    assert verdict == NameVerdict(
        ok=True, reason=None, rule="/entry/full_name", params={}, name=raw
    )


def test_name_typed_in_decomposed_form_is_shown_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert decomposed != "Nguyễn Văn An"
    verdict = check(decomposed)
    assert verdict.ok
    assert verdict.name == "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("  Jean   Picard  ", "Jean Picard"),
        ("Jean\u00a0Picard", "Jean Picard"),
        ("山田\u3000太郎", "山田 太郎"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),
        ("𝐉𝐨𝐡𝐧 Smith", "John Smith"),
        ("ｶﾞｸ Tanaka", "ガク Tanaka"),
    ],
)
def test_spacing_and_styled_letters_are_tidied_for_display(raw: str, shown: str) -> None:
    assert normalize_name(raw) == shown
    assert check(raw).name == shown


def test_superscripts_and_ligatures_are_left_as_typed() -> None:
    assert normalize_name("Louis XIV²") == "Louis XIV²"
    assert normalize_name("ﬁona Smith") == "ﬁona Smith"


def test_name_of_exactly_max_length_is_accepted() -> None:
    raw = "Ana " + "b" * 60
    assert len(raw) == DEFAULTS.max_length
    assert check(raw).ok


# refused names, one reason at a time -------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_empty_name_is_missing(raw: str) -> None:
    assert refused_for(check(raw), "name_missing")


@pytest.mark.parametrize(
    "raw",
    [
        "\u200b \u200c",
        "\u200d",
        "\u2060Ana Smith",
        "\ufeffAna Smith",
        "\u202eflow Smith",
        "Ana \u2066Smith\u2069",
        "Ana\u200eSmith",
        "Ana\u061c Smith",
        "Ana Smith\u200b",
        "Ana\tSmith",
        "Ana\nSmith",
        "Ana\x00Smith",
        "Ana\x7fSmith",
        "Ana\u2028Smith",
        "Ana \ue000Smith",
        "Ana \U000e0041Smith",
        "Ana \U0010fffdSmith",
        "Ana \u0378Smith",
        "Ana \ud800Smith",
        "\u3164 \u3164",
        "\u2800",
        ZALGO,
    ],
)
def test_invisible_control_bidi_and_stacked_characters_are_refused(raw: str) -> None:
    verdict = check(raw)
    assert refused_for(verdict, "name_invalid_characters")
    assert "invisible" in english(verdict)


def test_a_few_combining_marks_are_fine_but_a_stack_is_not() -> None:
    assert check("Nguye\u0302\u0303n Van").ok
    assert check("Nga\u0301\u0300\u0302 Smith").ok
    assert refused_for(check("Nga\u0301\u0300\u0302\u0303 Smith"), "name_invalid_characters")


def test_ten_thousand_characters_are_too_long() -> None:
    verdict = check("Ana " + "b" * 10_000)
    assert refused_for(verdict, "name_too_long")
    assert "64 characters" in english(verdict)


def test_invalid_characters_are_reported_before_length() -> None:
    assert refused_for(check("\u202e" + "b" * 10_000), "name_invalid_characters")


@pytest.mark.parametrize("raw", ["J", "J.", "J. M.", "A B C", "12345", "!!!", "🌸 🌸", "ˆˆ"])
def test_lone_letters_digits_and_punctuation_are_not_a_name(raw: str) -> None:
    verdict = check(raw)
    assert refused_for(verdict, "name_not_a_name")
    assert english(verdict) == (
        "That does not look like a name. Please enter your full name: first and last name."
    )


@pytest.mark.parametrize("raw", ["Ana", "Jean-Luc", "O'Brien", "张", "Ana 2", "Ana 🌸", "Smith,"])
def test_one_word_is_too_short_for_a_full_name(raw: str) -> None:
    verdict = check(raw)
    assert refused_for(verdict, "name_too_short")
    assert english(verdict) == "The host requires your full name: first and last name."


def test_a_bare_blocked_word_is_first_too_short_when_a_full_name_is_required() -> None:
    assert refused_for(check("Host"), "name_too_short")


def test_min_words_is_counted_on_words_with_letters() -> None:
    three = FullName(min_words=3)
    assert check("Ana Maria Silva", three).ok
    assert check("Ana M. Silva", three).ok
    verdict = check("Ana Silva", three)
    assert refused_for(verdict, "name_too_short")
    assert "at least 3 words" in english(verdict)
    assert check("Smith,John").ok


def test_a_cjk_name_written_without_spaces_is_a_full_name_whatever_min_words_says() -> None:
    assert check("山田太郎", FullName(min_words=4)).ok
    assert check("김민준", FullName(min_words=3)).ok


def test_one_word_suffices_when_min_words_is_one() -> None:
    one = FullName(min_words=1)
    assert check("Ana", one).ok
    assert check("张", one).ok
    verdict = check("J", one)
    assert refused_for(verdict, "name_not_a_name")
    assert english(verdict) == "That does not look like a name. Please enter your name."


@pytest.mark.parametrize(
    "raw",
    [
        "Mary Host",
        "host Mary",
        "Admin Smith",
        "Admin-Smith Jones",
        "Moderator Bob",
        "HOST person",
        "Ηost Person",  # Greek capital Eta
        "Hоst Person",  # Cyrillic o
        "H0st Person",  # digit zero, which Unicode lists as a look-alike of O
        "Ａｄｍｉｎ Smith",
        "𝐀𝐝𝐦𝐢𝐧 Smith",
        "Admín Smith",
        "Smith (host)",
        "Smith.Admin Jones",
    ],
)
def test_blocked_words_are_found_whatever_their_case_or_lookalike_letters(raw: str) -> None:
    verdict = check(raw)
    assert refused_for(verdict, "name_blocked_word")
    assert english(verdict) == (
        "Your name contains a word that is not allowed in this meeting. Please choose another name."
    )


@pytest.mark.parametrize("raw", ["Hostess Smith", "Ghost Rider", "Administer Smith", "Ho5t Person"])
def test_blocked_words_match_whole_words_only(raw: str) -> None:
    assert check(raw, OPTIONAL).ok


def test_multi_word_and_cjk_blocked_words() -> None:
    rules = FullName(blocked_words=("real host", "主持人"))
    assert refused_for(check("The Real  HOST", rules), "name_blocked_word")
    assert check("Real Smith", rules).ok
    assert refused_for(check("主持人张伟", rules), "name_blocked_word")
    assert check("张伟", rules).ok


def test_blocked_words_of_digits_or_punctuation() -> None:
    assert refused_for(
        check("Ana Smith 2024", FullName(blocked_words=("2024",))), "name_blocked_word"
    )
    assert check("Ana Smith 20245", OPTIONAL.model_copy(update={"blocked_words": ("2024",)})).ok
    assert check("Ana Smith !!!", OPTIONAL.model_copy(update={"blocked_words": ("!!!",)})).ok


@pytest.mark.parametrize(
    "raw",
    [
        "Alice Host",
        "Αlice Host",  # Greek capital Alpha
        "Alice Hоst",  # Cyrillic small o
        "alice  host",
        "ALICE HOST",
        "AIice Host",  # capital I for small l
        "Alíce Host",
        "Alice Host.",
        "Alice - Host",
        "𝐀𝐥𝐢𝐜𝐞 𝐇𝐨𝐬𝐭",
        "Ａｌｉｃｅ Ｈｏｓｔ",
    ],
)
def test_names_that_look_like_the_hosts_are_refused(raw: str) -> None:
    verdict = check(raw, NO_BLOCKED_WORDS, ("Bob Cohost", HOST))
    assert refused_for(verdict, "name_lookalike")
    assert english(verdict) == (
        "Your name looks like the name of a host of this meeting. Please use your own name."
    )


@pytest.mark.parametrize(
    "raw", ["Alice Hart", "Alicia Host", "Alice", "Bob Smith", "Alice Host 2", "Alice Hosts"]
)
def test_ordinary_different_names_are_not_lookalikes(raw: str) -> None:
    rules = NO_BLOCKED_WORDS.model_copy(update={"min_words": 1})
    assert check(raw, rules, (HOST,)).reason != "name_lookalike"
    assert check(raw, rules.model_copy(update={"required": False}), (HOST,)).ok


def test_lookalikes_are_case_blind_in_cyrillic_and_greek_too() -> None:
    assert refused_for(check("ИВАН ПЕТРОВ", protected=("Иван Петров",)), "name_lookalike")
    assert refused_for(
        check("ελένη παπαδοπούλου", protected=("ΕΛΈΝΗ ΠΑΠΑΔΟΠΟΎΛΟΥ",)), "name_lookalike"
    )
    assert check("Иван Петрова", protected=("Иван Петров",)).ok


def test_lowercase_only_lookalikes_are_caught() -> None:
    # Greek small nu looks like v, though its capital looks like N.
    assert refused_for(check("Vera Smith", protected=("\u03bdera Smith",)), "name_lookalike")
    assert refused_for(check("\u03bdera Smith", protected=("Vera Smith",)), "name_lookalike")


def test_no_protected_names_or_an_empty_rule_means_no_lookalike_check() -> None:
    assert check(HOST, NO_BLOCKED_WORDS).ok
    unprotected = NO_BLOCKED_WORDS.model_copy(update={"reject_lookalikes_of": ()})
    assert check(HOST, unprotected, (HOST,)).ok


def test_checks_run_in_the_documented_order() -> None:
    assert check("\u200b" + "Host " * 100).reason == "name_invalid_characters"
    assert check("Host " * 100, protected=("Host",)).reason == "name_too_long"
    assert check("Host", protected=("Host",)).reason == "name_lookalike"
    assert check("Alice Host", protected=("Alice Host",)).reason == "name_lookalike"
    assert check("Host").reason == "name_too_short"
    assert check("Host <b>").reason == "name_blocked_word"
    assert check("Ana <b>").reason == "name_symbols"


def test_a_lookalike_of_the_host_is_told_so_before_any_word_rule() -> None:
    # One word by the hyphen, yet what matters is that it looks like the host.
    verdict = check("Alice-Morgan", protected=("Alice Morgan",))
    assert refused_for(verdict, "name_lookalike")
    assert english(verdict) == (
        "Your name looks like the name of a host of this meeting. Please use your own name."
    )
    assert refused_for(check("Alice-Morgan"), "name_too_short")


@pytest.mark.parametrize(
    "raw",
    [
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)> Smith',
        "Ana <b>Smith</b>",
        "Robert'); DROP TABLE Students;--",
        "Ana Smith 2",
        "Ana {{7*7}} Smith",
        "Ana Smith 🌸",
        "Ana @ Smith",
        "Ana `Smith`",
    ],
)
def test_markup_digits_and_symbols_are_not_a_full_name(raw: str) -> None:
    verdict = check(raw)
    assert refused_for(verdict, "name_symbols")
    assert english(verdict) == (
        "A name is made of letters, with spaces, hyphens, apostrophes or periods between "
        "them. Please type your name without digits or symbols."
    )


# required: false ---------------------------------------------------------------


@pytest.mark.parametrize("raw", ["Ana", "J", "12345", "张"])
def test_optional_full_name_accepts_a_single_word(raw: str) -> None:
    assert check(raw, OPTIONAL).ok


def test_optional_full_name_accepts_no_name_at_all() -> None:
    verdict = check("   ", OPTIONAL)
    assert verdict.ok
    assert verdict.name == ""


@pytest.mark.parametrize(
    ("raw", "protected", "reason"),
    [
        ("\u200b \u200c", (), "name_invalid_characters"),
        ("\u202eflow", (), "name_invalid_characters"),
        ("a" * 65, (), "name_too_long"),
        ("Host", (), "name_blocked_word"),
        ("Ηost", (), "name_blocked_word"),
        ("Bob Smith", ("Bob Smith",), "name_lookalike"),
        ("B0b", ("Bob",), "name_lookalike"),
    ],
)
def test_optional_full_name_still_refuses_unsafe_names(
    raw: str, protected: tuple[str, ...], reason: str
) -> None:
    assert refused_for(check(raw, OPTIONAL, protected), reason)


# the skeleton key ------------------------------------------------------------


def test_skeleton_is_the_same_for_names_that_look_alike() -> None:
    key = name_skeleton(HOST)
    assert (
        key
        == name_skeleton("Αlice  HOST")
        == name_skeleton("alice hоst")
        == name_skeleton("Alice-Host!")
    )
    assert " " not in key
    assert key == key.casefold()
    assert name_skeleton("Alice Hart") != key


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ", max_size=30))
def test_skeleton_ignores_case_of_latin_letters(text: str) -> None:
    assert name_skeleton(text) == name_skeleton(text.upper()) == name_skeleton(text.lower())


# properties over any text ------------------------------------------------------

RULES = st.builds(
    FullName,
    required=st.booleans(),
    min_words=st.integers(min_value=1, max_value=8),
    max_length=st.integers(min_value=8, max_value=256),
    blocked_words=st.sampled_from([(), ("host", "admin"), ("主持人", "real host")]),
)
NAMES = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=80),  # surrogates too
    st.sampled_from(["Alice Host", "Ηost Person", "张伟", "Ana M.", ZALGO]),
)


@settings(max_examples=300)
@given(NAMES)
def test_normalize_name_is_idempotent(raw: str) -> None:
    once = normalize_name(raw)
    assert normalize_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(max_examples=300)
@given(NAMES, RULES, st.lists(NAMES, max_size=3))
def test_any_text_gets_a_well_formed_verdict(raw: str, rules: FullName, protected: Any) -> None:
    verdict = check_full_name(raw, rules, protected)
    assert verdict.name == normalize_name(raw)
    if verdict.ok:
        assert verdict.reason is None
        assert verdict.rule == "/entry/full_name"
        assert len(verdict.name) <= rules.max_length
    else:
        assert verdict.reason in NAME_REASONS
        assert verdict.rule == RULE_OF_REASON[verdict.reason]
        # The sentence is ours: plain printable ASCII, never the attacker's characters
        # (the verdict carries numbers from the policy only, never the name).
        assert all(isinstance(value, int) for value in verdict.params.values())
        assert english(verdict).isascii()
        assert english(verdict).isprintable()
        assert english(verdict).endswith(".")


@settings(max_examples=200)
@given(NAMES)
def test_a_protected_name_never_passes_as_itself(name: str) -> None:
    verdict = check_full_name(name, OPTIONAL.model_copy(update={"blocked_words": ()}), [name])
    if verdict.ok:
        # Only names with no letters or digits at all have no skeleton to compare.
        assert name_skeleton(name) == ""


def test_public_api_is_what_all_lists() -> None:
    assert sorted(names.__all__) == sorted(
        ["NAME_REASONS", "NameVerdict", "check_full_name", "name_skeleton", "normalize_name"]
    )
    assert set(NAME_REASONS) == set(RULE_OF_REASON)


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40), st.booleans())
def test_ascii_names_split_into_the_same_words_by_the_shortcut(text: str, joiners: bool) -> None:
    """Most names are ASCII and take a regular expression instead of the per-character
    walk: the words, and so every verdict made from them, are the same."""
    assert names._words(text, joiners=joiners) == names._words_of_any_script(text, joiners=joiners)


def test_no_character_before_the_cjk_shortcut_is_cjk() -> None:
    """``_is_cjk`` answers False below its bound without a name lookup; a Unicode update
    that put a CJK letter there fails here."""
    below = (chr(code) for code in range(ord(names._BEFORE_CJK)))
    cjk = [
        char
        for char in below
        if unicodedata.category(char)[0] == "L"
        and unicodedata.name(char, "").startswith(names._CJK)
    ]
    assert cjk == []
    assert names._is_cjk(names._BEFORE_CJK)


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_text_takes_shortcuts_to_the_same_answers(text: str) -> None:
    """ASCII names skip the per-character Unicode lookups: the skeleton (UTS #39 section
    4: NFD, prototypes, NFD), the refused characters and the symbols come out the same."""
    skeleton = unicodedata.normalize(
        "NFD", unicodedata.normalize("NFD", text).translate(names._PROTOTYPES)
    )
    assert names._skeleton(text) == skeleton
    categories = [unicodedata.category(char) for char in text]
    assert names._has_invalid_characters(text) == any(c[0] == "C" for c in categories)
    assert names._has_symbols(text) == any(
        c[0] not in "LM" and char not in names._NAME_SEPARATORS
        for char, c in zip(text, categories, strict=True)
    )
    assert names._key(text, upper_first=True) == "".join(
        char
        for char in names._fold(text, upper_first=True)
        if unicodedata.category(char)[0] in "LMN"
    )


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_words_are_counted_by_shortcuts_to_the_same_answers(text: str) -> None:
    """A word's letters and CJK are counted without a lookup per character when it is
    ASCII: the counts that decide ``name_not_a_name`` and ``name_too_short`` are the same."""
    assert names._letter_count(text) == sum(map(names._is_letter, text))
    assert names._has_cjk(text) == any(map(names._is_cjk, text))


_VOCABULARY = ["Ana", "host", "HOST", "h0st", "the", "Admin", "moderator", "team", "lead", "山田"]
_VOCABULARY += ["太郎", "-", " ", ".", "42", "Ηost"]


def _blocked_word_by_window(name: str, blocked: tuple[str, ...]) -> bool:
    """The rule as written: a blocked word's folded words, in a row among the name's
    folded words; a CJK blocked word anywhere in them (CJK has no spaces)."""
    for upper_first in (True, False):
        words = names._words(names._fold(name, upper_first=upper_first), joiners=False)
        for word in blocked:
            needle = names._words(names._fold(word, upper_first=upper_first), joiners=False)
            if not needle:
                continue
            if any(map(names._is_cjk, word)):
                if "".join(needle) in "".join(words):
                    return True
            elif any(words[i : i + len(needle)] == needle for i in range(len(words))):
                return True
    return False


@settings(max_examples=400)
@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=6).map("".join),
    st.lists(st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=3).map("".join)),
)
def test_blocked_words_sorted_by_how_they_match_match_as_the_rule_says(
    name: str, blocked: list[str]
) -> None:
    """One-word blocked words are looked up in a set, phrases slid along the name, CJK
    found anywhere: the verdict is the rule's, for any mix of them."""
    assert names._has_blocked_word(name, tuple(blocked)) == _blocked_word_by_window(
        name, tuple(blocked)
    )
