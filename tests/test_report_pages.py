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
