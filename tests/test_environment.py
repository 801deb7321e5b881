"""The pip lock and the conda env files pin the same versions; the README keeps its two commands."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lock: str = "requirements.lock") -> list[str]:
    """The lock's requirements, one per entry, continuation lines joined."""
    text = (ROOT / lock).read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _lock() -> dict[str, str]:
    pins = {}
    for requirement in _requirements():
        name, version = requirement.split()[0].split("==")
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_lock_pins_required_versions_exactly():
    lock = _lock()
    assert lock["torch"] == "2.14.1"
    assert lock["torchvision"] == "0.29.1"
    assert lock["snakemake"].startswith("9.")
    for name in ("numpy", "pandas", "matplotlib", "seaborn", "tqdm", "pytest", "snakemake-interface-report-plugins"):
        assert name in lock, f"{name} is not pinned in requirements.lock"


def test_every_requirement_is_an_exact_pin_with_hashes():
    """uv installs the lock in hash-checking mode (pip the installer's own lock): every requirement pinned exactly,
    with the SHA256 of its files."""
    for requirement in _requirements() + _requirements("requirements-uv.lock"):
        pin, *hashes = requirement.split()
        assert pin.count("==") == 1 and "+" not in pin, f"not an exact portable pin: {pin!r}"
        assert hashes and all(
            h.startswith("--hash=sha256:") and len(h) == len("--hash=sha256:") + 64 for h in hashes
        ), pin
    assert "setuptools" in _lock()  # torch needs it: in hash-checking mode every dependency must be pinned


def test_conda_envs_agree_with_the_lock():
    lock = _lock()
    envs = sorted((ROOT / "envs").glob("*.yaml"))
    assert envs, "no conda env files in envs/"
    for env_file in envs:
        env = yaml.safe_load(env_file.read_text())
        pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
        assert pip_section, f"{env_file.name} pins nothing"
        for spec in pip_section:
            name, _, version = spec.partition("==")
            assert version, f"{env_file.name}: {spec!r} is not an exact pin"
            key = name.lower().replace("_", "-")
            assert lock.get(key) == version, (
                f"{env_file.name}: {name}=={version} but requirements.lock has {lock.get(key)}"
            )
        assert any(str(d).startswith("python=") for d in env["dependencies"]), f"{env_file.name} does not pin python"


def test_every_rule_env_file_exists():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for line in smk.read_text().splitlines():
            if "envs/" in line and line.strip().startswith('"'):
                target = (smk.parent / line.strip().strip('",')).resolve()
                assert target.is_file(), f"{smk.name} names a missing env file {target}"


def test_readme_shows_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text


def test_setup_installs_the_locks_hash_checked():
    """`make setup`: pip installs uv from its lock, uv the locks, every step in hash-checking mode, with bytecode
    compiled (jobs write none where PYTHONDONTWRITEBYTECODE is set)."""
    makefile = (ROOT / "Makefile").read_text()
    assert [r.split()[0] for r in _requirements("requirements-uv.lock")] == ["uv==0.13.9"]
    assert "pip install --quiet --require-hashes -r requirements-uv.lock" in makefile
    assert "UV_PIP := $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode" in makefile
    for lock in ("requirements.lock", "requirements-reference.lock"):
        assert f"--require-hashes -r {lock}" in makefile or f"--require-hashes --no-deps -r {lock}" in makefile
