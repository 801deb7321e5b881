"""Stage that renders one paper's tables, figures and claims with its module (torch-free)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from advreg.papers import PAPERS
from advreg.reporting.html import write_paper_pages


def render_paper(
    *,
    paper: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, Mapping[str, str]],
    context: Mapping[str, Any],
    out_dir: str | Path,
    log: Callable[[str], None],
) -> None:
    spec = PAPERS.get_spec(paper)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec.load()(spec.parse(params, f"papers.{paper}"), inputs, context, out, log)
    write_paper_pages(out)  # what the HTML report shows: tables and claims readable in the page
    log(f"{paper}: wrote {sorted(p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file())}")
