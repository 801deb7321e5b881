"""Generic training loop shared by reference pretraining and every fine-tuning method."""

from advreg.training.loop import TrainingDivergedError, TrainSettings, evaluate_accuracy, train

__all__ = ["TrainingDivergedError", "TrainSettings", "evaluate_accuracy", "train"]
