"""The interface every training method implements.

A method turns a batch into a scalar loss; the generic loop (:mod:`advreg.training.loop`) owns the
optimizer, schedule, divergence checks and model selection. Methods that need more than a loss (a
projection after each step, as in Parseval training, or a precomputed adversarial training set, as in
DeepDefense's adversarial training) override :meth:`Method.setup` or :meth:`Method.after_step`. Methods
that train on a transformed training set (DataGrad's multitask models, trained on five rotated copies of
every sample, footnote 4) override :meth:`Method.prepare_data`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from advreg.methods.catalog import MethodSpec
from advreg.params import Params
from advreg.splits import Split


@dataclass
class Batch:
    """A minibatch: model inputs in [0, 1] (N, C, H, W), int64 labels, and indices into the training set.

    ``crop``: the random windows the training loop cut ``x`` to when the model crops (drawn once per step,
    :mod:`advreg.models.crop`), None otherwise; apply them to any other tensor of the batch's samples with
    :meth:`same_crop`."""

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor
    crop: Callable[[torch.Tensor], torch.Tensor] | None = None

    def same_crop(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` (one entry per sample of the batch, full size) cut to the windows ``x`` was cut to."""
        return t if self.crop is None else self.crop(t)


class Method:
    """Base class of training methods. Subclasses set ``spec = METHODS["name"]`` (the name and parameters are
    declared in :mod:`advreg.methods.catalog`) and implement :meth:`loss`."""

    spec: ClassVar[MethodSpec]

    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        self.params = self.spec.parse(params)

    @property
    def name(self) -> str:
        return self.spec.name

    def prepare_data(self, train: Split, model: nn.Module) -> Split:
        """Called once by the loop before :meth:`setup`; the split it returns is the one trained on.

        ``model`` is the model as training starts (the reference when fine-tuning), e.g. to craft a fixed
        adversarial training set from it (DeepDefense's adversarial training, HLDR's fine-tuning pairs); leave it
        unchanged. The default returns ``train`` unchanged. An override may return an expanded split; its
        ``index`` is what :attr:`Batch.index` carries, so per-sample data kept on the method (auxiliary labels,
        adversarial partners) can be looked up by it. Validation data are not passed through this hook.
        """
        return train

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        """Called once before training (e.g. to precompute a fixed adversarial training set)."""

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise on this batch, and extra scalars to log."""
        raise NotImplementedError

    def after_step(self, model: nn.Module) -> None:
        """Called after each optimizer step (e.g. a projection)."""

    def state_dict(self) -> dict[str, Any]:
        """The method's state that changes during training, for checkpoints (:mod:`advreg.training.checkpoint`).

        What :meth:`prepare_data` and :meth:`setup` compute is not included: a resumed job calls them again with the
        same inputs. The default records the state of every ``torch.Generator`` the method keeps as an attribute
        (e.g. Parseval's row subsets); a method with other changing state overrides both this and
        :meth:`load_state_dict` (tensors and plain values only).
        """
        return {
            name: value.get_state() for name, value in sorted(vars(self).items()) if isinstance(value, torch.Generator)
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called after :meth:`setup`)."""
        for name, value in state.items():
            current = getattr(self, name, None)
            if not isinstance(current, torch.Generator):
                raise ValueError(f"method '{self.name}': checkpointed generator {name!r} does not exist after setup()")
            current.set_state(value)
