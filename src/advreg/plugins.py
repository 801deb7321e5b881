"""Methods, attacks and architectures defined outside this repository (torch-free, like the catalogs).

A plugin is a :class:`~advreg.methods.catalog.MethodSpec`, :class:`~advreg.attacks.catalog.AttackSpec` or
:class:`~advreg.models.catalog.ModelSpec`, declared exactly as a built-in one (its parameters a
:class:`~advreg.params.Params` dataclass, its implementation a lazily imported ``"module:attribute"``), found

- through an entry point of the group ``advreg.methods``, ``advreg.attacks`` or ``advreg.models`` of an installed
  distribution (the entry point's name is the component's name), e.g. in its ``pyproject.toml``::

      [project.entry-points."advreg.methods"]
      trades = "advreg_trades.catalog:TRADES"

- or through a ``module:`` key in the config, ``package.module:NAME`` (importable) or ``path/to/file.py:NAME``
  (relative to the working directory; its folder is put on ``sys.path``), next to the component's name::

      methods: {trades: {module: advreg_trades.catalog:TRADES, params: {beta: 6.0}}}
      attacks: {my_attack: {module: my_attacks.py:SPEC, epsilons: [0.1]}}
      model: {arch: my_net, module: my_nets:SPEC, kwargs: {width: 32}}

``NAME`` may also be a class whose ``spec`` attribute is the spec (a Method or Attack subclass). Once loaded
(:func:`load_plugins`, called by the plan and by every rule script), a plugin sits in the registry beside the
built-ins: the plan validates its parameters with its own declaration (errors name the config key), the jobs
build it by name, the arena and the report list it like any method. A plugin may not take a built-in's name, nor
a name another plugin took. :func:`plugin_provenance` is what the run manifest records of each: its distribution
and version, and the SHA256 of its spec's module file.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advreg.attacks.catalog import ATTACKS, AttackSpec
from advreg.ids import NAME_PATTERN
from advreg.methods.catalog import METHODS, MethodSpec
from advreg.models.catalog import MODELS, ModelParams, ModelSpec
from advreg.params import ConfigError, Registry, Spec

# kind -> (entry-point group, registry, spec class)
KINDS: dict[str, tuple[str, Registry, type[Spec]]] = {
    "method": ("advreg.methods", METHODS, MethodSpec),
    "attack": ("advreg.attacks", ATTACKS, AttackSpec),
    "architecture": ("advreg.models", MODELS, ModelSpec),
}
TARGET = re.compile(r"^(?P<module>[^:]+):(?P<attribute>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class Plugin:
    """A registered plugin: its kind and name, the spec, where it was declared and the object it was loaded from."""

    kind: str
    name: str
    spec: Spec
    source: str  # "entry point advreg.methods:trades" or the config key "experiments.E.methods.trades.module"
    target: str  # "package.module:NAME" as declared
    distribution: str | None = None
    version: str | None = None


_LOADED: dict[tuple[str, str], Plugin] = {}  # (kind, name) -> plugin
_ENTRY_POINTS_DONE = False


def _spec_of(obj: Any, kind: str, where: str, target: str) -> Spec:
    spec = obj if isinstance(obj, Spec) else getattr(obj, "spec", None)
    wanted = KINDS[kind][2]
    if not isinstance(spec, wanted):
        raise ConfigError(
            f"{where}: {target!r} is not a {kind} plugin: expected a {wanted.__name__} (or a class whose 'spec' is "
            f"one), got {type(obj).__name__}"
        )
    return spec


def _import(target: str, where: str) -> Any:
    match = TARGET.match(target) if isinstance(target, str) else None
    if match is None:
        raise ConfigError(f"{where}: expected 'package.module:NAME' or 'path/to/file.py:NAME', got {target!r}")
    module, attribute = match["module"], match["attribute"]
    if module.endswith(".py"):
        path = Path(module).resolve()
        if not path.is_file():
            raise ConfigError(f"{where}: no plugin file {module!r} (relative to {Path.cwd()})")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))  # so that the spec's impl, 'stem:Class', imports in jobs too
        module = path.stem
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import plugin module {module!r} ({exc}); is its package installed?"
        ) from exc
    if not hasattr(loaded, attribute):
        raise ConfigError(f"{where}: plugin module {module!r} has no {attribute!r}")
    return getattr(loaded, attribute)


def register(plugin: Plugin, where: str) -> Plugin:
    """Put ``plugin`` in its registry; refuse a built-in's name, a name another plugin took, a bad name."""
    _, registry, _ = KINDS[plugin.kind]
    name = plugin.spec.name
    if name != plugin.name:
        raise ConfigError(f"{where}: {plugin.target!r} declares the {plugin.kind} {name!r}, not {plugin.name!r}")
    if not re.fullmatch(NAME_PATTERN, name):
        raise ConfigError(f"{where}: plugin {plugin.kind} name {name!r} must match {NAME_PATTERN}")
    if plugin.kind == "architecture" and not issubclass(plugin.spec.params, ModelParams):
        raise ConfigError(
            f"{where}: architecture {name!r}: its parameters ({plugin.spec.params.__name__}) must derive from "
            "advreg.models.catalog.ModelParams (representation_layer, aux_classes, denoiser apply to every model)"
        )
    if name in registry.builtin:
        raise ConfigError(
            f"{where}: plugin {plugin.kind} {name!r} ({plugin.target}) has the name of a built-in {plugin.kind}; "
            "plugins cannot replace built-ins: give it another name"
        )
    known = _LOADED.get((plugin.kind, name))
    if known is not None:
        if known.spec.impl != plugin.spec.impl or known.spec.params is not plugin.spec.params:
            raise ConfigError(
                f"{where}: plugin {plugin.kind} {name!r} ({plugin.target}) is already defined by {known.source} "
                f"({known.target}); give one of them another name"
            )
        return known
    registry[name] = plugin.spec
    _LOADED[(plugin.kind, name)] = plugin
    return plugin


def _distribution_of(module: str) -> tuple[str | None, str | None]:
    top = module.split(".")[0]
    names = importlib.metadata.packages_distributions().get(top) or []
    if not names:
        return None, None
    return names[0], importlib.metadata.version(names[0])


def load_entry_points() -> list[Plugin]:
    """Register every installed distribution's plugins (once per process)."""
    global _ENTRY_POINTS_DONE
    if not _ENTRY_POINTS_DONE:
        for kind, (group, _, _) in KINDS.items():
            for ep in importlib.metadata.entry_points(group=group):
                where = f"entry point {group}:{ep.name}"
                try:
                    obj = ep.load()
                except Exception as exc:  # noqa: BLE001  (any import error of a third-party package)
                    raise ConfigError(f"{where} ({ep.value}): cannot load it: {exc}") from exc
                dist = getattr(ep, "dist", None)
                register(
                    Plugin(
                        kind,
                        ep.name,
                        _spec_of(obj, kind, where, ep.value),
                        where,
                        ep.value,
                        dist.metadata["Name"] if dist else None,
                        dist.version if dist else None,
                    ),
                    where,
                )
        _ENTRY_POINTS_DONE = True
    return list(_LOADED.values())


def config_modules(config: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(kind, name, target, config key) of every ``module:`` key of the config's experiments."""
    out = []
    for exp_name, exp in (config.get("experiments") or {}).items():
        if not isinstance(exp, Mapping):
            continue
        where = f"experiments.{exp_name}"
        for name, block in (exp.get("methods") or {}).items():
            if isinstance(block, Mapping) and "module" in block:
                out.append(("method", str(name), block["module"], f"{where}.methods.{name}.module"))
        for label, block in (exp.get("attacks") or {}).items():
            if isinstance(block, Mapping) and "module" in block:
                name = str(block.get("attack", label))
                out.append(("attack", name, block["module"], f"{where}.attacks.{label}.module"))
        model = exp.get("model")
        if isinstance(model, Mapping) and "module" in model:
            out.append(("architecture", str(model.get("arch")), model["module"], f"{where}.model.module"))
    return out


def used_names(config: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every method, attack and architecture the config's experiments name."""
    out = set()
    for exp in (config.get("experiments") or {}).values():
        if not isinstance(exp, Mapping):
            continue
        out |= {("method", str(name)) for name in exp.get("methods") or {}}
        for label, block in (exp.get("attacks") or {}).items():
            out.add(("attack", str((block or {}).get("attack", label))))
        out.add(("architecture", str((exp.get("model") or {}).get("arch"))))
    return out


def load_plugins(config: Mapping[str, Any] | None = None) -> list[Plugin]:
    """Register the installed plugins and those the config names by ``module:``; returns every loaded plugin."""
    load_entry_points()
    for kind, name, target, where in config_modules(config or {}):
        _, registry, _ = KINDS[kind]
        if name in registry.builtin:
            raise ConfigError(
                f"{where}: {kind} {name!r} is built in; a plugin cannot replace it (give the plugin another name)"
            )
        obj = _import(target, where)
        module = TARGET.match(target)["module"]
        dist, version = (None, None) if module.endswith(".py") else _distribution_of(module)
        register(Plugin(kind, name, _spec_of(obj, kind, where, target), where, target, dist, version), where)
    return list(_LOADED.values())


def unload_plugins() -> None:
    """Remove every plugin from the registries (tests; a later :func:`load_plugins` finds them again)."""
    global _ENTRY_POINTS_DONE
    for (kind, name), _ in list(_LOADED.items()):
        KINDS[kind][1].pop(name, None)
    _LOADED.clear()
    _ENTRY_POINTS_DONE = False


def _file_sha256(module: str) -> tuple[str | None, str | None]:
    loaded = sys.modules.get(module) or importlib.import_module(module)
    path = getattr(loaded, "__file__", None)
    if not path:
        return None, None
    return str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest()


def plugin_provenance(plugins: list[Plugin]) -> list[dict[str, Any]]:
    """What the run manifest records of each plugin: kind, name, where it was declared, its distribution and
    version (if installed), and the path and SHA256 of the files of its spec and of its implementation."""
    out = []
    for p in sorted(plugins, key=lambda p: (p.kind, p.name)):
        spec_module = TARGET.match(p.target)["module"]
        spec_module = Path(spec_module).stem if spec_module.endswith(".py") else spec_module
        impl_module = p.spec.impl.partition(":")[0]
        files = {}
        for module in dict.fromkeys((spec_module, impl_module)):
            path, digest = _file_sha256(module)
            files[module] = {"file": path, "sha256": digest}
        out.append(
            {
                "kind": p.kind,
                "name": p.name,
                "source": p.source,
                "target": p.target,
                "impl": p.spec.impl,
                "distribution": p.distribution,
                "version": p.version,
                "modules": files,
            }
        )
    return out
