"""The report's summary page on hand-made inputs: an experiment without attacks (only robustness metrics, such as
DeepDefense's Figures 4-5 grid) gets a sentence instead of a headline table, and one with attacks gets its table."""

from __future__ import annotations

import pandas as pd

from advreg.reporting.pages import headline_numbers, summary_page


def test_summary_page_with_and_without_cross_evaluation(tmp_path):
    empty = tmp_path / "grid.csv"
    empty.write_text("experiment,fold,attack,attacker,target,epsilon\n")  # what assess writes without attacks
    rows = pd.DataFrame(
        {
            "experiment": "e",
            "fold": 0,
            "attack": "fgsm",
            "attacker": "plain/default",
            "target": "plain/default",
            "epsilon": [0.0, 0.1],
            "accuracy": [0.9, 0.2],
            "white_box": True,
        }
    )
    attacked = tmp_path / "attacked.csv"
    rows.to_csv(attacked, index=False)
    page = summary_page(
        papers={},
        experiments={"grid": {"crosseval": str(empty)}, "attacked": {"crosseval": str(attacked)}},
        benchmarks=pd.DataFrame(columns=["rule", "seconds"]),
        results_bytes=0,
        config={},
    )
    assert "no attacks configured" in page
    table = headline_numbers(rows)
    assert table.loc[0, "clean acc (%)"] == 90.0 and table.loc[0, "fgsm eps=0.1 (%)"] == 20.0
    assert "fgsm eps=0.1 (%)" in page


def test_central_claims_lead_the_claims_page_and_the_summary(tmp_path):
    """Issue 22 item 6: a paper's central claims are marked in claims.csv, listed first in claims.md and
    claims.html, and gathered across papers on the report's summary with their intervals; a claim not marked
    central is in the papers' tables only."""
    from advreg.reporting.claims import Claim, write_claims
    from advreg.reporting.html import write_paper_pages
    from advreg.reporting.verdicts import Comparison, accuracy_difference

    decided = Comparison("A - B (points)", accuracy_difference([900], [800], [1000]))
    claims = [
        Claim.tested("A beats B (the headline)", [decided], "A 90, B 80", central=True),
        Claim.tested("B beats A on the side", [Comparison("B - A (points)", decided.estimate)], "B 80, A 90"),
    ]
    out = tmp_path / "paper"
    out.mkdir()
    frame = write_claims(claims, out, "A paper")
    assert frame["central"].tolist() == [True, False]
    md = (out / "claims.md").read_text()
    central_part = md.split("## The paper's central claims")[1].split("## The paper's claims")[0]
    assert "**held**: A beats B (the headline)" in central_part and "B beats A" not in central_part
    write_paper_pages(out)
    assert "The paper's central claims" in (out / "claims.html").read_text()
    page = summary_page(
        papers={"p": {"title": "A paper", "label": "Paper A", "dir": str(out)}},
        experiments={},
        benchmarks=pd.DataFrame(columns=["rule", "seconds"]),
        results_bytes=0,
        config={},
    )
    central = page.split("The papers' central claims")[1].split("</table>")[0]
    assert "Paper A" in central and "A beats B (the headline)" in central and "B beats A" not in central
    assert "A - B (points) &gt; 0: 10 [" in central
