"""Every training method's name and parameters (torch-free: the workflow's plan is built from this).

A method's implementation lives in its own module (``spec.impl``) and is imported only when a job trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import NoParams, Params, Registry, Spec, param


@dataclass(frozen=True)
class MethodSpec(Spec):
    """``needs_aux_head``: the model must have a second output head (DataGrad's multitask rotation task)."""

    needs_aux_head: bool = False


def method(name: str, params: type[Params], module: str, cls: str, summary: str, **extra: bool) -> MethodSpec:
    return MethodSpec("method", name, params, f"advreg.methods.{module}:{cls}", summary, **extra)


@dataclass(frozen=True)
class WeightPenaltyParams(Params):
    lam: float = param(1e-4, "penalty weight lambda", ge=0)
    reduction: Literal["batch_sum", "mean"] = param(
        "batch_sum",
        "lambda weighs the penalty against the minibatch's summed cross-entropy (lambda / B against the mean; "
        "the reading that makes DataGrad's rows plausible) or against the mean (textbook; diverges at 0.1)",
    )


@dataclass(frozen=True)
class DataGradExactParams(Params):
    lam: float = param(0.01, "weight lambda_1 of the data-gradient penalty R(dL/dx)", ge=0)
    lam0: float = param(1.0, "weight lambda_0 of the cross-entropy (sec. 3: 1)", ge=0)


@dataclass(frozen=True)
class DataGradParams(DataGradExactParams):
    phi: float = param(0.1, "finite-difference step: the adversarial example is x + phi * y (eq. 2.4)", gt=0)


@dataclass(frozen=True)
class MultitaskParams(Params):
    gamma: float = param(0.5, "weight of the auxiliary rotation loss (eq. 3.1)", ge=0)


@dataclass(frozen=True)
class MultitaskDataGradParams(MultitaskParams):
    lam: float = param(0.01, "weight lambda_1 of the data-gradient penalty on the main loss", ge=0)
    phi: float = param(0.1, "finite-difference step (eq. 2.4)", gt=0)
    lam0: float = param(1.0, "weight of the main cross-entropy (eq. 3.1: 1)", ge=0)


# --- Learning with a Strong Adversary: parameters (methods/lwa.py, methods/goodfellow.py) ---

# --- DeepDefense: parameters (methods/deepdefense.py, methods/deepfool_at.py, methods/parseval.py) ---

# --- Latent disparity regularisation: parameters (methods/hldr.py, fimr.py, hgd.py, agnt.py) ---


METHODS: Registry[MethodSpec] = Registry(
    "method",
    method("plain", NoParams, "plain", "Plain", "mean cross-entropy on clean inputs (every paper's baseline)"),
    # DataGrad (datagrad.md, sec. 3): baseline, classical penalties, DataGrad, multitask
    method("rect", NoParams, "weight_penalty", "Rect", "DataGrad's Rect: plain cross-entropy under the paper's name"),
    method("l1", WeightPenaltyParams, "weight_penalty", "L1", "cross-entropy + lam / B * sum |W| (DataGrad's L1)"),
    method("l2", WeightPenaltyParams, "weight_penalty", "L2", "cross-entropy + lam / B * sum W^2 (DataGrad's L2)"),
    method("dgl1", DataGradParams, "datagrad", "DGL1", "DataGrad-L1 by the paper's finite difference (eq. 2.4)"),
    method("dgl2", DataGradParams, "datagrad", "DGL2", "DataGrad-L2 by the paper's finite difference (eq. 2.4)"),
    method(
        "dgl1_exact", DataGradExactParams, "datagrad", "DGL1Exact", "DataGrad-L1's objective by double backpropagation"
    ),
    method(
        "dgl2_exact", DataGradExactParams, "datagrad", "DGL2Exact", "DataGrad-L2's objective by double backpropagation"
    ),
    method(
        "mt",
        MultitaskParams,
        "multitask",
        "MT",
        "DataGrad's multitask model (rotation task, eq. 3.1)",
        needs_aux_head=True,
    ),
    method(
        "mt_dgl1",
        MultitaskDataGradParams,
        "multitask",
        "MTDGL1",
        "multitask + DataGrad-L1 (eq. 3.1)",
        needs_aux_head=True,
    ),
    method(
        "mt_dgl2",
        MultitaskDataGradParams,
        "multitask",
        "MTDGL2",
        "multitask + DataGrad-L2 (eq. 3.1)",
        needs_aux_head=True,
    ),
    # --- Learning with a Strong Adversary: methods ---
    # --- DeepDefense: methods ---
    # --- Latent disparity regularisation: methods ---
)
