"""Model ids: which trained model of an experiment a result belongs to.

A model is named by its training method and the variant (one named setting of the method's parameters):
``ModelId("dgl1", "lam0.01_phi0.1")``, written ``dgl1/lam0.01_phi0.1`` in configs, tidy CSVs and logs, and
``dgl1/lam0.01_phi0.1`` as a path fragment. The pretrained reference model of an experiment is
:data:`REFERENCE` (``reference/pretrained``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advreg.params import ConfigError

NAME_PATTERN = r"[a-z][a-z0-9_]*"
VARIANT_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.=+-]*"


@dataclass(frozen=True, order=True)
class ModelId:
    method: str
    variant: str

    def __post_init__(self) -> None:
        if not re.fullmatch(NAME_PATTERN, self.method):
            raise ConfigError(f"model id: method {self.method!r} must match {NAME_PATTERN}")
        if not re.fullmatch(VARIANT_PATTERN, self.variant):
            raise ConfigError(f"model id: variant {self.variant!r} may use letters, digits and _ . = + - only")

    @classmethod
    def parse(cls, text: str | ModelId, where: str = "model id") -> ModelId:
        """``"method/variant"`` -> ModelId (an error naming ``where`` for anything else)."""
        if isinstance(text, ModelId):
            return text
        method, sep, variant = str(text).partition("/")
        if not sep:
            raise ConfigError(f"{where}: {text!r} is not a model id 'method/variant'")
        try:
            return cls(method, variant)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {text!r}: {exc}") from None

    def __str__(self) -> str:
        return f"{self.method}/{self.variant}"

    @property
    def is_reference(self) -> bool:
        return self == REFERENCE


REFERENCE = ModelId("reference", "pretrained")
