"""advreg: reproduce and cross-evaluate adversarial-regularization methods.

Sub-packages and modules, one job each:

- ``advreg.params``, ``advreg.catalog``: the typed parameter model every component declares its parameters
  with, and what is derived from the declarations (config schema, README tables);
- ``advreg.plan``, ``advreg.layout``, ``advreg.ids``: the config expanded into jobs (torch-free), every path,
  model ids;
- ``advreg.data``: dataset registry, parsers (IDX, CIFAR pickles, npz), sources and checksums;
- ``advreg.models``: every architecture of the four papers, with a uniform hidden-activation API;
- ``advreg.methods``: training objectives (one module per method family);
- ``advreg.attacks``: adversarial-set generators (one module per attack);
- ``advreg.metrics``: white-box robustness metrics (rho_2, rho_inf, eps_ref, latent disparity);
- ``advreg.training``: the generic training loop and its settings;
- ``advreg.evaluation``: cross-evaluation of target models on attackers' sets;
- ``advreg.reporting``: tidy tables, figures, claims, adversarial examples;
- ``advreg.papers``: one module per paper (tables beside the published numbers, claims, figures);
- ``advreg.stages``: one function per pipeline rule.
"""

__version__ = "0.1.0"
