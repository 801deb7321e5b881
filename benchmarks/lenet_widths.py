"""What LeNet-5's widths save in LWA's default-preset LeNet (config/config.yaml, `lwa_fmnist_lenet`): the tanh LeNet
at MXNet's widths (conv 20 and 50, FC-500: config/paper.yaml's) against LeNet-5's (conv 6 and 16) with the authors'
FC-100, per 1,000 Fashion-MNIST-sized inputs: an evaluation forward pass (no gradient) and a forward+backward pass
(a training step's or an attack step's cost); one thread, median.

Usage: .venv/bin/python benchmarks/lenet_widths.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pooling import median_ms  # noqa: E402  (benchmarks/pooling.py: the same timer)

from advreg.models import build_model  # noqa: E402
from advreg.runtime import configure  # noqa: E402

WIDTHS = {
    "MXNet's (20, 50), FC-500": {"channels": (20, 50), "fc_width": 500},
    "LeNet-5's (6, 16), FC-100": {"channels": (6, 16), "fc_width": 100},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    configure(1, "cpu")
    x = torch.rand(1000, 1, 28, 28)
    y = torch.randint(0, 10, (1000,))
    results = {}
    for label, widths in WIDTHS.items():
        torch.manual_seed(0)
        model = build_model("lenet", (1, 28, 28), 10, conv_activation="tanh", activation="tanh", **widths)

        def train_pass(m=model) -> None:
            m.zero_grad(set_to_none=True)
            F.cross_entropy(m(x), y).backward()

        model.eval()
        with torch.no_grad():
            forward = median_ms(lambda m=model: m(x), args.repeats)
        backward = median_ms(train_pass, args.repeats)
        params = sum(p.numel() for p in model.parameters())
        results[label] = (forward, backward)
        print(f"{label}: {params:,} parameters, forward {forward:.1f} ms, forward+backward {backward:.1f} ms")
    (wide_f, wide_b), (narrow_f, narrow_b) = results.values()
    print(f"LeNet-5's widths: forward {wide_f / narrow_f:.1f}x, forward+backward {wide_b / narrow_b:.1f}x cheaper")


if __name__ == "__main__":
    main()
