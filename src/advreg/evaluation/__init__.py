"""Evaluation of target models on adversarial sets."""

from advreg.evaluation.crosseval import cross_evaluate

__all__ = ["cross_evaluate"]
