"""What a job pays before its first computation: importing torch, and making it deterministic.

Each step in a fresh process (the cost is per job: every rule runs its own Python). Prints the best wall
seconds of ``import torch``, ``torch.use_deterministic_algorithms(True)`` (which imports
``torch._inductor``) and :func:`advreg.runtime.configure` (which does not).

Usage: .venv/bin/python benchmarks/startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
PROBES = {
    "import torch": "import torch",
    "torch.use_deterministic_algorithms(True)": "import torch; torch.use_deterministic_algorithms(True)",
    "advreg.runtime.configure()": f"import sys; sys.path.insert(0, {SRC!r}); "
    "from advreg.runtime import configure; configure(1, 'cpu')",
}


def measure(code: str) -> float:
    """Wall seconds of a fresh interpreter running ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)  # warm the file cache
    print(f"{'step':45s} {'seconds (best)':>15s}")
    for name, code in PROBES.items():
        best = min(measure(code) for _ in range(args.repeats))
        print(f"{name:45s} {best:15.2f}")


if __name__ == "__main__":
    main()
