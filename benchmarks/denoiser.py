"""What HGD's denoiser saves by not concatenating its decoder's inputs (src/advreg/models/denoiser.py): the
arena's and HLDR's small denoiser (width 4, depth 1) and the denoiser's default size (width 16, depth 2),
evaluation forward pass and forward pass with the input gradient (an attack step) on 1000 Fashion-MNIST-sized
inputs, with the decoder's first
convolution run on ``torch.cat([h, skip])`` (before) and as the sum of two convolutions on the weight's slices (now);
the jobs' numeric environment (``advreg.reproducibility``: oneDNN capped at AVX2), one thread, median.

Usage: .venv/bin/python benchmarks/denoiser.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from advreg import reproducibility  # noqa: E402  (torch-free: before torch is imported)
from advreg.settings import ReproducibilityParams  # noqa: E402

reproducibility.apply(ReproducibilityParams())

import torch  # noqa: E402
from pooling import median_ms  # noqa: E402  (benchmarks/pooling.py: the same timer)

from advreg.models import denoiser as denoiser_module  # noqa: E402
from advreg.models.denoiser import Denoiser  # noqa: E402
from advreg.runtime import configure  # noqa: E402


def concatenating(unit: torch.nn.Sequential, h: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    """The decoder's first unit as it was: on the concatenation of its two inputs."""
    return unit(torch.cat([h, skip], dim=1))


def noise_by_concatenation(denoiser: Denoiser, x: torch.Tensor) -> torch.Tensor:
    """``Denoiser.noise`` with every decoder block on the concatenation of its inputs (before)."""
    fast, denoiser_module._unit_on_concatenation = denoiser_module._unit_on_concatenation, concatenating  # noqa: SLF001
    try:
        return Denoiser.noise(denoiser, x)
    finally:
        denoiser_module._unit_on_concatenation = fast  # noqa: SLF001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    configure(1, "cpu")
    x = torch.rand(1000, 1, 28, 28)
    for width, depth in ((4, 1), (16, 2)):
        torch.manual_seed(0)
        denoiser = Denoiser(1, width, depth).eval().requires_grad_(False)
        torch.nn.init.normal_(denoiser.out.weight, std=0.1)

        def step(noise, denoiser=denoiser):
            image = x.clone().requires_grad_(True)
            return torch.autograd.grad(noise(denoiser, image).square().sum(), image)

        timings = {}
        for name, noise in (("before", noise_by_concatenation), ("now", Denoiser.noise)):
            with torch.no_grad():
                forward = median_ms(lambda noise=noise, d=denoiser: noise(d, x), args.repeats)
            timings[name] = (forward, median_ms(lambda noise=noise: step(noise), args.repeats))
        with torch.no_grad():
            differ = (Denoiser.noise(denoiser, x) - noise_by_concatenation(denoiser, x)).abs().max().item()
        (before_fwd, before_step), (now_fwd, now_step) = timings["before"], timings["now"]
        print(
            f"denoiser width {width}, depth {depth}, per 1000 inputs: forward {before_fwd:.1f} -> {now_fwd:.1f} ms "
            f"({before_fwd / now_fwd:.2f}x), attack step {before_step:.1f} -> {now_step:.1f} ms "
            f"({before_step / now_step:.2f}x); outputs differ by up to {differ:.1e}"
        )


if __name__ == "__main__":
    main()
