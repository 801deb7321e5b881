"""profiles/slurm, without a cluster: the profile names the SLURM executor and leaves account and partition to
the user, every rule that may run on a compute node declares what SLURM needs, and a dry run through the
profile resolves those resources per job.  tests/cluster/run_slurm_ci.sh runs the same on a real SLURM."""

import importlib.metadata
import re
import subprocess

import pytest
import yaml
from conftest import ROOT, snakemake_command, tiny_config

PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
CI_PROFILE = ROOT / "profiles" / "slurm-ci" / "config.yaml"
RULES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
CLUSTER_RESOURCES = ("runtime", "mem_mb", "cpus_per_task", "gpu")
COMPUTE_RULES = {"pretrain", "train", "assess"}


def _strings(obj):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)
    else:
        yield str(obj)


def _rules():
    """{rule: (local?, resource names)} from workflow/rules/*.smk."""
    rules = {}
    for smk in RULES:
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)+)", smk.read_text(), re.M):
            resources = re.search(r"^    resources:\n((?:        .*\n)+)", body, re.M)
            names = re.findall(r"^        (\w+)=", resources.group(1), re.M) if resources else []
            rules[name] = (bool(re.search(r"^    localrule: True$", body, re.M)), names)
    return rules


def test_profile_names_the_slurm_executor_and_no_site_settings():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    assert int(profile["jobs"]) >= 1
    words = " ".join(_strings(profile)).lower()
    assert "account" not in words and "partition" not in words, "account and partition are the user's to give"
    # A workflow profile's default-resources replace those of a personal --profile (where users put their account).
    assert "default-resources" not in profile


def test_ci_profile_only_adds_keys():
    """The workflow profile wins key by key over --profile: an overlapping CI key would be silently ignored."""
    ci = yaml.safe_load(CI_PROFILE.read_text())
    profile = yaml.safe_load(PROFILE.read_text())
    assert not set(ci) & set(profile)
    assert ci["slurm-status-command"] == "squeue"  # the CI cluster has no slurmdbd, hence no sacct


def test_slurm_plugin_is_installed_at_the_locked_version():
    lock = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().split() if "==" in line)
    for name in ("snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"):
        assert importlib.metadata.version(name) == lock[name], name


def test_every_rule_that_may_go_to_a_compute_node_declares_its_resources():
    rules = _rules()
    assert COMPUTE_RULES <= set(rules)
    for name, (local, names) in rules.items():
        if name in ("prepare_dataset", "summarise_experiment", "manifest") or name.startswith("render_"):
            assert local, f"{name} must be a localrule (downloads, or cheap report work on the login node)"
        if not local:
            missing = [r for r in CLUSTER_RESOURCES if r not in names]
            assert not missing, f"rule {name} runs on compute nodes but does not declare {missing}"
    assert COMPUTE_RULES <= {name for name, (local, _) in rules.items() if not local}


@pytest.fixture(scope="module")
def slurm_dry_run(tmp_path_factory):
    """`snakemake -n` through profiles/slurm, as the README says, with account and partition given by the user."""
    workdir = tmp_path_factory.mktemp("slurm_dry_run")
    config = tiny_config()
    config["cluster"] = {"gpu": 1}
    # The same experiment once more with train_jobs: its training goes to the procedural train_part_* rules.
    config["experiments"]["tiny_parts"] = {**config["experiments"]["tiny"], "train_jobs": 1}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = snakemake_command(
        workdir,
        "-n",
        "--workflow-profile",
        str(ROOT / "profiles" / "slurm"),
        "--cores",
        "2",
        "--default-resources",
        "slurm_account=myaccount",
        "slurm_partition=mypartition",
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    jobs = []
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", out, re.M):
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.M))
        resources = dict(kv.split("=", 1) for kv in fields.get("resources", "").split(", ") if "=" in kv)
        jobs.append((rule, int(fields.get("threads", 1)), resources))
    return jobs


def test_dry_run_through_the_profile_resolves_cluster_resources(slurm_dry_run):
    compute = [
        (rule, threads, res)
        for rule, threads, res in slurm_dry_run
        if rule in COMPUTE_RULES or rule.startswith("train_part_")
    ]
    assert {rule for rule, _, _ in compute} == COMPUTE_RULES | {"train_part_tiny_parts_0_0"}
    for rule, threads, res in compute:
        assert int(res["cpus_per_task"]) == threads == 1, (rule, res)  # reproducibility.threads (default 1)
        assert res["gpu"] == "1" and int(res["runtime"]) > 0 and int(res["mem_mb"]) > 0, (rule, res)
        assert res["slurm_account"] == "myaccount" and res["slurm_partition"] == "mypartition", (rule, res)
