"""Self-contained HTML pages of the pipeline's tables and claims, for Snakemake's report (torch-free).

Snakemake's report shows PNG and HTML items in the page (HTML in an iframe) but offers CSV and Markdown items
only as downloads. Every table the pipeline writes as markdown (a paper module's ``tables/*.md``, an
experiment's ``tables/*.md``) therefore gets an HTML twin beside it, converted generically from the markdown
(headings, paragraphs, emphasis, code and pipe tables: the subset that ``DataFrame.to_markdown`` and the paper
modules write), so every paper gets it without touching the paper modules. Columns that compare the run with
a paper (``ours`` / ``paper`` / ``diff``) keep the paper module's order and are shaded so reproduced,
published and difference read side by side. A paper's ``claims.csv`` becomes ``claims.html``: the verdicts
(held / not held / inconclusive / not testable) with the deciding numbers and interval, each linking to the
table or figure behind it, which the page carries below (an item in the report cannot link to another item)."""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from advreg.atomic import atomic_write_text
from advreg.reporting.labels import item_label
from advreg.reporting.verdicts import VERDICTS

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.2em;color:#1f2328;font-size:14px}
h1{font-size:1.35em;margin:.2em 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .5em}h3{font-size:1.02em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
td.num{text-align:right;white-space:nowrap}
.ours{background:#eef6ff}.paper{background:#fff8e6}.diff{background:#f3f3f3}
.neg{color:#b42318}.pos{color:#067647}
td.diff.off,th.diff.off{background:#f9fafb;color:#98a2b3}
.banner{border:1px solid #f5c26b;background:#fffaeb;border-radius:6px;padding:.4em .9em;margin:.4em 0 1em}
.verdict{font-weight:600;white-space:nowrap;border-radius:4px;padding:1px 6px}
.held{background:#dcfae6;color:#067647}.not-held{background:#fee4e2;color:#b42318}
.not-testable{background:#eaecf0;color:#475467}.inconclusive{background:#fef0c7;color:#93370d}
code{background:#f6f8fa;padding:0 3px;border-radius:3px}
img{max-width:100%;height:auto}
.appendix{border-top:2px solid #d0d7de;margin-top:2em;padding-top:.5em}
"""

_CELL_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?%?$")


def page(title: str, body: str) -> str:
    """A complete HTML document (inline CSS, no external resources: it must render inside a data: URL)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def inline(text: str) -> str:
    """Escape ``text`` and render markdown's inline ``**bold**``, ``*emphasis*`` and ```code```."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)


def _column_class(name: str) -> str:
    low = name.lower()
    for key in ("ours", "paper", "diff"):
        if re.search(rf"(^|\W){key}$", low):  # "phi=0 ours", "paper", not "paper row"
            return key
    return ""


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?", line.strip()))


def table_html(header: list[str], rows: list[list[str]], grey_diff: bool = False) -> str:
    """An HTML table of text cells; numeric cells right-aligned, ours/paper/diff columns shaded, the sign of
    a ``diff`` coloured; ``grey_diff``: the run's data is not the paper's, so "diff" columns are greyed out
    (class ``off``) and their signs not coloured."""
    classes = [_column_class(h) for h in header]
    if grey_diff:
        classes = ["diff off" if c == "diff" else c for c in classes]
    head = "".join(f'<th class="{c}">{inline(h)}</th>' for h, c in zip(header, classes, strict=True))
    body = []
    for row in rows:
        row = (row + [""] * len(header))[: len(header)]
        cells = []
        for value, cls in zip(row, classes, strict=True):
            names = [cls] if cls else []
            if _CELL_NUMBER.match(value):
                names.append("num")
                if cls == "diff" and value.lstrip().startswith("-") and value.strip("-0.%") != "":
                    names.append("neg")
            attr = f' class="{" ".join(names)}"' if names else ""
            cells.append(f"<td{attr}>{inline(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def markdown_to_html(text: str, grey_diff: bool = False) -> str:
    """The body HTML of the markdown subset the pipeline writes: ATX headings, paragraphs, bullet lists and pipe
    tables (a header row, a ``---`` rule, then rows); ``grey_diff``: see :func:`table_html`."""
    lines = text.splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif stripped.startswith("|") and i + 1 < len(lines) and _is_rule(lines[i + 1]):
            flush()
            header = _cells(stripped)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append(table_html(header, rows, grey_diff))
            continue
        elif re.match(r"^[-*]\s+", stripped):
            if paragraph:
                flush()
            items.append(re.sub(r"^[-*]\s+", "", stripped))
        else:
            if items:
                flush()
            paragraph.append(stripped)
        i += 1
    flush()
    return "\n".join(out)


def _title_of(markdown: str, fallback: str) -> str:
    match = re.search(r"^#\s+(.*)$", markdown, flags=re.MULTILINE)
    return match.group(1).strip() if match else fallback


GREY_NOTE = (
    '<p class="banner">This run\'s data is not the paper\'s dataset: the "diff" columns (greyed out) compare '
    "different data and are not a measure of reproduction.</p>"
)


def write_markdown_pages(folder: str | Path, skip: tuple[str, ...] = (), grey_diff: bool = False) -> list[Path]:
    """An ``.html`` twin beside every ``.md`` file under ``folder`` (recursively) but those named in ``skip``;
    returns the pages written. ``grey_diff``: "diff" columns greyed out, with a note, on pages that have them."""
    written = []
    for md in sorted(Path(folder).rglob("*.md")):
        if md.name in skip:
            continue
        text = md.read_text()
        target = md.with_suffix(".html")
        body = markdown_to_html(text, grey_diff)
        if grey_diff and 'class="diff off' in body:
            body = body.replace("</h1>", "</h1>" + GREY_NOTE, 1) if "</h1>" in body else GREY_NOTE + body
        atomic_write_text(target, page(_title_of(text, md.stem), body))
        written.append(target)
    return written


def _format(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _anchor(source: str) -> str:
    return "src-" + re.sub(r"[^A-Za-z0-9]+", "-", source).strip("-")


def source_label(source: str) -> str:
    """A cited file's label as the report's menu shows it: 'tables/table4.md' -> 'Table 4 (tables/table4.md)'."""
    return f"{item_label(Path(source).with_suffix('').as_posix())} ({source})"


def _source_section(out_dir: Path, source: str, grey_diff: bool = False) -> str:
    """The table (its markdown, as HTML) or figure (inline PNG) a claim cites, as a section of the claims page."""
    path = out_dir / source
    heading = f'<h2 id="{_anchor(source)}">{html.escape(source_label(source))}</h2>'
    if path.suffix == ".png" and path.is_file():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'{heading}<img alt="{html.escape(source)}" src="data:image/png;base64,{data}">'
    for candidate in (path, path.with_suffix(".md")):
        if candidate.suffix == ".md" and candidate.is_file():
            text = re.sub(r"^# ", "### ", candidate.read_text(), flags=re.MULTILINE)
            return heading + markdown_to_html(text, grey_diff)
    if path.suffix == ".csv" and path.is_file():
        frame = pd.read_csv(path).astype(object)
        shown = frame.where(frame.notna(), "")
        rows = [[_format(v) for v in row] for row in shown.itertuples(index=False)]
        return heading + table_html([str(c) for c in shown.columns], rows)
    return heading + "<p>(not among this paper's outputs)</p>"


def interval_cell(row: Any) -> str:
    """A claim's deciding comparison as text: 'quantity: estimate [low, high], n points x k replicates'; empty for
    a claim judged without the verdict engine (or a ``claims.csv`` from before it)."""
    quantity = str(getattr(row, "quantity", "") or "")
    estimate = getattr(row, "estimate", "")
    if not quantity or estimate in ("", None) or not math.isfinite(float(estimate)):
        return ""
    low, high = (getattr(row, k, "") for k in ("low", "high"))
    span = f"[{float(low):.4g}, {float(high):.4g}]" if has_interval(row) else "(no interval: one run)"
    points, replicates = (int(float(getattr(row, k, 0) or 0)) for k in ("n_points", "n_replicates"))
    n = f"{points} test points x {replicates} replicate(s)" if points else f"{replicates} replicate(s)"
    return f"{quantity}: {float(estimate):.4g} {span}; {n}{decide_scale(row)}"


def has_interval(row: Any) -> bool:
    """A ``claims.csv`` row whose deciding comparison carries a 95% interval (``low`` and ``high`` given, finite)."""
    low, high = (getattr(row, k, "") for k in ("low", "high"))
    return low not in ("", None) and high not in ("", None) and math.isfinite(float(low))


def central_rows(claims: pd.DataFrame) -> pd.DataFrame:
    """The paper's central claims among ``claims.csv``'s rows (none where the file predates the ``central``
    column)."""
    if "central" not in claims:
        return claims.iloc[:0]
    return claims[(claims["kind"] == "paper claim") & claims["central"].astype(bool)]


def decide_scale(row: Any) -> str:
    """'; decidable at about N test points (or K replicates) if the estimate stays' for an inconclusive claim whose
    ``claims.csv`` row gives the scale (``points_to_decide``, ``replicates_to_decide``); for an inconclusive claim
    judged across several replicates with an interval that no count of them would decide
    (:func:`advreg.reporting.verdicts.replicates_to_decide` gives 0), that it is a tie at any scale; empty otherwise."""
    points = int(float(getattr(row, "points_to_decide", 0) or 0))
    if points:
        return f"; decidable at about {points:,} test points if the estimate stays"
    replicates = int(float(getattr(row, "replicates_to_decide", 0) or 0))
    if replicates:
        per = int(float(getattr(row, "n_points", 0) or 0))
        each = f" of {per:,} test points each" if per else ""
        return f"; decidable at about {replicates} replicates{each} if the estimate and the spread across them stay"
    several = int(float(getattr(row, "n_replicates", 0) or 0)) > 1
    if str(getattr(row, "verdict", "")) == "inconclusive" and has_interval(row) and several:
        return (
            "; a tie: no number of replicates (up to 1,000) would decide it if the estimate and the spread across "
            "them stay"
        )
    return ""


def central_table(rows: pd.DataFrame) -> str:
    """Central claims (``claims.csv`` rows) as an HTML table: verdict badge, claim, and the deciding comparison with
    its estimate, 95% interval, test points and replicates, and what would decide it (:func:`interval_cell`); a
    ``paper`` column, where ``rows`` has one (the report's summary), comes first."""
    named = "paper" in rows
    cells = "".join(
        "<tr>"
        + (f"<td>{html.escape(str(row.paper))}</td>" if named else "")
        + f'<td><span class="verdict {str(row.verdict).replace(" ", "-")}">{html.escape(str(row.verdict))}</span></td>'
        f"<td>{inline(str(row.claim))}</td><td>{html.escape(interval_cell(row) or str(row.evidence))}</td></tr>"
        for row in rows.itertuples(index=False)
    )
    head = ("<th>paper</th>" if named else "") + "<th>verdict</th><th>claim</th><th>estimate [95% interval]</th>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    """Count of each verdict (held, not held, inconclusive, not testable) among ``claims``' rows."""
    return {v: int((claims["verdict"] == v).sum()) for v in VERDICTS}


def _count_text(counts: dict[str, int]) -> str:
    return (
        f"<strong>{counts['held']} held</strong>, {counts['not held']} not held, {counts['inconclusive']} "
        f"inconclusive, {counts['not testable']} not testable"
    )


def claims_page(claims: pd.DataFrame, title: str, out_dir: str | Path, grey_diff: bool = False) -> str:
    """``claims.csv``'s rows as an HTML checklist: per kind a table with the verdict badge (held, not held,
    inconclusive, not testable), the claim, the deciding comparison with its estimate, 95% interval, test points
    and replicates, the deciding numbers and a link to the table or figure behind it, those carried below."""
    out = Path(out_dir)
    frame = claims.astype(object).where(claims.notna(), "")
    paper = frame[frame["kind"] == "paper claim"]
    if len(paper):
        lead = f"{_count_text(verdict_counts(paper))} of the paper's {len(paper)} claims on this run."
    else:  # the arena: this project's own comparison, no paper's claims
        findings = frame[frame["kind"] != "paper claim"]
        lead = (
            "No paper's claims are judged here (this project's own comparison): "
            f"{_count_text(verdict_counts(findings))} of its {len(findings)} findings."
        )
    lead += " Intervals are 95% (across replicates and over test points; docs/fidelity.md, Verdicts)."
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{lead}</p>"]
    central = central_rows(paper)
    if len(central):
        body.append(
            "<h2>The paper's central claims</h2><p>Its headline results (each also in the table below):</p>"
            + central_table(central)
        )
    sources: list[str] = []
    for kind, block in frame.groupby("kind", sort=False):
        heading = "The paper's claims" if kind == "paper claim" else "Further findings (not claims of the paper)"
        rows = []
        for row in block.itertuples(index=False):
            verdict = str(row.verdict)
            cited = [part.strip() for part in str(row.source).split(";") if part.strip()]
            link = ", ".join(f'<a href="#{_anchor(c)}">{html.escape(source_label(c))}</a>' for c in cited)
            sources += [c for c in cited if c not in sources]
            margin = str(getattr(row, "margin_source", "") or "")
            claim_text = inline(str(row.claim)) + (f"<br><small>threshold: {inline(margin)}</small>" if margin else "")
            rows.append(
                f'<tr><td><span class="verdict {verdict.replace(" ", "-")}">{html.escape(verdict)}</span></td>'
                f"<td>{claim_text}</td><td>{inline(str(row.evidence))}</td>"
                f"<td>{html.escape(interval_cell(row))}</td><td>{link}</td></tr>"
            )
        body.append(
            f"<h2>{html.escape(str(heading))}</h2><table><thead><tr><th>verdict</th><th>claim</th>"
            "<th>deciding numbers</th><th>estimate [95% interval]</th><th>source</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    if sources:
        body.append('<div class="appendix"><h2>Sources</h2>')
        body += [_source_section(out, s, grey_diff) for s in sources]
        body.append("</div>")
    return page(title, "\n".join(body))


def write_paper_pages(out_dir: str | Path, grey_diff: bool = False) -> list[Path]:
    """HTML twins of a paper's outputs: every ``*.md`` table, and ``claims.html`` from ``claims.csv``;
    ``grey_diff``: the run's data is not the paper's (:func:`advreg.reporting.scale.compares_like_with_like`)."""
    out = Path(out_dir)
    claims_csv = out / "claims.csv"
    written = write_markdown_pages(out, skip=("claims.md",) if claims_csv.is_file() else (), grey_diff=grey_diff)
    for csv in sorted((out / "tables").glob("*.csv")):
        if not csv.with_suffix(".md").is_file():  # a table the module keeps as CSV only (e.g. a figure's points)
            frame = pd.read_csv(csv).astype(object)
            shown = frame.where(frame.notna(), "")
            rows = [[_format(v) for v in row] for row in shown.itertuples(index=False)]
            body = f"<h1>{html.escape(csv.stem)}</h1>" + table_html([str(c) for c in shown.columns], rows)
            atomic_write_text(csv.with_suffix(".html"), page(csv.stem, body))
            written.append(csv.with_suffix(".html"))
    if claims_csv.is_file():
        md = out / "claims.md"
        title = _title_of(md.read_text(), "Claims") if md.is_file() else "Claims"
        target = out / "claims.html"
        atomic_write_text(target, claims_page(pd.read_csv(claims_csv), title, out, grey_diff))
        written.append(target)
    return sorted(set(written))
