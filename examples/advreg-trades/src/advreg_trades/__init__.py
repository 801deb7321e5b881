"""TRADES (Zhang, Yu, Jiao, Xing, El Ghaoui, Jordan 2019, "Theoretically principled trade-off between robustness
and accuracy") as an advreg plugin: :mod:`.catalog` declares the method (torch-free, found through the
``advreg.methods`` entry point), :mod:`.method` implements it."""
