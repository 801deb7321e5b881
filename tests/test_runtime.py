import torch

from advreg.runtime import configure, derive_seed, seed_everything


def test_derive_seed_is_stable_and_distinct():
    assert derive_seed(1, "exp", 0, "plain", "default") == derive_seed(1, "exp", 0, "plain", "default")
    assert derive_seed(1, "exp", 0, "plain", "default") != derive_seed(1, "exp", 1, "plain", "default")
    assert derive_seed(1, "a", "bc") != derive_seed(1, "ab", "c")  # parts are separated, not concatenated
    assert 0 <= derive_seed(7, "x") < 2**63


def test_seed_everything_makes_torch_reproducible():
    seed_everything(5)
    a = torch.randn(4)
    gen = seed_everything(5)
    b = torch.randn(4)
    assert torch.equal(a, b)
    assert torch.equal(torch.randperm(10, generator=gen), torch.randperm(10, generator=seed_everything(5)))


def test_configure_sets_determinism_and_threads():
    device = configure(threads=1, device="cpu")
    assert device.type == "cpu"
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == 1


def test_configure_rejects_unknown_device():
    import pytest

    with pytest.raises(ValueError, match="'tpu'"):
        configure(device="tpu")


def test_configure_enables_determinism_without_importing_inductor():
    # a fresh process: configure() must not pay torch._inductor's import (1.3 s per job) to be deterministic
    import subprocess
    import sys

    code = (
        "import sys, torch; from advreg.runtime import configure; configure(device='cpu'); "
        "assert torch.are_deterministic_algorithms_enabled(); "
        "assert torch.is_deterministic_algorithms_warn_only_enabled() is False; "
        "print('torch._inductor.config' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
