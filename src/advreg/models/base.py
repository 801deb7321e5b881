"""The uniform model API shared by every architecture: a classifier as an ordered list of named blocks.

Every paper needs something beyond the logits:

- HLDR (latent-disparity-regularization.md, sec. III) penalises the disparity of the post-BN outputs of all
  hidden layers, so it needs every hidden activation (:meth:`LayeredClassifier.forward_with_activations`);
- LWA_Rep (learning-with-a-strong-adversary.md, eq. 4 / Alg. 3 and sec. 7.2) perturbs the output of a
  "representation learner" and runs the classifier part on it (:attr:`representation_layer`,
  :meth:`LayeredClassifier.forward_to`, :meth:`LayeredClassifier.forward_from`);
- DataGrad and DeepDefense need only logits, but their double backpropagation works through the same
  blocks unchanged.

This module also holds the small helpers the architecture modules share (activation lookup, width scaling,
shape inference without side effects).
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["LayeredClassifier", "auxiliary_head", "make_activation", "scaled", "infer_output_shape"]

_BLOCK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LayeredClassifier(nn.Module):
    """A classifier written as an ordered list of named blocks.

    The output of every block except the last is a hidden activation; the last block produces logits.
    Blocks live in an ``nn.ModuleDict`` called ``blocks``, so state-dict keys are stable and readable
    (``blocks.<block>.<layer>.<param>``, e.g. ``blocks.fc1.linear.weight``).

    Args:
        blocks: ``(name, module)`` pairs in execution order; at least two (one hidden block and the output
            block). Names must be unique Python identifiers.
        representation_layer: the hidden block whose output is the "representation" (LWA paper eq. 4 /
            Alg. 3: the split between representation learner and classifier). Default: the last hidden
            block.
        aux_head: an optional second output layer reading the last hidden block's output, for multitask
            training (DataGrad sec. 3: "two disjoint sets of output units, each connected to the penultimate
            hidden layer by a separate set of parameters"). It is registered as the submodule ``aux_head``
            only when given, so models without one keep their state-dict keys. :meth:`forward` ignores it
            (attacks and evaluation see the main task only); :meth:`forward_aux` returns both outputs.
    """

    def __init__(
        self,
        blocks: Sequence[tuple[str, nn.Module]],
        representation_layer: str | None = None,
        aux_head: nn.Module | None = None,
    ) -> None:
        super().__init__()
        blocks = list(blocks)
        if len(blocks) < 2:
            raise ValueError(
                f"LayeredClassifier needs at least two blocks (hidden blocks, then the output block); got {len(blocks)}"
            )
        seen: set[str] = set()
        for i, entry in enumerate(blocks):
            if not (isinstance(entry, tuple) and len(entry) == 2):
                raise ValueError(f"block #{i} must be a (name, module) pair, got {entry!r}")
            name, module = entry
            if not isinstance(name, str) or not _BLOCK_NAME.match(name):
                raise ValueError(f"block #{i} has an invalid name {name!r}: use a Python identifier")
            if name in seen:
                raise ValueError(f"block name {name!r} is used twice")
            if not isinstance(module, nn.Module):
                raise ValueError(f"block {name!r} is a {type(module).__name__}, not an nn.Module")
            seen.add(name)
        self.blocks = nn.ModuleDict(OrderedDict(blocks))
        self._names: list[str] = [name for name, _ in blocks]
        self.representation_layer = self._names[-2] if representation_layer is None else representation_layer
        if aux_head is not None and not isinstance(aux_head, nn.Module):
            raise ValueError(f"aux_head is a {type(aux_head).__name__}, not an nn.Module")
        self.aux_head = aux_head  # a registered submodule when given, a plain None attribute otherwise

    @property
    def representation_layer(self) -> str:
        """The hidden block whose output is the representation (LWA_Rep split); validated on assignment."""
        return self._representation_layer

    @representation_layer.setter
    def representation_layer(self, name: str) -> None:
        self._index_of_hidden(name, "representation_layer")
        self._representation_layer = name

    @property
    def hidden_names(self) -> list[str]:
        """Names of all blocks but the last (the hidden blocks), in order."""
        return self._names[:-1]

    @property
    def output_name(self) -> str:
        """Name of the last block (the one producing logits)."""
        return self._names[-1]

    def _index_of_hidden(self, name: str, argument: str) -> int:
        if name not in self._names[:-1]:
            raise ValueError(
                f"{argument}={name!r} is not a hidden block of this model; hidden blocks: {self.hidden_names}"
            )
        return self._names.index(name)

    def forward(self, x: Tensor) -> Tensor:
        """Logits for a batch ``x`` of shape (N, C, H, W)."""
        for name in self._names:
            x = self.blocks[name](x)
        return x

    def forward_aux(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(main logits, auxiliary logits): the hidden blocks run once, then both heads read the last one."""
        if self.aux_head is None:
            raise ValueError(
                "this model has no auxiliary head (build it with an aux head, e.g. model kwargs aux_classes: 5)"
            )
        for name in self._names[:-1]:
            x = self.blocks[name](x)
        return self.blocks[self._names[-1]](x), self.aux_head(x)

    def forward_with_activations(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits plus an ordered dict ``hidden block name -> its output`` (one entry per hidden block)."""
        acts: dict[str, Tensor] = OrderedDict()
        for name in self._names[:-1]:
            x = self.blocks[name](x)
            acts[name] = x
        return self.blocks[self._names[-1]](x), acts

    def forward_to(self, x: Tensor, upto: str) -> Tensor:
        """Run the blocks up to and including hidden block ``upto``; return its output (not the logits)."""
        stop = self._index_of_hidden(upto, "upto")
        for name in self._names[: stop + 1]:
            x = self.blocks[name](x)
        return x

    def forward_from(self, h: Tensor, after: str) -> Tensor:
        """Run the blocks after hidden block ``after`` on its (possibly perturbed) output ``h``; return logits."""
        start = self._index_of_hidden(after, "after")
        for name in self._names[start + 1 :]:
            h = self.blocks[name](h)
        return h


# ---------------------------------------------------------------------------------------------- helpers

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


def make_activation(name: str | None) -> nn.Module | None:
    """A fresh activation module for ``name`` ("relu", "tanh", "elu"; ``None`` -> no activation). The names
    were checked against each architecture's choices when its parameters were parsed (models/catalog.py)."""
    return None if name is None else _ACTIVATIONS[name]()


def scaled(channels: int, width: float) -> int:
    """Channel/unit count scaled by a width multiplier: ``max(1, round(channels * width))``."""
    return max(1, int(round(channels * width)))


def infer_output_shape(module: nn.Module, input_shape: Sequence[int], model: str) -> tuple[int, ...]:
    """Per-sample output shape of ``module`` on a (C, H, W) input, found by one dummy forward pass.

    The pass runs in eval mode under ``torch.no_grad()`` and restores every submodule's training flag, so it
    consumes no random numbers (dropout is off) and leaves BatchNorm running statistics untouched. An input
    too small for the architecture raises a ValueError naming ``model`` and the input shape.
    """
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(1, *input_shape))
    except RuntimeError as err:
        shape = tuple(input_shape)
        raise ValueError(f"{model}: input_shape {shape} is too small for this architecture ({err})") from err
    finally:
        for m, flag in flags:
            m.training = flag
    return tuple(out.shape[1:])


def auxiliary_head(net: LayeredClassifier, input_shape: Sequence[int], classes: int) -> nn.Module:
    """A second output layer (multitask, DataGrad eq. 3.1) on the flattened output of ``net``'s last hidden
    block: flatten -> linear(classes), PyTorch's default initialisation."""
    hidden = nn.Sequential(*(net.blocks[name] for name in net.hidden_names))
    features = math.prod(infer_output_shape(hidden, input_shape, "auxiliary head"))
    return nn.Sequential(OrderedDict(flatten=nn.Flatten(start_dim=1), linear=nn.Linear(features, classes)))
