"""The report's summary and provenance pages (torch-free): self-contained HTML built from the run's outputs.

Summary: the run's scale per paper beside the papers' datasets (:mod:`advreg.reporting.scale`); per paper how many
of its claims held / not held / inconclusive / were not testable (its ``claims.csv``) and its closest misses
(:func:`closest_misses`), each claim with its
deciding numbers and interval; per
experiment the headline numbers of every model (clean accuracy, and white-box or strongest-transfer accuracy at the
largest budget of every attack, L-inf masking checks left out); the run's wall time (while at least one job
ran) beside the job time summed over the ``benchmark:`` files, and the size of ``results/``. Provenance:
the config, the git commit, the machine, the package versions, every result file's SHA256 from the run manifest,
and per rule the wall time and peak memory of its jobs (``benchmark:`` TSVs) as tables and a figure."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from advreg.atomic import atomic_write_text  # noqa: E402
from advreg.reporting.html import central_rows, central_table, inline, interval_cell, page, table_html  # noqa: E402
from advreg.reporting.scale import banner_html  # noqa: E402
from advreg.reporting.verdicts import VERDICTS  # noqa: E402

# Benchmark file (relative to results/benchmarks, without .tsv) -> the rule that wrote it (workflow/rules/*.smk).
_RULES = (
    (r"^data/", "prepare_dataset"),
    (r"^papers/", "render_paper"),
    (r"^manifest$", "manifest"),
    (r"^report/", "report_pages"),
    (r"/pretrain$", "pretrain"),
    (r"/fold\d+/train/", "train"),
    (r"/fold\d+/assess/", "assess"),
    (r"/summarise$", "summarise_experiment"),
)


def rule_of(job: str) -> str:
    """The rule whose ``benchmark:`` pattern produced ``job`` (a path under results/benchmarks without .tsv)."""
    for pattern, rule in _RULES:
        if re.search(pattern, job):
            return rule
    return "other"


def read_benchmarks(folder: str | Path) -> pd.DataFrame:
    """One row per ``benchmark:`` TSV under ``folder``: rule, job, wall seconds, peak RSS (MB), CPU seconds."""
    rows = []
    root = Path(folder)
    for tsv in sorted(root.rglob("*.tsv")):
        job = tsv.relative_to(root).with_suffix("").as_posix()
        frame = pd.read_csv(tsv, sep="\t")
        for _, row in frame.iterrows():
            rows.append(
                {
                    "rule": rule_of(job),
                    "job": job,
                    "seconds": float(row["s"]),
                    "max_rss_mb": float(pd.to_numeric(row.get("max_rss"), errors="coerce")),
                    "cpu_seconds": float(pd.to_numeric(row.get("cpu_time"), errors="coerce")),
                }
            )
    return pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mb", "cpu_seconds"])


def per_rule(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Per rule: jobs, total and longest wall time (s), peak memory (MB), total CPU time (s); longest first."""
    grouped = benchmarks.groupby("rule").agg(
        jobs=("job", "count"),
        total_seconds=("seconds", "sum"),
        longest_seconds=("seconds", "max"),
        peak_rss_mb=("max_rss_mb", "max"),
        cpu_seconds=("cpu_seconds", "sum"),
    )
    return grouped.sort_values("total_seconds", ascending=False).reset_index()


def benchmark_figure(benchmarks: pd.DataFrame, out: str | Path) -> None:
    """Per rule, total wall time (s, the longest single job marked) and peak memory (MB), as horizontal bars."""
    table = per_rule(benchmarks).iloc[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 1.2 + 0.45 * max(len(table), 1)), sharey=True)
    y = range(len(table))
    left.barh(y, table["total_seconds"], color="#4c78a8", label="all jobs")
    left.barh(y, table["longest_seconds"], color="#9ecae9", height=0.4, label="longest job")
    left.set_xlabel("wall time (s)")
    left.legend(loc="lower right", fontsize=8)
    right.barh(y, table["peak_rss_mb"].fillna(0), color="#f58518")
    right.set_xlabel("peak memory of one job, max RSS (MB)")
    left.set_yticks(list(y), [f"{r} ({n})" for r, n in zip(table["rule"], table["jobs"], strict=True)])
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Wall time and peak memory per rule (number of jobs in brackets), from the benchmark files")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _frame_html(frame: pd.DataFrame, floatfmt: str = "{:.4g}") -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else floatfmt.format(value)
        return str(value)

    return table_html([str(c) for c in frame.columns], [[cell(v) for v in row] for row in frame.itertuples(False)])


def _png_tag(path: str | Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d} (h:mm:ss)"


MASKING_LINF = 0.5  # an L-inf budget this large can grey out any image: a gradient-masking check, not a headline


def headline_numbers(crosseval: pd.DataFrame, norms: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per target model (every model of the experiment): clean accuracy (%) and, per attack, accuracy (%) at its
    largest budget (mean over folds): white-box where the model is an attacker, else under the strongest
    transfer (the lowest accuracy over every attacker's set), as column ``attacked by`` says. L-inf budgets of
    :data:`MASKING_LINF` or more (``norms``: attack -> norm) are masking checks and left out."""
    norms = norms or {}
    clean = crosseval[crosseval["epsilon"] == 0].groupby("target")["accuracy"].mean().mul(100).rename("clean acc (%)")
    white_models = set(crosseval.loc[crosseval["white_box"].astype(bool), "target"])
    columns = [clean]
    for attack, part in crosseval.groupby("attack", sort=False):
        if norms.get(attack) == "linf":
            part = part[part["epsilon"] < MASKING_LINF]
        top = part["epsilon"].max()
        if part.empty or not top > 0:
            continue
        at = part[part["epsilon"] == top]
        mean = at.groupby(["target", "attacker", "white_box"], as_index=False)["accuracy"].mean()
        white = mean[mean["white_box"].astype(bool)].set_index("target")["accuracy"]
        transfer = mean[~mean["white_box"].astype(bool)].groupby("target")["accuracy"].min()
        columns.append(white.combine_first(transfer).mul(100).rename(f"{attack} eps={top:g} (%)"))
    table = pd.concat(columns, axis=1).round(2).rename_axis("model")
    table["attacked by"] = ["itself (white-box)" if m in white_models else "strongest transfer" for m in table.index]
    return table.reset_index()


def run_span(benchmarks_dir: str | Path) -> float | None:
    """The run's wall time (s): how long at least one job was running, from the ``benchmark:`` files (each written
    when its job ends, holding its duration): the union of the jobs' intervals, so jobs run in parallel count once
    and the idle time between the sessions of a resumed run is left out; None without any file."""
    intervals = []
    for tsv in Path(benchmarks_dir).rglob("*.tsv"):
        seconds = float(pd.read_csv(tsv, sep="\t")["s"].astype(float).sum())
        end = tsv.stat().st_mtime
        intervals.append((end - seconds, end))
    if not intervals:
        return None
    total, (start, end) = 0.0, sorted(intervals)[0]
    for low, high in sorted(intervals)[1:]:
        if low > end:
            total, start, end = total + end - start, low, high
        else:
            end = max(end, high)
    return total + end - start


def claim_counts(claims: pd.DataFrame) -> dict[str, int]:
    paper = claims[claims["kind"] == "paper claim"]
    counts = {v: int((paper["verdict"] == v).sum()) for v in VERDICTS}
    findings = claims[claims["kind"] != "paper claim"]
    counts["findings held"] = int((findings["verdict"] == "held").sum())
    counts["findings"] = len(findings)
    return counts


_SIDE = re.compile(r"([<>]) (-?[0-9.eE+-]+)$")


def closest_misses(claims: pd.DataFrame, k: int = 2) -> list[str]:
    """The paper's claims nearest to holding: inconclusive ones whose estimate already lies on the claimed side of
    the threshold (their interval straddles it), those needing the fewest test points (``points_to_decide``), then
    the fewest replicates (``replicates_to_decide``), to be decided first (where neither is given, after them), at
    most ``k``; each as "claim (estimate E vs the claim's > T; about N test points would decide it)". The threshold
    is the ``threshold`` column (the side is the last comparison sign of ``quantity``)."""
    paper = claims[(claims["kind"] == "paper claim") & (claims["verdict"] == "inconclusive")]
    found = []
    for row in paper.itertuples(index=False):
        side = _SIDE.search(str(getattr(row, "quantity", "") or ""))
        try:
            estimate = float(row.estimate)
            threshold = float(getattr(row, "threshold", side.group(2) if side else "nan"))
        except (TypeError, ValueError):
            continue
        if side is None or estimate != estimate or threshold != threshold:
            continue
        if (estimate > threshold) != (side.group(1) == ">") or estimate == threshold:
            continue
        points = int(float(getattr(row, "points_to_decide", 0) or 0))
        replicates = int(float(getattr(row, "replicates_to_decide", 0) or 0))
        if points:
            scale, order = f"; about {points:,} test points would decide it", (0, points)
        elif replicates:
            scale, order = f"; about {replicates} replicates would decide it", (1, replicates)
        else:
            scale, order = "", (2, 0)
        text = f"{row.claim} (estimate {estimate:.4g} vs the claim's {side.group(1)} {threshold:g}{scale})"
        found.append((order, text))
    return [text for _, text in sorted(found, key=lambda item: item[0])[:k]]


def summary_page(
    *,
    papers: Mapping[str, Mapping[str, str]],
    experiments: Mapping[str, Mapping[str, str]],
    benchmarks: pd.DataFrame,
    results_bytes: int,
    config: Mapping[str, Any],
    scale: Mapping[str, Any] | None = None,
    span: float | None = None,
) -> str:
    """``papers``: name -> {"title", "label", "dir"} (its output folder); ``experiments``: name -> {"description",
    "crosseval", "norms"} (the gathered CSV, attack -> norm); ``scale``: :func:`advreg.reporting.scale.banner_html`'s
    input; ``span``: the run's elapsed wall time (s)."""
    total = float(benchmarks["seconds"].sum()) if len(benchmarks) else 0.0
    elapsed = (
        f"<strong>{_duration(span)}</strong> with at least one job running (parallel jobs count once, the idle time "
        "between the sessions of a resumed run is left out); "
        if span
        else ""
    )
    decided = {}
    for info in papers.values():
        claims_csv = Path(info["dir"]) / "claims.csv"
        if claims_csv.is_file():
            c = claim_counts(pd.read_csv(claims_csv))
            misses = closest_misses(pd.read_csv(claims_csv))
            decided[info["label"]] = (
                f"{c['held']} held, {c['not held']} not held, {c['inconclusive']} inconclusive, "
                f"{c['not testable']} not testable" + (f"; closest misses: {' | '.join(misses)}" if misses else "")
                if sum(c[v] for v in VERDICTS)
                else f"findings: {c['findings held']} of {c['findings']} held"
            )
    body = [
        "<h1>advreg: summary of this run</h1>",
        banner_html(scale or {}, decided),
        f"<p>Wall time: {elapsed}job time <strong>{_duration(total)}</strong> summed over {len(benchmarks)} jobs' "
        f"benchmark files (jobs that ran in parallel each count); results/: <strong>{_size(results_bytes)}</strong>; "
        "base seed "
        f"<code>{html.escape(str(config.get('seed')))}</code>, device <code>{html.escape(str(config.get('device')))}"
        "</code>. Each paper's category holds its tables (reproduced beside published, with the difference), "
        "figures and claims; <em>Experiments</em> holds every experiment's generic tables and figures; "
        "<em>Provenance</em> the config, package versions, hashes and per-rule times.</p>",
    ]
    rows, details, central = [], [], []
    for info in papers.values():
        claims_csv = Path(info["dir"]) / "claims.csv"
        if not claims_csv.is_file():
            rows.append([info["label"], info["title"], "", "", "", "", "(no claims.csv)"])
            continue
        claims = pd.read_csv(claims_csv).fillna("")
        if len(marked := central_rows(claims)):
            central.append(marked.assign(paper=info["label"]))
        c = claim_counts(claims)
        rows.append(
            [
                info["label"],
                info["title"],
                str(c["held"]),
                str(c["not held"]),
                str(c["inconclusive"]),
                str(c["not testable"]),
                f"{c['findings held']} of {c['findings']}",
            ]
        )
        shown = claims[claims["kind"] == "paper claim"]
        heading = "the paper's claims"
        if shown.empty:  # the arena: no paper of its own, its findings instead
            shown, heading = claims, "its findings (it makes no claims of a paper)"
        items = "".join(
            f'<tr><td><span class="verdict {row.verdict.replace(" ", "-")}">{html.escape(row.verdict)}</span></td>'
            f"<td>{inline(str(row.claim))}</td><td>{html.escape(interval_cell(row))}</td>"
            f"<td>{inline(str(row.evidence))}</td></tr>"
            for row in shown.itertuples(index=False)
        )
        details.append(
            f"<h3>{html.escape(info['label'])}: {heading}</h3><table><thead><tr><th>verdict</th>"
            "<th>claim</th><th>estimate [95% interval]</th><th>deciding numbers</th></tr></thead>"
            f"<tbody>{items}</tbody></table>"
        )
    body.append("<h2>Papers</h2>")
    body.append(
        table_html(
            ["report category", "title", "held", "not held", "inconclusive", "not testable", "further findings held"],
            rows,
        )
        if rows
        else "<p>No paper is configured in this run.</p>"
    )
    if central:
        body.append(
            "<h2>The papers' central claims</h2><p>Each paper's headline result, judged as every claim is: held or "
            "not held where the 95% interval decides it; an inconclusive one says at what scale it would be decided "
            "if the estimate stayed, or that it is a tie at any scale.</p>"
            + central_table(pd.concat(central, ignore_index=True))
        )
    body += details
    body.append("<h2>Experiments: headline numbers</h2>")
    for name, info in experiments.items():
        path = Path(info["crosseval"])
        desc = f" ({html.escape(info['description'])})" if info.get("description") else ""
        body.append(f"<h3>{html.escape(name)}{desc}</h3>")
        frame = pd.read_csv(path) if path.is_file() else None
        if frame is None:
            body.append("<p>(no cross-evaluation results)</p>")
        elif frame.empty or "accuracy" not in frame:
            body.append(
                "<p>(no attacks configured: no cross-evaluation; the experiment's robustness metrics are in its "
                "tables)</p>"
            )
        else:
            body.append(
                "<p>Accuracy (%) on the test split of every model of the experiment, mean over folds, at each "
                "attack's largest budget: white-box (attacker = target) for the models that attack, the strongest "
                f"transfer attack for the others; L-inf budgets of {MASKING_LINF:g} or more are masking checks, not "
                "headlines, and left out.</p>" + _frame_html(headline_numbers(frame, info.get("norms")), "{:.2f}")
            )
    return page("advreg: summary", "\n".join(body))


def provenance_page(*, manifest: Mapping[str, Any], benchmarks: pd.DataFrame, figure: str | Path) -> str:
    """The run manifest (config, commit, machine, packages, hashes) and the per-rule and per-job benchmarks."""
    git = manifest.get("git", {})
    body = [
        "<h1>Provenance of this run</h1>",
        f"<p>git commit <code>{html.escape(str(git.get('commit')))}</code>"
        f"{' (with uncommitted changes)' if git.get('dirty') else ''}; Python "
        f"{html.escape(str(manifest.get('python')))}; CPU {html.escape(json.dumps(manifest.get('cpu', {})))}; "
        f"config SHA256 <code>{html.escape(str(manifest.get('config_sha256')))}</code>.</p>",
        "<h2>Time and memory per rule</h2>",
        _png_tag(figure, "wall time and peak memory per rule"),
        _frame_html(per_rule(benchmarks), "{:.1f}"),
        "<h2>Every job</h2>",
        _frame_html(benchmarks.sort_values("seconds", ascending=False), "{:.2f}"),
        "<h2>Config</h2>",
        f"<pre>{html.escape(yaml.safe_dump(manifest.get('config', {}), sort_keys=False))}</pre>",
        "<h2>Jobs' numeric settings</h2>",
        "<ul>" + "".join(f"<li><code>{html.escape(str(j))}</code></li>" for j in manifest.get("jobs", [])) + "</ul>",
        "<h2>Package versions</h2>",
        table_html(["package", "version"], [[k, str(v)] for k, v in manifest.get("packages", {}).items()]),
        "<h2>Result files (SHA256)</h2>",
        "<p>Reproducible: identical on every rerun with this config.</p>",
        table_html(["file", "sha256"], [[k, f"`{v}`"] for k, v in manifest.get("artifacts", {}).items()]),
        "<p>Timed: files recording how long things took.</p>",
        table_html(["file", "sha256"], [[k, f"`{v}`"] for k, v in manifest.get("timed", {}).items()]),
    ]
    return page("advreg: provenance", "\n".join(body))


def results_size(results: str | Path, exclude: Sequence[str | Path] = ()) -> int:
    skip = {Path(p).resolve() for p in exclude}
    return sum(p.stat().st_size for p in Path(results).rglob("*") if p.is_file() and p.resolve() not in skip)


def write_pages(
    *,
    papers: Mapping[str, Mapping[str, str]],
    experiments: Mapping[str, Mapping[str, str]],
    manifest: str | Path,
    benchmarks: str | Path,
    results: str | Path,
    config: Mapping[str, Any],
    outputs: Mapping[str, str],
    scale: Mapping[str, Any] | None = None,
) -> None:
    """``outputs``: summary (HTML), provenance (HTML), timing_figure (PNG)."""
    bench = read_benchmarks(benchmarks)
    benchmark_figure(bench, outputs["timing_figure"])
    size = results_size(results, exclude=list(outputs.values()))
    atomic_write_text(
        outputs["summary"],
        summary_page(
            papers=papers,
            experiments=experiments,
            benchmarks=bench,
            results_bytes=size,
            config=config,
            scale=scale,
            span=run_span(benchmarks),
        ),
    )
    doc = json.loads(Path(manifest).read_text())
    atomic_write_text(
        outputs["provenance"], provenance_page(manifest=doc, benchmarks=bench, figure=outputs["timing_figure"])
    )
