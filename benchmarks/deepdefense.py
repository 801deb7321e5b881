"""Cost of one DeepDefense update (eq. 3, 6: the DeepFool regulariser unrolled and differentiated, sec. 3.3).

For DeepDefense's MLP (784-500-150-10) and LeNet, batch 100, 28x28: the time of one training update (loss,
backward, SGD step) as a multiple of a plain cross-entropy update, and the memory its autograd graph holds at the
backward pass (the tensors saved for backward, each storage counted once; on CUDA also the peak allocated
memory), per number of unrolled DeepFool iterations (``max_iter``), with the class gradients by a loop over
classes (one backward pass per class) or batched (one backward pass for all classes, ``is_grads_batched``), and
with every class or only the 3 most likely as DeepFool's candidates (``top_classes``).

The models are first fitted for a few hundred plain steps (to synthetic images whose class is the brightest of
ten pixels, or to a dataset artifact's training images with ``--dataset``), so that DeepFool takes the number of
steps it takes on a trained network; the mean number of steps the regulariser's DeepFool took is printed.

Usage: .venv/bin/python benchmarks/deepdefense.py [--repeats 3] [--iters 1 2 3 5] [--archs mlp_deepdefense lenet]
       [--dataset results/data/fashion_mnist.pt] [--device auto] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from update_timing import make_update

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.runtime import configure, seed_everything


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def load_images(path: str | None, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    if path is None:
        x = torch.rand(n, 1, 28, 28, generator=generator)
        return x, x.flatten(1)[:, :10].argmax(1)  # the class is the brightest of the first ten pixels
    from advreg.data.prepare import load_dataset
    from advreg.splits import to_model_input

    data = load_dataset(path)
    index = torch.randperm(data["train_labels"].shape[0], generator=generator)[:n]
    return to_model_input(data["train_images"][index]), data["train_labels"][index].long()


def fitted_model(arch: str, x: torch.Tensor, y: torch.Tensor, steps: int, device: torch.device) -> torch.nn.Module:
    seed_everything(0)
    model = build_model(arch, (1, 28, 28), 10).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05 if arch.startswith("mlp") else 0.02, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (100,), generator=g)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[idx].to(device)), y[idx].to(device)).backward()
        opt.step()
    return model


def saved_bytes(model: torch.nn.Module, method, batch: Batch) -> tuple[float, float]:
    """(MB of tensors the loss's graph saves for backward, each storage once; mean DeepFool steps)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss, logs = method.loss(model, batch)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return sum(seen.values()) / 2**20, logs.get("deepfool_iterations", 0.0)


def benchmark(args: argparse.Namespace, device: torch.device) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = load_images(args.dataset, 5000, g)
    print(
        f"== one update, batch {args.batch}, 28x28, device {device}, threads {torch.get_num_threads()}, "
        f"data {'synthetic' if args.dataset is None else args.dataset}"
    )
    header = f"{'network':<16}{'max_iter':>9}{'classes':>9}{'gradients':>10}{'ms':>10}{'x plain':>9}{'graph MB':>10}"
    header += f"{'steps':>7}" + (f"{'peak MB':>9}" if device.type == "cuda" else "")
    print(header)
    for arch in args.archs:
        model = fitted_model(arch, x, y, args.fit_steps, device)
        batch = Batch(x[: args.batch].to(device), y[: args.batch].to(device), torch.arange(args.batch))
        configs = [("plain", {}, "-", "-", "-")]
        for max_iter in args.iters:
            for top in (0, 3):
                for mode in ("loop", "batched"):
                    params = {"max_iter": max_iter, "top_classes": top, "class_gradients": mode}
                    configs.append(("deepdefense", params, str(max_iter), "all" if top == 0 else f"top {top}", mode))
        steps = [make_update(model, build_method(name, params), batch, lr=0.0) for name, params, *_ in configs]
        for step in steps:  # warm-up
            step()
        _sync(device)
        times: list[list[float]] = [[] for _ in configs]
        for _ in range(args.repeats):  # round-robin: drifting load affects all alike
            for i, step in enumerate(steps):
                start = time.perf_counter()
                step()
                _sync(device)
                times[i].append(1000 * (time.perf_counter() - start))
        median = [sorted(t)[len(t) // 2] for t in times]
        for i, (name, params, max_iter, classes, mode) in enumerate(configs):
            method = build_method(name, params)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            graph, iterations = saved_bytes(model, method, batch)
            line = f"{arch:<16}{max_iter:>9}{classes:>9}{mode:>10}{median[i]:>10.1f}{median[i] / median[0]:>9.1f}"
            line += f"{graph:>10.1f}{iterations:>7.2f}"
            if device.type == "cuda":
                line += f"{torch.cuda.max_memory_allocated(device) / 2**20:>9.1f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iters", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--archs", nargs="+", default=["mlp_deepdefense", "lenet"])
    parser.add_argument("--fit-steps", type=int, default=300)
    parser.add_argument(
        "--dataset", default=None, help="a dataset artifact (e.g. results/data/fashion_mnist.pt); default synthetic"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    device = configure(args.threads, args.device)
    benchmark(args, device)


if __name__ == "__main__":
    main()
