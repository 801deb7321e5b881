"""The HTML report as a reader sees it: the tables, claims and pages converted to HTML (fast, analytic cases), and
the real report of a tiny DataGrad run opened in headless Chromium (Debian's ``chromium``), driven through
Chromium's DevTools protocol over a pipe (``--remote-debugging-pipe``: nothing downloaded, no driver needed):
every category and subcategory opens, every table item shows numbers in the page, every figure loads, the
claims checklist shows its verdicts."""

from __future__ import annotations

import base64
import html
import os
import re
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import FASHION_DIR, NO_FASHION

from advreg.reporting.browser import CHROMIUM, ITEM_ROWS, Chromium, click_link, nav_texts, open_menu, results_menu
from advreg.reporting.claims import Claim, write_claims
from advreg.reporting.html import markdown_to_html, write_paper_pages
from advreg.reporting.labels import experiment_item_label, item_label, paper_subcategory
from advreg.reporting.pages import headline_numbers, read_benchmarks, rule_of, run_span
from advreg.reporting.scale import (
    banner_html,
    banner_rows,
    compares_like_with_like,
    experiment_facts,
    published_datasets,
)

NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium chromium-driver)"

# ----------------------------------------------------------------------------------------------------------------
# Fast: the conversions


def test_pipe_table_becomes_html_with_ours_paper_diff_side_by_side():
    md = (
        "# T1: **bold** title\n\nAccuracy (%) on *fmnist*.\n\n"
        "| model | phi=0 ours | phi=0 paper | phi=0 diff |\n|:--|--:|--:|--:|\n"
        "| rect/default | 90.50 | 97.99 | -7.49 |\n| l1/default | 91.00 |  |  |\n"
    )
    out = markdown_to_html(md)
    assert "<h1>T1: <strong>bold</strong> title</h1>" in out and "<em>fmnist</em>" in out
    assert out.count("<tr>") == 3  # header and two rows
    assert '<th class="ours">phi=0 ours</th><th class="paper">phi=0 paper</th><th class="diff">' in out
    assert '<td class="ours num">90.50</td><td class="paper num">97.99</td><td class="diff num neg">-7.49</td>' in out
    assert "<td>rect/default</td>" in out


def test_item_labels():
    assert item_label("tables/table12") == "Table 12" and item_label("figures/figure_grid") == "figure grid"
    assert item_label("claims") == "Claims checklist" and paper_subcategory("claims") == "Claims"
    assert paper_subcategory("tables/x") == "Tables" and paper_subcategory("figures/y") == "Figures"
    # readable labels, not file names; a figure's data is filed under Figures beside it
    assert item_label("tables/table_s1") == "Table S1" and item_label("figures/figure2_norm") == "Figure 2 (norm)"
    assert item_label("tables/figure2") == "Figure 2 (data)" and paper_subcategory("tables/figure2") == "Figures"
    assert item_label("figures/robust_vs_clean") == "Robust vs. clean accuracy (figure)"
    assert item_label("tables/masking_fmnist") == "Gradient-masking checks (fmnist)"
    assert experiment_item_label("accuracy_fgsm") == "Accuracy under fgsm"


def test_scale_banner_and_greyed_diff(tmp_path):
    published = tmp_path / "p.yaml"
    published.write_text("tables:\n  1: {dataset: MNIST}\n  2: {dataset: CIFAR-10}\n")
    assert published_datasets(published) == ["mnist", "cifar10"]
    fmnist = {
        "dataset": "fashion_mnist",
        "stand_in_for": "",
        "train_size": 3000,
        "epochs": [1, 12],
        "pretrain_epochs": 5,
    }
    stand_in = {"dataset": "mnist_partial", "stand_in_for": "mnist", "train_size": None, "epochs": [3]}
    assert not compares_like_with_like({"e": fmnist}, ["mnist"]) and compares_like_with_like({"e": stand_in}, ["mnist"])
    scale = {
        "preset": "config.yaml",
        "papers": {
            "lwa": {"label": "LWA", "paper_datasets": ["mnist", "cifar10"], "experiments": {"lwa_f": fmnist}},
            "dg": {"label": "DataGrad", "paper_datasets": ["mnist"], "experiments": {"dg_m": stand_in}},
        },
    }
    banner = banner_html(scale)
    assert "preset <code>config.yaml</code>" in banner and "Fashion-MNIST, mnist_partial, 1-12 epochs" in banner
    assert "all-3k training images" not in banner and "3k training images" in banner
    assert "the papers used CIFAR-10, MNIST" in banner and "a stand-in for MNIST" in banner
    rows = {r["paper"]: r for r in banner_rows(scale)}
    assert rows["LWA"]["diff columns"] == "different dataset: greyed out"
    assert rows["DataGrad"]["diff columns"] == "compare like with like"
    assert "epochs 1-12 (pretraining 5)" in rows["LWA"]["this run"]
    md = "# T\n\n| model | ours | paper | diff |\n|---|---|---|---|\n| a | 90.0 | 98.0 | -8.0 |\n"
    assert '<td class="diff off num">-8.0</td>' in markdown_to_html(md, grey_diff=True)
    assert '<td class="diff num neg">-8.0</td>' in markdown_to_html(md)


def test_captions_resolve_every_value():
    summary = {
        "dataset": "fashion_mnist",
        "arch": "mlp",
        "data": {"train_size": None, "val_size": 200, "test_size": None, "scheme": "holdout"},
        "folds": 1,
        "attacks": {"fgsm": {"norm": "linf", "epsilons": [0.0, 0.0078]}},
    }
    text = experiment_facts(summary, [2, 3], None)
    assert "None" not in text and "default" not in text
    assert "all remaining / 200 / all images" in text and "training epochs 2-3" in text and "0.0078" in text


def test_markdown_text_is_escaped():
    assert "&lt;script&gt;" in markdown_to_html("a <script> b") and "<script>" not in markdown_to_html("<script>")


def test_paper_pages_claims_checklist_links_the_table_behind_each_claim(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "table1.md").write_text("# Table 1\n\n| model | ours |\n|---|---|\n| a | 12.5 |\n")
    (tables / "points.csv").write_text("x,y\n1,0.25\n")  # a table kept as CSV only
    claims = [
        Claim.judged("A beats B (sec. 3)", True, "A 12.5 > B 10", "tables/table1.md"),
        Claim.judged("C is robust", False, "C 3.0 < 50", "tables/points.csv"),
        Claim.judged("D needs E", None, "E not in this run"),
        Claim.judged("extra", True, "1 > 0", "", kind="further finding"),
    ]
    write_claims(claims, tmp_path, "X: claims")
    written = {p.relative_to(tmp_path).as_posix() for p in write_paper_pages(tmp_path)}
    assert written == {"claims.html", "tables/table1.html", "tables/points.html"}
    page = (tmp_path / "claims.html").read_text()
    assert "<strong>1 held</strong>, 1 not held, 0 inconclusive, 1 not testable of the paper's 3 claims" in page
    assert '<span class="verdict held">held</span>' in page and '<span class="verdict not-held">not held</span>' in page
    assert (
        '<a href="#src-tables-table1-md">Table 1 (tables/table1.md)</a>' in page and 'id="src-tables-table1-md"' in page
    )
    assert '<td class="ours num">12.5</td>' in page and '<td class="num">0.25</td>' in page  # the sources below
    assert "Further findings" in page
    assert '<td class="num">0.25</td>' in (tables / "points.html").read_text()


def test_claim_citing_several_tables_links_each(tmp_path):
    (tmp_path / "tables").mkdir()
    for n, value in ((2, "23.5"), (4, "4.5")):
        (tmp_path / "tables" / f"table{n}.md").write_text(
            f"# Table {n}\n\n| model | ours |\n|---|---|\n| m | {value} |\n"
        )
    write_claims([Claim.judged("A < B", True, "A 4.5, B 23.5", "tables/table4.md; tables/table2.md")], tmp_path, "X")
    write_paper_pages(tmp_path)
    page = (tmp_path / "claims.html").read_text()
    assert '<a href="#src-tables-table4-md">Table 4 (tables/table4.md)</a>, <a href="#src-tables-table2-md">' in page
    assert 'id="src-tables-table4-md"' in page and 'id="src-tables-table2-md"' in page


def test_findings_only_claims_page_says_so(tmp_path):
    write_claims([Claim.judged("x", True, "1 > 0", "", kind="further finding")], tmp_path, "Arena")
    write_paper_pages(tmp_path)
    page = (tmp_path / "claims.html").read_text()
    assert "of the paper's 0 claims" not in page and "No paper's claims are judged here" in page
    assert "<strong>1 held</strong>, 0 not held, 0 inconclusive, 0 not testable of its 1 findings" in page


def test_headline_numbers_and_benchmarks(tmp_path):
    rows = []
    for target, accs in {"a/x": (0.9, 0.5, 0.2), "b/y": (0.8, 0.6, 0.4)}.items():
        for eps, acc in zip((0.0, 0.1, 0.2), accs, strict=True):
            rows.append({"attack": "fgsm", "attacker": target, "target": target, "epsilon": eps, "accuracy": acc,
                         "white_box": True})  # fmt: skip
        rows.append({"attack": "fgsm", "attacker": "o/t", "target": target, "epsilon": 0.2, "accuracy": 0.0,
                     "white_box": False})  # fmt: skip
    table = headline_numbers(pd.DataFrame(rows)).set_index("model")
    assert table.loc["a/x", "clean acc (%)"] == 90.0 and table.loc["b/y", "fgsm eps=0.2 (%)"] == 40.0
    # every model, not only the attackers: a target attacked by others only shows its strongest transfer; an
    # L-inf budget of 0.5 (a masking check) is not a headline
    for eps, acc in ((0.0, 0.7), (0.2, 0.3), (0.5, 0.0)):
        rows.append({"attack": "fgsm", "attacker": "a/x", "target": "c/z", "epsilon": eps, "accuracy": acc,
                     "white_box": False})  # fmt: skip
        rows.append({"attack": "fgsm", "attacker": "b/y", "target": "c/z", "epsilon": eps,
                     "accuracy": acc + 0.1 * (eps > 0), "white_box": False})  # fmt: skip
    table = headline_numbers(pd.DataFrame(rows), {"fgsm": "linf"}).set_index("model")
    assert list(table.index) == ["a/x", "b/y", "c/z"] and "fgsm eps=0.5 (%)" not in table.columns
    assert table.loc["c/z", "fgsm eps=0.2 (%)"] == 30.0 and table.loc["c/z", "clean acc (%)"] == 70.0
    assert table.loc["c/z", "attacked by"] == "strongest transfer"
    assert table.loc["a/x", "attacked by"] == "itself (white-box)"
    bench = tmp_path / "benchmarks"
    for job, s in {"dg/fold0/train/rect/default": 2.5, "dg/fold0/assess/part0": 1.0, "papers/datagrad": 0.5}.items():
        (bench / job).parent.mkdir(parents=True, exist_ok=True)
        (bench / f"{job}.tsv").write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{s}\t0:00:0{int(s)}\t100.5\t1.0\n")
    frame = read_benchmarks(bench)
    # wall time: the union of the jobs' intervals (each file written when its job ends): train 0-2.5 s and assess
    # 1.5-2.5 s overlap, the paper's job ran 100-100.5 s after an idle gap: 3.0 s, not 4.0 (summed) or 100.5
    for job, end in {
        "dg/fold0/train/rect/default": 1000.0,
        "dg/fold0/assess/part0": 1000.0,
        "papers/datagrad": 1098.0,
    }.items():
        os.utime(bench / f"{job}.tsv", (end, end))
    assert run_span(bench) == pytest.approx(3.0)
    assert dict(zip(frame["rule"], frame["seconds"], strict=True)) == {"assess": 1.0, "render_paper": 0.5, "train": 2.5}
    assert rule_of("data/fashion_mnist") == "prepare_dataset" and rule_of("lwa/pretrain") == "pretrain"


# ----------------------------------------------------------------------------------------------------------------
# Slow: the real report in a real browser


# Every table of a page: header texts and classes, and the rows' cell texts.
TABLES_JS = """Array.from(document.querySelectorAll('table')).map(t => ({
  head: Array.from(t.querySelectorAll('thead th')).map(h => h.innerText.trim()),
  classes: Array.from(t.querySelectorAll('thead th')).map(h => h.className),
  rows: Array.from(t.querySelectorAll('tbody tr')).map(r => Array.from(r.children).map(c => c.innerText.trim()))}))"""
# Per claim of a checklist: its deciding numbers and, per link, whether clicking it opened its target and the
# cells of the section (the linked table) below the target, up to the next section.
CLAIM_LINKS_JS = """(() => {
  const out = [];
  for (const row of document.querySelectorAll('tbody tr')) {
    const links = Array.from(row.querySelectorAll('td:last-child a[href^="#"]'));
    if (!links.length) continue;
    const cited = links.map(a => {
      const id = a.getAttribute('href').slice(1);
      a.click();
      const target = document.getElementById(id);
      const cells = [];
      for (let el = target && target.nextElementSibling; el && el.tagName !== 'H2'; el = el.nextElementSibling)
        el.querySelectorAll('td').forEach(td => cells.push(td.innerText.trim()));
      return {label: a.innerText, opened: !!target && location.hash === '#' + id, cells};
    });
    out.push({claim: row.children[1].innerText, evidence: row.children[2].innerText, cited});
  }
  return out;
})()"""
# A deciding number in a claim's evidence: an accuracy or mean, not a budget, equation or norm.
DECIDING = r"(?<![\w.=])(?<!phi )(?<!eq\. )(?<!norm )(\d+\.\d+)"


def data_url_text(href: str) -> str:
    """The text a data: URL (a report download) holds."""
    head, _, payload = href.partition(",")
    if head.endswith(";base64"):
        return base64.b64decode(payload).decode()
    return urllib.parse.unquote(payload)


def accuracy_columns(head: list[str]) -> list[int]:
    """Columns holding accuracies (%): 'ours' / 'paper' values, '(%)' headers, one column per budget."""
    return [
        i
        for i, h in enumerate(head)
        if re.search(r"( ours| paper|\(%\))$|^(phi|eps)=|^\w+ eps=[\d.]+$", h) and "rho" not in h
    ]


BAD_CAPTION = (
    r"\bNone\b",  # an unset value printed
    r"(?:[:=]\s*|\b(?:images|epochs|test|training)\s+)default\b|\bdefault\s+/",  # 'default' for a value
    r"\{['\"]",  # a raw Python dict
)


def check_items(browser: Chromium, report_url: str, path: list[str], seen: dict) -> None:
    """Open every item listed after clicking through ``path`` (category, subcategory); check what it shows."""
    rows = browser.eval(f"{ITEM_ROWS}.map(r => r.innerText.trim().replace(/\\s+/g, ' '))")
    assert rows, f"{' > '.join(path)} lists no items"
    for i, label in enumerate(rows):
        open_menu(browser, report_url, path)
        browser.wait(f"{ITEM_ROWS}.length === {len(rows)}")
        info = browser.eval(
            f"(() => {{ const r = {ITEM_ROWS}[{i}]; const a = r.querySelector('a[iconname=eye]');"
            " return {href: a.getAttribute('href'), download: a.getAttribute('download')}; })()"
        )
        where = f"{' > '.join(path)} > {label}"
        if info["download"]:  # CSV / JSON data: offered as a download, and labelled so
            assert "download" in label or "JSON" in label, f"{where}: a download not labelled as one"
            seen["downloads"].append(where)
            seen["download_data"][where] = data_url_text(info["href"])
            continue
        browser.eval(f"{ITEM_ROWS}[{i}].querySelector('a[iconname=eye]').click()")
        kind = browser.wait(
            "(() => { const f = document.querySelector('iframe[src^=\"data:text/html\"]'); if (f) return 'html';"
            " const im = Array.from(document.images).find(m => m.src.startsWith('data:image/png'));"
            " return im ? 'img' : ''; })()"
        )
        if kind == "img":
            width = browser.wait(
                "(() => { const im = Array.from(document.images).find(m => m.src.startsWith('data:image/png'));"
                " return im.complete && im.naturalWidth; })()"
            )
            assert width > 100, f"{where}: the figure did not load"
            seen["figures"].append(where)
            continue
        src = browser.eval("document.querySelector('iframe[src^=\"data:text/html\"]').src")
        context = browser.frame_context(src[:80])
        text = browser.wait("document.readyState === 'complete' && document.body && document.body.innerText", context)
        cells = browser.eval(
            "Array.from(document.querySelectorAll('td')).map(td => td.innerText.trim())"
            ".filter(t => /^[-+]?[0-9.]+(e[-+]?[0-9]+)?%?$/.test(t)).length",
            context,
        )
        assert cells > 0, f"{where}: no numbers in the page:\n{text[:500]}"
        seen["pages"][where] = {"text": text, "tables": browser.eval(TABLES_JS, context)}
        if "Claims" in path:
            seen["claim_links"] += browser.eval(CLAIM_LINKS_JS, context)
            verdicts = browser.eval("Array.from(document.querySelectorAll('.verdict')).map(v => v.innerText)", context)
            assert verdicts and set(verdicts) <= {"held", "not held", "inconclusive", "not testable"}, verdicts
            assert re.search(r"\d+ held, \d+ not held, \d+ inconclusive, \d+ not testable", text), text[:300]
            seen["claims"].append(where)
        else:
            seen["tables"].append(where)


def browse(url: str) -> tuple[list[str], dict]:
    """Open the report at ``url``, click every category, subcategory and item; what was seen, by kind."""
    seen: dict = {"tables": [], "figures": [], "claims": [], "downloads": [], "download_data": {}, "pages": {}}
    seen["claim_links"] = []
    browser = Chromium()
    try:
        browser.open(url)
        seen["landing"] = browser.eval("document.body.innerText")
        seen["captions"] = browser.eval(
            "Object.entries(results).map(([k, r]) => [k, r.caption, (r.job_properties || {}).params || ''])"
        )
        categories = results_menu(browser)
        for category in categories:
            browser.open(url)
            click_link(browser, category)
            if browser.eval(f"{ITEM_ROWS}.length") and not nav_texts(browser):
                check_items(browser, url, [category], seen)
                continue
            subcategories = nav_texts(browser)
            assert subcategories, f"category {category} is empty"
            if category == "DataGrad":
                assert subcategories == ["Claims", "Figures", "Tables"], subcategories
            for sub in subcategories:
                browser.open(url)
                click_link(browser, category)
                click_link(browser, sub)
                check_items(browser, url, [category, sub], seen)
    finally:
        browser.close()
    return categories, seen


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=NO_CHROMIUM)
def test_report_in_headless_chromium(tmp_path):
    from test_pipeline import snakemake
    from test_pipeline_datagrad import datagrad_config

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(datagrad_config()))
    snakemake(tmp_path, "--cores", "2")
    snakemake(tmp_path, "--report", str(tmp_path / "report.html"))
    categories, seen = browse((tmp_path / "report.html").as_uri())
    assert categories == ["0 Summary", "DataGrad", "Experiments", "Provenance"], categories
    assert {s.split(" > ")[-1] for s in seen["tables"] if s.startswith("DataGrad")} == {
        *(f"Table {n}" for n in range(1, 6)),
        "White-box accuracy per model",
    }
    assert {s.split(" > ")[-1] for s in seen["figures"] if s.startswith("DataGrad")} == {
        f"Figure {n}" for n in (1, 2, 3)
    }
    assert seen["claims"] == ["DataGrad > Claims > Claims checklist"]
    assert any(s.startswith("0 Summary") for s in seen["tables"]), seen
    assert any(s.startswith("Provenance") for s in seen["figures"]) and any("Provenance" in s for s in seen["tables"])
    check_claim_links(seen["claim_links"])
    check_scale_banner(seen)
    check_captions(seen["captions"])
    check_downloads(seen)
    check_one_accuracy_unit(seen["pages"])


def check_claim_links(claims: list[dict]) -> None:
    """Every claim links the tables holding its deciding numbers: each link opens its section, and every
    deciding number of the claim is a cell of one of the linked sections (DataGrad's claims: Tables 4, 2, 3 for
    DGL1 vs L1 and L2, not Table 1)."""
    assert len(claims) >= 6, claims
    for claim in claims:
        assert claim["cited"], f"{claim['claim']}: no link"
        assert all(c["opened"] for c in claim["cited"]), f"{claim['claim']}: a link opened nothing: {claim['cited']}"
        numbers = {round(float(n), 2) for n in re.findall(DECIDING, claim["evidence"])}
        cells = {round(float(t), 2) for c in claim["cited"] for t in c["cells"] if re.fullmatch(r"[-+]?\d+(\.\d+)?", t)}
        assert numbers, f"{claim['claim']}: no deciding numbers in {claim['evidence']!r}"
        missing = sorted(numbers - cells)
        labels = [c["label"] for c in claim["cited"]]
        assert not missing, f"{claim['claim']}: {missing} are in none of its linked tables {labels}"
    first = next(c for c in claims if c["claim"].startswith("DGL1 is more robust than L1 and L2"))
    assert [c["label"].split(" (")[0] for c in first["cited"]] == ["Table 4", "Table 2", "Table 3"]


def check_scale_banner(seen: dict) -> None:
    """The landing page and the Summary state the run's dataset and scale beside the papers' data; the paper's
    "diff" columns are greyed out (Fashion-MNIST is not DataGrad's MNIST)."""
    landing = re.sub(r"\s+", " ", seen["landing"])
    assert "Scale of this run: fashion_mnist; 1 experiment(s), 600 training images" in landing, landing[:800]
    assert "2 training epochs" in landing and "datagrad: dg (fashion_mnist, 600 training images, 2 epochs)" in landing
    summary = next(p for w, p in seen["pages"].items() if w.startswith("0 Summary"))
    text = re.sub(r"\s+", " ", summary["text"])
    assert "Fashion-MNIST, 2 epochs, 600 training images; the papers used MNIST" in text, text[:800]
    banner = summary["tables"][0]
    assert banner["head"] == ["paper", "this run", "the paper's data", "diff columns", "claims"], banner
    (row,) = banner["rows"]
    assert row[:4] == [
        "DataGrad",
        "dg: Fashion-MNIST, 600 training images, epochs 2",
        "MNIST",
        "different dataset: greyed out",
    ]
    counts, _, misses = row[4].partition("; closest misses: ")
    assert re.fullmatch(r"\d held, \d not held, \d inconclusive, 0 not testable", counts), row
    if " 0 inconclusive" in counts:  # closest misses are inconclusive claims: none without them
        assert not misses, row
    table1 = seen["pages"]["DataGrad > Tables > Table 1"]
    diff = [c for t in table1["tables"] for h, c in zip(t["head"], t["classes"], strict=True) if h.endswith("diff")]
    assert diff and all("off" in c.split() for c in diff), diff
    assert "not the paper's dataset" in table1["text"]


def check_captions(captions: list[list[str]]) -> None:
    """No caption prints an unset value ("None"), "default" for a value, or a raw Python dict; the job parameters
    shown with each item read as ``key: value`` pairs, not a raw dict either."""
    assert captions
    for path, caption, params in captions:
        text = html.unescape(re.sub(r"<[^>]+>", "", caption or ""))
        for pattern in BAD_CAPTION:
            found = re.search(pattern, text)
            assert not found, f"caption of {path}: {found.group(0)!r} in {text[:400]!r}"
        assert not re.search(BAD_CAPTION[2], params), f"job parameters of {path}: a raw dict: {params[:300]!r}"
    assert any("params.experiment: dg" in params for _, _, params in captions), captions[0]


def check_downloads(seen: dict) -> None:
    """Every download holds data: a CSV has rows beyond its header (no empty robustness CSV is offered)."""
    assert seen["download_data"], "no downloads"
    for where, text in seen["download_data"].items():
        if "CSV" in where:
            assert len([line for line in text.splitlines() if line.strip()]) > 1, f"{where}: only a header"
    assert not any("robustness" in w for w in seen["downloads"]), seen["downloads"]  # robustness disabled here


def check_one_accuracy_unit(pages: dict) -> None:
    """Accuracies are in % on every page: no page states fractions, every accuracy lies in [0, 100], and a table
    of accuracies is not all <= 1 (fractions)."""
    checked = 0
    for where, page in pages.items():
        assert "(fraction)" not in page["text"], where
        for table in page["tables"]:
            values = [
                float(row[i])
                for row in table["rows"]
                for i in accuracy_columns(table["head"])
                if i < len(row) and re.fullmatch(r"\d+(\.\d+)?", row[i])
            ]
            assert all(0 <= v <= 100 for v in values), f"{where}: an accuracy outside [0, 100]: {table['head']}"
            if len(values) >= 5:
                assert max(values) > 1, f"{where}: accuracies look like fractions: {values[:10]}"
                checked += 1
    assert checked >= 5, checked
