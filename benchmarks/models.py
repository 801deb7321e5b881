"""Forward+backward throughput of every architecture (images/s), at the input size each is used with.

Usage: .venv/bin/python benchmarks/models.py [--batch 100] [--repeats 5] [--width 0.25]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from advreg.models import MODEL_NAMES, build_model
from advreg.runtime import configure, seed_everything

INPUTS = {"convnet": (3, 32, 32), "nin": (3, 32, 32), "lwa_cifar": (3, 32, 32)}
SCALABLE = {"vgg", "convnet", "nin", "lwa_cifar"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--width", type=float, default=1.0, help="width multiplier for vgg/convnet/nin/lwa_cifar")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    device = configure(args.threads, "auto")
    print(f"device {device}, threads {torch.get_num_threads()}, batch {args.batch}, width {args.width}")
    print(f"{'model':<16}{'input':>12}{'params':>12}{'fwd+bwd img/s':>16}")
    for name in MODEL_NAMES:
        seed_everything(0)
        shape = INPUTS.get(name, (1, 28, 28))
        kwargs = {"width": args.width} if name in SCALABLE else {}
        model = build_model(name, shape, 10, **kwargs).to(device)
        x = torch.rand(args.batch, *shape, device=device)
        y = torch.randint(0, 10, (args.batch,), device=device)
        F.cross_entropy(model(x), y).backward()  # warm-up
        start = time.perf_counter()
        for _ in range(args.repeats):
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        rate = args.batch * args.repeats / (time.perf_counter() - start)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:<16}{'x'.join(map(str, shape)):>12}{params:>12,}{rate:>16,.0f}")


if __name__ == "__main__":
    main()
