"""The match-quality report: drawn from a real run's record, self-contained, and safe with hostile or
missing values."""
import copy
import json
import math
import re
from html.parser import HTMLParser

import pytest

from app.matching.quality import render_quality_report, write_quality_report
from app.matching.run import run_match
from bench.generate import generate

VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Page(HTMLParser):
    """Collects tags, text and attribute values, and checks that elements nest properly."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.attrs, self.names, self.stack, self.errors = [], [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]
        self.names += [k for k, _ in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    page.all_text = " ".join(" ".join(page.text).split())
    return page


def assert_offline(page: _Page, html: str):
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert not {"src", "href", "xlink:href", "srcset", "action"} & set(page.names)
    assert not any(name.startswith("on") for name in page.names)
    assert not any(re.match(r"\s*(?:https?:|//|javascript:)", v) for v in page.attrs)
    assert "@import" not in html and "url(" not in html


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """A real link run of the engine on generated files; returns (record, out_dir)."""
    root = tmp_path_factory.mktemp("quality")
    paths = generate("full", 2000, seed=21).write(root / "data")
    record = run_match("link", [paths["left"], paths["right"]], root / "out")
    return record, root / "out"


def test_report_from_a_real_run_shows_its_figures(real_run):
    record, out = real_run
    stored = json.loads((out / "run.json").read_text("utf-8"))
    html = (out / "quality.html").read_text("utf-8")
    page = parse(html)
    assert_offline(page, html)
    for item in stored["inputs"]:
        assert item["file_name"] in page.all_text
        assert f"{item['rows']:,}" in page.all_text
        assert item["sha256"] in page.all_text
    matches = sum(p["matches"] for p in stored["passes"])
    assert f"{matches:,} pairs were linked" in page.all_text
    for p in stored["passes"]:
        assert p["name"] in page.all_text
    est = stored["estimates"]
    assert f"about {est['expected_false_matches']:,.0f} of the links" in page.all_text
    for comp in stored["parameters"]["comparisons"]:
        assert comp["name"] in page.all_text
        for level in comp["levels"]:
            assert f"{level['weight']:+.2f}" in page.all_text
    assert stored["method"]["approved_by"] in page.all_text
    # One histogram bar per non-empty bin, and both threshold lines in the legend at their weights.
    svg_bars = re.findall(r"<title>[^<]* pairs</title>", html)
    assert len(svg_bars) == sum(1 for c in stored["weight_histogram"]["counts"] if c > 0)
    upper = stored["thresholds"]["upper"]
    assert f"upper threshold (weight {math.log2(upper / (1 - upper)):.1f})" in page.all_text


def test_report_matches_the_record_it_is_given(real_run, tmp_path):
    record, _ = real_run
    changed = copy.deepcopy(record)
    changed["estimates"]["precision"] = 0.8123
    changed["estimates"]["expected_false_matches"] = 4321
    html = write_quality_report(changed, tmp_path / "q.html").read_text("utf-8")
    text = parse(html).all_text
    assert "81.2%" in text and "about 4,321 of the links" in text


def test_hostile_values_show_literally(tmp_path):
    record = {
        "mode": "link",
        "inputs": [{"role": "left", "file_name": "<b>x</b>.tsv", "rows": 3, "rejected": 0,
                    "sha256": "<script>alert(1)</script>"},
                   {"role": "right", "file_name": '"><svg onload=alert(1)>', "rows": 2, "rejected": 1,
                    "sha256": "ab"}],
        "method": {"id": "=cmd()", "version": 1, "approved_by": "<i>eve</i>", "approved_on": "2026-01-01"},
        "passes": [{"name": "<img src=x>", "kind": "deterministic", "pairs": 1, "matches": 1, "review": 0}],
        "parameters": {"comparisons": [{"name": "</svg><script>x()</script>",
                                        "levels": [{"label": "<u>exact</u>", "m": 0.9, "u": 0.1, "weight": 3.17}]}]},
        "field_null_rates": {"<left>": {"<f>": 0.5}},
        "warnings": ["<marquee>warn</marquee>"],
        "timings": {"<stage>": 1.0, "total": 1.0},
        "software": {"<x>": "<y>"},
        "outputs": [{"file": "a&b.tsv", "rows": 1, "sha256": "cd"}],
    }
    html = write_quality_report(record, tmp_path / "q.html").read_text("utf-8")
    page = parse(html)
    assert_offline(page, html)
    assert not {"b", "i", "u", "marquee"} & set(page.tags)
    for shown in ("<b>x</b>.tsv", '"><svg onload=alert(1)>', "<script>alert(1)</script>", "<i>eve</i>",
                  "<img src=x>", "</svg><script>x()</script>", "<u>exact</u>", "<marquee>warn</marquee>",
                  "a&b.tsv", "=cmd()"):
        assert shown in page.all_text, shown
    assert "onload" not in " ".join(page.attrs)


def test_missing_sections_say_not_available(tmp_path):
    for record in ({}, None, [], {"inputs": "x", "passes": [1, None], "parameters": [], "timings": None}):
        html = write_quality_report(record, tmp_path / "q.html").read_text("utf-8")
        page = parse(html)
        assert_offline(page, html)
        text = page.all_text
        for title in ("Summary", "Input files", "Method and thresholds", "Passes", "Match weights of candidate pairs",
                      "What each field contributes", "Missing values per field", "Model training", "Timings",
                      "Output files", "Software"):
            section = text.split(title, 1)[1]
            assert "not available" in section[:400], (title, record)
        assert "svg" not in page.tags


def test_malformed_numbers_are_not_drawn(tmp_path):
    record = {
        "thresholds": {"lower": float("nan"), "upper": "0.9"},
        "estimates": {"precision": float("inf"), "recall": True, "f1": None},
        "weight_histogram": {"edges": [0, 1, 1], "counts": [3, 4]},
        "field_null_rates": {"left": {"dob": 1.7, "ssn": "x"}},
        "parameters": {"lambda": "tiny", "em": {"converged": False, "iterations": 25},
                       "comparisons": [{"name": "dob", "levels": [{"label": "exact", "m": float("nan"), "u": 2,
                                                                   "weight": float("-inf")}]}]},
        "timings": {"read": -1, "total": float("nan")},
    }
    html = render_quality_report(record)
    text = parse(html).all_text
    assert not re.search(r"\b(?:nan|inf|infinity)\b", text, re.I)
    assert "Thresholds: not available" in text
    assert "Estimated precision: not available" in text and "Estimated recall: not available" in text
    assert "did not converge within 25 iterations" in text
    assert "Match weights of candidate pairs not available" in text


def test_histogram_scales_with_counts(tmp_path):
    base = {"weight_histogram": {"edges": [-10, 0, 10, 20], "counts": [1000, 0, 10]},
            "thresholds": {"lower": 0.5, "upper": 0.999}}
    html = render_quality_report(base)
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" '
                                             r'fill="#0072B2"><title>', html)]
    assert len(heights) == 2                      # the empty bin draws nothing
    assert heights[0] / heights[1] == pytest.approx(math.sqrt(1000 / 10), rel=0.01)
    assert "lower threshold (weight 0.0)" in parse(html).all_text
