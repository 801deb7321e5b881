"""A paper's claims, each judged held, not held, inconclusive or not testable on the reproduced numbers, with the
numbers that decide it and, for claims judged by :mod:`advreg.reporting.verdicts`, the deciding comparison's
estimate, 95% interval, test points and replicates (torch-free). Every paper module builds a list of
:class:`Claim` and writes it with :func:`write_claims`:
``claims.csv`` (tidy) and ``claims.md``. Findings beyond the paper (other variants, other readings) are kept
apart from the paper's own claims by ``kind``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from advreg.atomic import atomic_write_text
from advreg.reporting.html import central_rows, interval_cell
from advreg.reporting.verdicts import Comparison, judge, points_to_decide, replicates_to_decide

PAPER_CLAIM = "paper claim"
FINDING = "further finding"
COLUMNS = [
    "kind",
    "claim",
    "verdict",
    "evidence",
    "source",
    "quantity",
    "threshold",
    "estimate",
    "low",
    "high",
    "n_points",
    "n_replicates",
    "margin_source",
    "points_to_decide",
    "replicates_to_decide",
    "central",
]


@dataclass(frozen=True)
class Claim:
    claim: str  # the paper's statement and where it makes it
    verdict: str  # "held", "not held", "inconclusive" or "not testable"
    evidence: str  # the deciding numbers
    source: str = ""  # the tables or figures holding its numbers (paths relative to the paper's folder, '; '-separated)
    kind: str = PAPER_CLAIM
    quantity: str = ""  # the deciding comparison (empty: a claim judged without the engine)
    threshold: float = math.nan  # the value the deciding quantity is compared with (the side is in ``quantity``)
    estimate: float = math.nan
    low: float = math.nan  # its 95% interval (NaN: not available)
    high: float = math.nan
    n_points: int = 0  # test points per replicate (0: not a proportion of test points)
    n_replicates: int = 0
    margin_source: str = ""  # the paper's words the threshold comes from, or that the paper gives none
    points_to_decide: int = 0  # inconclusive on one replicate: test points that would decide it (0: n/a)
    replicates_to_decide: int = 0  # inconclusive on several replicates (folds): replicates that would decide it
    central: bool = False  # one of the paper's central claims (issue 22 item 6: its headline result)

    @classmethod
    def judged(cls, claim: str, held: bool | None, evidence: str, source: str = "", kind: str = PAPER_CLAIM) -> Claim:
        """``held`` None: not testable on this run (a model or attack it needs is missing)."""
        verdict = "not testable" if held is None else ("held" if held else "not held")
        return cls(claim, verdict, evidence, source, kind)

    @classmethod
    def tested(
        cls,
        claim: str,
        comparisons: list[Comparison],
        evidence: str,
        source: str = "",
        kind: str = PAPER_CLAIM,
        margin_source: str = "",
        central: bool = False,
    ) -> Claim:
        """A claim judged by the verdict engine on its comparisons (all must hold); the deciding comparison's
        estimate and interval become its columns."""
        verdict, deciding = judge(comparisons)
        if deciding is None:
            return cls(claim, verdict, evidence, source, kind, margin_source=margin_source, central=central)
        e = deciding.estimate
        side = ">" if deciding.greater else "<"
        return cls(
            claim,
            verdict,
            evidence,
            source,
            kind,
            f"{deciding.quantity} {side} {deciding.threshold:g}",
            deciding.threshold,
            e.value,
            e.low,
            e.high,
            e.n_points,
            e.n_replicates,
            margin_source,
            points_to_decide(e, deciding.threshold, deciding.greater) if verdict == "inconclusive" else 0,
            replicates_to_decide(e, deciding.threshold, deciding.greater) if verdict == "inconclusive" else 0,
            central,
        )


def write_claims(claims: list[Claim], out_dir: str | Path, title: str) -> pd.DataFrame:
    """``claims.csv`` and ``claims.md`` in ``out_dir``: the paper's claims first, then further findings."""
    frame = pd.DataFrame([asdict(c) for c in claims], columns=COLUMNS)
    frame[["threshold", "estimate", "low", "high"]] = (
        frame[["threshold", "estimate", "low", "high"]].astype(float).round(4)
    )
    frame = frame.sort_values("kind", key=lambda k: k != PAPER_CLAIM, kind="mergesort").reset_index(drop=True)
    out = Path(out_dir)
    atomic_write_text(out / "claims.csv", frame.to_csv(index=False))
    paper = frame["verdict"][frame["kind"] == PAPER_CLAIM]
    held, total = int((paper == "held").sum()), len(paper)
    if total:
        lead = (
            f"{held} of {total} of the paper's claims held on this run ({int((paper == 'not held').sum())} not held, "
            f"{int((paper == 'inconclusive').sum())} inconclusive, {int((paper == 'not testable').sum())} not "
            "testable); intervals are 95%, two models' accuracies compared point by point wherever they were evaluated "
            "on the same test points (docs/fidelity.md, Verdicts)."
        )
    else:  # the arena: findings of ours only
        findings = frame[frame["kind"] != PAPER_CLAIM]
        lead = (
            f"No paper's claims are judged here; {int((findings['verdict'] == 'held').sum())} of the "
            f"{len(findings)} further findings held on this run."
        )
    parts = [f"# {title}\n\n{lead}\n"]
    central = central_rows(frame)
    if len(central):
        items = "".join(
            f"- **{row.verdict}**: {row.claim}; {interval_cell(row) or row.evidence}\n" for row in central.itertuples()
        )
        parts.append(f"\n## The paper's central claims\n\n{items}")
    for kind, block in frame.groupby("kind", sort=False):
        heading = "The paper's claims" if kind == PAPER_CLAIM else "Further findings (not claims of the paper)"
        parts.append(f"\n## {heading}\n\n{block.drop(columns=['kind', 'central']).to_markdown(index=False)}\n")
    atomic_write_text(out / "claims.md", "".join(parts))
    return frame
