"""A paper's claims, each judged held or not held on the reproduced numbers, with the numbers that decide it
(torch-free). Every paper module builds a list of :class:`Claim` and writes it with :func:`write_claims`:
``claims.csv`` (tidy) and ``claims.md``. Findings beyond the paper (other variants, other readings) are kept
apart from the paper's own claims by ``kind``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from advreg.atomic import atomic_write_text

PAPER_CLAIM = "paper claim"
FINDING = "further finding"


@dataclass(frozen=True)
class Claim:
    claim: str  # the paper's statement and where it makes it
    verdict: str  # "held", "not held" or "not testable"
    evidence: str  # the deciding numbers
    source: str = ""  # the tables or figures holding its numbers (paths relative to the paper's folder, '; '-separated)
    kind: str = PAPER_CLAIM

    @classmethod
    def judged(cls, claim: str, held: bool | None, evidence: str, source: str = "", kind: str = PAPER_CLAIM) -> Claim:
        """``held`` None: not testable on this run (a model or attack it needs is missing)."""
        verdict = "not testable" if held is None else ("held" if held else "not held")
        return cls(claim, verdict, evidence, source, kind)


def write_claims(claims: list[Claim], out_dir: str | Path, title: str) -> pd.DataFrame:
    """``claims.csv`` and ``claims.md`` in ``out_dir``: the paper's claims first, then further findings."""
    frame = pd.DataFrame([asdict(c) for c in claims], columns=["kind", "claim", "verdict", "evidence", "source"])
    frame = frame.sort_values("kind", key=lambda k: k != PAPER_CLAIM, kind="mergesort").reset_index(drop=True)
    out = Path(out_dir)
    atomic_write_text(out / "claims.csv", frame.to_csv(index=False))
    held = int((frame["verdict"][frame["kind"] == PAPER_CLAIM] == "held").sum())
    total = int((frame["kind"] == PAPER_CLAIM).sum())
    if total:
        lead = f"{held} of {total} of the paper's claims held on this run."
    else:  # the arena: findings of ours only
        findings = frame[frame["kind"] != PAPER_CLAIM]
        lead = (
            f"No paper's claims are judged here; {int((findings['verdict'] == 'held').sum())} of the "
            f"{len(findings)} further findings held on this run."
        )
    parts = [f"# {title}\n\n{lead}\n"]
    for kind, block in frame.groupby("kind", sort=False):
        heading = "The paper's claims" if kind == PAPER_CLAIM else "Further findings (not claims of the paper)"
        parts.append(f"\n## {heading}\n\n{block.drop(columns='kind').to_markdown(index=False)}\n")
    atomic_write_text(out / "claims.md", "".join(parts))
    return frame
