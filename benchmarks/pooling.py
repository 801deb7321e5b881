"""What the fast 2 x 2 max-pool (src/advreg/models/pooling.py) saves: ATen's ``F.max_pool2d`` against the four-view
maximum on LeNet's first pooled map, and a whole evaluation forward pass (1000 Fashion-MNIST-sized inputs, no
gradient) of the default preset's LeNet and VGG with ``nn.MaxPool2d`` and with ``MaxPool2x2``; one thread, median.

Usage: .venv/bin/python benchmarks/pooling.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from advreg.models import build_model  # noqa: E402
from advreg.models.pooling import MaxPool2x2, max_pool_2x2  # noqa: E402
from advreg.runtime import configure  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in ms over ``repeats`` calls, after one warm-up call (lenet_widths.py uses it)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def with_aten_pools(model: torch.nn.Module) -> torch.nn.Module:
    for name, module in list(model.named_modules()):
        if isinstance(module, MaxPool2x2):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, torch.nn.MaxPool2d(2, 2, ceil_mode=module.ceil_mode))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    configure(1, "cpu")
    x = torch.rand(1000, 6, 24, 24)
    with torch.no_grad():
        aten = median_ms(lambda: F.max_pool2d(x, 2, 2), args.repeats)
        fast = median_ms(lambda: max_pool_2x2(x), args.repeats)
    print(f"max-pool (1000, 6, 24, 24), no grad: ATen {aten:.1f} ms, four views {fast:.1f} ms ({aten / fast:.1f}x)")
    inputs = torch.rand(1000, 1, 28, 28)
    for arch, kwargs in (("lenet", {"channels": (6, 16), "fc_width": 100}), ("vgg", {"width": 0.125})):
        torch.manual_seed(0)
        model = build_model(arch, (1, 28, 28), 10, **kwargs).eval()
        with torch.no_grad():
            ours = median_ms(lambda m=model: m(inputs), args.repeats)
            with_aten_pools(model)  # the same weights, ATen's pooling
            reference = median_ms(lambda m=model: m(inputs), args.repeats)
        print(f"{arch} {kwargs}: forward of 1000 inputs, nn.MaxPool2d {reference:.1f} ms, MaxPool2x2 {ours:.1f} ms")


if __name__ == "__main__":
    main()
