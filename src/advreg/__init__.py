"""advreg: reproduce and cross-evaluate adversarial-regularization methods.

Sub-packages, one job each:

- ``advreg.data``: dataset registry, parsers (IDX, CIFAR pickles), sources and checksums.
- ``advreg.models``: every architecture of the four papers, with a uniform hidden-activation API.
- ``advreg.methods``: training objectives (plain cross-entropy now; the papers' regularizers later).
- ``advreg.attacks``: adversarial-set generators (FGSM now; the rest of the suite later).
- ``advreg.training``: the generic training loop and its safeguards.
- ``advreg.evaluation``: cross-evaluation of target models on attackers' sets.
- ``advreg.reporting``: tidy tables and figures.
"""

__version__ = "0.1.0"
