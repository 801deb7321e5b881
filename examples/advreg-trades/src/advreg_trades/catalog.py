"""The TRADES method's name and parameters, declared as advreg's built-ins are (torch-free: advreg's plan reads it).

The ``advreg.methods`` entry point of this distribution points here (``trades = "advreg_trades.catalog:TRADES"``);
without installing, a config can name it with ``module: advreg_trades.catalog:TRADES`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.methods.catalog import MethodSpec
from advreg.params import Params, param


@dataclass(frozen=True)
class TRADESParams(Params):
    """TRADES (Zhang et al. 2019, eq. 5): CE(f(x), y) + beta * KL(f(x) || f(x')), x' maximising the KL term in the
    L-inf ball of radius epsilon around x, by ``steps`` sign steps from x + N(0, init_std^2) (their Alg. 1)."""

    beta: float = param(6.0, "weight 1/lambda of the robust KL term (Zhang et al.: 6)", ge=0)
    epsilon: float = param(0.1, "L-inf budget of x' (Zhang et al.: 0.3 MNIST, 0.031 CIFAR-10)", gt=0)
    steps: int = param(3, "sign steps of the inner maximisation (Zhang et al.: 40 MNIST, 10 CIFAR-10)", ge=1)
    step_ratio: float = param(
        2.0,
        "step size = step_ratio * epsilon / steps (Zhang et al.: 0.01 x 40 / 0.3 = 1.33 MNIST, 2.26 CIFAR-10)",
        gt=0,
    )
    init_std: float = param(0.001, "standard deviation of the Gaussian start around x (Zhang et al.: 0.001)", ge=0)
    inner_mode: Literal["train", "eval"] = param(
        "eval", "mode of the network while x' is searched (Zhang et al.'s code: eval), or as trained"
    )
    clip: bool = param(True, "keep x' in the [0, 1] pixel box")


TRADES = MethodSpec(
    kind="method",
    name="trades",
    params=TRADESParams,
    impl="advreg_trades.method:TRADES",
    summary="TRADES: CE + beta * KL(f(x) || f(x')), x' by L-inf PGD on the KL (Zhang et al. 2019)",
    extra={"label": "TRADES"},
)
