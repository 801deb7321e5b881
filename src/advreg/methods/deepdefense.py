"""``deepdefense``: the adversarial perturbation-based regulariser of DeepDefense (deepdefense.md, sec. 3).

Eq. 3 with the split of eq. 6 and R = exp, per minibatch of B samples (the authors' code: lambda times the
batch mean, i.e. eq. 3's sums divided by B)::

    loss = mean_k CE(y_k, f(x_k)) + (lam / B) * [ sum_{k in T} exp(-c ||r_k|| / ||x_k||)
                                                   + sum_{k in F} exp( d ||r_k|| / ||x_k||) ]

T: samples the model classifies correctly (at the start of the step), F: the misclassified ones; norms are
Euclidean (sec. 4: "the Euclidean norm is simply chosen") and taken in the model's input space (with
``preprocess: matconvnet``, the paper's 255 x minus the training mean image, :mod:`advreg.models.preprocess`; the
[0, 1] pixels otherwise), so c and d act on the paper's ratios. r_k is the DeepFool perturbation of x_k (sec. 3.1),
computed by :func:`advreg.attacks.deepfool.unrolled_deepfool`: the same DeepFool loop as the attack, with every
step kept in the autograd graph, so that ``loss.backward()`` differentiates r_k with respect to the weights
through all unrolled steps (sec. 3.3's "recursive-flavoured network"; the class gradients w_k come from a
backward pass with ``create_graph``, in which ReLU masks and max-pooling indices are constants, exactly the
weight- and index-sharing of Fig. 1). Which class a step aims at and when a sample stops are constants.

- T samples: untargeted DeepFool away from the true (= predicted) label, every other class a candidate;
- F samples (``misclassified: towards_true``, the default): DeepFool towards the true label from the current
  prediction, stopping once the prediction is the true label (sec. 3.4: "especially when the network is to be
  'fooled' to classify it as its ground-truth"; the authors' ``forward_wrong``); ``away``: untargeted from the
  wrong prediction instead;
- at most ``max_iter`` steps (authors' code: 5); the running total is scaled by 1 + ``overshoot`` (0.02) at
  the iterates and in r_k, and ``step_eps`` (0: eq. 2 exactly) is added to each step's distance;
- ``top_classes`` k > 0 (a speed option, not the paper's): correctly classified samples consider only the k
  classes with the highest logits besides their label, so each step needs k + 1 class gradients instead of K.

``layer`` (Fig. 5): the regulariser is evaluated with every parameter outside that block detached, so its
gradient reaches only that block's weights and biases ("we mask the gradient of our adversarial regularizer
w.r.t. the learning parameters of all layers except one"); the cross-entropy still trains every layer.

The regulariser's DeepFool runs on the model in the mode the loop set (training; DeepDefense freezes BatchNorm,
``batchnorm: frozen``), on the minibatch as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from advreg.attacks.base import per_sample_norm
from advreg.attacks.deepfool import DeepFoolResult, unrolled_deepfool
from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.models.preprocess import InputSpace, input_space


def masked_to_block(model: nn.Module, block: str) -> nn.Module:
    """A callable model whose parameters outside ``block`` are detached (same values, no gradient)."""
    blocks = getattr(model, "blocks", None)
    if blocks is None or block not in blocks:
        known = list(blocks.keys()) if blocks is not None else []
        raise ValueError(f"method 'deepdefense': layer {block!r} is not a block of this model (blocks: {known})")
    prefix = f"blocks.{block}."
    params = {name: p if name.startswith(prefix) else p.detach() for name, p in model.named_parameters()}

    class _Masked(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return functional_call(model, params, (x,))

    return _Masked()


def deepfool_distances(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    predicted: torch.Tensor,
    *,
    max_iter: int,
    overshoot: float,
    step_eps: float,
    towards_true: bool,
    batched: bool,
    top_classes: int = 0,
    space: InputSpace | None = None,
) -> tuple[torch.Tensor, DeepFoolResult]:
    """(||r_k||_2 / ||x_k||_2 per sample, differentiable; the DeepFool result) for the regulariser of eq. 6.

    Norms and ``step_eps`` are in ``space`` (the model's input space, :func:`advreg.models.preprocess.input_space`:
    DeepDefense's 255 x - mean with ``preprocess: matconvnet``; None: the [0, 1] pixels); DeepFool's steps are
    the same in either (the map is affine with one scale), ``step_eps`` excepted, which is converted."""
    space = space or InputSpace(None)
    correct = predicted == y
    target = torch.where(correct, torch.full_like(y, -1), y) if towards_true else None
    result = unrolled_deepfool(
        model,
        x,
        predicted,
        target,
        overshoot=overshoot,
        max_iter=max_iter,
        step_eps=step_eps / space.scale,
        batched=batched,
        top_classes=top_classes,
    )
    r_norm = per_sample_norm(space.perturbation(result.perturbation))
    ratio = r_norm / per_sample_norm(space.inputs(x).detach()).clamp_min(1e-12)
    return ratio, result


def deepdefense_penalty(ratio: torch.Tensor, correct: torch.Tensor, c: float, d: float) -> torch.Tensor:
    """Eq. 6 with R = exp, per sample: exp(-c ratio) where ``correct``, exp(d ratio) elsewhere."""
    return torch.where(correct, torch.exp(-c * ratio), torch.exp(d * ratio))


class DeepDefense(Method):
    """DeepDefense (eq. 3, 6; module docstring): CE plus lam times the batch mean of the DeepFool penalty."""

    spec = METHODS["deepdefense"]

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        if self.params.layer:
            masked_to_block(model, self.params.layer)  # fail before training if the block does not exist

    def regularised_model(self, model: nn.Module) -> nn.Module:
        return masked_to_block(model, self.params.layer) if self.params.layer else model

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        p = self.params
        logits = model(batch.x)
        ce = F.cross_entropy(logits, batch.y)
        predicted = logits.detach().argmax(dim=1)
        correct = predicted == batch.y
        ratio, result = deepfool_distances(
            self.regularised_model(model),
            batch.x,
            batch.y,
            predicted,
            max_iter=p.max_iter,
            overshoot=p.overshoot,
            step_eps=p.step_eps,
            towards_true=p.misclassified == "towards_true",
            batched=p.class_gradients == "batched",
            top_classes=p.top_classes,
            space=input_space(model),
        )
        penalty = deepdefense_penalty(ratio, correct, p.c, p.d).mean()
        logs = {
            "ce": ce.item(),
            "reg": penalty.item(),
            "ratio": ratio.detach().mean().item(),
            "deepfool_iterations": result.iterations.float().mean().item(),
        }
        return ce + p.lam * penalty, logs
