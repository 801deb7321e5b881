"""Screenshots of the HTML report at 1400 x 1000, as a reader first sees it: the Summary, one paper's table and the
arena leaderboard (docs/screenshots/*.png, referenced from the README). Needs Debian's ``chromium``.

    .venv/bin/python scripts/report_screenshots.py [results/report.html] [docs/screenshots]

Regenerate after ``make run`` (the default preset) whenever the report's look changes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from advreg.reporting.browser import Chromium, results_menu, show_item  # noqa: E402

# (file, menu path, item label): the first of each that the report has
SHOTS = (
    ("summary.png", ["0 Summary"], "Summary"),
    ("paper_table.png", ["DataGrad", "Tables"], "Table 1"),
    ("arena_leaderboard.png", ["Arena", "Tables"], "Leaderboard"),
)


def main(report: str = "results/report.html", out: str = "docs/screenshots") -> None:
    url = Path(report).resolve().as_uri()
    browser = Chromium(size=(1400, 1000))
    try:
        browser.open(url)
        categories = results_menu(browser)
        for name, path, label in SHOTS:
            if path[0] not in categories:
                print(f"skipped {name}: no category {path[0]!r} in this report ({', '.join(categories)})")
                continue
            show_item(browser, url, path, label)
            browser.screenshot(Path(out) / name)
            print(f"wrote {Path(out) / name}")
    finally:
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
