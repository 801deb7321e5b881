"""The run manifest and the check of a run against expected hashes name every file that differs."""

import json

from conftest import ROOT

from advreg import provenance
from advreg.layout import is_reproducible


def fake_run(tmp_path):
    results = tmp_path / "results"
    (results / "e" / "fold0").mkdir(parents=True)
    (results / "e" / "crosseval.csv").write_text("a,b\n1,2\n")
    (results / "e" / "fold0" / "model.pt").write_bytes(b"\x00weights")
    (results / "e" / "timings.csv").write_text("model,seconds\nx,1.5\n")
    (results / "benchmarks").mkdir()
    (results / "benchmarks" / "job.tsv").write_text("s\n3.2\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "job.log").write_text("advreg job: device=cpu threads=1 reproducibility=portable\nadvreg start-up: 3 s\n")
    return results, logs


def test_manifest_records_hashes_config_packages_and_machine(tmp_path):
    results, logs = fake_run(tmp_path)
    config = {"seed": 1, "reproducibility": {"mode": "portable", "threads": 1}}
    manifest = provenance.build_manifest(results, config, ROOT / "requirements.lock", ROOT, logs)
    assert set(manifest["artifacts"]) == {"results/e/crosseval.csv", "results/e/fold0/model.pt"}
    assert set(manifest["timed"]) == {"results/e/timings.csv", "results/benchmarks/job.tsv"}
    assert manifest["artifacts"]["results/e/crosseval.csv"] == provenance.sha256_of(results / "e" / "crosseval.csv")
    assert manifest["packages"]["torch"] == "2.14.1" and manifest["reproducibility"]["mode"] == "portable"
    assert manifest["jobs"] == ["device=cpu threads=1 reproducibility=portable"]
    assert len(manifest["config_sha256"]) == 64 and manifest["cpu"]["machine"]
    provenance.write_manifest(results / "manifest.json", manifest)
    assert json.loads((results / "manifest.json").read_text())["config"] == config
    # the manifest itself is not an artifact of the run it describes
    assert "results/manifest.json" not in provenance.result_hashes(results)[0]


def test_verify_names_every_file_that_differs(tmp_path):
    results, _ = fake_run(tmp_path)
    expected = tmp_path / "expected.sha256"
    assert provenance.write_expected(results, expected) == 2
    assert provenance.verify(results, expected) == []
    (results / "e" / "timings.csv").write_text("model,seconds\nx,9.9\n")  # timings may change
    assert provenance.verify(results, expected) == []
    (results / "e" / "crosseval.csv").write_text("a,b\n1,3\n")
    (results / "e" / "fold0" / "model.pt").unlink()
    (results / "e" / "extra.csv").write_text("x\n")
    assert provenance.verify(results, expected) == [
        "missing: results/e/fold0/model.pt",
        "not expected: results/e/extra.csv",
        "differs: results/e/crosseval.csv",
    ]
    assert provenance.main(["verify", str(results), str(expected)]) == 1


def test_outputs_built_from_measured_times_are_not_expected_to_repeat():
    """HLDR's Table I is training time per sample, and its claims page judges the timing claim on it: both differ
    between runs, so `make expected` leaves them out; the paper's other tables and figures are reproducible."""
    for path in ("results/papers/hldr/tables/table1.csv", "results/papers/hldr/claims.md"):
        assert not is_reproducible(path), path
    for path in ("results/papers/hldr/tables/figure2.csv", "results/papers/lwa/claims.md", "results/x/crosseval.csv"):
        assert is_reproducible(path), path
