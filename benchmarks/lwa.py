"""Cost of one LWA update (and of LWA_Rep and Goodfellow's method) as a multiple of a plain update.

Times one training update (the method's loss, backward, SGD step; the loop's ``loss.item()`` included) on LWA's
MLP (``mlp_lwa`` 500 x 500, Table 1's LWA width, LWA_Rep split after fc1) and on LWA's LeNet (tanh, dropout 0.5,
LWA_Rep split after conv2), batch 100 of 28x28 images, for:

- ``plain``: one forward and one backward pass (the paper's Normal);
- ``lwa``: Algorithm 2 with the Adv_Loss direction: a forward-backward pass to the input, then the update's
  forward-backward pass at x + r (the paper: about twice a plain update);
- ``lwa alpha``: Algorithm 2 with the Adv_Alpha direction (sec. 6.1.2): K = 10 backward passes for the softmax
  Jacobian (the paper, sec. 7.1: "K times more expensive");
- ``lwa_rep``: Algorithm 3, the inner pass through the classifier part only;
- ``goodfellow``: alpha L(x) + (1 - alpha) L(x + r), the clean forward pass shared.

Methods are timed round-robin (one update of each per round), so drifting load affects all alike.

Usage: .venv/bin/python benchmarks/lwa.py [--repeats 30] [--batch 100] [--device auto] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch
from update_timing import make_update, time_updates

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.runtime import configure, seed_everything

METHODS = {
    "plain": ("plain", {}),
    "lwa": ("lwa", {"c": 1.5}),
    "lwa alpha": ("lwa", {"c": 1.5, "direction": "alpha"}),
    "lwa_rep": ("lwa_rep", {"c": 1.5}),
    "goodfellow": ("goodfellow", {"epsilon": 1.5}),
}
MODELS = {
    "mlp_lwa 500x500": ("mlp_lwa", {"hidden": (500, 500), "representation_layer": "fc1"}),
    "lenet (LWA)": (
        "lenet",
        {"conv_activation": "tanh", "activation": "tanh", "dropout": 0.5, "representation_layer": "conv2"},
    ),
}


def time_model(label: str, arch: str, kwargs: dict, args, device: torch.device) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 1, 28, 28, generator=g).to(device)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(device)
    steps = {}
    for name, (method, params) in METHODS.items():
        seed_everything(0)
        model = build_model(arch, (1, 28, 28), 10, **kwargs).to(device).train()
        steps[name] = make_update(model, build_method(method, params), Batch(x, y, torch.arange(args.batch)))
    print(f"\n== one update: {label}, batch {args.batch}, 28x28, device {device}, threads {torch.get_num_threads()}")
    time_updates(steps, args.repeats, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the pipeline's jobs use 1)")
    args = parser.parse_args()
    device = configure(args.threads, args.device)
    for label, (arch, kwargs) in MODELS.items():
        time_model(label, arch, kwargs, args, device)


if __name__ == "__main__":
    main()
