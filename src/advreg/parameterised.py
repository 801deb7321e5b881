"""Named components with default parameters (methods, attacks) and their registries."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, TypeVar


class Parameterised:
    """A component known by ``name`` whose parameters default to ``defaults``; unknown ones are refused."""

    kind: ClassVar[str] = "component"
    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: Mapping[str, Any] | None = None):
        unknown = sorted(set(params or {}) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} for {self.kind} '{self.name}' (known: {sorted(self.defaults) or 'none'})"
            )
        self.params = {**self.defaults, **(params or {})}


T = TypeVar("T", bound=Parameterised)


def registry(*classes: type[T]) -> dict[str, type[T]]:
    """Classes by name; a name used twice is a programming error."""
    out: dict[str, type[T]] = {}
    for cls in classes:
        if cls.name in out:
            raise ValueError(f"{cls.kind} name {cls.name!r} registered twice")
        out[cls.name] = cls
    return out


def build(classes: Mapping[str, type[T]], kind: str, name: str, params: Mapping[str, Any] | None = None) -> T:
    if name not in classes:
        raise ValueError(f"unknown {kind} {name!r} (known: {', '.join(sorted(classes))})")
    return classes[name](params)
