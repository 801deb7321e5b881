"""Robustness metrics of one model (white-box), each in its own module:

- ``fgs_budget``: per-sample smallest fooling FGS epsilon (rho_inf, DeepDefense eq. 8), epsilon_ref and the
  accuracy at fractions of it (DeepDefense Table 1);
- ``latent``: per-layer latent disparity |s_i(x) - s_i(x_a)| / |s_i(x)| (HLDR Fig. 6);
- ``robustness``: all of them plus DeepFool's rho_2 / rho'_2 (DeepDefense eq. 7, supp. eq. 1) as tidy rows;
- ``catalog``: their settings (torch-free).

Accuracy, attack success rate and perturbation norms per attack and budget come with the cross-evaluation
(:mod:`advreg.evaluation.crosseval`).
"""
