"""Cost of one DataGrad update, and how close the paper's finite difference is to the exact gradient.

Part 1 times one training update (forward, loss, backward, SGD step) on DataGrad's network
(``mlp_datagrad``: 3 x 784 ReLU, batch 100, 28x28 inputs) for plain, the finite-difference DataGrad
methods (eq. 2.4), the exact double-backprop versions and the multitask MT-DGL1, and prints each as a
multiple of a plain SGD update (the paper: "two forward passes and two backward passes", i.e. about 2x).

Part 2 compares the finite-difference update's regulariser gradient ((lam/phi)(grad L(x_r) - grad L(x)),
lam0 = 0) with the exact gradient of lam * mean R(g) by double backprop, in float64, at the paper's phi
values, on the He-initialised network and after ``--pretrain-steps`` plain SGD steps.

Usage: .venv/bin/python benchmarks/datagrad.py [--repeats 20] [--dataset results/data/fashion_mnist.pt]
       [--pretrain-steps 200] [--device auto] [--threads N]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from update_timing import make_update, time_updates

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.runtime import configure, seed_everything

TIMED = ("plain", "dgl1", "dgl2", "dgl1_exact", "dgl2_exact", "mt_dgl1")
PAPER_PHIS = (0.005, 0.01, 0.05, 0.1)


def load_images(path: str | None, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    if path is None:
        return torch.rand(n, 1, 28, 28, generator=generator), torch.randint(0, 10, (n,), generator=generator)
    from advreg.data.prepare import load_dataset
    from advreg.splits import to_model_input

    data = load_dataset(path)
    index = torch.randperm(data["train_labels"].shape[0], generator=generator)[:n]
    return to_model_input(data["train_images"][index]), data["train_labels"][index].long()


def update_costs(args, device: torch.device) -> None:
    """Methods are timed round-robin (one update of each per round), so drifting load affects all alike."""
    g = torch.Generator().manual_seed(0)
    x, y = load_images(args.dataset, args.batch, g)
    x, y = x.to(device), y.to(device)
    print(
        f"== one update: mlp_datagrad 3 x {args.width}, batch {args.batch}, 28x28, device {device}, "
        f"threads {torch.get_num_threads()}"
    )
    steps = {}
    for name in TIMED:
        seed_everything(0)
        multitask = name.startswith("mt")
        model = build_model("mlp_datagrad", (1, 28, 28), 10, width=args.width, aux_classes=5 if multitask else 0).to(
            device
        )
        method = build_method(name)
        if multitask:  # rotation labels for the batch (the loop's prepare_data would build the 5x set)
            method.rotation = torch.arange(args.batch) % 5
        steps[name] = make_update(model, method, Batch(x, y, torch.arange(args.batch)))
    time_updates(steps, args.repeats, device)


def agreement(args, device: torch.device) -> None:
    g = torch.Generator().manual_seed(1)
    x, y = load_images(args.dataset, args.batch, g)
    seed_everything(0)
    model = build_model("mlp_datagrad", (1, 28, 28), 10, width=args.width).to(device)
    data = "random uniform images" if args.dataset is None else args.dataset
    print(f"\n== finite difference vs exact regulariser gradient (float64, lam0 = 0), batch {args.batch} of {data}")
    for stage in ("He init", f"after {args.pretrain_steps} plain SGD steps"):
        if stage != "He init":
            if args.pretrain_steps == 0:
                break
            px, py = load_images(args.dataset, 50 * args.pretrain_steps, torch.Generator().manual_seed(2))
            model = model.float()
            opt = torch.optim.SGD(model.parameters(), lr=0.05)
            for s in range(args.pretrain_steps):
                xb, yb = px[s * 50 : (s + 1) * 50].to(device), py[s * 50 : (s + 1) * 50].to(device)
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
        m64 = model.double()
        batch = Batch(x.double().to(device), y.to(device), torch.arange(args.batch))
        for reg in ("1", "2"):
            exact = _update(m64, build_method(f"dgl{reg}_exact", {"lam": 1.0, "lam0": 0.0}), batch)
            cells = []
            for phi in PAPER_PHIS:
                fd = _update(m64, build_method(f"dgl{reg}", {"lam": 1.0, "phi": phi, "lam0": 0.0}), batch)
                cos = (fd @ exact / (fd.norm() * exact.norm())).item()
                cells.append(f"phi={phi:g}: cos {cos:.3f}, |fd|/|exact| {(fd.norm() / exact.norm()).item():.2f}")
            print(f"{stage:<28} R{reg}  " + "; ".join(cells))


def _update(model, method, batch) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    loss, _ = method.loss(model, batch)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--width", type=int, default=784)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--dataset", default=None, help="a dataset artifact (e.g. results/data/fashion_mnist.pt); default random images"
    )
    parser.add_argument("--pretrain-steps", type=int, default=200)
    parser.add_argument("--skip-agreement", action="store_true")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    device = configure(args.threads, args.device)
    update_costs(args, device)
    if not args.skip_agreement:
        agreement(args, device)


if __name__ == "__main__":
    main()
