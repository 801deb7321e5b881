"""advreg.results: a run's tidy tables as DataFrames (on files laid out as the pipeline writes them; the arena
test of tests/test_plugins.py reads a real tiny run's with it)."""

import pandas as pd
import pytest

from advreg.results import Run

HEADER = "experiment,fold,attack,attacker,target,epsilon,white_box,n,correct,accuracy\n"
CROSSEVAL = HEADER + "{e},0,fgsm,a/x,a/x,0.1,True,10,7,0.7\n"
ROBUSTNESS = "experiment,fold,model,metric,layer,value\n{e},0,a/x,rho_2,,0.04\n"
WORSTCASE = (
    "experiment,fold,target,norm,epsilon,n,robust,accuracy,attacks,attackers,mask\n"
    "{e},0,a/x,linf,0.1,10,1,0.1,fgsm,a/x,0040\n"  # an all-digit mask stays text
)


@pytest.fixture
def run_dir(tmp_path):
    for name in ("exp_b", "exp_a"):
        folder = tmp_path / "results" / name
        folder.mkdir(parents=True)
        (folder / "crosseval.csv").write_text(CROSSEVAL.format(e=name))
        (folder / "robustness.csv").write_text(ROBUSTNESS.format(e=name))
        (folder / "worstcase.csv").write_text(WORSTCASE.format(e=name))
    arena = tmp_path / "results" / "papers" / "arena"
    (arena / "tables").mkdir(parents=True)
    (arena / "claims.csv").write_text("kind,claim,verdict,evidence,source\nfurther finding,c1,held,e,s\n")
    (arena / "tables" / "leaderboard.csv").write_text("method,model,clean,mean rank\nPlain,plain/default,80.0,1.0\n")
    lwa = tmp_path / "results" / "papers" / "lwa"
    lwa.mkdir(parents=True)
    (lwa / "claims.csv").write_text("kind,claim,verdict,evidence,source,quantity\npaper claim,c2,not held,e,s,3\n")
    return tmp_path


def test_tables_of_a_run(run_dir):
    run = Run(run_dir)
    assert run.experiments() == ["exp_a", "exp_b"] and run.papers() == ["arena", "lwa"]
    both = run.crosseval()
    assert list(both["experiment"]) == ["exp_a", "exp_b"] and both["accuracy"].tolist() == [0.7, 0.7]
    one = run.robustness("exp_b")
    assert one.loc[0, "value"] == 0.04 and set(one["experiment"]) == {"exp_b"}
    worst = run.worstcase()
    assert worst["experiment"].tolist() == ["exp_a", "exp_b"] and worst["mask"].tolist() == ["0040", "0040"]
    claims = run.claims()
    assert list(claims.columns[:2]) == ["paper", "kind"] and claims["paper"].tolist() == ["arena", "lwa"]
    assert pd.isna(claims.loc[0, "quantity"]) and claims.loc[1, "quantity"] == 3
    assert run.leaderboard().loc[0, "model"] == "plain/default" and run.tables("arena") == ["leaderboard"]
    assert Run(run_dir / "results").root == run_dir


def test_missing_files_named(run_dir, tmp_path_factory):
    run = Run(run_dir)
    with pytest.raises(FileNotFoundError, match=r"results/exp_a/histories.csv: not written by this run"):
        run.histories("exp_a")
    with pytest.raises(FileNotFoundError, match=r"results/papers/lwa/tables/leaderboard.csv"):
        run.leaderboard("lwa")
    with pytest.raises(FileNotFoundError, match=r"no results/ folder"):
        Run(tmp_path_factory.mktemp("empty"))
