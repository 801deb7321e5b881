"""The arena's paper module on synthetic tidy results: leaderboard values, ranks and mean rank, the masking flags,
the figure and the findings."""

from __future__ import annotations

import pandas as pd
import pytest

from advreg.evaluation import worstcase
from advreg.papers import arena
from advreg.papers.catalog import PAPERS, ArenaPaper
from advreg.params import ConfigError

MODELS = ["reference/pretrained", "plain/default", "pgd_at/default", "hgd/default"]
# white-box accuracy per (attack, eps): plain weak, pgd_at strong, hgd masked (its own gradient does nothing)
WHITE = {
    "plain/default": {0.0: 0.90, 0.1: 0.10, 0.5: 0.00},
    "pgd_at/default": {0.0: 0.85, 0.1: 0.70, 0.5: 0.02},
    "hgd/default": {0.0: 0.88, 0.1: 0.86, 0.5: 0.85},
    "reference/pretrained": {0.0: 0.91, 0.1: 0.05, 0.5: 0.00},
}
L2 = {"plain/default": 0.2, "pgd_at/default": 0.5, "hgd/default": 0.8, "reference/pretrained": 0.1}
RHO = {"plain/default": 0.10, "pgd_at/default": 0.30, "hgd/default": 0.05, "reference/pretrained": 0.09}


def transfer(attacker: str, target: str, acc: float) -> float:
    """Transfer is weaker than white-box, except examples of plain fool the masked hgd model."""
    if target == "hgd/default" and attacker == "plain/default":
        return 0.15
    return min(1.0, acc + 0.1)


def crosseval() -> pd.DataFrame:
    rows = []
    for fold in (0, 1):
        for attack in ("fgsm", "pgd_linf", "pgd_linf_long"):
            for attacker in MODELS:
                for target in MODELS:
                    for eps, acc in WHITE[target].items():
                        acc = acc if attacker == target or eps == 0 else transfer(attacker, target, acc)
                        if attack == "fgsm" and eps > 0 and attacker == target:
                            acc = min(1.0, acc + 0.05)
                        rows.append(
                            {
                                "experiment": "arena",
                                "fold": fold,
                                "attack": attack,
                                "attacker": attacker,
                                "target": target,
                                "epsilon": eps,
                                "white_box": attacker == target,
                                "accuracy": acc + (0.01 if fold else -0.01),
                            }
                        )
        for attacker in MODELS:
            for target in MODELS:
                acc = L2[target] if attacker == target else L2[target] + 0.05
                rows.append(
                    {
                        "experiment": "arena",
                        "fold": fold,
                        "attack": "pgd_l2",
                        "attacker": attacker,
                        "target": target,
                        "epsilon": 1.5,
                        "white_box": attacker == target,
                        "accuracy": acc,
                    }
                )
    return pd.DataFrame(rows)


def robustness() -> pd.DataFrame:
    rows = [
        {"experiment": "arena", "fold": f, "model": m, "metric": "rho_2", "layer": "", "value": v}
        for f in (0, 1)
        for m, v in RHO.items()
    ]
    rows.append(
        {"experiment": "arena", "fold": 0, "model": "plain/default", "metric": "rho_inf", "layer": "", "value": 9}
    )
    return pd.DataFrame(rows)


def params(**kwargs: object) -> ArenaPaper:
    base = {
        "arenas": ["arena"],
        "columns": ["fgsm@0.1", "pgd_linf@0.1", "pgd_l2@1.5", "pgd_linf@0.03"],  # 0.03: another dataset's budget
        "headline": ["pgd_linf@0.03", "pgd_linf@0.1"],
        "transfer_attacks": ["fgsm", "pgd_linf"],
        "collapse_attack": "pgd_linf",
    }
    return PAPERS["arena"].parse({**base, **kwargs})


def test_leaderboard_values_ranks_and_flags():
    p = params()
    checks = arena.masking_checks(crosseval(), p)
    table = arena.leaderboard(crosseval(), robustness(), p, {"pgd_linf": "linf", "fgsm": "linf"}, checks)
    by = table.set_index("model")
    assert "reference/pretrained" not in by.index
    assert by.loc["plain/default", "clean"] == pytest.approx(90.0)  # folds averaged: -1 and +1 points
    assert by.loc["pgd_at/default", "pgd_linf linf 0.1 white-box"] == pytest.approx(70.0)
    assert by.loc["hgd/default", "pgd_linf linf 0.1 white-box"] == pytest.approx(86.0)
    assert by.loc["hgd/default", "pgd_linf linf 0.1 transfer"] == pytest.approx(15.0)
    assert by.loc["hgd/default", "pgd_linf linf 0.1 transfer from"] == "Plain"
    assert by.loc["hgd/default", "pgd_linf linf 0.1"] == pytest.approx(15.0)  # the worst case is ranked
    assert by.loc["pgd_at/default", "rank pgd_linf linf 0.1"] == 1
    assert by.loc["plain/default", "rank clean"] == 1
    assert by.loc["pgd_at/default", "rho_2"] == pytest.approx(0.30)
    # mean rank over fgsm, pgd_linf, pgd_l2 and rho_2 (not clean): pgd_at (1, 1, 2, 1), hgd (2, 2, 1, 3)
    assert by.loc["pgd_at/default", "mean rank"] == pytest.approx(1.25)
    assert by.loc["hgd/default", "mean rank"] == pytest.approx(2.0)
    assert table["model"].tolist() == ["pgd_at/default", "hgd/default", "plain/default"]
    assert masking_names(by.loc["hgd/default", "masking"]) == {"transfer > white-box", "no collapse"}
    assert by.loc["pgd_at/default", "masking"] == "" and by.loc["plain/default", "masking"] == ""


def masking_names(text: str) -> set[str]:
    return set(text.split("; ")) if text else set()


def test_render_writes_tables_figure_and_findings(tmp_path):
    (tmp_path / "in").mkdir()
    crosseval().to_csv(tmp_path / "in" / "crosseval.csv", index=False)
    robustness().to_csv(tmp_path / "in" / "robustness.csv", index=False)
    inputs = {
        "arena": {"crosseval": str(tmp_path / "in/crosseval.csv"), "robustness": str(tmp_path / "in/robustness.csv")}
    }
    attacks = {"fgsm": {"norm": "linf"}, "pgd_linf": {"norm": "linf"}, "pgd_l2": {"norm": "l2"}}
    context = {"experiments": {"arena": {"dataset": "synthetic", "arch": "lenet", "attacks": attacks}}}
    out = tmp_path / "out"
    arena.render(params(), inputs, context, out, lambda _: None)
    for name in ("tables/leaderboard.csv", "tables/leaderboard.md", "tables/masking.csv", "tables/masking.md"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "figures" / "robust_vs_clean.png").stat().st_size > 1000
    md = (out / "tables" / "leaderboard.md").read_text()
    assert "PGD-AT" in md and "HGD" in md and "shared budget" in md
    claims = pd.read_csv(out / "claims.csv").set_index("claim")
    assert set(claims["kind"]) == {"further finding"}

    def verdict(start: str) -> str:
        (found,) = [v for c, v in claims["verdict"].items() if c.startswith(start)]
        return found

    assert verdict("PGD adversarial training (Madry et al. 2018) is the most robust model") == "held"
    assert verdict("PGD adversarial training has the best mean rank") == "held"
    assert verdict("No model shows a symptom of gradient masking") == "not held"
    assert verdict("Every defence is more robust than the undefended baseline") == "held"
    assert verdict("Robustness costs clean accuracy") == "held"  # PGD-AT 85 vs plain 90
    lead = (out / "claims.md").read_text().splitlines()[2]  # no "0 of 0 of the paper's claims"
    n_held = int((claims["verdict"] == "held").sum())
    expected = f"No paper's claims are judged here; {n_held} of the {len(claims)} further findings held on this run."
    assert lead == expected


def test_two_arenas_get_their_own_files_and_prefixed_findings(tmp_path):
    crosseval().to_csv(tmp_path / "crosseval.csv", index=False)
    robustness().to_csv(tmp_path / "robustness.csv", index=False)
    files = {"crosseval": str(tmp_path / "crosseval.csv"), "robustness": str(tmp_path / "robustness.csv")}
    context = {
        "experiments": {"a1": {"dataset": "mnist", "arch": "lenet"}, "a2": {"dataset": "cifar10", "arch": "convnet"}}
    }
    arena.render(params(arenas=["a1", "a2"]), {"a1": files, "a2": files}, context, tmp_path / "out", lambda _: None)
    for name in ("a1", "a2"):
        assert (tmp_path / "out" / "tables" / f"leaderboard_{name}.md").is_file()
        assert (tmp_path / "out" / "figures" / f"robust_vs_clean_{name}.png").is_file()
    claims = pd.read_csv(tmp_path / "out" / "claims.csv")
    assert (
        claims["claim"].str.startswith("mnist lenet: ").sum()
        == claims["claim"].str.startswith("cifar10 convnet: ").sum()
        > 3
    )


def test_config_block_is_checked():
    with pytest.raises(ConfigError, match="attack@epsilon"):
        params(columns=["pgd_linf"], headline=[])
    with pytest.raises(ConfigError, match="headline"):
        params(headline=["agn@0.3"])
    with pytest.raises(ConfigError, match="arenas"):
        params(arenas=[])
    assert isinstance(params(), ArenaPaper)


# per-sample worst case (issue 24, item 2): at most every per-attack column of its norm and budget
WORST = {("linf", 0.1): {"plain/default": 0.05, "pgd_at/default": 0.60, "hgd/default": 0.12}, ("l2", 1.5): {}}
WORST[("l2", 1.5)] = {"plain/default": 0.15, "pgd_at/default": 0.45, "hgd/default": 0.70, "reference/pretrained": 0.0}
WORST[("linf", 0.1)]["reference/pretrained"] = 0.0


def worst() -> pd.DataFrame:
    from advreg.evaluation import worstcase

    rows = []
    for fold in (0, 1):
        for (norm, eps), accuracy in WORST.items():
            attacks = ["fgsm", "pgd_linf", "pgd_linf_long"] if norm == "linf" else ["pgd_l2"]
            for target, acc in accuracy.items():
                mask = [i < acc * 100 for i in range(100)]
                rows.append(
                    worstcase.mask_row("arena", fold, target, (norm, eps), pd.Series(mask).to_numpy(), attacks, MODELS)
                )
    return pd.DataFrame(rows)


def test_leaderboard_ranks_one_worst_case_per_threat_model(tmp_path):
    p = params()
    norms = {"pgd_linf": "linf", "fgsm": "linf", "pgd_l2": "l2"}
    table = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, worst())
    by = table.set_index("model")
    linf, l2 = "L-inf 0.1 worst case (3 attacks)", "L2 1.5 worst case (1 attack)"
    assert by.loc["hgd/default", linf] == pytest.approx(12.0) and by.loc["pgd_at/default", l2] == pytest.approx(45.0)
    assert (by[linf] <= by[["fgsm linf 0.1", "pgd_linf linf 0.1"]].min(axis=1)).all()
    assert (by[l2] <= by["pgd_l2 l2 1.5"]).all()
    columns = table.columns.tolist()
    assert columns.index(linf) < columns.index("fgsm linf 0.1") < columns.index("pgd_linf linf 0.1")
    assert columns.index("pgd_linf linf 0.1") < columns.index(l2) < columns.index("pgd_l2 l2 1.5")
    assert by.loc["hgd/default", f"rank {linf}"] == 2 and by.loc["hgd/default", f"rank {l2}"] == 1
    # mean rank over the two worst cases and rho (not the per-attack columns): hgd (2, 1, 3), pgd_at (1, 2, 1),
    # plain (3, 3, 2, and rho_inf 1, the only model with one); over the attack columns PGD-AT's is 1.25
    assert by.loc["hgd/default", "mean rank"] == pytest.approx(2.0)
    assert by.loc["pgd_at/default", "mean rank"] == pytest.approx(4 / 3)
    assert by.loc["plain/default", "mean rank"] == pytest.approx(9 / 4)
    assert table["model"].tolist() == ["pgd_at/default", "hgd/default", "plain/default"]
    # an attack that did not enter its norm's worst case (e.g. clip: false) is its own threat model: averaged in
    other = worst().assign(attacks=lambda f: f["attacks"].where(f["norm"] == "linf", "grad_l2"))
    by = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, other).set_index("model")
    assert by.loc["hgd/default", "mean rank"] == pytest.approx((2 + 1 + 1 + 3) / 4)  # pgd_l2's own column: 1

    (tmp_path / "in").mkdir()
    files = {}
    for name, frame in (("crosseval", crosseval()), ("robustness", robustness()), ("worstcase", worst())):
        frame.to_csv(tmp_path / "in" / f"{name}.csv", index=False)
        files[name] = str(tmp_path / "in" / f"{name}.csv")
    attacks = {label: {"attack": label, "norm": norm} for label, norm in norms.items()}
    context = {"experiments": {"arena": {"dataset": "synthetic", "arch": "lenet", "attacks": attacks}}}
    arena.render(p, {"arena": files}, context, tmp_path / "out", lambda _: None)
    md = (tmp_path / "out" / "tables" / "leaderboard.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model"))
    cells = [c.strip() for c in header.split("|")]
    assert linf in cells and "rank L-inf 0.1 worst case" in cells and "rank L2 1.5 worst case" in cells
    (protocol,) = [line for line in md.splitlines() if line.startswith(f"| {linf}")]
    assert "per-sample worst case" in protocol and "fgsm, pgd_linf, pgd_linf_long" in protocol
    assert "mean rank averages one column per threat model" in md
    claims = (tmp_path / "out" / "claims.md").read_text()
    assert f"under {linf}" in claims  # the headline is the worst case of pgd_linf@0.1's norm and budget


def test_findings_compare_worst_cases_point_by_point():
    """The worst-case masks make the findings' comparisons paired: the same estimate, and an interval no wider than
    the unpaired one (nested masks: every point robust for hgd is robust for pgd_at, so only 48 points differ)."""
    p = params()
    norms = {"pgd_linf": "linf", "fgsm": "linf", "pgd_l2": "l2"}
    table = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, worst())
    threats = arena.worst_case_columns(crosseval(), worst(), p, norms)
    linf = "L-inf 0.1 worst case (3 attacks)"
    cells = {t["name"]: t["cells"] for t in threats.values()}
    assert [len(c.points) for c in cells[linf].values()] == [2, 2, 2, 2]  # per model, one mask per fold
    assert all(p is not None for c in cells[linf].values() for p in c.points)
    paired = arena.findings(table, p, linf, n_points=100, threats=threats)[0]
    unpaired = arena.findings(table, p, linf, n_points=100)[0]
    assert paired.claim == unpaired.claim and paired.estimate == pytest.approx(unpaired.estimate)
    assert paired.high - paired.low < unpaired.high - unpaired.low
    assert paired.n_replicates == 2 and paired.n_points == 100


def test_best_mean_rank_follows_the_intervals():
    """The mean rank is a description without an interval: its claim is held only where no pairwise comparison the
    intervals leave open could move PGD-AT off first place, and not held where another model is surely ahead."""
    p = params()
    norms = {"pgd_linf": "linf", "fgsm": "linf", "pgd_l2": "l2"}
    table = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, worst())
    threats = arena.worst_case_columns(crosseval(), worst(), p, norms)
    linf = "L-inf 0.1 worst case (3 attacks)"
    assert table.attrs["mean rank"] == [linf, "L2 1.5 worst case (1 attack)", "rho_2", "rho_inf"]
    cells = arena.arena_cells(table, p, 100, threats, robustness())
    bounds = arena.rank_bounds(table["model"].tolist(), table.attrs["mean rank"], cells)
    for model, mean_rank in table.set_index("model")["mean rank"].items():
        assert bounds[model][0] <= mean_rank <= bounds[model][1]
    (rank,) = [c for c in arena.findings(table, p, linf, n_points=100, threats=threats) if "mean rank" in c.claim]
    assert rank.verdict == "held" and "description without an interval" in rank.margin_source
    assert arena.rank_claim("HGD first", table, ["hgd/default"], cells, "s").verdict == "not held"  # PGD-AT 4/3 < 2

    # PGD-AT 60% and HGD 58% robust at L-inf 0.1 on the same points: the lead that ranks PGD-AT first is open
    close = worst().copy()
    hgd = (close["target"] == "hgd/default") & (close["norm"] == "linf")
    close.loc[hgd, "mask"] = worstcase.encode_mask([i < 58 for i in range(100)])
    close.loc[hgd, "accuracy"] = 0.58
    table = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, close)
    threats = arena.worst_case_columns(crosseval(), close, p, norms)
    assert table["model"].iloc[0] == "pgd_at/default"  # first on the point estimates
    (rank,) = [c for c in arena.findings(table, p, linf, n_points=100, threats=threats) if "mean rank" in c.claim]
    assert rank.verdict == "inconclusive"


def test_a_flagged_pgd_model_is_never_the_most_robust():
    p = params()
    norms = {"pgd_linf": "linf", "fgsm": "linf", "pgd_l2": "l2"}
    table = arena.leaderboard(crosseval(), robustness(), p, norms, None, None, None, worst())
    table.loc[table["model"] == "pgd_at/default", "masking"] = "no collapse"
    linf = "L-inf 0.1 worst case (3 attacks)"
    robust = arena.findings(table, p, linf, n_points=100)[0]
    assert robust.claim.startswith("PGD adversarial training (Madry et al. 2018) is the most robust")
    assert robust.verdict == "not held" and "PGD-AT" in robust.evidence


def test_rho_cells_take_each_models_own_folds_with_their_per_point_terms():
    """A model without a row in one fold (it failed there, say) still gets its per-point interval from the folds it
    has; a model whose stored terms miss one of its folds falls back to the spread across folds."""
    import numpy as np

    from advreg.evaluation.points import encode_values

    rng = np.random.default_rng(0)
    rows = []
    for fold in (0, 1, 2):
        for model in ("plain/default", "pgd_at/default", "hgd/default"):
            if model == "hgd/default" and fold == 2:
                continue  # hgd has two folds
            terms = rng.uniform(0.5, 1.5, 200) * RHO[model]
            stored = None if (model == "pgd_at/default" and fold == 1) else encode_values(terms)
            rows.append(
                {
                    "model": model,
                    "metric": "rho_2",
                    "layer": "",
                    "fold": fold,
                    "value": terms.mean(),
                    "per_point": stored,
                }
            )
    robustness = pd.DataFrame(rows)
    table = pd.DataFrame(
        {
            "model": ["plain/default", "pgd_at/default", "hgd/default"],
            "method": ["plain", "pgd_at", "hgd"],
            "clean": [90.0, 85.0, 88.0],
            "rho_2": [RHO["plain/default"], RHO["pgd_at/default"], RHO["hgd/default"]],
            "rank clean": [1, 3, 2],
            "rank rho_2": [2, 1, 3],
        }
    )
    settings = params()
    cells = arena.arena_cells(table, settings, robustness=robustness)
    assert len(cells[("rho_2", "hgd/default")].values) == 2 and cells[("rho_2", "hgd/default")].has_samples
    assert cells[("rho_2", "hgd/default")].n == (200, 200)
    assert cells[("rho_2", "plain/default")].has_samples and len(cells[("rho_2", "plain/default")].values) == 3
    assert len(cells[("rho_2", "pgd_at/default")].values) == 3 and not cells[("rho_2", "pgd_at/default")].has_samples
