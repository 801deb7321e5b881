"""The parameter declarations: one typed validator, and the schema and README tables derived from them."""

from dataclasses import dataclass
from typing import Literal

import pytest

from advreg import catalog
from advreg.attacks.catalog import ATTACKS
from advreg.methods.catalog import METHODS
from advreg.models.catalog import MODELS
from advreg.papers.catalog import PAPERS
from advreg.params import ConfigError, Params, param


@dataclass(frozen=True)
class Example(Params):
    rate: float = param(0.5, "a rate", gt=0, le=1)
    steps: int = param(3, "steps", ge=1)
    mode: Literal["a", "b"] = param("a", "a mode")
    sizes: tuple[int, ...] = param((1, 2), "sizes", ge=1, min_items=1)
    cap: float | None = param(None, "an optional cap", ge=0)


def test_parse_fills_defaults_and_normalises():
    p = Example.parse({"rate": 1, "sizes": [4]}, "x")
    assert p == Example(rate=1.0, steps=3, mode="a", sizes=(4,), cap=None)
    assert isinstance(p.rate, float) and p.to_dict() == {
        "rate": 1.0,
        "steps": 3,
        "mode": "a",
        "sizes": [4],
        "cap": None,
    }


@pytest.mark.parametrize(
    "given, message",
    [
        ({"rate": 0}, "x.y.rate: must be > 0 and <= 1, got 0"),
        ({"rate": True}, "x.y.rate: must be a number, got True"),
        ({"rate": float("nan")}, "x.y.rate: must be a finite number"),
        ({"steps": 2.5}, "x.y.steps: must be an integer, got 2.5"),
        ({"mode": "c"}, "x.y.mode: must be one of ['a', 'b'], got 'c'"),
        ({"sizes": []}, "x.y.sizes: must have at least 1 item(s)"),
        ({"sizes": [1, 0]}, "x.y.sizes[1]: must be >= 1, got 0"),
        ({"sizes": "12"}, "x.y.sizes: must be a list of integer"),
        ({"cap": -1}, "x.y.cap: must be >= 0, got -1"),
        ({"speed": 1}, "x.y: unknown parameter(s) ['speed'] for thing 'e' (known: rate, steps, mode, sizes, cap)"),
    ],
)
def test_errors_name_the_full_key(given, message):
    with pytest.raises(ConfigError) as info:
        Example.parse(given, "x.y", "thing 'e'")
    assert message in str(info.value)


def test_schema_of_a_declaration():
    schema = Example.json_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["rate"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
        "description": "a rate (default: 0.5)",
    }
    assert schema["properties"]["mode"]["enum"] == ["a", "b"]
    assert schema["properties"]["sizes"]["minItems"] == 1
    assert schema["properties"]["cap"]["anyOf"][1] == {"type": "null"}


def test_every_component_is_registered_once_and_implemented():
    for registry in (METHODS, ATTACKS, MODELS, PAPERS):
        for name, spec in registry.items():
            impl = spec.load()
            assert callable(impl), f"{registry.kind} {name}: {spec.impl}"
            if hasattr(impl, "spec"):  # methods and attacks point back at their entry
                assert impl.spec is spec, f"{spec.impl} declares spec {impl.spec.name!r}, registered as {name!r}"
            spec.params()  # every parameter has a default


def test_generated_schema_and_readme_are_up_to_date():
    assert catalog.main(["check"]) == 0, "run `python -m advreg.catalog schema` and `python -m advreg.catalog readme`"


def test_readme_tables_list_every_parameter():
    text = catalog.readme_tables()
    for name, spec in ATTACKS.items():
        assert f"`{name}` ({spec.norm})" in text
    assert "| `phi` | number, > 0 | `0.1` |" in text
    assert "`batch_size`" in text and "changing it reruns nothing" in text
