"""One typed parameter model for every component: methods, attacks, models, metrics, training and papers.

A component declares its parameters once, as a frozen dataclass deriving from :class:`Params`, each field made
with :func:`param` (default, one-line description, bounds or choices)::

    @dataclass(frozen=True)
    class FGSMParams(Params):
        clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box")

From that declaration follow, with nothing written twice:

- validation: :meth:`Params.parse` checks a config mapping (unknown keys, types, bounds, choices) and raises
  :class:`ConfigError` naming the full config key (``experiments.E.attacks.fgsm.params.clip: ...``);
- the JSON schema of the config's parameter sections (:meth:`Params.json_schema`, collected into
  ``workflow/schemas/components.schema.yaml`` by ``python -m advreg.catalog schema``);
- the README's parameter tables (:meth:`Params.markdown_rows`).

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``, ``tuple[int, ...]``,
``tuple[float, ...]``, ``tuple[str, ...]``, another :class:`Params` subclass (a nested section), and any of
these ``| None``. This module imports neither torch nor pandas: building the workflow's plan needs only it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

P = TypeVar("P", bound="Params")


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of range; the message names its full key."""


def param(
    default: Any,
    doc: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    min_items: int | None = None,
    finite: bool = True,
) -> Any:
    """A dataclass field with its one-line description and bounds (``ge``/``gt``/``le``/``lt`` apply to numbers
    and to every item of a tuple; ``min_items`` to tuples; ``finite=False`` admits +-inf)."""
    meta = {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "min_items": min_items, "finite": finite}
    if isinstance(default, (list, dict)):
        raise TypeError("mutable defaults: use a tuple or a nested Params")
    if isinstance(default, type) and issubclass(default, Params):
        return dataclasses.field(default_factory=default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, Params):
        return "mapping"
    return {bool: "true/false", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def _bounds_text(meta: Mapping[str, Any]) -> str:
    parts = [
        f"{op} {meta[key]:g}"
        for key, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
        if meta.get(key) is not None
    ]
    return " and ".join(parts)


def _check_bounds(value: float, meta: Mapping[str, Any], where: str, original: Any) -> None:
    ok = (meta.get("ge") is None or value >= meta["ge"]) and (meta.get("gt") is None or value > meta["gt"])
    ok = ok and (meta.get("le") is None or value <= meta["le"]) and (meta.get("lt") is None or value < meta["lt"])
    if not ok:
        raise ConfigError(f"{where}: must be {_bounds_text(meta)}, got {original!r}")


def _coerce(value: Any, tp: Any, meta: Mapping[str, Any], where: str) -> Any:
    """``value`` checked against type ``tp`` and the field's bounds; returns the normalised value."""
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            raise ConfigError(f"{where}: must be {_type_name(tp)}, got null")
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, meta, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: must be {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices or isinstance(value, bool) != any(isinstance(c, bool) for c in choices if c == value):
            raise ConfigError(f"{where}: must be one of {list(choices)}, got {value!r}")
        return value
    if origin is tuple:
        item_type = get_args(tp)[0]
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: must be a list of {_type_name(item_type)}, got {value!r}")
        if meta.get("min_items") is not None and len(value) < meta["min_items"]:
            raise ConfigError(f"{where}: must have at least {meta['min_items']} item(s), got {list(value)!r}")
        return tuple(_coerce(item, item_type, meta, f"{where}[{i}]") for i, item in enumerate(value))
    if isinstance(tp, type) and issubclass(tp, Params):
        return tp.parse(value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: must be an integer, got {value!r}")
        _check_bounds(value, meta, where, value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: must be a number, got {value!r}")
        number = float(value)
        if math.isnan(number) or (meta.get("finite", True) and math.isinf(number)):
            raise ConfigError(f"{where}: must be a finite number, got {value!r}")
        _check_bounds(number, meta, where, value)
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported parameter type {tp!r} at {where}")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _plain(value: Any) -> Any:
    if isinstance(value, Params):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Params:
    """Base of every parameter declaration (a frozen dataclass whose fields are made with :func:`param`)."""

    @classmethod
    def _hints(cls) -> dict[str, Any]:
        return _type_hints(cls)

    @classmethod
    def parse(cls: type[P], given: Mapping[str, Any] | P | None, where: str, what: str = "") -> P:
        """Check ``given`` (a config mapping, or an instance) and return the instance with defaults filled in.

        ``where`` is the full config key of the mapping (e.g. ``experiments.E.methods.dgl1.params``);
        ``what`` names the component in the unknown-key message (e.g. ``method 'dgl1'``).
        """
        if isinstance(given, cls):
            return given
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            raise ConfigError(f"{where}: must be a mapping of parameters, got {given!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(given) - set(names))
        if unknown:
            owner = f" for {what}" if what else ""
            raise ConfigError(f"{where}: unknown parameter(s) {unknown}{owner} (known: {', '.join(names) or 'none'})")
        hints = cls._hints()
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in given:
                values[f.name] = _coerce(given[f.name], hints[f.name], f.metadata, f"{where}.{f.name}")
        instance = cls(**values)
        instance.check(where)
        return instance

    @classmethod
    def of(cls: type[P], **given: Any) -> P:
        """The parameters from keyword arguments, checked as :meth:`parse` checks a config mapping."""
        return cls.parse(given, cls.__name__)

    def check(self, where: str) -> None:
        """Cross-field checks (override; raise ConfigError naming ``where``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values (tuples as lists, nested sections as dicts): what artifacts and rule params store."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self: P, **changes: Any) -> P:
        return dataclasses.replace(self, **changes)

    # -- documentation ---------------------------------------------------------------------------------

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON schema of a mapping of these parameters (types, bounds, defaults, descriptions)."""
        hints = cls._hints()
        props = {f.name: _field_schema(hints[f.name], f) for f in dataclasses.fields(cls)}
        schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
        if cls.__doc__ and cls.__doc__ is not Params.__doc__:
            schema["description"] = " ".join(cls.__doc__.split())
        return schema

    @classmethod
    def markdown_rows(cls, prefix: str = "") -> list[tuple[str, str, str, str]]:
        """(name, type and range, default, description) per parameter, nested sections flattened."""
        rows = []
        hints = cls._hints()
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            nested = [a for a in (get_args(tp) or (tp,)) if isinstance(a, type) and issubclass(a, Params)]
            if nested:
                if type(None) in get_args(tp):
                    rows.append((f"{prefix}{f.name}", "mapping or null", "null", f.metadata.get("doc", "")))
                rows += nested[0].markdown_rows(f"{prefix}{f.name}.")
                continue
            kind = _type_name(tp)
            bounds = _bounds_text(f.metadata)
            default = f.default if f.default is not dataclasses.MISSING else None
            rows.append(
                (
                    f"{prefix}{f.name}",
                    kind + (f", {bounds}" if bounds else ""),
                    _yaml(default),
                    f.metadata.get("doc", ""),
                )
            )
        return rows


def _yaml(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, float) and math.isinf(value):
        return ".inf"
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _field_schema(tp: Any, f: dataclasses.Field) -> dict[str, Any]:
    """The field's schema; its default goes into the description, not into a ``default`` keyword: Snakemake's
    validation would write such defaults into the config, and a variant's partial ``train`` override would
    then override the experiment's settings with them (the plan applies the defaults instead)."""
    schema = _type_schema(tp, f.metadata)
    default = f" (default: {_yaml(f.default)})" if f.default is not dataclasses.MISSING else ""
    schema["description"] = f.metadata.get("doc", "") + default
    return schema


def _type_schema(tp: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in get_args(tp) if a is not type(None)]
        inner = (
            _type_schema(options[0], meta) if len(options) == 1 else {"anyOf": [_type_schema(o, meta) for o in options]}
        )
        if type(None) in get_args(tp):
            return {"anyOf": [inner, {"type": "null"}]}
        return inner
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is tuple:
        out: dict[str, Any] = {"type": "array", "items": _type_schema(get_args(tp)[0], meta)}
        if meta.get("min_items") is not None:
            out["minItems"] = meta["min_items"]
        return out
    if isinstance(tp, type) and issubclass(tp, Params):
        return tp.json_schema()
    if tp is bool:
        return {"type": "boolean"}
    if tp is str:
        return {"type": "string"}
    out = {"type": "integer" if tp is int else "number"}
    for key, word in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"), ("lt", "exclusiveMaximum")):
        if meta.get(key) is not None:
            out[word] = meta[key]
    return out


@dataclasses.dataclass(frozen=True)
class Spec:
    """A registered component: its kind and name, its parameter declaration, its implementation (imported
    lazily, ``"module:attribute"``, so that the plan never imports torch) and a one-line summary."""

    kind: str
    name: str
    params: type[Params]
    impl: str
    summary: str
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def load(self) -> Any:
        """The implementation (class or function), imported on first use."""
        import importlib

        module, _, attribute = self.impl.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def parse(self, given: Mapping[str, Any] | Params | None, where: str | None = None) -> Params:
        return self.params.parse(given, where or self.name, f"{self.kind} '{self.name}'")


S = TypeVar("S", bound=Spec)


class Registry(dict[str, S]):
    """Specs by name (insertion order kept); :meth:`get_spec` names the known ones for an unknown name."""

    def __init__(self, kind: str, *specs: S) -> None:
        super().__init__()
        self.kind = kind
        for spec in specs:
            if spec.name in self:
                raise ValueError(f"{kind} name {spec.name!r} registered twice")
            self[spec.name] = spec
        self.builtin: frozenset[str] = frozenset(self)  # the rest are plugins (advreg.plugins)

    def builtins(self) -> Registry[S]:
        """The built-in specs only (what the schema and the README tables document), without any plugin."""
        return Registry(self.kind, *(spec for name, spec in self.items() if name in self.builtin))

    def get_spec(self, name: str, where: str | None = None) -> S:
        if name not in self:
            prefix = f"{where}: " if where else ""
            hint = ""
            if self.kind in ("method", "attack", "architecture"):
                hint = "; a plugin: install its package, or name it with module: 'package.module:NAME'"
            raise ConfigError(f"{prefix}unknown {self.kind} {name!r} (known: {', '.join(sorted(self))}{hint})")
        return self[name]


@dataclasses.dataclass(frozen=True)
class NoParams(Params):
    """No parameters."""
