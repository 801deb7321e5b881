"""Stage that renders one paper's tables, figures and claims with its module (torch-free)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from advreg.papers import PAPERS
from advreg.reporting.html import write_paper_pages
from advreg.reporting.scale import compares_like_with_like


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
    mark_stand_in_data(out, context.get("data_notes") or {})
    scale = context.get("scale") or {}
    grey = bool(scale) and not compares_like_with_like(scale.get("experiments", {}), scale.get("paper_datasets", []))
    write_paper_pages(out, grey_diff=grey)  # what the HTML report shows: tables and claims readable in the page
    log(f"{paper}: wrote {sorted(p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file())}")


def mark_stand_in_data(out_dir: Path, notes: Mapping[str, str]) -> None:
    """Open every table of the paper (``tables/*.md``) with the run's stand-in data notes (experiment -> note,
    :func:`advreg.data.stand_ins.stand_in_note`), so no table is read as if made on the paper's own data."""
    lines = [f"**Stand-in data** ({experiment}): {note}." for experiment, note in notes.items() if note]
    if not lines:
        return
    for md in sorted((out_dir / "tables").glob("*.md")):
        text = md.read_text().split("\n")
        at = 1 if text and text[0].startswith("#") else 0  # after the title, which names the page
        md.write_text("\n".join([*text[:at], "", *lines, "", *text[at:]]))
