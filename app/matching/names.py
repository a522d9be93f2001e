"""Name cleaning for matching: accent folding, titles, suffixes, surname particles and the nickname table.

Every function here works on one value; `standardise` calls them once per *unique* value and maps the
results back, so their cost is paid per distinct name, not per row.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from app.resources import resource_path

# Letters NFKD does not decompose into an ASCII base letter.
_FOLD = str.maketrans({
    "ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Ø": "O", "ø": "O", "Ł": "L", "ł": "L", "Đ": "D", "đ": "D",
    "Ð": "D", "ð": "D", "Þ": "TH", "þ": "TH", "Œ": "OE", "œ": "OE", "ı": "I", "Ħ": "H", "ħ": "H",
    # Apostrophes and look-alikes vanish so O'BRIEN, O’BRIEN and OBRIEN agree.
    "'": "", "’": "", "‘": "", "`": "", "´": "", "ʼ": "", "ʻ": "", "′": "",
})
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGITS = re.compile(r"[0-9]+")

TITLES = frozenset({"DR", "MR", "MRS", "MS", "MISS", "MX", "REV", "PROF", "SGT", "CAPT", "HON", "SIR"})
SUFFIXES = {
    "JR": "JR", "JNR": "JR", "JUNIOR": "JR", "SR": "SR", "SNR": "SR", "SENIOR": "SR",
    "II": "II", "2ND": "II", "III": "III", "3RD": "III", "IV": "IV", "4TH": "IV", "V": "V", "5TH": "V",
}
# Degrees are dropped like suffixes but not reported as one.
_DEGREES = frozenset({"ESQ", "PHD", "MD", "DDS", "RN", "CPA"})
# A particle is glued to the word after it: DE LA CRUZ = DELACRUZ, MC DONALD = MCDONALD, VAN DER BERG =
# VANDERBERG, O BRIEN = OBRIEN, so every spelling of a surname with particles gives one token.
PARTICLES = frozenset({
    "DE", "DEL", "DELA", "DELLA", "DELLE", "DEGLI", "DA", "DAS", "DO", "DOS", "DI", "DU", "LA", "LE", "LO",
    "VAN", "VON", "DER", "DEN", "TER", "TEN", "MC", "MAC", "ST", "STE", "SAINT", "O", "D", "L", "AL", "EL",
})
# Whole values that mean "no name" in agency extracts. "NA" is absent on purpose: it is a Korean surname.
NULL_NAMES = frozenset({
    "NULL", "NONE", "UNKNOWN", "UNK", "NFN", "NMN", "NMI", "FNU", "LNU", "MNU", "N A", "NOT APPLICABLE",
    "NOT AVAILABLE", "BLANK",
})
# Placeholders hospitals and registrars write before a baby is named: not a given name.
NULL_GIVEN_NAMES = NULL_NAMES | frozenset({
    "BABY", "BABY BOY", "BABY GIRL", "BABYBOY", "BABYGIRL", "INFANT", "NEWBORN", "BOY", "GIRL",
    "MALE", "FEMALE", "TWIN", "TWIN A", "TWIN B",
})


def fold(text: str) -> str:
    """Upper-case ASCII: accents folded (JOSÉ -> JOSE, Ø -> O), apostrophes removed."""
    if text.isascii():
        return text.upper().translate(_FOLD)
    text = unicodedata.normalize("NFKC", text).upper().translate(_FOLD)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _tokens(text: str) -> list[str]:
    return _NON_ALNUM.sub(" ", fold(text)).split()


def _strip_affixes(tokens: list[str], *, allow_v: bool) -> tuple[list[str], str | None]:
    """Drop leading titles and trailing suffixes/degrees, keeping at least one token."""
    suffix = None
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens = tokens[1:]
    while len(tokens) > 1:
        last = tokens[-1]
        if last in _DEGREES:
            tokens = tokens[:-1]
        elif last in SUFFIXES and (last != "V" or allow_v):
            suffix = suffix or SUFFIXES[last]
            tokens = tokens[:-1]
        else:
            break
    return tokens, suffix


def _letters_only(tokens: list[str]) -> list[str]:
    return [t for t in (_DIGITS.sub("", t) for t in tokens) if t]


def given_name(value: str) -> tuple[str | None, str | None]:
    """Clean a first or middle name: ``(name, suffix)``; name is None when nothing usable is left."""
    if value.isascii() and value.isalpha():  # one plain word, the common case: nothing to strip
        word = value.upper()
        return (None if word in NULL_GIVEN_NAMES else word), None
    tokens, suffix = _strip_affixes(_tokens(value), allow_v=False)
    tokens = _letters_only(tokens)
    name = " ".join(tokens)
    if not name or name in NULL_GIVEN_NAMES:
        return None, suffix
    return name, suffix


def surname(value: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Clean a last name: ``(name, first_part, last_part, suffix)``.

    Hyphens and spaces separate the parts of a compound surname (GARCIA-LOPEZ -> GARCIA LOPEZ, first part
    GARCIA, last part LOPEZ); particles join the following word; a Spanish "Y" between parts is dropped.
    """
    word = value.upper()
    if value.isascii() and value.isalpha() and word not in PARTICLES:  # one plain word, the common case
        return (None, None, None, None) if word in NULL_NAMES else (word, word, word, None)
    tokens, suffix = _strip_affixes(_tokens(value), allow_v=True)
    tokens = _letters_only(tokens)
    if " ".join(tokens) in NULL_NAMES:
        return None, None, None, suffix
    joined: list[str] = []
    pending = ""
    for token in tokens:
        if token in PARTICLES:
            pending += "ST" if token == "SAINT" else token
        else:
            joined.append(pending + token)
            pending = ""
    if pending:  # particles at the end have nothing to join: keep them as a word
        joined.append(pending)
    if len(joined) > 2:
        joined = [t for i, t in enumerate(joined) if not (t == "Y" and 0 < i < len(joined) - 1)]
    if not joined:
        return None, None, None, suffix
    return " ".join(joined), joined[0], joined[-1], suffix


@lru_cache(maxsize=1)
def nickname_table() -> dict[str, dict[str, str]]:
    """``{"M": {nickname: canonical}, "F": {...}, "": {...}}`` from resources/nicknames.tsv.

    A row's gender is M, F or blank (either). "" holds the gender-blind answer: the first row listed for a
    nickname. Chains are followed (TONO -> ANTONIO -> ANTHONY), so every entry is a final canonical name.
    """
    table: dict[str, dict[str, str]] = {"M": {}, "F": {}, "": {}}
    with open(resource_path("nicknames.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("#"):
                continue
            nickname, canonical, gender = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            nickname, canonical, gender = nickname.strip(), canonical.strip(), gender.strip().upper()
            if nickname == "nickname" or not canonical:  # header row
                continue
            for key in ((gender,) if gender in ("M", "F") else ("M", "F")):
                table[key].setdefault(nickname, canonical)
            table[""].setdefault(nickname, canonical)
    for names_by_gender in table.values():  # TONO -> ANTONIO -> ANTHONY: store the end of each chain
        for nickname, canonical in names_by_gender.items():
            seen = {nickname}
            while canonical in names_by_gender and canonical not in seen:
                seen.add(canonical)
                canonical = names_by_gender[canonical]
            names_by_gender[nickname] = canonical
    return table


def canonical_given_name(name: str, gender: str | None) -> str:
    """Nickname -> canonical name (BILL -> WILLIAM), tried on the whole name, then on its first word.

    With gender M or F only that sex's rows apply (ANGEL stays ANGEL for a man); otherwise the first row
    listed for the nickname does.
    """
    table = nickname_table()[gender if gender in ("M", "F") else ""]
    if name in table:
        return table[name]
    head, _, rest = name.partition(" ")
    if rest and head in table:
        return f"{table[head]} {rest}"
    return name
