"""Run Splink 5 (DuckDB backend) on P20 WIN files the way a competent user would, for the side-by-side
benchmark. Run in its own process by ``bench/bench_matching.py`` so its time and peak memory are its own.

Set-up, following Splink's documentation and demos:

* cleaning in DuckDB SQL first: upper case, accents stripped, hyphens to spaces, punctuation and
  JR/SR/II/III/IV suffixes removed, blanks to NULL, invalid dates and SSN placeholders to NULL;
* comparisons from the comparison library: ``NameComparison`` (Jaro-Winkler 0.92/0.88/0.70) on first
  name and surname with term-frequency adjustments, ``DateOfBirthComparison`` (exact, Levenshtein 1,
  within a month, a year, ten years), exact gender, middle initial, high school (TF) and SASID,
  ``LevenshteinAtThresholds`` (1, 2) on SSN (DuckDB's Damerau-Levenshtein is five times slower);
  the wage case uses SSN, surname and first initial;
* blocking rules OR-combined for prediction (name pairs, surname+DOB, first name+DOB, swapped names,
  SASID/SSN);
* λ from deterministic rules (``estimate_probability_two_random_records_match``, recall 0.7), u by
  random sampling (``max_pairs`` 1e7, seeded), m by EM in two sessions on different blocking rules;
* ``predict(threshold_match_probability=0.5)`` (Splink's usual cut-off), plus, for two duplicate-free
  files, ``cluster_using_single_best_links`` at the same threshold (one-to-one, as our engine does).

Writes ``pairs.tsv`` (``left_id right_id match_probability``), ``pairs_one_to_one.tsv`` (dedupe:
``clusters.tsv`` from ``cluster_pairwise_predictions_at_threshold``) and ``timings.json`` into ``--out``.

    python bench/splink_runner.py --case full LEFT RIGHT --out DIR
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

THRESHOLD = 0.5
U_MAX_PAIRS = 1e7
EM_MAX_PAIRS = 2e7


def _clean_name(col: str) -> str:
    s = f"upper(strip_accents(coalesce({col}, '')))"
    s = f"regexp_replace({s}, '[-_/.]', ' ', 'g')"
    s = f"regexp_replace({s}, '[^A-Z ]', '', 'g')"
    s = f"regexp_replace({s}, ' (JR|SR|II|III|IV)$', '')"
    return f"nullif(trim(regexp_replace({s}, ' +', ' ', 'g')), '')"


def _clean_ssn(col: str) -> str:
    return (f"CASE WHEN regexp_full_match({col}, '[0-9]{{9}}') AND substr({col}, 1, 3) NOT IN ('000', '666') "
            f"AND substr({col}, 1, 1) <> '9' AND substr({col}, 4, 2) <> '00' AND substr({col}, 6, 4) <> '0000' "
            f"AND {col} NOT IN ('123456789', '111111111') THEN {col} END")


def _load(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    con.execute(f"CREATE TABLE raw_{table} AS SELECT * FROM read_csv(?, delim='\t', header=true, "
                "all_varchar=true, quote='', escape='')", [str(path)])
    if "DOB" in _columns(con, f"raw_{table}"):   # P20 WIN layout
        select = f"""
            SyntheticID AS unique_id,
            {_clean_name('FirstName')} AS first_name,
            {_clean_name('LastName')} AS surname,
            substr({_clean_name('MiddleName')}, 1, 1) AS middle_initial,
            CASE WHEN try_strptime(DOB, '%Y%m%d') IS NOT NULL THEN DOB END AS dob,
            CASE WHEN upper(Gender) IN ('M', 'F') THEN upper(Gender) END AS gender,
            nullif(trim(HighSchoolCode), '') AS hs_code,
            nullif(trim(SASID), '') AS sasid,
            {_clean_ssn('SSN')} AS ssn,
            substr({_clean_name('FirstName')}, 1, 1) AS first_initial"""
    else:               # labour wage layout
        select = f"""
            SyntheticID AS unique_id,
            {_clean_name('LastName')} AS surname,
            {_clean_ssn('SSN')} AS ssn,
            nullif(upper(trim(FirstInitial)), '') AS first_initial"""
    con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM raw_{table}")
    con.execute(f"DROP TABLE raw_{table}")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _shared_columns(con: duckdb.DuckDBPyConnection, tables: list[str]) -> set[str]:
    """Columns holding values in every input table (a user leaves out fields a file lacks)."""
    shared = None
    for t in tables:
        cols = _columns(con, t)
        counts = con.execute(f"SELECT {', '.join(f'count({c})' for c in cols)} FROM {t}").fetchall()[0]
        present = {c for c, k in zip(cols, counts) if k > 0}
        shared = present if shared is None else shared & present
    return shared or set()


def _settings(case: str, shared: set[str]) -> tuple[SettingsCreator, list, float, list]:
    """Settings, deterministic rules for λ with their assumed recall, and EM blocking rules, using only
    the fields both files carry."""
    if case == "wage":
        comparisons = [
            cl.LevenshteinAtThresholds("ssn", [1, 2]),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.ExactMatch("first_initial").configure(term_frequency_adjustments=True),
        ]
        blocking = [block_on("ssn"), block_on("surname", "first_initial"),
                    block_on("substr(ssn, 1, 5)"), block_on("substr(ssn, 6, 4)")]
        deterministic = [block_on("ssn", "surname")]
        em_rules = [block_on("ssn"), block_on("surname", "first_initial")]
        link_type = "link_only"
    else:
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
        ]
        blocking = [
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            "l.first_name = r.surname and l.surname = r.first_name",
        ]
        deterministic = ["l.first_name = r.first_name and l.surname = r.surname and l.dob = r.dob"]
        for key in ("gender", "middle_initial"):
            if key in shared:
                comparisons.append(cl.ExactMatch(key))
        if "hs_code" in shared:
            comparisons.append(cl.ExactMatch("hs_code").configure(term_frequency_adjustments=True))
        for key, comparison in (("sasid", cl.ExactMatch("sasid")),
                                ("ssn", cl.LevenshteinAtThresholds("ssn", [1, 2]))):
            if key in shared:
                comparisons.append(comparison)
                blocking.append(block_on(key))
                deterministic.append(block_on(key))
        em_rules = [block_on("dob"), block_on("first_name", "surname")]
        link_type = "dedupe_only" if case == "dedupe" else "link_only"
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    return settings, deterministic, 0.7, em_rules


def run(case: str, left: Path, right: Path | None, out: Path, *, memory_limit: str | None = None) -> dict:
    """Clean, train, predict; write the pairs and timings into ``out``; return the timings."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        timings[stage] = round(time.perf_counter() - t0 - sum(timings.values()), 3)

    con = duckdb.connect()
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    _load(con, left, "df_left")
    if right is not None:
        _load(con, right, "df_right")
        # Splink links tables with the same columns: keep those both layouts have.
        common = [c for c in _columns(con, "df_left") if c in set(_columns(con, "df_right"))]
        for t in ("df_left", "df_right"):
            con.execute(f"CREATE TABLE {t}_c AS SELECT {', '.join(common)} FROM {t}; DROP TABLE {t}; "
                        f"ALTER TABLE {t}_c RENAME TO {t}")
    lap("read_clean")
    db_api = DuckDBAPI(connection=con)
    settings, deterministic, recall, em_rules = _settings(
        case, _shared_columns(con, ["df_left"] + (["df_right"] if right is not None else [])))
    tables = [db_api.register("df_left", dataset_display_name="left")]
    if right is not None:
        tables.append(db_api.register("df_right", dataset_display_name="right"))
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=EM_MAX_PAIRS)
    lap("train")
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    lap("predict")
    pairs_sql = (f"SELECT unique_id_l AS left_id, unique_id_r AS right_id, match_probability "
                 f"FROM {pred.physical_name}")
    if case != "dedupe":
        # Splink orders each pair by source dataset; keep left ids on the left.
        pairs_sql = (f"SELECT CASE WHEN source_dataset_l = 'left' THEN unique_id_l ELSE unique_id_r END AS left_id, "
                     f"CASE WHEN source_dataset_l = 'left' THEN unique_id_r ELSE unique_id_l END AS right_id, "
                     f"match_probability FROM {pred.physical_name}")
    con.execute(f"COPY ({pairs_sql}) TO '{out / 'pairs.tsv'}' (DELIMITER '\t', HEADER)")
    lap("write")
    if case == "dedupe":
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, THRESHOLD)
        con.execute(f"COPY (SELECT unique_id AS record_id, cluster_id FROM {clusters.physical_name}) "
                    f"TO '{out / 'clusters.tsv'}' (DELIMITER '\t', HEADER)")
        lap("cluster")
    else:
        clusters = linker.clustering.cluster_using_single_best_links(
            pred, duplicate_free_datasets=["left", "right"], threshold_match_probability=THRESHOLD)
        cl_name = clusters.physical_name
        con.execute(f"""COPY (
            SELECT a.unique_id AS left_id, b.unique_id AS right_id
            FROM {cl_name} a JOIN {cl_name} b ON a.cluster_id = b.cluster_id
            WHERE a.source_dataset = 'left' AND b.source_dataset = 'right'
        ) TO '{out / 'pairs_one_to_one.tsv'}' (DELIMITER '\t', HEADER)""")
        lap("one_to_one")
    timings["total"] = round(time.perf_counter() - t0, 3)
    (out / "timings.json").write_text(json.dumps(timings, indent=1))
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Splink 5 (DuckDB) on P20 WIN files, for the benchmark")
    parser.add_argument("--case", choices=("full", "wage", "dedupe"), required=True)
    parser.add_argument("left", type=Path)
    parser.add_argument("right", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 16GB (default: DuckDB's)")
    args = parser.parse_args(argv)
    if (args.case == "dedupe") != (args.right is None):
        parser.error("dedupe takes one file; full and wage take two")
    print(json.dumps(run(args.case, args.left, args.right, args.out, memory_limit=args.memory_limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
