"""Seeded generator of realistic Connecticut P20 WIN matching files with known truth.

Three cases, each written as tab-delimited UTF-8 files with no quotes and ``YYYYMMDD`` dates:

``full``
    ``left.tsv``: a K-12 (SDE) leaver file in the P20 WIN layout
    (``LastName MiddleName FirstName DOB Gender HighSchoolCode HighSchoolName SASID SSN SyntheticID``):
    SASID and high school for everyone, no SSN, upper case.
    ``right.tsv``: a postsecondary file in the same layout, mixed case, with SSN for ``ssn_rate`` of rows,
    high school for half, SASID for a fifth. ``overlap`` of the left people are in it (with corruptions);
    the rest are other people, some of them twins or siblings of left people (hard non-matches).
``wage``
    ``left.tsv``: an agency file in the P20 WIN layout with SSN for ``ssn_rate`` of rows.
    ``right.tsv``: a labour wage file (``SSN LastName FirstInitial Year Quarter Wages IndustryCode
    SyntheticID``, no DOB) holding ``overlap`` of the left people plus other workers.
``dedupe``
    ``left.tsv`` only: one P20 WIN file in which some people appear two to four times.

``truth.tsv`` holds the true pairs (``left_id right_id``) or, for dedupe, every record's cluster
(``record_id cluster_id``).

The population: birth years ``2000-2008`` (a cohort of K-12 leavers), surnames drawn from the 1990 US
census surname frequencies (top 30,000) with Hispanic, Portuguese, Polish and Italian names weighted up as
in Connecticut, compound and hyphenated surnames, first names by gender and birth year (a cohort list
blended with the census first-name list), twins (same surname, DOB and school, different first name) and
siblings (same surname and school, DOB one to five years apart), and Connecticut high schools (CEEB codes
``07xxxx``).

The second copy of a person (right file, or a duplicate in dedupe) gets the corruptions in :class:`Rates`
at the stated per-record rates: one- or two-edit typos (insert, delete, substitute with a neighbouring
key, transpose), nicknames (BILL for WILLIAM), first/last swaps, married-name changes for women (some
hyphenated), partial compound surnames, dropped apostrophes and spaces (O'BRIEN, DE JESUS), accents,
suffixes, day/month swaps, off-by-one days, year slips, gender slips, SSN and SASID typos, and missing
fields at per-file rates. Everything is numpy-vectorised; a million rows take seconds.

Use ``generate(case, n, seed)`` from code (tests), or the command line::

    python bench/generate.py --case full --n 100000 --seed 7 --out DIR
"""
from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).with_name("data")

P20_COLUMNS = ["LastName", "MiddleName", "FirstName", "DOB", "Gender", "HighSchoolCode", "HighSchoolName",
               "SASID", "SSN", "SyntheticID"]
WAGE_COLUMNS = ["SSN", "LastName", "FirstInitial", "Year", "Quarter", "Wages", "IndustryCode", "SyntheticID"]
CASES = ("full", "wage", "dedupe")


@dataclass(frozen=True)
class Rates:
    """Per-record probabilities of each corruption on a person's second copy, and per-file missing rates.

    Rates are over all second copies unless the comment names a narrower base (e.g. ``married`` is over
    women, ``day_month_swap`` over dates whose day and month differ and are both 1-12).
    """
    first_typo: float = 0.07
    last_typo: float = 0.07
    second_edit: float = 0.15          # of typo'd names: a second edit on top
    nickname: float = 0.10             # of first names that have a nickname
    name_swap: float = 0.02            # first and last name exchanged
    married: float = 0.06              # of women: a new surname (a quarter of them hyphenated OLD-NEW)
    compound_variant: float = 0.5      # of compound surnames: one part only, or the separator changed
    punctuation: float = 0.5           # of O'BRIEN / DE JESUS style names: apostrophe or space dropped
    accent: float = 0.25               # of names with a usual Spanish accent: written with it
    suffix: float = 0.03               # of men: JR / II / III appended to the surname
    day_month_swap: float = 0.03       # of swappable dates
    dob_off_by_one: float = 0.02
    dob_year_slip: float = 0.01
    gender_slip: float = 0.005
    ssn_typo: float = 0.01             # of present SSNs: one digit changed or two adjacent swapped
    sasid_typo: float = 0.005
    ssn_placeholder: float = 0.03      # of missing SSNs: written as an invalid placeholder (000000000 ...)
    twins: float = 0.01                # of people: a twin exists in the population
    siblings: float = 0.05             # of people: a sibling exists in the population
    relatives_of_left: float = 0.10    # of right-only people: a twin or sibling of a left person
    missing_left: dict = field(default_factory=lambda: {
        "FirstName": 0.002, "MiddleName": 0.30, "DOB": 0.005, "Gender": 0.01, "HighSchoolCode": 0.01})
    missing_right: dict = field(default_factory=lambda: {
        "FirstName": 0.005, "MiddleName": 0.45, "DOB": 0.02, "Gender": 0.03, "HighSchoolCode": 0.50,
        "SASID": 0.80})


@dataclass
class Case:
    """A generated case: ``left`` (and ``right`` unless dedupe) as string DataFrames in file layout,
    ``truth`` (``left_id right_id`` or ``record_id cluster_id``) and the parameters used."""
    name: str
    left: pd.DataFrame
    right: pd.DataFrame | None
    truth: pd.DataFrame
    params: dict

    def write(self, out: Path) -> dict[str, Path]:
        """Write ``left.tsv`` (``right.tsv``) and ``truth.tsv`` into ``out``; returns the paths."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"left": out / "left.tsv", "truth": out / "truth.tsv"}
        frames = [(self.left, paths["left"]), (self.truth, paths["truth"])]
        if self.right is not None:
            paths["right"] = out / "right.tsv"
            frames.append((self.right, paths["right"]))
        for frame, path in frames:
            frame.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n",
                         encoding="utf-8")
        return paths


# ---------------------------------------------------------------- reference lists (test data, not shipped)

# Connecticut weights: large Puerto Rican, Portuguese (Cape Verdean, Azorean), Polish and Italian communities.
_CT_BOOST = {
    2.5: "RODRIGUEZ RIVERA SANTIAGO TORRES ORTIZ CRUZ COLON VAZQUEZ MARTINEZ GONZALEZ PEREZ LOPEZ DIAZ RAMOS "
         "REYES ROSARIO MORALES MELENDEZ NIEVES HERNANDEZ GARCIA SANCHEZ ACEVEDO ALVARADO FIGUEROA ROMAN "
         "MALDONADO ORTEGA DELGADO VEGA QUINONES SOTO VELEZ CINTRON PAGAN MATOS ROSA BURGOS OCASIO APONTE "
         "CARRASQUILLO DEJESUS MERCADO BERRIOS FELICIANO",
    3.0: "SILVA SOUZA MEDEIROS PEREIRA FERREIRA COSTA SANTOS OLIVEIRA CARVALHO RODRIGUES MENDES CABRAL MARTINS "
         "ALVES TAVARES CORREIA PACHECO AMARAL MOURA ALMEIDA FONSECA RAPOSO BOTELHO REGO SOUSA",
    4.0: "KOWALSKI NOWAK WOJCIK LEWANDOWSKI ZIELINSKI SZYMANSKI WISNIEWSKI KOWALCZYK KAMINSKI JANKOWSKI "
         "GRABOWSKI MAZUR KRAWCZYK NOWAKOWSKI PIETRZAK SOKOLOWSKI DABROWSKI KOZLOWSKI MAJEWSKI OLSZEWSKI "
         "JAWORSKI MALINOWSKI PAWLOWSKI WITKOWSKI WALCZAK STEPIEN GORSKI RUTKOWSKI MICHALSKI SOBCZAK",
    3.5: "RUSSO ESPOSITO ROMANO COLOMBO RICCI MARINO GRECO BRUNO GALLO CONTI DELUCA GIORDANO MANCINI RIZZO "
         "LOMBARDI MORETTI DEANGELIS CARUSO FERRARA SANTORO MARINELLI DIMAURO IANNUZZI CAPOZZI DIBENEDETTO "
         "LAROSA MASTROIANNI PALUMBO SCALISE VITALE",
}
# Canonical written forms the census list stores without spaces or apostrophes.
_SPELLED = {
    "OBRIEN": "O'BRIEN", "OCONNOR": "O'CONNOR", "ODONNELL": "O'DONNELL", "ONEIL": "O'NEIL", "ONEILL": "O'NEILL",
    "OCONNELL": "O'CONNELL", "OMALLEY": "O'MALLEY", "OROURKE": "O'ROURKE", "OHARA": "O'HARA",
    "OKEEFE": "O'KEEFE", "OLEARY": "O'LEARY", "OSULLIVAN": "O'SULLIVAN", "OREILLY": "O'REILLY",
    "OSHEA": "O'SHEA", "DEJESUS": "DE JESUS", "DELEON": "DE LEON", "DELACRUZ": "DE LA CRUZ",
    "DELAROSA": "DE LA ROSA", "DELOSSANTOS": "DE LOS SANTOS", "STPIERRE": "ST PIERRE", "STJOHN": "ST JOHN",
    "DELUCA": "DE LUCA", "DEANGELIS": "DE ANGELIS", "LAROSA": "LA ROSA", "VANDYKE": "VAN DYKE",
}
_ACCENTED = {
    "RODRIGUEZ": "RODRÍGUEZ", "MARTINEZ": "MARTÍNEZ", "GONZALEZ": "GONZÁLEZ", "PEREZ": "PÉREZ",
    "LOPEZ": "LÓPEZ", "HERNANDEZ": "HERNÁNDEZ", "SANCHEZ": "SÁNCHEZ", "GARCIA": "GARCÍA", "RAMIREZ": "RAMÍREZ",
    "DIAZ": "DÍAZ", "VAZQUEZ": "VÁZQUEZ", "COLON": "COLÓN", "ROMAN": "ROMÁN", "QUINONES": "QUIÑONES",
    "JOSE": "JOSÉ", "JESUS": "JESÚS", "MARIA": "MARÍA", "ANGEL": "ÁNGEL", "SOFIA": "SOFÍA", "RAMON": "RAMÓN",
    "ADRIAN": "ADRIÁN", "JULIAN": "JULIÁN", "ANDRES": "ANDRÉS",
}
_CT_TOWNS = (
    "HARTFORD NEW_HAVEN BRIDGEPORT STAMFORD WATERBURY NORWALK DANBURY NEW_BRITAIN WEST_HARTFORD GREENWICH "
    "HAMDEN MERIDEN BRISTOL FAIRFIELD MANCHESTER WEST_HAVEN MILFORD STRATFORD EAST_HARTFORD MIDDLETOWN "
    "WALLINGFORD ENFIELD SOUTHINGTON SHELTON NORWICH TORRINGTON TRUMBULL GLASTONBURY NAUGATUCK NEWINGTON "
    "CHESHIRE VERNON WINDSOR NEW_LONDON BRANFORD NEW_MILFORD WESTPORT WETHERSFIELD RIDGEFIELD FARMINGTON "
    "SIMSBURY SOUTH_WINDSOR NORTH_HAVEN WATERTOWN GUILFORD NEWTOWN ANSONIA BLOOMFIELD GROTON WOLCOTT "
    "ROCKY_HILL BERLIN MONROE SEYMOUR EAST_HAVEN MADISON COLCHESTER DARIEN NEW_CANAAN STONINGTON WATERFORD "
    "COVENTRY TOLLAND LEDYARD PLAINFIELD KILLINGLY PUTNAM WINDHAM DERBY AVON CANTON GRANBY SUFFIELD "
    "ELLINGTON STAFFORD EAST_LYME OLD_SAYBROOK CLINTON PORTLAND CROMWELL PLAINVILLE THOMASTON LITCHFIELD "
    "BROOKFIELD BETHEL WILTON OXFORD NORTH_BRANFORD EAST_HAMPTON MONTVILLE GRISWOLD WINDSOR_LOCKS "
    "EAST_WINDSOR WOODSTOCK THOMPSON NEW_FAIRFIELD STRATFORD_ACADEMY"
).split()
_CITY_SCHOOLS = ("PUBLIC HIGH SCHOOL", "MAGNET HIGH SCHOOL", "ACADEMY", "CAREER ACADEMY", "HIGH SCHOOL EAST")
_NAICS = np.array(["445110", "722511", "611110", "622110", "541511", "561320", "452210", "238220",
                   "336411", "524113", "621111", "813110", "484121", "531110", "236118", "611310"])
_KEYBOARD = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]


def _neighbour_table() -> np.ndarray:
    """(26, 6) table of keys next to each letter on a QWERTY keyboard (padded by repetition)."""
    pos = {ch: (r, c) for r, row in enumerate(_KEYBOARD) for c, ch in enumerate(row)}
    table = np.zeros((26, 6), np.uint8)
    for ch, (r, c) in pos.items():
        near = [o for o, (r2, c2) in pos.items() if o != ch and abs(r2 - r) <= 1 and abs(c2 - c) <= 1]
        table[ord(ch) - 65] = [ord(near[i % len(near)]) for i in range(6)]
    return table


@lru_cache(maxsize=1)
def _lists() -> dict:
    sur = pd.read_csv(DATA / "surnames.tsv.gz", sep="\t", keep_default_na=False)
    weight = sur["percent"].to_numpy(float)
    for factor, names in _CT_BOOST.items():
        weight[sur["name"].isin(names.split()).to_numpy()] *= factor
    census_first = pd.read_csv(DATA / "census_first_names.tsv.gz", sep="\t", keep_default_na=False)
    cohort = pd.read_csv(DATA / "cohort_first_names.tsv", sep="\t", comment="#")
    nick = pd.read_csv(DATA / "nicknames.tsv", sep="\t", comment="#")
    first = {}
    for g in "MF":
        tail = census_first[census_first["gender"] == g]
        lists = {}
        for which in ("early", "late"):
            names = list(dict.fromkeys(cohort.query("gender == @g and cohort == @which")["names"].iloc[0].split()))
            lists[which] = pd.Series(1.0 / (np.arange(len(names)) + 10.0), index=names)
        vocab = pd.Index(list(dict.fromkeys([*lists["early"].index, *lists["late"].index, *tail["name"]])))
        mats = {}
        for which in ("early", "late"):
            head = lists[which].reindex(vocab, fill_value=0.0).to_numpy()
            t = pd.Series(tail["percent"].to_numpy(), index=tail["name"]).reindex(vocab, fill_value=0.0).to_numpy()
            # 80% of children get a name from the cohort's popular list, 20% from the broad census list.
            mats[which] = 0.8 * head / head.sum() + 0.2 * t / t.sum()
        first[g] = (vocab.to_numpy(object), mats["early"], mats["late"])
    schools = []
    for i, town in enumerate(_CT_TOWNS):
        label = town.replace("_", " ")
        schools.append((f"{label} HIGH SCHOOL", 3.0 if i < 10 else 1.0))
        if i < 10:  # the big cities run several high schools
            schools += [(f"{label} {kind}", 2.0) for kind in _CITY_SCHOOLS]
    hs_names = np.array([s for s, _ in schools], object)
    hs_w = np.array([w for _, w in schools])
    hs_codes = np.array([f"07{c:04d}" for c in np.linspace(5, 9950, len(schools)).astype(int)], object)
    return {
        "surnames": sur["name"].to_numpy(object), "surname_p": weight / weight.sum(),
        "first": first,
        "nicknames": {f: n.split() for f, n in zip(nick["formal"], nick["nicknames"])},
        "hs_names": hs_names, "hs_codes": hs_codes, "hs_p": hs_w / hs_w.sum(),
        "neighbours": _neighbour_table(),
    }


# ---------------------------------------------------------------- population

def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high), in random order, without materialising the range."""
    out = np.unique(rng.integers(low, high, int(n * 1.1) + 16))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(low, high, n - len(out) + 16)]))
    return rng.permutation(out)[:n]


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Integers as zero-padded digit strings (object array; empty input gives an empty array)."""
    if len(values) == 0:
        return np.array([], dtype=object)
    return np.char.zfill(values.astype(str), width).astype(object)


def _valid_ssns(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid SSNs as 9-digit strings (area not 000/666/9xx, group not 00, serial not 0000)."""
    area = rng.integers(1, 900, n * 2)
    area = area[area != 666]
    num = area[:n] * 1_000_000 + rng.integers(1, 100, n) * 10_000 + rng.integers(1, 10_000, n)
    num = np.unique(num)
    while len(num) < n:
        k = n - len(num) + 16
        extra = rng.integers(1, 666, k) * 1_000_000 + 10_000 + rng.integers(1, 10_000, k)
        num = np.unique(np.concatenate([num, extra]))
    return _digits(rng.permutation(num)[:n], 9)


def _draw_first(rng: np.random.Generator, gender: np.ndarray, year: np.ndarray) -> np.ndarray:
    lists = _lists()["first"]
    out = np.empty(len(gender), object)
    for g in "MF":
        vocab, early, late = lists[g]
        for y in np.unique(year):
            idx = np.flatnonzero((gender == g) & (year == y))
            t = float(np.clip((y - 2000) / 8.0, 0.0, 1.0))
            p = (1 - t) * early + t * late
            out[idx] = rng.choice(vocab, size=len(idx), p=p / p.sum())
    return out


def _draw_surname(rng: np.random.Generator, n: int) -> np.ndarray:
    lists = _lists()
    return rng.choice(lists["surnames"], size=n, p=lists["surname_p"])


def _people(rng: np.random.Generator, n: int, first_year: int = 2000, last_year: int = 2008) -> pd.DataFrame:
    """n independent people: names, DOB, gender, school, SASID, SSN."""
    lists = _lists()
    gender = np.where(rng.random(n) < 0.49, "F", "M").astype(object)
    start = np.datetime64(f"{first_year}-01-01")
    span = (np.datetime64(f"{last_year + 1}-01-01") - start).astype(int)
    dob = start + rng.integers(0, span, n).astype("timedelta64[D]")
    year = dob.astype("datetime64[Y]").astype(int) + 1970
    last = _draw_surname(rng, n)
    # Compound surnames: Hispanic double surnames with a space, others hyphenated.
    compound = rng.random(n) < 0.04
    second = _draw_surname(rng, int(compound.sum()))
    hispanic = np.isin(last[compound], _CT_BOOST[2.5].split())
    last[compound] = np.where(hispanic, last[compound] + " " + second, last[compound] + "-" + second)
    last = pd.Series(last).replace(_SPELLED).to_numpy(object)
    first = _draw_first(rng, gender, year)
    middle = _draw_first(rng, gender, year)
    hs = rng.choice(len(lists["hs_codes"]), size=n, p=lists["hs_p"])
    return pd.DataFrame({
        "first": first, "middle": middle, "last": last, "dob": dob, "gender": gender, "hs": hs,
        "sasid": _digits(_unique_ints(rng, n, 1, 10**10), 10),
        "ssn": _valid_ssns(rng, n), "person": np.arange(n),
    })


def _make_relatives(rng: np.random.Generator, people: pd.DataFrame, targets: np.ndarray, sources: pd.DataFrame,
                    twin: np.ndarray) -> None:
    """Turn people[targets] into twins (twin=True) or siblings of the rows of ``sources``, in place:
    same surname and school; twins share the DOB, siblings are one to five years apart; a different
    first name."""
    if len(targets) == 0:
        return
    people.loc[targets, "last"] = sources["last"].to_numpy()
    people.loc[targets, "hs"] = sources["hs"].to_numpy()
    gap = rng.integers(365, 5 * 365, len(targets)) * rng.choice([-1, 1], len(targets))
    src_dob = sources["dob"].to_numpy()
    people.loc[targets, "dob"] = np.where(twin, src_dob, src_dob + gap.astype("timedelta64[D]"))
    year = people.loc[targets, "dob"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    gender = people.loc[targets, "gender"].to_numpy()
    first = _draw_first(rng, gender, year)
    for _ in range(5):  # parents do not give two children the same first name
        same = first == sources["first"].to_numpy()
        if not same.any():
            break
        first[same] = _draw_first(rng, gender[same], year[same])
    people.loc[targets, "first"] = first


def _add_families(rng: np.random.Generator, people: pd.DataFrame, rates: Rates) -> None:
    """Make some people twins or siblings of others in the same frame."""
    n = len(people)
    k = int(n * (rates.twins + rates.siblings))
    if k < 2:
        return
    chosen = rng.permutation(n)[: 2 * k]
    targets, sources = chosen[:k], chosen[k:]
    twin = rng.random(k) < rates.twins / (rates.twins + rates.siblings)
    _make_relatives(rng, people, targets, people.iloc[sources].reset_index(drop=True), twin)


# ---------------------------------------------------------------- corruptions

def _typos(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """One edit per name (insert, delete, substitute with a neighbouring key, transpose), vectorised on a
    fixed-width byte matrix. Names must be ASCII."""
    if len(names) == 0:
        return names
    width = 40
    m = np.array(names.astype(str), dtype=f"S{width}").view(np.uint8).reshape(len(names), width).copy()
    length = (m != 0).sum(1)
    n = len(names)
    kind = rng.integers(0, 4, n)
    kind[(length < 3) & (kind == 1)] = 0       # never delete a letter from a one- or two-letter name
    kind[(length < 2) & (kind == 3)] = 0
    kind[(length >= width - 1) & (kind == 2)] = 0
    pos = np.minimum((rng.random(n) * length).astype(int), np.maximum(length - 1, 0))
    rows = np.arange(n)
    cur = m[rows, pos]
    letters = np.where((cur >= 65) & (cur <= 90), cur, 69).astype(int) - 65
    near = _lists()["neighbours"][letters, rng.integers(0, 6, n)]
    random_letter = rng.integers(65, 91, n).astype(np.uint8)
    new = np.where(rng.random(n) < 0.6, near, random_letter)
    new = np.where(new == cur, near, new)
    cols = np.arange(width)[None, :]
    after = cols > pos[:, None]
    at_or_after = cols >= pos[:, None]
    zero = np.zeros((n, 1), np.uint8)
    left_shift = np.concatenate([m[:, 1:], zero], 1)
    right_shift = np.concatenate([zero, m[:, :-1]], 1)
    out = m.copy()
    sub = kind == 0
    out[rows[sub], pos[sub]] = new[sub]
    dele = kind == 1
    out[dele] = np.where(at_or_after[dele], left_shift[dele], m[dele])
    ins = kind == 2
    out[ins] = np.where(after[ins], right_shift[ins], m[ins])
    out[rows[ins], pos[ins]] = new[ins]
    tr = kind == 3
    p = np.minimum(pos, length - 2)
    a, b = m[rows, p], m[rows, p + 1]
    out[rows[tr], p[tr]] = b[tr]
    out[rows[tr], p[tr] + 1] = a[tr]
    return out.view(f"S{width}").ravel().astype(str).astype(object)


def _maybe(rng: np.random.Generator, n: int, rate: float, base: np.ndarray | None = None) -> np.ndarray:
    hit = rng.random(n) < rate
    return hit if base is None else hit & base


def _shift_days(dob: np.ndarray, days: np.ndarray) -> np.ndarray:
    return dob + days.astype("timedelta64[D]")


def _corrupt(rng: np.random.Generator, people: pd.DataFrame, rates: Rates) -> pd.DataFrame:
    """The second copy of each person, with corruptions at the rates in ``rates``."""
    df = people.copy()
    n = len(df)
    lists = _lists()
    # Nicknames first (a typo may then land on the nickname).
    first = df["first"].to_numpy(object)
    has_nick = pd.Series(first).isin(lists["nicknames"].keys()).to_numpy()
    pick = _maybe(rng, n, rates.nickname, has_nick)
    for formal in np.unique(first[pick]):
        idx = np.flatnonzero(pick & (first == formal))
        options = np.array(lists["nicknames"][formal], object)
        first[idx] = options[rng.integers(0, len(options), len(idx))]
    df["first"] = first
    # Married women take a new surname; a quarter of them keep both, hyphenated.
    married = _maybe(rng, n, rates.married, df["gender"].to_numpy() == "F")
    new_name = _draw_surname(rng, int(married.sum()))
    old = df.loc[married, "last"].to_numpy(object)
    both = rng.random(len(old)) < 0.25
    df.loc[married, "last"] = np.where(both, old + "-" + new_name, new_name)
    # Compound surnames shown partly or with another separator.
    last = df["last"].to_numpy(object)
    s = pd.Series(last)
    compound = s.str.contains(r"[- ]", regex=True).to_numpy() & ~married & ~s.isin(_SPELLED.values()).to_numpy()
    var = _maybe(rng, n, rates.compound_variant, compound)
    parts = s[var].str.split(r"[- ]", n=1, regex=True)
    choice = rng.integers(0, 4, int(var.sum()))
    heads, tails = parts.str[0].to_numpy(object), parts.str[1].to_numpy(object)
    swapped_sep = np.where(s[var].str.contains("-").to_numpy(), heads + " " + tails, heads + "-" + tails)
    last[var] = np.select([choice == 0, choice == 1, choice == 2], [heads, tails, swapped_sep], heads + tails)
    # Apostrophes and particle spaces dropped.
    spelled = s.isin(_SPELLED.values()).to_numpy()
    punct = _maybe(rng, n, rates.punctuation, spelled)
    last[punct] = pd.Series(last[punct]).str.replace(r"['\s]", "", regex=True).to_numpy(object)
    # Typos on ASCII names.
    for col, rate in (("first", rates.first_typo), ("last", rates.last_typo)):
        values = last if col == "last" else df["first"].to_numpy(object)
        hit = _maybe(rng, n, rate)
        values[hit] = _typos(rng, values[hit])
        twice = hit & (rng.random(n) < rates.second_edit)
        values[twice] = _typos(rng, values[twice])
        df[col] = values
    # Suffixes on men's surnames.
    suff = _maybe(rng, n, rates.suffix, df["gender"].to_numpy() == "M")
    df.loc[suff, "last"] = df.loc[suff, "last"] + rng.choice(np.array([" JR", " II", " III"], object), int(suff.sum()))
    # First/last swap.
    swap = _maybe(rng, n, rates.name_swap)
    df.loc[swap, ["first", "last"]] = df.loc[swap, ["last", "first"]].to_numpy()
    # Dates.
    dob = df["dob"].to_numpy().astype("datetime64[D]")
    month = (dob.astype("datetime64[M]") - dob.astype("datetime64[Y]")).astype(int) + 1
    day = (dob - dob.astype("datetime64[M]")).astype(int) + 1
    year = dob.astype("datetime64[Y]").astype(int) + 1970
    dm = _maybe(rng, n, rates.day_month_swap, (day <= 12) & (day != month))
    swapped = pd.to_datetime(pd.DataFrame({"year": year[dm], "month": day[dm], "day": month[dm]})).to_numpy()
    dob[dm] = swapped.astype("datetime64[D]")
    off = _maybe(rng, n, rates.dob_off_by_one) & ~dm
    dob[off] = _shift_days(dob[off], rng.choice([-1, 1], int(off.sum())))
    slip = _maybe(rng, n, rates.dob_year_slip) & ~dm & ~off
    dob[slip] = _shift_days(dob[slip], 365 * rng.choice([-1, 1], int(slip.sum())))
    df["dob"] = dob
    gslip = _maybe(rng, n, rates.gender_slip)
    df.loc[gslip, "gender"] = np.where(df.loc[gslip, "gender"] == "F", "M", "F")
    # Identifier typos: one digit changed (half) or two adjacent digits transposed (half).
    for col, rate in (("ssn", rates.ssn_typo), ("sasid", rates.sasid_typo)):
        hit = _maybe(rng, n, rate)
        df.loc[hit, col] = _digit_typos(rng, df.loc[hit, col].to_numpy(object))
    return df


def _digit_typos(rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    if len(ids) == 0:
        return ids
    width = len(ids[0])
    m = np.array(ids.astype(str), dtype=f"S{width}").view(np.uint8).reshape(len(ids), width).copy()
    rows = np.arange(len(ids))
    pos = rng.integers(1, width - 1, len(ids))
    transpose = (rng.random(len(ids)) < 0.5) & (m[rows, pos] != m[rows, pos + 1])
    a, b = m[rows, pos].copy(), m[rows, pos + 1].copy()
    m[rows[transpose], pos[transpose]] = b[transpose]
    m[rows[transpose], pos[transpose] + 1] = a[transpose]
    sub = ~transpose
    m[rows[sub], pos[sub]] = (48 + (m[rows[sub], pos[sub]] - 48 + rng.integers(1, 10, int(sub.sum()))) % 10)
    return m.view(f"S{width}").ravel().astype(str).astype(object)


# ---------------------------------------------------------------- rendering

def _ids(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    return np.array([prefix + d for d in _digits(_unique_ints(rng, n, 0, 10**9), 9)], dtype=object)


def _blank(rng: np.random.Generator, values: np.ndarray, rate: float, empty: str = "") -> np.ndarray:
    out = values.copy()
    out[rng.random(len(out)) < rate] = empty
    return out


def _yyyymmdd(dates: np.ndarray) -> np.ndarray:
    month_start = dates.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]").astype(int) + 1970
    month = month_start.astype(int) % 12 + 1
    day = (dates - month_start).astype(int) + 1
    return (year * 10000 + month * 100 + day).astype(str).astype(object)


def _render_p20(rng: np.random.Generator, df: pd.DataFrame, rates: Rates, missing: dict, *, ids: np.ndarray,
                ssn_rate: float, mixed_case: bool, accents: bool) -> pd.DataFrame:
    """People -> P20 WIN file rows (strings), with per-field missing rates."""
    lists = _lists()
    n = len(df)
    names = {c: df[c].to_numpy(object).copy() for c in ("last", "first", "middle")}
    middle = names["middle"].copy()
    initial_only = rng.random(n) < 0.25  # many systems keep just the middle initial
    middle[initial_only] = pd.Series(middle[initial_only]).str[0].to_numpy(object)
    names["middle"] = middle
    if accents:
        for c in ("last", "first"):
            hit = rng.random(n) < rates.accent
            v = names[c]
            v[hit] = pd.Series(v[hit]).replace(_ACCENTED).to_numpy(object)
    if mixed_case:
        for c in names:
            names[c] = pd.Series(names[c]).str.title().to_numpy(object)
    dob = _yyyymmdd(df["dob"].to_numpy().astype("datetime64[D]"))
    ssn = df["ssn"].to_numpy(object).copy()
    no_ssn = rng.random(n) >= ssn_rate
    ssn[no_ssn] = ""
    # Files that carry SSNs at all also carry invalid placeholders where the SSN is unknown.
    placeholder = no_ssn & (rng.random(n) < rates.ssn_placeholder) & (ssn_rate > 0)
    ssn[placeholder] = rng.choice(np.array(["000000000", "123456789", "999999999", "111111111"], object),
                                  int(placeholder.sum()))
    hs = df["hs"].to_numpy()
    hs_missing = rng.random(n) < missing.get("HighSchoolCode", 0.0)
    out = pd.DataFrame({
        "LastName": names["last"],
        "MiddleName": _blank(rng, names["middle"], missing.get("MiddleName", 0.0)),
        "FirstName": _blank(rng, names["first"], missing.get("FirstName", 0.0)),
        "DOB": _blank(rng, dob, missing.get("DOB", 0.0)),
        "Gender": _blank(rng, df["gender"].to_numpy(object), missing.get("Gender", 0.0), "U"),
        "HighSchoolCode": np.where(hs_missing, "", lists["hs_codes"][hs]),
        "HighSchoolName": np.where(hs_missing, "", lists["hs_names"][hs]),
        "SASID": _blank(rng, df["sasid"].to_numpy(object), missing.get("SASID", 0.0)),
        "SSN": ssn,
        "SyntheticID": ids,
    })
    return out[P20_COLUMNS]


def _render_wage(rng: np.random.Generator, df: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    n = len(df)
    return pd.DataFrame({
        "SSN": df["ssn"].to_numpy(object),
        "LastName": df["last"].to_numpy(object),
        "FirstInitial": df["first"].str[:1].to_numpy(object),
        "Year": "2024",
        "Quarter": "3",
        "Wages": np.char.mod("%.2f", np.round(rng.lognormal(8.6, 0.8, n), 2)).astype(object),
        "IndustryCode": rng.choice(_NAICS, n).astype(object),
        "SyntheticID": ids,
    })[WAGE_COLUMNS]


# ---------------------------------------------------------------- cases

def generate(case: str, n: int, seed: int = 7, *, n_right: int | None = None, overlap: float | None = None,
             ssn_rate: float | None = None, rates: Rates | None = None) -> Case:
    """Generate one case deterministically from ``seed``.

    ``n`` is the left file's row count (the file's row count for dedupe); ``n_right`` defaults to ``n``.
    ``overlap`` is the share of left people present in the right file, default 0.6 (for dedupe: the
    share of people with more than one record, default 0.2). ``ssn_rate`` is the share of rows of the file
    that carries SSNs (right for full, default 0.6; left for wage, default 0.75; dedupe, default 0.5).
    """
    if case not in CASES:
        raise ValueError(f"case must be one of {', '.join(CASES)}, not {case!r}")
    if n < 1:
        raise ValueError("n must be at least 1")
    rates = rates or Rates()
    rng = np.random.default_rng([seed, CASES.index(case)])
    n_right = n if n_right is None else n_right
    overlap = (0.2 if case == "dedupe" else 0.6) if overlap is None else overlap
    params = {"case": case, "n": n, "n_right": n_right, "seed": seed, "overlap": overlap}
    if case == "dedupe":
        ssn_rate = 0.5 if ssn_rate is None else ssn_rate
        params["ssn_rate"] = ssn_rate
        return _dedupe(rng, n, overlap, ssn_rate, rates, params)
    n_match = min(int(round(overlap * n)), n_right)
    # One draw for everyone keeps SSNs and SASIDs unique across both files.
    everyone = _people(rng, n + n_right - n_match)
    left = everyone.iloc[:n].reset_index(drop=True)
    others = everyone.iloc[n:].reset_index(drop=True)
    _add_families(rng, left, rates)
    # Hard non-matches: some right-only people are twins or siblings of left people.
    k = int(len(others) * rates.relatives_of_left)
    targets = rng.permutation(len(others))[:k]
    sources = left.iloc[rng.integers(0, n, k)].reset_index(drop=True)
    _make_relatives(rng, others, targets, sources, rng.random(k) < rates.twins / (rates.twins + rates.siblings))
    matched = left.iloc[np.sort(rng.permutation(n)[:n_match])]
    right_people = pd.concat([_corrupt(rng, matched, rates), others], ignore_index=True)
    right_people = right_people.iloc[rng.permutation(len(right_people))].reset_index(drop=True)
    left = left.iloc[rng.permutation(n)].reset_index(drop=True)
    left_ids = _ids(rng, "K", n)
    if case == "full":
        ssn_rate = 0.6 if ssn_rate is None else ssn_rate
        right_ids = _ids(rng, "P", len(right_people))
        left_file = _render_p20(rng, left, rates, rates.missing_left, ids=left_ids, ssn_rate=0.0,
                                mixed_case=False, accents=False)
        right_file = _render_p20(rng, right_people, rates, rates.missing_right, ids=right_ids,
                                 ssn_rate=ssn_rate, mixed_case=True, accents=True)
    else:
        ssn_rate = 0.75 if ssn_rate is None else ssn_rate
        right_ids = _ids(rng, "W", len(right_people))
        left_file = _render_p20(rng, left, rates, rates.missing_left, ids=left_ids, ssn_rate=ssn_rate,
                                mixed_case=False, accents=False)
        right_file = _render_wage(rng, right_people, right_ids)
    params["ssn_rate"] = ssn_rate
    l_map = pd.Series(left_ids, index=left["person"].to_numpy())
    r_person = right_people["person"].to_numpy()
    in_left = r_person < n
    truth = pd.DataFrame({"left_id": l_map.loc[r_person[in_left]].to_numpy(), "right_id": right_ids[in_left]})
    truth = truth.sort_values("left_id", ignore_index=True)
    return Case(case, left_file, right_file, truth, params)


def _dedupe(rng: np.random.Generator, n: int, dup_share: float, ssn_rate: float, rates: Rates,
            params: dict) -> Case:
    # Copies per person: 1, or 2-4 for ``dup_share`` of people (mostly 2).
    extra = np.where(rng.random(n) < dup_share, rng.choice([1, 2, 3], n, p=[0.8, 0.15, 0.05]), 0)
    copies = 1 + extra
    n_people = int(np.searchsorted(np.cumsum(copies), n) + 1)
    copies = copies[:n_people]
    people = _people(rng, n_people)
    _add_families(rng, people, rates)
    firsts = people
    dups = people.iloc[np.repeat(np.arange(n_people), copies - 1)]
    rows = pd.concat([firsts, _corrupt(rng, dups, rates)], ignore_index=True)
    rows = rows.iloc[rng.permutation(len(rows))[:n]].reset_index(drop=True)
    ids = _ids(rng, "R", len(rows))
    # Mixed sources: half of the rows come from a system that writes mixed case and accents.
    mixed = rng.random(len(rows)) < 0.5
    parts = []
    for flag in (False, True):
        sel = np.flatnonzero(mixed == flag)
        parts.append(_render_p20(rng, rows.iloc[sel], rates, rates.missing_left if not flag else rates.missing_right,
                                 ids=ids[sel], ssn_rate=ssn_rate, mixed_case=flag, accents=flag).set_index(sel))
    file = pd.concat(parts).sort_index()
    truth = pd.DataFrame({"record_id": ids,
                          "cluster_id": np.char.add("C", rows["person"].to_numpy().astype(str)).astype(object)})
    return Case("dedupe", file, None, truth, params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=CASES, default="full")
    parser.add_argument("--n", type=int, default=10_000, help="rows in the left file (dedupe: in the file)")
    parser.add_argument("--n-right", type=int, default=None, help="rows in the right file (default: --n)")
    parser.add_argument("--overlap", type=float, default=None,
                        help="share of left people in the right file, default 0.6 "
                             "(dedupe: share of people with duplicates, default 0.2)")
    parser.add_argument("--ssn-rate", type=float, default=None, help="share of rows carrying an SSN")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    case = generate(args.case, args.n, args.seed, n_right=args.n_right, overlap=args.overlap,
                    ssn_rate=args.ssn_rate)
    paths = case.write(args.out)
    sizes = ", ".join(f"{k} {len(getattr(case, k) if k != 'truth' else case.truth):,} rows" for k in paths)
    print(f"{args.case}: {sizes} in {time.perf_counter() - t0:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
