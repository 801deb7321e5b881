"""What portable mode costs: training-step time per architecture in `portable` vs `native` mode (one thread),
each measured in a fresh process (the numeric libraries read their settings when they load).

Usage: .venv/bin/python benchmarks/reproducibility.py [--steps 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys, time
sys.path.insert(0, {src!r})
from advreg.reproducibility import apply
from advreg.settings import ReproducibilityParams
apply(ReproducibilityParams.of(mode={mode!r}, threads=1))
import torch
import torch.nn.functional as F
from advreg.models import build_model
from advreg.runtime import configure
configure(1, "cpu")
for arch, kwargs in (("mlp_deepdefense", {{}}), ("lenet", {{}}), ("vgg", {{"width": 0.125}})):
    torch.manual_seed(0)
    model = build_model(arch, (1, 28, 28), 10, **kwargs)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
    times = []
    for step in range({steps} + 3):
        start = time.perf_counter()
        optimiser.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimiser.step()
        if step >= 3:
            times.append(time.perf_counter() - start)
    print(arch, sorted(times)[len(times) // 2] * 1000, torch.backends.cpu.get_cpu_capability())
"""


def measure(mode: str, steps: int) -> dict[str, tuple[float, str]]:
    script = PROBE.format(src=str(ROOT / "src"), mode=mode, steps=steps)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return {arch: (float(ms), capability) for arch, ms, capability in (line.split() for line in out.splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    portable, native = measure("portable", args.steps), measure("native", args.steps)
    print(f"{'model':<16}{'native ms':>10}{'portable ms':>12}{'ratio':>7}  (median training step, batch 100, 1 thread)")
    for arch in portable:
        print(
            f"{arch:<16}{native[arch][0]:>10.1f}{portable[arch][0]:>12.1f}{portable[arch][0] / native[arch][0]:>7.2f}"
            f"  (ATen capability: native {native[arch][1]}, portable {portable[arch][1]})"
        )


if __name__ == "__main__":
    main()
