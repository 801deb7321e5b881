"""The HTML report as a reader sees it: the tables, claims and pages converted to HTML (fast, analytic cases), and
the real report of a tiny DataGrad run opened in headless Chromium (Debian's ``chromium``), driven through
Chromium's DevTools protocol over a pipe (``--remote-debugging-pipe``: nothing downloaded, no driver needed):
every category and subcategory opens, every table item shows numbers in the page, every figure loads, the
claims checklist shows its verdicts."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import FASHION_DIR, NO_FASHION

from advreg.reporting.claims import Claim, write_claims
from advreg.reporting.html import markdown_to_html, write_paper_pages
from advreg.reporting.labels import item_label, paper_subcategory
from advreg.reporting.pages import headline_numbers, read_benchmarks, rule_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
    assert item_label("tables/table12") == "Table 12" and item_label("figures/figure_grid") == "figure_grid"
    assert item_label("claims") == "Claims checklist" and paper_subcategory("claims") == "Claims"
    assert paper_subcategory("tables/x") == "Tables" and paper_subcategory("figures/y") == "Figures"


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
    assert "<strong>1 held</strong>, 1 not held, 1 not testable of the paper's 3 claims" in page
    assert '<span class="verdict held">held</span>' in page and '<span class="verdict not-held">not held</span>' in page
    assert '<a href="#src-tables-table1-md">tables/table1.md</a>' in page and 'id="src-tables-table1-md"' in page
    assert '<td class="ours num">12.5</td>' in page and '<td class="num">0.25</td>' in page  # the sources below
    assert "Further findings" in page
    assert '<td class="num">0.25</td>' in (tables / "points.html").read_text()


def test_headline_numbers_and_benchmarks(tmp_path):
    rows = []
    for target, accs in {"a/x": (0.9, 0.5, 0.2), "b/y": (0.8, 0.6, 0.4)}.items():
        for eps, acc in zip((0.0, 0.1, 0.2), accs, strict=True):
            rows.append({"attack": "fgsm", "target": target, "epsilon": eps, "accuracy": acc, "white_box": True})
        rows.append({"attack": "fgsm", "target": target, "epsilon": 0.2, "accuracy": 0.0, "white_box": False})
    table = headline_numbers(pd.DataFrame(rows)).set_index("model")
    assert table.loc["a/x", "clean acc (%)"] == 90.0 and table.loc["b/y", "fgsm eps=0.2 (%)"] == 40.0
    bench = tmp_path / "benchmarks"
    for job, s in {"dg/fold0/train/rect/default": 2.5, "dg/fold0/assess/part0": 1.0, "papers/datagrad": 0.5}.items():
        (bench / job).parent.mkdir(parents=True, exist_ok=True)
        (bench / f"{job}.tsv").write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{s}\t0:00:0{int(s)}\t100.5\t1.0\n")
    frame = read_benchmarks(bench)
    assert dict(zip(frame["rule"], frame["seconds"], strict=True)) == {"assess": 1.0, "render_paper": 0.5, "train": 2.5}
    assert rule_of("data/fashion_mnist") == "prepare_dataset" and rule_of("lwa/pretrain") == "pretrain"


# ----------------------------------------------------------------------------------------------------------------
# Slow: the real report in a real browser


class Chromium:
    """Headless Chromium driven through the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
    ending in NUL on file descriptors 3 (to the browser) and 4 (from it))."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="advreg-chromium-")

        def child_fds() -> None:  # move the pipe ends to fds 3 and 4 (via fds >= 10: they may be 3 or 4 already)
            a, b = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        args += ["--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--window-size=1400,1000"]
        self.proc = subprocess.Popen(
            [*args, "about:blank"],
            preexec_fn=child_fds,
            pass_fds=(3, 4, to_r, from_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        self.writer = os.fdopen(to_w, "wb", buffering=0)
        self.reader = os.fdopen(from_r, "rb", buffering=0)
        self.buffer, self.next_id, self.session = b"", 0, None

    def _message(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = self.reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, browser: bool = False, **params: object) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session and not browser:
            message["sessionId"] = self.session
        self.writer.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        if self.session is None:
            target = self.send("Target.createTarget", browser=True, url="about:blank")["targetId"]
            self.session = self.send("Target.attachToTarget", browser=True, targetId=target, flatten=True)["sessionId"]
            self.send("Page.enable")
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && document.querySelectorAll('nav a').length > 0")

    def eval(self, expression: str, context: int | None = None) -> object:
        extra = {"contextId": context} if context else {}
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, **extra)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait(self, expression: str, context: int | None = None, timeout: float = 20.0) -> object:
        end = time.monotonic() + timeout
        while True:
            value = self.eval(expression, context)
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def frame_context(self, url_prefix: str) -> int:
        """An execution context in the (data: URL) iframe whose URL starts with ``url_prefix``."""
        end = time.monotonic() + 20
        while time.monotonic() < end:
            frames = self.send("Page.getFrameTree")["frameTree"].get("childFrames", [])
            for frame in frames:
                if frame["frame"].get("url", "").startswith(url_prefix):
                    world = self.send("Page.createIsolatedWorld", frameId=frame["frame"]["id"], worldName="test")
                    return world["executionContextId"]
            time.sleep(0.1)
        raise AssertionError(f"no iframe showing {url_prefix}")

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def click_link(browser: Chromium, text: str) -> None:
    """Click the report's navigation link labelled ``text``."""
    found = browser.eval(
        f"(() => {{ const a = Array.from(document.querySelectorAll('nav a')).find(e => e.innerText.trim() === "
        f"{json.dumps(text)}); if (!a) return false; a.click(); return true; }})()"
    )
    assert found, f"no link {text!r} in the report's menu: {nav_texts(browser)}"


def nav_texts(browser: Chromium) -> list[str]:
    return browser.eval("Array.from(document.querySelectorAll('nav ul a')).map(a => a.innerText.trim())") or []


def results_menu(browser: Chromium) -> list[str]:
    """The categories under the menu's RESULTS heading."""
    texts = browser.eval("Array.from(document.querySelectorAll('nav li')).map(li => li.innerText.trim())")
    return texts[texts.index("RESULTS") + 1 :]


ITEM_ROWS = "Array.from(document.querySelectorAll('nav table tbody tr'))"


def check_items(browser: Chromium, report_url: str, path: list[str], seen: dict) -> None:
    """Open every item listed after clicking through ``path`` (category, subcategory); check what it shows."""
    rows = browser.eval(f"{ITEM_ROWS}.map(r => r.innerText.trim().replace(/\\s+/g, ' '))")
    assert rows, f"{' > '.join(path)} lists no items"
    for i, label in enumerate(rows):
        browser.open(report_url)
        for step in path:
            click_link(browser, step)
        browser.wait(f"{ITEM_ROWS}.length === {len(rows)}")
        info = browser.eval(
            f"(() => {{ const r = {ITEM_ROWS}[{i}]; const a = r.querySelector('a[iconname=eye]');"
            " return {href: a.getAttribute('href'), download: a.getAttribute('download')}; })()"
        )
        where = f"{' > '.join(path)} > {label}"
        if info["download"]:  # CSV / JSON data: offered as a download, and labelled so
            assert "download" in label or "JSON" in label, f"{where}: a download not labelled as one"
            seen["downloads"].append(where)
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
        if "Claims" in path:
            verdicts = browser.eval("Array.from(document.querySelectorAll('.verdict')).map(v => v.innerText)", context)
            assert verdicts and set(verdicts) <= {"held", "not held", "not testable"}, verdicts
            assert re.search(r"\d+ held, \d+ not held, \d+ not testable", text), text[:300]
            seen["claims"].append(where)
        else:
            seen["tables"].append(where)


def browse(url: str) -> tuple[list[str], dict[str, list[str]]]:
    """Open the report at ``url``, click every category, subcategory and item; what was seen, by kind."""
    seen: dict[str, list[str]] = {"tables": [], "figures": [], "claims": [], "downloads": []}
    browser = Chromium()
    try:
        browser.open(url)
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
        f"Table {n}" for n in range(1, 6)
    }
    assert {s.split(" > ")[-1] for s in seen["figures"] if s.startswith("DataGrad")} == {
        f"Figure {n}" for n in (1, 2, 3)
    }
    assert seen["claims"] == ["DataGrad > Claims > Claims checklist"]
    assert any(s.startswith("0 Summary") for s in seen["tables"]), seen
    assert any(s.startswith("Provenance") for s in seen["figures"]) and any("Provenance" in s for s in seen["tables"])
