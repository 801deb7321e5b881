"""Rule parameters as the HTML report shows them (pure Python, importable by every rule script: Snakemake puts this
folder on the script's path before it unpickles the job's parameters).

Snakemake's report lists a job's parameters as ``name=str(value)``; for a dict that is a raw Python dict. A
:class:`Shown` mapping (or :class:`ShownList`) is the same dict (or list) to the script and to Snakemake's rerun
check (``repr`` unchanged), but reads as ``key: value`` pairs, nested keys joined by dots. :func:`shown` converts
nested dicts and lists."""

from __future__ import annotations

from typing import Any


def _pairs(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        if not value:
            return [f"{prefix.rstrip('.')}: none"] if prefix else []
        return [pair for key, item in value.items() for pair in _pairs(item, f"{prefix}{key}.")]
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return [f"{prefix.rstrip('.')}: {', '.join(map(str, value)) or 'none'}"]
        return [pair for i, item in enumerate(value) for pair in _pairs(item, f"{prefix}{i}.")]
    return [f"{prefix.rstrip('.')}: {'none' if value is None else value}"]


class Shown(dict):
    """A dict that prints as ``key: value; nested.key: value``."""

    def __str__(self) -> str:
        return "; ".join(_pairs(dict(self)))


class ShownList(list):
    """A list that prints its items as ``index.key: value`` pairs."""

    def __str__(self) -> str:
        return "; ".join(_pairs(list(self)))


def shown(value: Any) -> Any:
    """``value`` with every dict a :class:`Shown` and every list a :class:`ShownList`, recursively."""
    if isinstance(value, dict):
        return Shown({key: shown(item) for key, item in value.items()})
    if isinstance(value, list):
        return ShownList(shown(item) for item in value)
    return value
