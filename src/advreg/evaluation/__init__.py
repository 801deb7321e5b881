"""Evaluation of target models on adversarial sets (:mod:`.crosseval`)."""
