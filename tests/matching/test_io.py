"""read_matching_file and write_rejections on real files written to tmp_path."""
import datetime as dt
import hashlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import io as mio
from app.matching.io import MatchInputError, read_matching_file, write_rejections
from app.matching.standardise import standardise

HEADER = "LastName\tMiddleName\tFirstName\tDOB\tGender\tHighSchoolCode\tHighSchoolName\tSASID\tSSN\tSyntheticID"
TODAY = dt.date(2026, 6, 1)


def tsv(tmp_path, *rows, header=HEADER, name="in.tsv", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes((newline.join([header, *rows]) + newline).encode(encoding))
    return path


def person(last="Smith", first="Ann", dob="20010315", ssn="012345679", sid="S1", middle="", gender="F",
           hs="070001", hs_name="Hall High", sasid="0123456789"):
    return "\t".join([last, middle, first, dob, gender, hs, hs_name, sasid, ssn, sid])


def test_p20win_file_reads_as_text_with_leading_zeros(tmp_path):
    path = tsv(tmp_path, person(), person("Jones", "Bo", ssn="001234567", sid="000042", hs="001234"))
    result = read_matching_file(path)
    assert result.kind == "p20win" and result.file_format == "tsv"
    assert list(result.frame.columns) == HEADER.split("\t")
    assert list(result.frame["SSN"]) == ["012345679", "001234567"]
    assert list(result.frame["SyntheticID"]) == ["S1", "000042"]
    assert list(result.frame["HighSchoolCode"]) == ["070001", "001234"]
    assert list(result.row_numbers) == [2, 3]
    assert result.rejections.empty and result.issues.empty
    assert result.rows_in_file == 2
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_header_names_ignore_case_spaces_and_underscores(tmp_path):
    header = "last_name\tFIRST NAME\tdob\tSynthetic_ID\tNotes"
    result = read_matching_file(tsv(tmp_path, "Smith\tAnn\t20010315\tS1\tfree text", header=header))
    assert list(result.frame.columns) == ["LastName", "FirstName", "DOB", "SyntheticID"]
    assert result.ignored_columns == ["Notes"] and any("Notes" in w for w in result.warnings)
    assert not any("column map" in w for w in result.warnings)
    result = read_matching_file(tsv(tmp_path, "Smith\tF\t20010315\tS1", name="sex.tsv",
                                    header="LastName\tSex\tDate of Birth\tSyntheticID"))
    assert any('--column-map "Sex=Gender,Date of Birth=DOB"' in w for w in result.warnings)


def test_wage_layout(tmp_path):
    header = "SSN\tLastName\tFirstInitial\tYear\tQuarter\tWages\tIndustryCode\tSyntheticID"
    rows = ["012345679\tSMITH\tA\t2024\t3\t1234.56\t6111\tW1", "012345679\tSMITH\tA\t2024\t3\t99.00\t4451\tW2"]
    result = read_matching_file(tsv(tmp_path, *rows, header=header))
    assert result.kind == "wage"
    assert list(result.frame.columns) == header.split("\t")
    assert list(result.frame["Wages"]) == ["1234.56", "99.00"]
    # two employers in a quarter: the same SSN twice is normal for wages, so no per-row issue
    assert result.issues.empty and any("expected in a wage file" in w for w in result.warnings)
    assert list(standardise(result.frame)["first_initial"]) == ["A", "A"]


def test_csv_with_quotes_and_sniffed_delimiters(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('LastName,FirstName,DOB,SyntheticID\n"Smith, Jr",Ann,03/15/2001,1\n'
                    '"O""Brien","Mary\nAnn",2001-01-02,2\nshort,row\nJones,Bo,20010101,3\n', encoding="utf-8")
    result = read_matching_file(path)
    assert result.file_format == "csv"
    assert list(result.frame["LastName"]) == ["Smith, Jr", 'O"Brien', "Jones"]
    assert result.frame.loc[1, "FirstName"] == "Mary\nAnn"
    assert list(result.row_numbers) == [2, 3, 6]
    assert list(result.rejections["row_number"]) == [5]
    semi = tmp_path / "semi.csv"
    semi.write_text("LastName;FirstName;SyntheticID\nSmith;Ann;1\n", encoding="utf-8")
    assert read_matching_file(semi).frame.loc[0, "FirstName"] == "Ann"


def test_xlsx_numbers_dates_and_extra_sheets(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["LastName", "FirstName", "DOB", "SSN", "HighSchoolCode", "SyntheticID"])
    sheet.append(["Smith", "Ann", dt.datetime(2001, 3, 15), 12345679, 70001, 42])
    sheet.append(["Jones", "Bo", 36965, "512-34-5678", "070001", "A2"])  # 36965 = 2001-03-15 as a day number
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Lee", "Cy", "20010101", None, None, "A3", "stray"])
    book.create_sheet("Notes")
    path = tmp_path / "in.xlsx"
    book.save(path)
    result = read_matching_file(path)
    assert result.file_format == "xlsx"
    assert list(result.frame["DOB"]) == ["20010315", "20010315"]
    assert list(result.frame["SSN"]) == ["012345679", "512-34-5678"]
    assert list(result.frame["SyntheticID"]) == ["42", "A2"]
    assert list(result.row_numbers) == [2, 3]
    assert list(result.rejections["row_number"]) == [4, 5]
    assert "beyond the header" in result.rejections.loc[1, "reason"]
    text = " ".join(result.warnings)
    assert "Notes" not in text and "only the first" in text and "day numbers" in text and "leading zeros" in text
    std = standardise(result.frame)
    assert list(std["ssn"]) == ["012345679", "512345678"] and list(std["hs_code"]) == ["070001", "070001"]


def test_cp1252_is_reported_with_line_and_bytes_then_read_when_named(tmp_path):
    path = tsv(tmp_path, person(), person("Peña", "José", sid="S2"), encoding="cp1252")
    with pytest.raises(MatchInputError) as caught:
        read_matching_file(path)
    message = caught.value.message
    assert "line 3" in message and "F1" in message and "E9" in message and "--encoding cp1252" in message
    result = read_matching_file(path, encoding="cp1252")
    assert list(result.frame["LastName"]) == ["Smith", "Peña"] and result.frame.loc[1, "FirstName"] == "José"
    assert result.encoding == "cp1252"
    with pytest.raises(MatchInputError, match="Unknown encoding"):
        read_matching_file(path, encoding="klingon")
    with pytest.raises(MatchInputError, match="no byte-order mark"):
        read_matching_file(path, encoding="utf-16")


def test_undefined_cp1252_byte_is_reported_too(tmp_path):
    path = tmp_path / "in.tsv"
    path.write_bytes((HEADER + "\n").encode() + person(last="X\x81Y").encode("latin-1") + b"\n")
    with pytest.raises(MatchInputError, match="line 2: bytes 81"):
        read_matching_file(path, encoding="cp1252")
    assert read_matching_file(path, encoding="latin-1").frame.loc[0, "LastName"] == "X\x81Y"


def test_bom_utf16_and_crlf(tmp_path):
    bom = tmp_path / "bom.tsv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\r\n" + person() + "\r\n").encode())
    result = read_matching_file(bom)
    assert result.frame.loc[0, "SyntheticID"] == "S1" and result.frame.loc[0, "LastName"] == "Smith"
    assert result.sha256 == hashlib.sha256(bom.read_bytes()).hexdigest()
    wide = tsv(tmp_path, person(last="Łukasz"), name="wide.txt", encoding="utf-16", newline="\r\n")
    result = read_matching_file(wide)
    assert result.frame.loc[0, "LastName"] == "Łukasz" and result.frame.loc[0, "SyntheticID"] == "S1"
    assert result.sha256 == hashlib.sha256(wide.read_bytes()).hexdigest()


def test_ragged_blank_and_quoted_rows(tmp_path):
    rows = [person(sid="S1"),
            person(last="Tab\tInside", sid="S2"),        # one field too many
            "Short\trow",                                 # too few
            "",                                           # blank line inside the file
            person(last='O"Brien', sid="S3"),             # a quote is data in a P20 WIN file
            person(sid="S4")]
    path = tsv(tmp_path, *rows, "", "")                   # trailing blank lines are not records
    result = read_matching_file(path)
    assert list(result.frame["SyntheticID"]) == ["S1", "S3", "S4"]
    assert list(result.row_numbers) == [2, 6, 7]
    assert result.frame.loc[1, "LastName"] == 'O"Brien'
    rejected = result.rejections
    assert list(rejected["row_number"]) == [3, 4, 5]
    assert "11 fields" in rejected.loc[0, "reason"] and "2 fields" in rejected.loc[1, "reason"]
    assert "blank" in rejected.loc[2, "reason"]
    assert (rejected["record_id"] == "").all()  # a misaligned row's "id" could be someone's SSN: never shown
    assert result.rows_in_file == 6


def test_stray_carriage_return_inside_a_line_does_not_split_it(tmp_path):
    path = tsv(tmp_path, person(last="Sm\rith", sid="S1"), person(sid="S2"), newline="\r\n")
    result = read_matching_file(path)
    assert list(result.frame["SyntheticID"]) == ["S1", "S2"] and result.frame.loc[0, "LastName"] == "Sm\rith"
    assert list(result.row_numbers) == [2, 3]


def test_wrong_delimiter_is_named_not_rejected_row_by_row(tmp_path):
    path = tsv(tmp_path, *[person(sid=f"S{i}").replace("\t", ";") for i in range(5)])
    with pytest.raises(MatchInputError, match="Most rows of in.tsv have 1 fields but its header has 10"):
        read_matching_file(path)


def test_block_boundaries_do_not_change_the_result(tmp_path, monkeypatch):
    rows = [person(sid=f"S{i}", last="Tab\tX" if i % 7 == 0 else f"N{i}") for i in range(200)]
    rows[50] = ""
    rows[60] = rows[60].replace("N60", "N\r60")
    path = tsv(tmp_path, *rows, newline="\r\n")
    whole = read_matching_file(path)
    monkeypatch.setattr(mio, "_BLOCK", 97)
    pieces = read_matching_file(path)
    assert list(pieces.row_numbers) == list(whole.row_numbers)
    assert pieces.frame.equals(whole.frame) and pieces.rejections.equals(whole.rejections)
    assert pieces.sha256 == whole.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(whole.rejections) == 29 + 1
    assert whole.frame["SyntheticID"].str.fullmatch(r"S\d+").all()


def test_encoding_errors_across_block_boundaries(tmp_path, monkeypatch):
    rows = [person(sid=f"S{i}", last="Peña" if i in (10, 150) else "Smith") for i in range(200)]
    path = tsv(tmp_path, *rows, encoding="cp1252")
    monkeypatch.setattr(mio, "_BLOCK", 64)
    with pytest.raises(MatchInputError) as caught:
        read_matching_file(path)
    assert "2 lines" in caught.value.message
    assert "line 12:" in caught.value.message and "line 152:" in caught.value.message


def test_duplicate_and_empty_ids_are_rejected_naming_rows(tmp_path):
    rows = [person(sid="S1"), person(first="Bo", sid="S2"), person(first="Cy", sid=" S1 "), person(sid="  "),
            person(first="Di", sid="S3")]
    result = read_matching_file(tsv(tmp_path, *rows))
    assert list(result.frame["SyntheticID"]) == ["S2", "S3"]
    rejected = result.rejections.set_index("row_number")
    assert "rows (2, 4)" in rejected.loc[2, "reason"] and rejected.loc[4, "record_id"] == "S1"
    assert "empty" in rejected.loc[5, "reason"]


def test_files_pasted_together_repeat_the_header(tmp_path):
    result = read_matching_file(tsv(tmp_path, person(sid="S1"), HEADER, person(sid="S2"), HEADER))
    assert list(result.frame["SyntheticID"]) == ["S1", "S2"]
    assert list(result.rejections["row_number"]) == [3, 5]
    assert result.rejections["reason"].str.contains("repeats the header").all()


def test_value_problems_are_issues_not_rejections(tmp_path):
    rows = [person(sid="S1", ssn="000123456", dob="20010230", gender="Q", hs="A12"),
            person(last="Lee", first="Bo", sid="S2", ssn="512345678"),
            person(last="Kim", first="Cy", sid="S3", ssn="512-34-5678"),
            person(last="Kim", first="Cy", sid="S4", ssn="512-34-5678"),
            "\t".join([" "] * 9 + ["S5"])]
    result = read_matching_file(tsv(tmp_path, *rows), today=TODAY)
    assert result.rejections.empty and len(result.frame) == 5
    issues = result.issues
    first = issues[issues["row_number"] == 2]
    assert set(first["field"]) == {"SSN", "DOB", "Gender", "HighSchoolCode"}
    assert (first["action"] == "set to missing").all()
    shared = issues[issues["reason"].str.contains("same SSN")]
    assert list(shared["row_number"]) == [3, 4, 5]
    same = issues[issues["reason"].str.contains("same identifying values")]
    assert list(same["row_number"]) == [4, 5]
    assert "no identifying values" in issues[issues["row_number"] == 6]["reason"].iloc[0]
    assert (issues.loc[issues["reason"].str.contains("same|no identifying"), "action"] == "kept").all()


def test_identity_duplicates_need_every_field_equal(tmp_path):
    rows = [person(sid="A", ssn="512345678"), person(sid="B", ssn="512345678", sasid="9999999999"),
            person(sid="C", last="smith ", ssn="512345678"), person(sid="D", first="Bo", ssn="")]
    same = read_matching_file(tsv(tmp_path, *rows)).issues
    same = same[same["reason"].str.contains("identifying")]
    assert list(same["record_id"]) == ["A", "C"]  # case and spaces aside; B differs in SASID only


def test_column_map(tmp_path):
    header = "Surname\tGiven\tBirth Date\tStudentKey"
    path = tsv(tmp_path, "Smith\tAnn\t03/15/2001\tK1", header=header)
    with pytest.raises(MatchInputError, match="is a matching field.*'Surname'.*Surname=LastName"):
        read_matching_file(path)
    result = read_matching_file(path, column_map={"surname": "LastName", "Given": "first_name",
                                                  "BIRTH_DATE": "DOB", "StudentKey": "SyntheticID"})
    assert list(result.frame.columns) == ["LastName", "FirstName", "DOB", "SyntheticID"]
    with pytest.raises(MatchInputError, match="not a matching field"):
        read_matching_file(path, column_map={"Surname": "Family"})
    with pytest.raises(MatchInputError, match="no such column"):
        read_matching_file(path, column_map={"Nope": "LastName"})
    both = tsv(tmp_path, "Smith\tOLD1\tK1", header="LastName\tSyntheticID\tStudentKey", name="both.tsv")
    result = read_matching_file(both, column_map={"StudentKey": "SyntheticID"})
    assert list(result.frame["SyntheticID"]) == ["K1"] and result.ignored_columns == ["SyntheticID"]
    with pytest.raises(MatchInputError, match="two columns for LastName"):
        read_matching_file(path, column_map={"Surname": "LastName", "Given": "LastName"})


def test_files_that_cannot_be_used(tmp_path):
    cases = {
        "empty.tsv": b"",
        "header_only.tsv": (HEADER + "\n").encode(),
        "binary.tsv": b"\x00\x01\x02LastName\x00",
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "broken.xlsx": b"PK\x03\x04" + b"nonsense" * 10,
        "prose.txt": b"Dear hub staff,\nplease find the file attached.\n",
        "no_ids.tsv": b"LastName\tFirstName\nSmith\tAnn\n",
        "one_column.txt": b"just some words\nmore words\n",
        "no_identifiers.tsv": b"SyntheticID\tHighSchoolName\n1\tHall\n",
        "all_dupes.tsv": (HEADER + "\n" + person() + "\n" + person() + "\n").encode(),
        "blank_first.tsv": b"\n" + (HEADER + "\n").encode(),
    }
    expected = {"empty.tsv": "empty", "header_only.tsv": "no data rows", "binary.tsv": "binary",
                "old.xls": ".xls", "broken.xlsx": "cannot be opened", "prose.txt": "does not look like a matching file",
                "no_ids.tsv": "no SyntheticID", "one_column.txt": "not a table",
                "no_identifiers.tsv": "no identifying columns",
                "all_dupes.tsv": "no usable rows", "blank_first.tsv": "first line is blank"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(MatchInputError, match=expected[name]):
            read_matching_file(path)
    with pytest.raises(MatchInputError, match="does not exist"):
        read_matching_file(tmp_path / "missing.tsv")


def test_a_read_failure_mid_file_is_a_message(tmp_path, monkeypatch):
    def failing_disk(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(mio, "_scan", failing_disk)
    with pytest.raises(MatchInputError, match="in.tsv could not be read: Input/output error"):
        read_matching_file(tsv(tmp_path, person()))


def test_headerless_file_message_does_not_echo_personal_data(tmp_path):
    path = tmp_path / "noheader.tsv"
    path.write_text(person(last="Zzyzx", ssn="512345678") + "\n", encoding="utf-8")
    with pytest.raises(MatchInputError) as caught:
        read_matching_file(path)
    assert "looks like data" in caught.value.message
    assert "Zzyzx" not in caught.value.message and "512345678" not in caught.value.message


def test_rejection_report_holds_ids_and_reasons_only(tmp_path):
    rows = [person(last="Secretname", first="Hidden", sid="=cmd()", ssn="000111222"),
            person(last="Otherperson", first="Private", sid="=cmd()"),
            person(last="Tab\tName", first="Visible", sid="S3"),
            person(last="<b>Bold</b>", first="@SUM(1)", sid="+S4", ssn="666123456")]
    result = read_matching_file(tsv(tmp_path, *rows))
    out = tmp_path / "rejections.tsv"
    written = write_rejections(result, out)
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "row_number\trecord_id\tfield\taction\treason"
    assert written == len(lines) - 1 == 4
    for secret in ("Secretname", "Hidden", "Otherperson", "Private", "Visible", "000111222", "666123456", "Bold"):
        assert secret not in text
    cells = [line.split("\t") for line in lines[1:]]
    assert [c[0] for c in cells] == ["2", "3", "4", "5"]
    assert cells[0][1] == "'=cmd()" and cells[3][1] == "'+S4"
    assert all(not c[1].startswith(("=", "+", "-", "@")) for c in cells)
    assert cells[3][3] == "set to missing" and cells[0][3] == "row left out"


def test_row_numbers_line_up_with_a_large_streamed_file(tmp_path):
    n = 30_000
    rng = np.random.default_rng(5)
    bad = set(rng.choice(np.arange(n), 40, replace=False).tolist())
    rows = [person(sid=f"S{i}", last="A\tB" if i in bad else f"N{i}") for i in range(n)]
    result = read_matching_file(tsv(tmp_path, *rows))
    assert len(result.frame) == n - len(bad)
    kept = np.array([i for i in range(n) if i not in bad])
    assert np.array_equal(result.row_numbers, kept + 2)
    assert list(result.frame["SyntheticID"].iloc[[0, -1]]) == [f"S{kept[0]}", f"S{kept[-1]}"]
    assert sorted(result.rejections["row_number"]) == sorted(i + 2 for i in bad)


line = st.one_of(st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
                 st.lists(st.text(max_size=8), min_size=1, max_size=12).map("\t".join),
                 st.builds(person, last=st.text(max_size=10).map(lambda t: t.replace("\n", "")),
                           sid=st.text(min_size=0, max_size=4).map(lambda t: t.replace("\n", ""))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from([HEADER, HEADER.replace("\t", ","), "SyntheticID\tLastName", "x"]),
       rows=st.lists(line, max_size=8), tail=st.binary(max_size=12), encoding=st.sampled_from([None, "cp1252"]))
def test_any_file_gives_a_result_or_a_message(tmp_path, header, rows, tail, encoding):
    path = tmp_path / "fuzz.tsv"
    path.write_bytes("\n".join([header, *rows]).encode("utf-8", "surrogatepass") + tail)
    try:
        result = read_matching_file(path, encoding=encoding)
    except MatchInputError as exc:
        assert exc.message
        return
    assert len(result.frame) == len(result.row_numbers) > 0
    assert result.frame["SyntheticID"].is_unique
    standardise(result.frame)


@pytest.mark.parametrize("hostile, shown", [("=cmd()", "'=cmd()"), ("ok\nnext", "ok next"), ("a\tb", "a b"),
                                            ("@SUM(1)", "'@SUM(1)"), ("-1+2", "'-1+2")])
def test_excel_safe_neutralises_one_bad_cell_among_many_clean_ones(hostile, shown):
    # Clean columns take a fast path over the whole column: one bad cell anywhere must still be caught.
    clean = [f"K{i:09d}" for i in range(2000)] + [None, "-12.50"]
    for position in (0, 1000, len(clean)):
        values = clean[:position] + [hostile] + clean[position:]
        got = mio.excel_safe(pd.Series(values, dtype=object)).tolist()
        assert got[position] == shown
        assert got[:position] + got[position + 1:] == [v if v is not None else "" for v in clean]


@pytest.mark.parametrize("case", ["full", "wage"])
def test_standardise_reuses_the_validations_checks(tmp_path, monkeypatch, case):
    from app.matching import standardise as std_module
    from bench.generate import generate
    generated = generate(case, 2000, seed=9)
    generated.write(tmp_path)
    for side in ("left", "right"):
        result = read_matching_file(tmp_path / f"{side}.tsv", today=TODAY)
        assert set(result.checked) & {"SSN", "DOB"}
        alone, alone_codes = std_module.standardise_coded(result.frame, today=TODAY)
        if "DOB" in result.checked:
            monkeypatch.setattr(std_module, "check_dates", lambda *a: pytest.fail("dates checked twice"))
        if "SSN" in result.checked:
            monkeypatch.setattr(std_module, "check_ssns", lambda *a: pytest.fail("SSNs checked twice"))
        if "Gender" in result.checked:
            monkeypatch.setattr(std_module, "check_genders", lambda *a: pytest.fail("genders checked twice"))
        if "HighSchoolCode" in result.checked:
            monkeypatch.setattr(std_module, "check_hs_codes", lambda *a: pytest.fail("schools checked twice"))
        reused, reused_codes = std_module.standardise_coded(result.frame, today=TODAY, checked=result.checked)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(reused, alone)
        assert all(np.array_equal(reused_codes[c][0], alone_codes[c][0]) for c in alone_codes)
        assert alone["dob"].notna().any() or alone["ssn"].notna().any()


def test_only_the_matched_columns_are_parsed_and_the_file_kind_still_comes_from_its_header(tmp_path):
    from app.matching.standardise import MATCHED_COLUMNS
    from bench.generate import generate
    generate("wage", 300, seed=2).write(tmp_path)
    whole = read_matching_file(tmp_path / "right.tsv")
    slim = read_matching_file(tmp_path / "right.tsv", only=MATCHED_COLUMNS)
    assert {"Wages", "IndustryCode"} <= set(whole.frame.columns)
    assert set(slim.frame.columns) == set(whole.frame.columns) & MATCHED_COLUMNS
    assert slim.kind == whole.kind == "wage"
    pd.testing.assert_frame_equal(slim.frame, whole.frame[list(slim.frame.columns)])


def test_ids_that_differ_only_by_surrounding_spaces_are_one_id(tmp_path):
    rows = [person(sid=" S1"), person(last="Lee", first="Bo", sid="S1\u00a0"), person(last="Kim", sid="S2")]
    result = read_matching_file(tsv(tmp_path, *rows), today=TODAY)
    assert sorted(result.rejections["record_id"]) == ["S1", "S1"]
    assert list(result.frame["SyntheticID"]) == ["S2"]
