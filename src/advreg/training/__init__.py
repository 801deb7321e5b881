"""Training: the settings (:mod:`.settings`, torch-free) and the generic loop shared by reference pretraining
and every fine-tuning method (:mod:`.loop`)."""
