"""Match-quality report: one self-contained HTML page a Data Steward can read, drawn from ``run.json`` alone.

No JavaScript, no network, no external fonts or images: charts are inline SVG drawn here, in the
Okabe-Ito colour-blind-safe palette, and every chart also states its key numbers in text. Every value
taken from the run record is HTML-escaped, and any missing or malformed section is shown as
"not available" rather than failing the report.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies and in greyscale print.
BLUE, ORANGE, GREEN, VERMILION, SKY, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#6b6b6b"
NA = "not available"

_CSS = """
body{font-family:"Segoe UI",Arial,sans-serif;color:#1a1a1a;max-width:62rem;margin:1.5rem auto;padding:0 1rem;
line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem;
margin-top:2rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0 1rem}th,td{border:1px solid #c8c8c8;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#eef3f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.hash{font-family:Consolas,monospace;font-size:.8rem;word-break:break-all}.muted{color:#555}
.na{color:#777;font-style:italic}.warn{border-left:4px solid #D55E00;background:#fff4ec;padding:.4rem .7rem}
.key{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin:0 .3rem 0 .8rem}
.summary p{margin:.35rem 0}svg{max-width:100%;height:auto}
@media print{body{margin:0}h2{break-after:avoid}svg,table{break-inside:avoid}}
"""


def write_quality_report(run: dict, path: str | Path) -> Path:
    """Write the HTML quality report for the run record ``run`` (the content of ``run.json``) to ``path``.

    Never raises on missing or malformed parts of the record; they are reported as not available.
    Returns ``path`` as a Path.
    """
    path = Path(path)
    path.write_text(render_quality_report(run), encoding="utf-8")
    return path


def render_quality_report(run: Any) -> str:
    """The report as an HTML string (see :func:`write_quality_report`)."""
    run = run if isinstance(run, dict) else {}
    sections = [
        _summary(run), _inputs(run), _method(run), _passes(run), _histogram(run), _parameters(run),
        _null_rates(run), _em(run), _timings(run), _outputs(run), _software(run),
    ]
    mode = _text(run.get("mode")) if run.get("mode") in ("link", "dedupe") else "matching"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Match quality report ({mode})</title><style>{_CSS}</style></head><body>"
        f"<h1>Match quality report</h1><p class=\"muted\">{_e(_run_line(run))}</p>"
        + "".join(sections) + "</body></html>\n"
    )


# ---------------------------------------------------------------- value helpers

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _num(value: Any) -> float | None:
    """A finite number, or None (booleans, strings, NaN and infinities are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list_of_dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _na() -> str:
    return f'<span class="na">{NA}</span>'


def _cell(value: Any, kind: str = "text") -> str:
    """A table cell; numbers right-aligned; missing values say so."""
    if kind == "int":
        n = _num(value)
        return f'<td class="n">{n:,.0f}</td>' if n is not None else f"<td>{_na()}</td>"
    if kind == "prob":
        n = _num(value)
        return f'<td class="n">{_e(_prob(n))}</td>' if n is not None else f"<td>{_na()}</td>"
    if kind == "hash":
        return f'<td class="hash">{_e(value)}</td>' if value not in (None, "") else f"<td>{_na()}</td>"
    return f"<td>{_e(value)}</td>" if value not in (None, "") else f"<td>{_na()}</td>"


def _prob(p: float) -> str:
    """A probability as a percentage with enough digits to tell 99.9% from 99.99%."""
    pct = 100 * p
    if 99 < pct < 100:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%" if pct >= 1 or pct == 0 else f"{pct:.3g}%"


def _table(headers: list[str], rows: list[str]) -> str:
    if not rows:
        return f"<p>{_na()}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{body}</section>"


def _run_line(run: dict) -> str:
    parts = []
    if run.get("mode") == "link":
        parts.append("Linking two files")
    elif run.get("mode") == "dedupe":
        parts.append("Finding duplicates within one file")
    if run.get("started"):
        parts.append(f"started {_text(run['started'])}")
    if run.get("finished"):
        parts.append(f"finished {_text(run['finished'])}")
    if _num(run.get("seed")) is not None:
        parts.append(f"seed {_text(run['seed'])}")
    return ", ".join(parts) if parts else "Run details not available"


def _weight(p: float | None) -> float | None:
    """Match probability -> match weight (log2 odds), the histogram's unit."""
    if p is None or not 0 < p < 1:
        return None
    return math.log2(p / (1 - p))


# ---------------------------------------------------------------- sections

def _summary(run: dict) -> str:
    passes = _list_of_dicts(run.get("passes"))
    matches = sum(_num(p.get("matches")) or 0 for p in passes)
    review = sum(_num(p.get("review")) or 0 for p in passes)
    est = _dict(run.get("estimates"))
    thr = _dict(run.get("thresholds"))
    lines = []
    if passes:
        noun = "pairs were linked" if run.get("mode") != "dedupe" else "pairs were judged duplicates"
        lines.append(f"<p><strong>{matches:,.0f}</strong> {noun}, and <strong>{review:,.0f}</strong> "
                     "pairs are in the clerical-review band for a person to decide.</p>")
    else:
        lines.append(f"<p>Counts of matches: {_na()}.</p>")
    precision, recall, f1 = (_num(est.get(k)) for k in ("precision", "recall", "f1"))
    false_m, missed = _num(est.get("expected_false_matches")), _num(est.get("expected_missed_matches"))
    if precision is not None:
        text = f"Estimated precision <strong>{_prob(precision)}</strong>"
        if false_m is not None:
            text += f": about <strong>{false_m:,.0f}</strong> of the links are expected to be false matches"
        lines.append(f"<p>{text}.</p>")
    else:
        lines.append(f"<p>Estimated precision: {_na()}.</p>")
    if recall is not None:
        text = f"Estimated recall <strong>{_prob(recall)}</strong>"
        if missed is not None:
            text += f": about <strong>{missed:,.0f}</strong> true matches are expected to be missed"
        lines.append(f"<p>{text}.</p>")
    else:
        lines.append(f"<p>Estimated recall: {_na()}.</p>")
    if f1 is not None:
        lines.append(f"<p>Estimated F1 (balance of the two): {_prob(f1)}.</p>")
    lines.append('<p class="muted">These estimates come from the fitted model itself, without known true '
                 "matches; they assume the model describes the data well. Review a sample of links to confirm.</p>")
    lower, upper = _num(thr.get("lower")), _num(thr.get("upper"))
    if lower is not None and upper is not None:
        lines.append(f"<p>Pairs with a match probability of at least <strong>{_prob(upper)}</strong> are linked; "
                     f"pairs between {_prob(lower)} and {_prob(upper)} go to clerical review; pairs below "
                     f"{_prob(lower)} are not linked.</p>")
    else:
        lines.append(f"<p>Thresholds: {_na()}.</p>")
    method = _dict(run.get("method"))
    if method.get("approved_by"):
        lines.append(f"<p>Method {_e(method.get('id', ''))} version {_e(method.get('version', ''))}, "
                     f"approved by {_e(method['approved_by'])} on {_e(method.get('approved_on', NA))}.</p>")
    else:
        lines.append(f'<p class="warn">Method approval: {NA}.</p>')
    raw_warnings = run.get("warnings")
    warnings = [w for w in raw_warnings if isinstance(w, str)] if isinstance(raw_warnings, list) else []
    if warnings:
        lines.append("<h3>Warnings</h3><ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>")
    return f'<section class="summary"><h2>Summary</h2>{"".join(lines)}</section>'


def _inputs(run: dict) -> str:
    rows = [f"<tr>{_cell(i.get('role'))}{_cell(i.get('file_name'))}{_cell(i.get('rows'), 'int')}"
            f"{_cell(i.get('rejected'), 'int')}{_cell(i.get('sha256'), 'hash')}</tr>"
            for i in _list_of_dicts(run.get("inputs"))]
    return _section("Input files", _table(["Role", "File", "Rows", "Rows rejected", "SHA-256"], rows))


def _method(run: dict) -> str:
    m = _dict(run.get("method"))
    thr = _dict(run.get("thresholds"))
    rows = [f"<tr><th>{_e(k)}</th>{_cell(v, kind)}</tr>" for k, v, kind in (
        ("Method", m.get("id"), "text"), ("Version", m.get("version"), "text"),
        ("Method file SHA-256", m.get("sha256"), "hash"), ("Approved by", m.get("approved_by"), "text"),
        ("Approved on", m.get("approved_on"), "text"),
        ("Review from (lower threshold)", thr.get("lower"), "prob"),
        ("Accept as a match from", thr.get("threshold"), "prob"),
        ("Review up to (upper threshold)", thr.get("upper"), "prob"))]
    by_hand = thr.get("set_by_hand")
    if isinstance(by_hand, list):
        who = (", ".join(str(k) for k in by_hand) + " set by hand; the rest the model's choice" if by_hand
               else "the model's choice (best expected F1, review band around it)")
        rows.append(f"<tr><th>Thresholds chosen</th>{_cell(who)}</tr>")
    return _section("Method and thresholds", f"<table><tbody>{''.join(rows)}</tbody></table>")


def _passes(run: dict) -> str:
    rows = [f"<tr>{_cell(p.get('name'))}{_cell(p.get('kind'))}{_cell(p.get('pairs'), 'int')}"
            f"{_cell(p.get('matches'), 'int')}{_cell(p.get('review'), 'int')}</tr>"
            for p in _list_of_dicts(run.get("passes"))]
    skipped = [s for s in run.get("deterministic_passes_skipped") or [] if isinstance(s, str)]
    note = (f"<p>Deterministic passes of the method left out for this run: {_e(', '.join(skipped))}.</p>"
            if skipped else "")
    return _section("Passes", "<p class=\"muted\">Deterministic passes run first; the probabilistic pass "
                    "scores the remaining candidate pairs.</p>" + note
                    + _table(["Pass", "Kind", "Pairs compared", "Matches", "For review"], rows))


def _histogram(run: dict) -> str:
    hist = _dict(run.get("weight_histogram"))
    edges = [_num(e) for e in hist.get("edges", [])] if isinstance(hist.get("edges"), list) else []
    counts = [_num(c) for c in hist.get("counts", [])] if isinstance(hist.get("counts"), list) else []
    if (not counts or len(edges) != len(counts) + 1 or any(v is None for v in edges + counts)
            or any(b <= a for a, b in zip(edges, edges[1:]))):
        return _section("Match weights of candidate pairs", f"<p>{_na()}</p>")
    thr = _dict(run.get("thresholds"))
    lines = [(label, _weight(_num(thr.get(key))), colour) for key, label, colour in (
        ("lower", "lower threshold", ORANGE), ("upper", "upper threshold", VERMILION))]
    w, h, ml, mr, mt, mb = 900, 300, 80, 20, 20, 50
    x0, x1 = edges[0], edges[-1]
    top = max(counts) or 1
    # A square-root scale keeps the small match hump visible next to the huge non-match hump.
    sy = lambda c: mt + (h - mt - mb) * (1 - math.sqrt(c / top))  # noqa: E731
    sx = lambda x: ml + (w - ml - mr) * (x - x0) / (x1 - x0)  # noqa: E731
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" '
             'aria-label="Histogram of match weights with thresholds">']
    for (a, b), c in zip(zip(edges, edges[1:]), counts):
        if c > 0:
            parts.append(f'<rect x="{sx(a):.1f}" y="{sy(c):.1f}" width="{max(sx(b) - sx(a) - 0.5, 0.5):.1f}" '
                         f'height="{h - mb - sy(c):.1f}" fill="{BLUE}"><title>{a:g} to {b:g}: {c:,.0f} pairs'
                         "</title></rect>")
    parts.append(f'<line x1="{ml}" y1="{h - mb}" x2="{w - mr}" y2="{h - mb}" stroke="#333"/>')
    for tick in _ticks(x0, x1, 10):
        parts.append(f'<line x1="{sx(tick):.1f}" y1="{h - mb}" x2="{sx(tick):.1f}" y2="{h - mb + 5}" stroke="#333"/>'
                     f'<text x="{sx(tick):.1f}" y="{h - mb + 18}" font-size="12" text-anchor="middle">{tick:g}</text>')
    for frac in (0.0, 0.25, 0.5, 1.0):
        c = top * frac
        parts.append(f'<text x="{ml - 6}" y="{sy(c) + 4:.1f}" font-size="11" text-anchor="end">{c:,.0f}</text>')
    parts.append(f'<text x="{(ml + w - mr) / 2}" y="{h - 10}" font-size="12" text-anchor="middle">'
                 "match weight (log2 of the odds that a pair is a match)</text>")
    legend = []
    for label, x, colour in lines:
        if x is not None and x0 <= x <= x1:
            dash = "6,4" if colour == ORANGE else "none"
            parts.append(f'<line x1="{sx(x):.1f}" y1="{mt}" x2="{sx(x):.1f}" y2="{h - mb}" stroke="{colour}" '
                         f'stroke-width="2.5" stroke-dasharray="{dash}"/>')
            legend.append(f'<span class="key" style="background:{colour}"></span>{_e(label)} (weight {x:.1f})')
    parts.append("</svg>")
    total = sum(counts)
    note = (f"<p class=\"muted\">{total:,.0f} candidate pairs. Bar heights use a square-root scale. "
            "Pairs right of the upper line are linked; between the lines, reviewed.</p>")
    return _section("Match weights of candidate pairs", "".join(parts) + "<p>" + "".join(legend) + "</p>" + note)


def _ticks(lo: float, hi: float, n: int) -> list[float]:
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / n)) if span > 0 else 1
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= n:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _parameters(run: dict) -> str:
    params = _dict(run.get("parameters"))
    comps = _list_of_dicts(params.get("comparisons"))
    lam = _num(params.get("lambda"))
    shown = _e(f"{lam:.3g}") if lam is not None else _na()
    intro = (f"<p>Prior probability that two random records match (λ): {shown}."
             "</p><p class=\"muted\">For each field, m is how often true matches fall in a level and u how often "
             "non-matches do; the weight (log2 m/u) is what a level adds to a pair's score. Bars: "
             f'<span class="key" style="background:{GREEN}"></span>m '
             f'<span class="key" style="background:{SKY}"></span>u '
             f'<span class="key" style="background:{BLUE}"></span>positive weight '
             f'<span class="key" style="background:{VERMILION}"></span>negative weight</p>')
    if not comps:
        return _section("What each field contributes (m and u)", intro + f"<p>{_na()}</p>")
    return _section("What each field contributes (m and u)", intro + "".join(_comparison_chart(c) for c in comps))


def _comparison_chart(comp: dict) -> str:
    levels = _list_of_dicts(comp.get("levels"))
    title = f"<h3>{_e(comp.get('name', NA))}</h3>"
    if not levels:
        return title + f"<p>{_na()}</p>"
    # Columns: level label | m bar | u bar | weight bar diverging from zero; gaps leave room for values.
    label_w, bar_w, gap, row_h, whalf = 230, 200, 60, 24, 110
    mx, ux = label_w, label_w + bar_w + gap
    wmid = ux + bar_w + gap + whalf
    w = wmid + whalf + 50
    h = 28 + row_h * len(levels)
    weights = [_num(lv.get("weight")) for lv in levels]
    wmax = max([abs(x) for x in weights if x is not None] + [1.0])
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="m and u probabilities for {_e(comp.get("name", ""))}">',
             f'<text x="{mx}" y="14" font-size="12" font-weight="bold">m (matches)</text>'
             f'<text x="{ux}" y="14" font-size="12" font-weight="bold">u (non-matches)</text>'
             f'<text x="{wmid}" y="14" font-size="12" font-weight="bold" text-anchor="middle">weight</text>',
             f'<line x1="{wmid}" y1="20" x2="{wmid}" y2="{h}" stroke="#999"/>']
    for i, (lv, weight) in enumerate(zip(levels, weights)):
        y = 22 + i * row_h
        m, u = _num(lv.get("m")), _num(lv.get("u"))
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f'{_e(_shorten(lv.get("label", NA)))}</text>')
        for x, p, colour in ((mx, m, GREEN), (ux, u, SKY)):
            if p is None or not 0 <= p <= 1:
                parts.append(f'<text x="{x}" y="{y + 15}" font-size="11" fill="#777">{NA}</text>')
                continue
            parts.append(f'<rect x="{x}" y="{y + 3}" width="{bar_w * p:.1f}" height="{row_h - 8}" fill="{colour}"/>'
                         f'<text x="{x + bar_w * p + 4:.1f}" y="{y + 15}" font-size="11">{_e(_small(p))}</text>')
        if weight is None:
            parts.append(f'<text x="{wmid + 4}" y="{y + 15}" font-size="11" fill="#777">{NA}</text>')
        else:
            length = whalf * abs(weight) / wmax
            x = wmid if weight >= 0 else wmid - length
            colour = BLUE if weight >= 0 else VERMILION
            tx, anchor = (wmid + length + 3, "start") if weight >= 0 else (wmid - length - 3, "end")
            parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row_h - 8}" fill="{colour}"/>'
                         f'<text x="{tx:.1f}" y="{y + 15}" font-size="11" text-anchor="{anchor}">{weight:+.2f}</text>')
    parts.append("</svg>")
    return title + "".join(parts)


def _shorten(label: Any, limit: int = 34) -> str:
    text = _text(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _small(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 or p == 0 else f"{p:.1e}"


def _null_rates(run: dict) -> str:
    rates = _dict(run.get("field_null_rates"))
    files = [(name, _dict(v)) for name, v in rates.items() if isinstance(v, dict)]
    if not files:
        return _section("Missing values per field", f"<p>{_na()}</p>")
    fields = list(dict.fromkeys(f for _, r in files for f in r))
    colours = [BLUE, ORANGE, GREEN, VERMILION]
    label_w, bar_w, bar_h = 150, 520, 12
    group_h = bar_h * len(files) + 10
    h = 20 + group_h * len(fields) + 10
    parts = [f'<svg viewBox="0 0 {label_w + bar_w + 80} {h}" role="img" '
             'aria-label="Share of missing values per field and file">']
    for i, field in enumerate(fields):
        y = 20 + i * group_h
        parts.append(f'<text x="{label_w - 8}" y="{y + group_h / 2}" font-size="12" text-anchor="end">'
                     f"{_e(_shorten(field, 22))}</text>")
        for j, (_, r) in enumerate(files):
            rate = _num(r.get(field))
            yy = y + j * bar_h
            if rate is None or not 0 <= rate <= 1:
                parts.append(f'<text x="{label_w}" y="{yy + 10}" font-size="10" fill="#777">{NA}</text>')
                continue
            parts.append(f'<rect x="{label_w}" y="{yy}" width="{max(bar_w * rate, 0.5):.1f}" height="{bar_h - 2}" '
                         f'fill="{colours[j % len(colours)]}"/><text x="{label_w + bar_w * rate + 4:.1f}" '
                         f'y="{yy + 10}" font-size="10">{_e(_prob(rate))}</text>')
    parts.append(f'<line x1="{label_w}" y1="15" x2="{label_w}" y2="{h - 5}" stroke="#333"/></svg>')
    legend = "".join(f'<span class="key" style="background:{colours[j % len(colours)]}"></span>{_e(name)} file'
                     for j, (name, _) in enumerate(files))
    return _section("Missing values per field",
                    "<p class=\"muted\">A field missing in one file cannot help link those records; a field "
                    "missing everywhere in one file is not used.</p>" + "".join(parts) + f"<p>{legend}</p>")


def _em(run: dict) -> str:
    em = _dict(_dict(run.get("parameters")).get("em"))
    iterations, ll = _num(em.get("iterations")), _num(em.get("log_likelihood"))
    converged = em.get("converged")
    if converged is True:
        text = f"<p>The model's m-probabilities were learned by EM and converged after {iterations:,.0f} " \
               "iterations.</p>" if iterations is not None else "<p>The EM training converged.</p>"
    elif converged is False:
        text = ('<p class="warn">EM training did <strong>not</strong> converge'
                + (f" within {iterations:,.0f} iterations" if iterations is not None else "")
                + ". The learned parameters and the accuracy estimates are less reliable: review more links "
                "than usual or ask the method's owner to check the method.</p>")
    else:
        text = f"<p>EM convergence: {_na()}.</p>"
    if ll is not None:
        text += f'<p class="muted">Final log-likelihood: {ll:,.2f}.</p>'
    return _section("Model training", text)


def _timings(run: dict) -> str:
    timings = {k: _num(v) for k, v in _dict(run.get("timings")).items()}
    stages = [(k, v) for k, v in timings.items() if k != "total" and v is not None and v >= 0]
    total = timings.get("total")
    if not stages and total is None:
        return _section("Timings", f"<p>{_na()}</p>")
    longest = max([v for _, v in stages] + [1e-9])
    rows = [f"<tr><td>{_e(k)}</td><td class=\"n\">{v:,.2f} s</td><td><svg width=\"260\" height=\"12\">"
            f'<rect width="{max(250 * v / longest, 1):.1f}" height="12" '
            f'fill="{BLUE}"/></svg></td></tr>' for k, v in stages]
    if total is not None:
        rows.append(f"<tr><th>total</th><td class=\"n\"><strong>{total:,.2f} s</strong></td><td></td></tr>")
    return _section("Timings", _table(["Stage", "Time", ""], rows))


def _outputs(run: dict) -> str:
    rows = [f"<tr>{_cell(o.get('file'))}{_cell(o.get('rows'), 'int')}{_cell(o.get('sha256'), 'hash')}</tr>"
            for o in _list_of_dicts(run.get("outputs"))]
    return _section("Output files", _table(["File", "Rows", "SHA-256"], rows))


def _software(run: dict) -> str:
    soft = _dict(run.get("software"))
    rows = [f"<tr>{_cell(k)}{_cell(v)}</tr>" for k, v in soft.items()]
    return _section("Software", _table(["Component", "Version"], rows))
