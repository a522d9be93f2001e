"""standardise: every field rule on small frames, plus properties over arbitrary text."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import names
from app.matching.standardise import (INPUT_COLUMNS, STANDARD_COLUMNS, check_dates, check_ssns, standardise,
                                      standardise_coded, with_coded_columns)
from app.resources import resource_path

TODAY = dt.date(2026, 6, 1)


def std(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({"SyntheticID": [f"id{i}" for i in range(n)], **columns})
    return standardise(frame, today=TODAY)


def test_contract_columns_and_dtypes_even_when_the_file_lacks_them():
    out = std(LastName=["Smith"])
    assert list(out.columns) == list(STANDARD_COLUMNS)
    for column in STANDARD_COLUMNS:
        expected = {"dob": "Int32", "dob_year": "Int16", "dob_month": "Int16", "dob_day": "Int16"}.get(column,
                                                                                                      "string")
        assert str(out[column].dtype) == expected, column
    assert out.loc[0, "last_name"] == "SMITH"
    for column in ("first_name", "dob", "ssn", "sasid", "hs_code", "gender"):
        assert out[column].isna().all(), column


@pytest.mark.parametrize("raw, last, first_part, last_part, suffix", [
    ("O'Brien", "OBRIEN", "OBRIEN", "OBRIEN", None),
    ("O’BRIEN", "OBRIEN", "OBRIEN", "OBRIEN", None),
    ("smith jr", "SMITH", "SMITH", "SMITH", "JR"),
    ("Smith, Jr.", "SMITH", "SMITH", "SMITH", "JR"),
    ("Jones III", "JONES", "JONES", "JONES", "III"),
    ("Jones 2nd", "JONES", "JONES", "JONES", "II"),
    ("García-López", "GARCIA LOPEZ", "GARCIA", "LOPEZ", None),
    ("Garcia y Lopez", "GARCIA LOPEZ", "GARCIA", "LOPEZ", None),
    ("de la Cruz", "DELACRUZ", "DELACRUZ", "DELACRUZ", None),
    ("DELACRUZ", "DELACRUZ", "DELACRUZ", "DELACRUZ", None),
    ("De La Cruz Martinez", "DELACRUZ MARTINEZ", "DELACRUZ", "MARTINEZ", None),
    ("Mc Donald", "MCDONALD", "MCDONALD", "MCDONALD", None),
    ("MacArthur", "MACARTHUR", "MACARTHUR", "MACARTHUR", None),
    ("van der Berg", "VANDERBERG", "VANDERBERG", "VANDERBERG", None),
    ("St. John", "STJOHN", "STJOHN", "STJOHN", None),
    ("Nguyễn", "NGUYEN", "NGUYEN", "NGUYEN", None),
    ("Müller-Lüdenscheidt", "MULLER LUDENSCHEIDT", "MULLER", "LUDENSCHEIDT", None),
    ("Øster  Strauß", "OSTER STRAUSS", "OSTER", "STRAUSS", None),
    ("Jr", "JR", "JR", "JR", None),          # a suffix alone is the name itself
    ("  ", None, None, None, None),
    ("NULL", None, None, None, None),
    ("Na", "NA", "NA", "NA", None),          # a Korean surname, not "not available"
])
def test_surnames(raw, last, first_part, last_part, suffix):
    row = std(LastName=[raw]).iloc[0]
    got = [None if pd.isna(row[c]) else row[c] for c in ("last_name", "last_name_first", "last_name_last",
                                                           "suffix")]
    assert got == [last, first_part, last_part, suffix]


@pytest.mark.parametrize("raw, first, initial", [
    ("José", "JOSE", "J"), ("Mary-Ann", "MARY ANN", "M"), ("Dr. Alice", "ALICE", "A"), ("ZOË", "ZOE", "Z"),
    ("NFN", None, None), ("=cmd()", "CMD", "C"), ("<b>Bob</b>", "B BOB B", "B"), ("", None, None),
    ("Baby Girl", None, None), ("BABY", None, None),
])
def test_given_names(raw, first, initial):
    row = std(FirstName=[raw]).iloc[0]
    assert (None if pd.isna(row["first_name"]) else row["first_name"]) == first
    assert (None if pd.isna(row["first_initial"]) else row["first_initial"]) == initial


def test_suffix_found_in_first_or_middle_name_when_not_in_last():
    out = std(LastName=["Smith", "Smith Sr"], FirstName=["John Jr", "John"], MiddleName=["", "Paul III"])
    assert list(out["suffix"]) == ["JR", "SR"]
    assert list(out["first_name"]) == ["JOHN", "JOHN"]
    assert list(out["middle_name"].fillna("-")) == ["-", "PAUL"]


@pytest.mark.parametrize("first, gender, canonical", [
    ("Bill", "M", "WILLIAM"), ("billy", "", "WILLIAM"), ("Chris", "M", "CHRISTOPHER"), ("Chris", "F", "CHRISTINA"),
    ("Chris", "U", "CHRISTOPHER"), ("Paco", "M", "FRANCIS"), ("Pepe", "1", "JOSE"), ("Lupe", "F", "GUADALUPE"),
    ("Angel", "M", "ANGEL"), ("Bill Joe", "M", "WILLIAM JOE"), ("William", "M", "WILLIAM"), ("Xyzzy", "F", "XYZZY"),
    ("Tony", "M", "ANTHONY"), ("Antonio", "M", "ANTHONY"), ("Toño", "M", "ANTHONY"), ("Toni", "F", "ANTOINETTE"),
])
def test_nicknames_resolve_with_gender(first, gender, canonical):
    assert std(FirstName=[first], Gender=[gender]).loc[0, "first_name_canonical"] == canonical


def test_nickname_table_is_real_and_clean():
    text = resource_path("nicknames.tsv").read_text(encoding="utf-8")
    assert "Hand-made" in text
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith(("#", "nickname"))]
    assert len(rows) >= 300
    for nickname, canonical, gender in rows:
        assert nickname == names.fold(nickname) and nickname.replace(" ", "").isalpha()
        assert canonical == names.fold(canonical) and canonical.isalpha()
        assert gender in ("M", "F")


@pytest.mark.parametrize("raw, expected", [
    ("M", "M"), ("male", "M"), ("1", "M"), ("F", "F"), (" Female ", "F"), ("2", "F"), ("U", None), ("X", None),
    ("", None), ("Q", None),
])
def test_gender_codes(raw, expected):
    got = std(Gender=[raw]).loc[0, "gender"]
    assert (None if pd.isna(got) else got) == expected


@pytest.mark.parametrize("raw, expected", [
    ("20010315", 20010315), ("2001-03-15", 20010315), ("2001/3/5", 20010305), ("03/15/2001", 20010315),
    ("3/15/2001", 20010315), ("3-15-2001", 20010315), ("3/15/01", 20010315), ("3/15/26", 20260315),
    ("12/15/26", 19261215), ("15-DEC-26", 19261215),
    ("1/1/25", 20250101), ("15-Mar-2001", 20010315), ("March 15, 2001", 20010315), ("Mar 15th 2001", 20010315),
    ("2001-03-15 00:00:00", 20010315), ("3/15/2001 12:00:00 AM", 20010315), ("2001-03-15T00:00:00", 20010315),
    ("03152001", 20010315), ("20010230", None), ("2001-13-01", None), ("18991231", None),
    ("20260602", None), ("20260601", 20260601), ("not a date", None), ("", None), ("36966", None),
    ("²⁰⁰¹⁰³¹⁵", None), ("٢٠٠١-٠٣-١٥", 20010315),
])
def test_dates(raw, expected):
    row = std(DOB=[raw]).iloc[0]
    assert (None if pd.isna(row["dob"]) else int(row["dob"])) == expected
    if expected:
        assert (row["dob_year"], row["dob_month"], row["dob_day"]) == (expected // 10000, expected // 100 % 100,
                                                                       expected % 100)


def test_day_first_is_used_only_when_the_column_shows_it():
    day_first = std(DOB=["15/03/2001", "04/05/2002"])
    assert list(day_first["dob"]) == [20010315, 20020504]
    month_first = std(DOB=["03/15/2001", "04/05/2002"])
    assert list(month_first["dob"]) == [20010315, 20020405]


def test_date_reasons_say_why_without_the_value():
    values, reasons = check_dates(pd.Series(["20010230", "19000101", "20990101", "junk"]).to_numpy(object), TODAY)
    assert list(values) == [None, 19000101, None, None]
    assert list(reasons) == ["DOB is not a real calendar date", None, "DOB is in the future",
                             "DOB format not recognised"]


@pytest.mark.parametrize("raw, expected", [
    ("012345679", "012345679"), ("512-34-5678", "512345678"), (" 512 34 5678 ", "512345678"),
    ("000123456", None), ("666123456", None), ("900123456", None), ("999123456", None), ("512003456", None),
    ("512340000", None), ("111111111", None), ("555555555", None), ("123456789", None), ("078051120", None),
    ("12345678", None), ("5123456789", None), ("51234567X", None), ("", None), ("٥١٢٣٤٥٦٧٨", None),
])
def test_ssn_rules(raw, expected):
    got = std(SSN=[raw]).loc[0, "ssn"]
    assert (None if pd.isna(got) else got) == expected


def test_ssn_reasons():
    _, reasons = check_ssns(pd.Series(["000123456", "512003456", "512340000", "777777777", "12"]).to_numpy(object))
    assert [r.split()[1] for r in reasons] == ["area", "group", "serial", "repeats", "is"]


def test_codes_and_ids():
    out = std(HighSchoolCode=["70001", "070001", "1", "A1234", "1234567"], SASID=[" 12345 67890", "", "x", "1", "2"])
    assert list(out["hs_code"].fillna("-")) == ["070001", "070001", "000001", "-", "-"]
    assert list(out["sasid"].fillna("-")) == ["1234567890", "-", "X", "1", "2"]
    assert list(out["record_id"]) == [f"id{i}" for i in range(5)]


def test_wage_first_initial_comes_from_its_own_column():
    out = std(LastName=["Smith", "Jones"], FirstInitial=["j", " "])
    assert list(out["first_initial"].fillna("-")) == ["J", "-"]
    assert out["first_name"].isna().all()


def test_repeated_values_standardise_like_single_rows():
    raw = pd.DataFrame({"SyntheticID": [str(i) for i in range(8)],
                        "LastName": ["Smith", "O'Neil", "Smith", None, "O'Neil", "smith", "", "Smith"],
                        "FirstName": ["Chris", "Chris", "Chris", "Bill", "Chris", "Chris", "Bill", None],
                        "Gender": ["M", "F", "F", "M", None, "M", "F", "M"],
                        "DOB": ["20010101", "1/2/2001", "20010101", "", None, "20010101", "x", "20010101"]})
    whole = standardise(raw, today=TODAY)
    for i in range(len(raw)):
        alone = standardise(raw.iloc[[i]], today=TODAY)
        pd.testing.assert_frame_equal(whole.iloc[[i]].reset_index(drop=True), alone)


def test_missing_synthetic_id_is_a_programming_error():
    with pytest.raises(KeyError):
        standardise(pd.DataFrame({"LastName": ["x"]}))


cell = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(alphabet="0123456789²٢-/. :APMT", max_size=14),  # near-dates, near-SSNs
                 st.sampled_from(["", " ", "Jr", "DE LA", "'", "-", "0", "9/9/99", "=cmd()", "<b>x</b>"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: cell for c in INPUT_COLUMNS if c != "SyntheticID"}), min_size=1,
                max_size=15))
def test_standardise_never_raises_and_keeps_rows_and_ids(rows):
    frame = pd.DataFrame(rows)
    frame["SyntheticID"] = [f"r{i}" for i in range(len(rows))]
    out, value_codes = standardise_coded(frame, today=TODAY)
    assert len(out) == len(frame)
    assert list(out["record_id"]) == list(frame["SyntheticID"])
    for column, (codes, values) in value_codes.items():   # each column's own factorisation
        expected_codes, expected_values = pd.factorize(np.asarray(out[column].array, dtype=object))
        assert codes.tolist() == expected_codes.tolist() and list(values) == list(expected_values), column
    for column in ("first_name", "middle_name", "last_name", "last_name_first", "last_name_last", "suffix",
                   "first_initial", "first_name_canonical"):
        for value in out[column].dropna():
            assert value and value == value.strip() and "  " not in value
            assert all(ch == " " or "A" <= ch <= "Z" or (column == "suffix" and ch.isalnum()) for ch in value)
    assert out["ssn"].dropna().str.fullmatch(r"[0-9]{9}").all()
    assert out["hs_code"].dropna().str.fullmatch(r"[0-9]{6}").all()
    assert set(out["gender"].dropna()) <= {"M", "F"}


def test_a_frame_without_its_coded_columns_is_made_whole_from_the_codes():
    raw = pd.DataFrame({"SyntheticID": [str(i) for i in range(6)],
                        "LastName": ["Smith", "O'Neil-Brown", None, "smith", "", "Müller"],
                        "FirstName": ["Chris", None, "Bill", "Chris", "Ann", "Jürgen"],
                        "FirstInitial": ["C", "x", None, "", "A", "J"], "Gender": ["M", "F", None, "M", "f", "U"],
                        "SASID": ["1234567890", None, "", "1234567890", "12-34", "x"]})
    std, value_codes = standardise_coded(raw, today=TODAY)
    slim = std.drop(columns=list(value_codes))
    assert len(slim.columns) < len(std.columns) - 8
    pd.testing.assert_frame_equal(with_coded_columns(slim, value_codes), std)
