"""What the channels-last memory format would save on the conv networks, as the jobs run them (not yet used).

Every conv network here runs in PyTorch's default NCHW format. On a CPU oneDNN's convolutions in NCHW are slow for
the few channels of these reduced networks: in the arena's assessment the HGD denoiser's forward passes were a
quarter of the job, and the backward pass of a LeNet's first convolution (one input channel) half of an attack
step. This times, per 1,000 inputs of 28 x 28 and one thread, each network in NCHW and with its weights in
channels-last (``model.to(memory_format=torch.channels_last)``; the input needs no change: a one-channel batch is
both formats at once): an evaluation forward pass, a forward pass with the input gradient (an attack step) and a
training step on 100 inputs (forward, backward with every parameter's gradient), median of ``--repeats``. It also
prints the largest difference between the two formats' logits and input gradients: the formats sum in another
order, so adopting one changes the bits of every conv model's results (expected hashes to regenerate).

The jobs' numeric environment is applied first (``advreg.reproducibility``: oneDNN capped at AVX2, one thread),
so the kernels timed are the ones a job runs.

Usage: .venv/bin/python benchmarks/memory_format.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from advreg import reproducibility  # noqa: E402  (torch-free: before torch is imported)
from advreg.settings import ReproducibilityParams  # noqa: E402

reproducibility.apply(ReproducibilityParams())

import torch  # noqa: E402
from pooling import median_ms  # noqa: E402  (benchmarks/pooling.py: the same timer)

from advreg.models import build_model  # noqa: E402
from advreg.runtime import configure  # noqa: E402

NETWORKS = {  # label -> (architecture, kwargs): the conv networks of the presets, 28 x 28 inputs
    "LeNet 6-16, FC-100 (arena, LWA default preset)": ("lenet", {"channels": (6, 16), "fc_width": 100}),
    "LeNet 20-50, FC-500 (MNIST presets)": ("lenet", {}),
    "VGG-BN 1/8 width (HLDR default preset)": ("vgg", {"width": 0.125}),
    "LeNet 6-16 + HGD denoiser 4/1 (arena's hgd)": (
        "lenet",
        {"channels": (6, 16), "fc_width": 100, "denoiser": {"width": 4, "depth": 1}},
    ),
}


def build(arch: str, kwargs: dict, channels_last: bool) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(arch, (1, 28, 28), 10, **kwargs)
    for module in model.modules():  # the denoiser's output layer starts at zero: give it weights to compute with
        if isinstance(module, torch.nn.Conv2d) and not module.weight.any():
            torch.nn.init.normal_(module.weight, std=0.01)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    configure(1, "cpu")
    x = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    def forward(m: torch.nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return m(x)

    def input_gradient(m: torch.nn.Module) -> torch.Tensor:
        inputs = x.clone().requires_grad_(True)
        return torch.autograd.grad(m(inputs).logsumexp(1).sum(), inputs)[0]

    def train_step(m: torch.nn.Module) -> None:
        m.zero_grad(set_to_none=True)
        m(x[:100]).logsumexp(1).sum().backward()

    print(f"per 1,000 inputs (training step: 100), one thread, median of {args.repeats}, ms: NCHW -> channels-last")
    for label, (arch, kwargs) in NETWORKS.items():
        nchw, nhwc = build(arch, kwargs, False).eval(), build(arch, kwargs, True).eval()
        cells = []
        passes = (("forward", forward), ("forward + input gradient", input_gradient), ("training step", train_step))
        for name, fn in passes:
            a = median_ms(lambda fn=fn, m=nchw: fn(m), args.repeats)
            b = median_ms(lambda fn=fn, m=nhwc: fn(m), args.repeats)
            cells.append(f"{name} {a:.1f} -> {b:.1f} ({a / b:.2f}x)")
        logits = (forward(nchw) - forward(nhwc)).abs().max().item()
        grads = (input_gradient(nchw) - input_gradient(nhwc)).abs().max().item()
        print(f"{label}: " + "; ".join(cells) + f"; max |difference| logits {logits:.1e}, input gradient {grads:.1e}")


if __name__ == "__main__":
    main()
