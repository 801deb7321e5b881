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


@dataclass(frozen=True)
class LWAParams(Params):
    """LWA (Alg. 2, eq. 2): train on x + r, r the inner maximiser of sec. 6.1, held fixed (Proposition 6)."""

    c: float = param(1.5, "budget c of the perturbation (eq. 2; authors' code: 1.7 MLP, 1.2 LeNet, 0.3 CIFAR)", gt=0)
    direction: Literal["loss", "alpha"] = param(
        "loss", "r* from the loss gradient (sec. 6.1.1, Adv_Loss) or from Algorithm 1 on alpha (sec. 6.1.2, Adv_Alpha)"
    )
    norm: Literal["l2", "linf"] = param(
        "l2", "the ball of eq. 2: L2, r = c r*/||r*||_2 (Alg. 2 line 5), or L-inf, r = c sign(g) (sec. 6.1.1 item 2)"
    )
    inner_mode: Literal["train", "eval"] = param(
        "train", "mode of the network while r is computed (dropout, BatchNorm): as trained, or eval"
    )
    clip: bool = param(False, "clamp x + r to the [0, 1] pixel box (the paper and the authors' code do not)")

    def check(self, where: str) -> None:
        from advreg.params import ConfigError

        if self.norm == "linf" and self.direction == "alpha":
            raise ConfigError(f"{where}: direction 'alpha' (Algorithm 1) is implemented for the L2 ball only")


@dataclass(frozen=True)
class LWARepParams(Params):
    """LWA_Rep (Alg. 3, eq. 4): the perturbation acts on the representation layer's output."""

    c: float = param(1.5, "budget c of the representation perturbation (eq. 4)", gt=0)
    budget: Literal["absolute", "relative"] = param(
        "absolute", "||r||_2 = c (eq. 4), or c * ||h||_2 per sample (authors' CIFAR code: 0.25 ||h||)"
    )
    direction: Literal["loss", "alpha"] = param(
        "loss", "r* from the loss gradient at h (sec. 6.1.1) or Algorithm 1 on d alpha / d h (sec. 6.1.2)"
    )
    inner_mode: Literal["train", "eval"] = param(
        "train", "mode of the network while r is computed (dropout, BatchNorm): as trained, or eval"
    )


@dataclass(frozen=True)
class GoodfellowParams(Params):
    """Goodfellow et al. (2014) as LWA sec. 5, related work 2: alpha L(x) + (1 - alpha) L(x + r), r by fast
    gradient sign."""

    alpha: float = param(0.5, "weight of the clean loss (Goodfellow et al. 2014: 0.5)", ge=0, le=1)
    epsilon: float = param(1.5, "size of the fast-gradient-sign perturbation, measured in `norm`", ge=0)
    norm: Literal["l2", "linf"] = param(
        "l2", "r = epsilon sign(g)/||sign(g)||_2 (L2 budget, the authors' code) or epsilon sign(g) (Goodfellow's)"
    )
    clip: bool = param(False, "clamp x + r to the [0, 1] pixel box (the authors' code does not)")


# --- DeepDefense: parameters (methods/deepdefense.py, methods/deepfool_at.py, methods/parseval.py) ---

from advreg.attacks.catalog import DeepFoolSettings  # noqa: E402  (torch-free; kept beside its only users)


@dataclass(frozen=True)
class DeepDefenseParams(Params):
    """DeepDefense (eq. 3 and 6): mean CE + lam * mean_k R_k, R_k = exp(-c ||r_k||/||x_k||) for correctly
    classified samples and exp(d ||r_k||/||x_k||) for misclassified ones, r_k the DeepFool perturbation unrolled
    and differentiated with respect to the weights (sec. 3.3)."""

    lam: float = param(15.0, "weight lambda of the regulariser (eq. 3; sec. 4: 15 on MNIST and CIFAR-10)", ge=0)
    c: float = param(25.0, "scale c of correctly classified samples' ratios, exp(-c ratio) (eq. 6; sec. 4: 25)", gt=0)
    d: float = param(5.0, "scale d of misclassified samples' ratios, exp(d ratio) (eq. 6; sec. 4: 5)", ge=0)
    max_iter: int = param(5, "DeepFool steps unrolled in the regulariser (authors' code: 5)", ge=1)
    overshoot: float = param(0.02, "DeepFool overshoot: iterates and result scaled by 1 + overshoot (code: 0.02)", ge=0)
    step_eps: float = param(0.0, "added to each step's distance (eq. 2 and the authors' training code: 0)", ge=0)
    misclassified: Literal["towards_true", "away"] = param(
        "towards_true",
        "DeepFool of misclassified samples: towards the true label from the prediction (sec. 3.4, authors' code) "
        "or untargeted away from the prediction",
    )
    layer: str = param("", "Fig. 5: the regulariser's gradient reaches only this block's parameters; '': all")
    top_classes: int = param(
        0, "DeepFool considers only the k most likely classes besides the label (0: all, the paper; speed)", ge=0
    )
    class_gradients: Literal["loop", "batched"] = param(
        "loop", "class gradients by one backward pass per class or one batched pass (same numbers; speed only)"
    )


@dataclass(frozen=True)
class DeepFoolATParams(DeepFoolSettings):
    """Adversarial training as DeepDefense sec. 4 runs it (after the DeepFool paper [26]): fine-tune on a fixed set of
    DeepFool examples of the training set, crafted once on the reference model, without the clean images."""

    start: Literal["predicted", "true"] = param(
        "predicted", "label DeepFool moves away from: the reference's prediction (every image perturbed) or the truth"
    )
    top_classes: int = param(
        0, "DeepFool considers only the k most likely classes besides the start label (0: all, the paper; speed)", ge=0
    )


@dataclass(frozen=True)
class ParsevalParams(Params):
    """Parseval training (Cisse et al. 2017, Alg. 1) as DeepDefense sec. 4 runs it: after every SGD step,
    W_S <- (1 + beta) W_S - beta W_S W_S^T W_S on a random subset S of the rows (output units) of every weight."""

    beta: float = param(1e-4, "retraction step beta (DeepDefense sec. 4: 0.0001 MNIST, 0.0003 CIFAR-10)", gt=0)
    fraction: float = param(0.3, "fraction of each weight's rows drawn at every step (sec. 4: 30%)", gt=0, le=1)
    layers: Literal["all", "hidden"] = param(
        "all", "weights projected: all weight matrices and kernels (DeepDefense sec. 4) or hidden layers only (Alg. 1)"
    )


# --- Cross-paper arena: parameters (methods/pgd_at.py) ---


@dataclass(frozen=True)
class PGDATParams(Params):
    """PGD adversarial training (Madry et al. 2018, eq. 2.1): minimise the cross-entropy at the L-inf PGD point
    of every sample, found by ``pgd_linf`` (random start, ``steps`` sign steps of ``step_ratio * epsilon / steps``),
    the network's weights held fixed while the point is searched."""

    epsilon: float = param(
        0.1, "L-inf budget of the inner maximisation (Madry et al.: 0.3 MNIST, 8/255 CIFAR-10)", gt=0
    )
    steps: int = param(10, "PGD steps of the inner maximisation (Madry et al.: 40 MNIST, 7 CIFAR-10)", ge=1)
    step_ratio: float = param(
        2.5,
        "step size = step_ratio * epsilon / steps (Madry et al.: 0.01 x 40 / 0.3 = 1.33 MNIST, 2/255 x 7 / (8/255) "
        "= 1.75 CIFAR-10)",
        gt=0,
    )
    random_start: bool = param(True, "start uniformly in the ball (Madry et al.)")
    clean_weight: float = param(
        0.0,
        "weight of the clean cross-entropy, (1 - w) CE(x_adv) + w CE(x) (Madry et al.: 0, adversarial only)",
        ge=0,
        le=1,
    )
    inner_mode: Literal["train", "eval"] = param(
        "train", "mode of the network while the PGD point is searched (dropout, BatchNorm): as trained, or eval"
    )
    clip: bool = param(True, "keep the PGD points in the [0, 1] pixel box")


# --- Latent disparity regularisation: parameters (methods/hldr.py, fimr.py, hgd.py, agnt.py) ---


@dataclass(frozen=True)
class NoiseParams(Params):
    """AGN-perturbed copies x_n = x + n, n ~ N(0, sigma^2) per pixel, of the fine-tuning samples (HLDR sec. IV), drawn
    once per fold from ``noise_seed`` and the fold's samples, so every method of a fold sees the same noise."""

    sigma: float = param(32 / 255, "standard deviation of the noise n ([0, 1] pixel units; HLDR: 32/255)", ge=0)
    noise_seed: int = param(0, "seed of the noise draws (combined with the fold's fine-tuning samples)", ge=0)
    clip: bool = param(True, "keep the perturbed inputs (x_a, x_n) in the [0, 1] pixel box")


@dataclass(frozen=True)
class NoisePairsParams(NoiseParams):
    noise: bool = param(False, "train on D_N: add the AGN pairs (x, x_n) to the fine-tuning set (sec. IV)")


@dataclass(frozen=True)
class PairsParams(NoisePairsParams):
    """HLDR's fine-tuning set D of pairs (x, x_a), x_a = x + eps sign(grad_x L) crafted on the model as fine-tuning
    starts, one pair per sample and budget (sec. IV); with ``noise`` the AGN pairs of D_N too."""

    budgets: tuple[float, ...] = param(
        (0.0, 16 / 255, 32 / 255), "FGSM budgets eps of the pairs of D (sec. IV: 0, 16/255, 32/255)", ge=0, min_items=1
    )


@dataclass(frozen=True)
class HLDRParams(PairsParams):
    """HLDR, eq. 3: (1 - xi) CE(x) + xi sum_i |s_i(x) - s_i(x_a)| / sum_i |s_i(x)| over every hidden layer."""

    xi: float = param(0.25, "penalty coefficient xi of eq. 3 (sec. V: 0.25; authors' CIFAR-10 code: 0.5)", ge=0, le=1)
    normalise: Literal["sample", "batch"] = param(
        "sample",
        "eq. 3's ratio per pair, averaged over the minibatch, or one ratio of the minibatch's sums (authors' code)",
    )
    batchnorm: Literal["benign", "own"] = param(
        "benign",
        "BatchNorm of the x_a pass: the benign batch's statistics (one network, eq. 3: a budget-0 pair adds 0), or "
        "batch statistics of its own (like the authors' separate BN layers of the adversarial branch)",
    )


@dataclass(frozen=True)
class FIMRParams(NoisePairsParams):
    """FIMR, eq. 2: (1 - zeta) CE + zeta sum_j 1/p_j, on the benign fine-tuning samples (and x_n with ``noise``)."""

    zeta: float = param(
        0.0025, "penalty coefficient zeta of eq. 2 (sec. V: 0.0025; authors' code: 0.00025)", ge=0, le=1
    )
    reduction: Literal["mean", "batch_sum"] = param(
        "mean", "sum_j 1/p_j averaged over the minibatch like the cross-entropy (eq. 2), or summed (authors' code)"
    )


@dataclass(frozen=True)
class HGDParams(PairsParams):
    """HGD (sec. II-C, V): only the denoiser in front of the frozen network is trained, on D (or D_N)."""

    guide: Literal["feature", "logits"] = param(
        "feature",
        "minimise |s(x) - s(x_hat)|_1 at the last convolutional layer (feature-guided, sec. V) or at the "
        "log-softmax output (authors' code)",
    )


@dataclass(frozen=True)
class AGNTParams(NoiseParams):
    """AGNT (sec. II-E, IV): cross-entropy on the AGN-perturbed copies x_n only (D_N minus D)."""


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
    method("lwa", LWAParams, "lwa", "LWA", "learning with a strong adversary on raw data (Alg. 2, eq. 2)"),
    method("lwa_rep", LWARepParams, "lwa", "LWARep", "LWA at the representation layer (Alg. 3, eq. 4)"),
    method(
        "goodfellow", GoodfellowParams, "goodfellow", "Goodfellow", "alpha L(x) + (1 - alpha) L(x + FGS perturbation)"
    ),
    # --- DeepDefense: methods ---
    method(
        "deepdefense",
        DeepDefenseParams,
        "deepdefense",
        "DeepDefense",
        "CE + lam * exp(-c or d * ||DeepFool r|| / ||x||), DeepFool unrolled and differentiated (eq. 3, 6)",
    ),
    method(
        "deepfool_at",
        DeepFoolATParams,
        "deepfool_at",
        "DeepFoolAT",
        "CE on a fixed DeepFool adversarial training set from the reference, no clean images (sec. 4)",
    ),
    method("parseval", ParsevalParams, "parseval", "Parseval", "CE, then Parseval's orthonormality step (sec. 4)"),
    # --- Latent disparity regularisation: methods ---
    method("hldr", HLDRParams, "hldr", "HLDR", "hidden-layer latent disparity regularisation on pairs D (HLDR eq. 3)"),
    method("fimr", FIMRParams, "fimr", "FIMR", "Fisher-information regulariser (1 - zeta) CE + zeta sum 1/p (eq. 2)"),
    method("hgd", HGDParams, "hgd", "HGD", "feature-guided denoiser in front of the frozen network (HLDR sec. V)"),
    method("agnt", AGNTParams, "agnt", "AGNT", "cross-entropy on AGN-perturbed fine-tuning samples (HLDR sec. IV)"),
    # --- Cross-paper arena: methods ---
    method(
        "pgd_at", PGDATParams, "pgd_at", "PGDAT", "cross-entropy at L-inf PGD points (Madry et al. 2018, the baseline)"
    ),
)
