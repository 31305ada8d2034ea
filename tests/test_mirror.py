"""The mirror between ``seqlearn.numpy`` and ``seqlearn.torch`` (CONTRIBUTING.md, "The mirror").

The two tables in the docstring of ``seqlearn`` (*One-sided modules*, *One-sided names*) list every
deliberate asymmetry with its reason; these tests fail on an asymmetry that is not listed and on a
listed one that no longer exists, and check that names present on both sides take the same
arguments in the same order.
"""

import importlib
import inspect
import pkgutil
import re

import pytest
from torch import nn

import seqlearn
from seqlearn import numpy as snp
from seqlearn import torch as st

HALVES = {"numpy": snp, "torch": st}
# Options that a torch module stores as attributes, where the NumPy function takes them with its
# parameter dict: such a NumPy argument has no torch counterpart when the torch side takes `model`.
MODEL_OPTIONS = {"nonlinearity", "activation", "num_heads", "kind", "eps"}
TORCH_TRAILING = {"dtype", "device"}
# A torch forward may also return the attention weights on request; NumPy returns them in its cache.
TORCH_FORWARD_OPTIONS = {"need_weights"}
NUMPY_FUNCTIONAL = re.compile(r"(init|check)_\w+_params|\w+_backward|\w+_step")


def _table(title):
    """The rows of the reST simple table under the heading ``title`` in seqlearn's docstring."""
    lines = seqlearn.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f".. rubric:: {title}")
    rules = [i for i in range(start, len(lines)) if re.fullmatch(r"\s*=+( +=+)+\s*", lines[i])][:3]
    spans = [m.span() for m in re.finditer(r"=+", lines[rules[0]])]
    rows = []
    for line in lines[rules[1] + 1:rules[2]]:
        if not line.strip():
            continue
        cells = [line[a:b if k < len(spans) - 1 else None].strip()
                 for k, (a, b) in enumerate(spans)]
        rows.append(cells)
    return rows


def _modules(half):
    return {info.name for info in pkgutil.iter_modules(HALVES[half].__path__)}


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _public(half, module):
    mod = importlib.import_module(f"seqlearn.{half}.{module}")
    return {name: getattr(mod, name) for name in mod.__all__}


def _is_module_class(obj):
    return inspect.isclass(obj) and issubclass(obj, nn.Module)


def _paired(module):
    """(numpy name, torch name) pairs of the rule: x_forward <-> X (class) or x (function)."""
    numpy_names, torch_names = _public("numpy", module), _public("torch", module)
    pairs = []
    for name, obj in torch_names.items():
        if _is_module_class(obj) and f"{_snake(name)}_forward" in numpy_names:
            pairs.append((f"{_snake(name)}_forward", name))
        elif inspect.isfunction(obj) and f"{name}_forward" in numpy_names:
            pairs.append((f"{name}_forward", name))
    return pairs


def _unexplained(module):
    numpy_names, torch_names = _public("numpy", module), _public("torch", module)
    paired = _paired(module)
    numpy_paired = {n for n, _ in paired}
    torch_paired = {t for _, t in paired}
    found = set()
    for name in set(numpy_names) - set(torch_names) - numpy_paired:
        if not NUMPY_FUNCTIONAL.fullmatch(name):
            found.add((module, name, "numpy"))
    for name in set(torch_names) - set(numpy_names) - torch_paired:
        found.add((module, name, "torch"))
    return found


def _mirrored():
    one_sided = {row[0] for row in _table("One-sided modules")}
    return sorted((_modules("numpy") & _modules("torch")) - one_sided)


def test_every_one_sided_module_is_listed_with_its_reason():
    rows = _table("One-sided modules")
    listed = {(module, half) for module, half, _ in rows}
    actual = {(m, "numpy") for m in _modules("numpy") - _modules("torch")}
    actual |= {(m, "torch") for m in _modules("torch") - _modules("numpy")}
    assert all(reason for *_, reason in rows), "every one-sided module needs a reason"
    assert actual - listed == set(), f"one-sided modules missing from the table: {sorted(actual - listed)}"
    assert listed - actual == set(), f"the table lists modules that are not one-sided: {sorted(listed - actual)}"


def test_every_one_sided_name_is_listed_with_its_reason():
    rows = _table("One-sided names")
    listed = {(module, name.strip("`"), half) for module, name, half, _ in rows}
    assert all(reason for *_, reason in rows), "every one-sided name needs a reason"
    actual = set().union(*(_unexplained(m) for m in _mirrored()))
    assert actual - listed == set(), f"one-sided names missing from the table: {sorted(actual - listed)}"
    assert listed - actual == set(), f"the table lists names that are not one-sided: {sorted(listed - actual)}"


def _arguments(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _comparable(numpy_args, torch_args):
    numpy_args = [{"params": "model", "rng": "generator"}.get(a, a) for a in numpy_args]
    if "model" in torch_args:
        numpy_args = [a for a in numpy_args if a not in MODEL_OPTIONS]
    while torch_args and torch_args[-1] in TORCH_TRAILING:
        torch_args = torch_args[:-1]
    return numpy_args, torch_args


@pytest.mark.parametrize("module", _mirrored())
def test_names_on_both_sides_take_the_same_arguments(module):
    numpy_names, torch_names = _public("numpy", module), _public("torch", module)
    for name in sorted(set(numpy_names) & set(torch_names)):
        a, b = numpy_names[name], torch_names[name]
        if callable(a) or callable(b):
            assert inspect.isclass(a) == inspect.isclass(b), f"{module}.{name}: a class on one side only"
            if inspect.isfunction(a):
                numpy_args, torch_args = _comparable(_arguments(a), _arguments(b))
                assert numpy_args == torch_args, (
                    f"{module}.{name}: NumPy takes {numpy_args}, torch takes {torch_args}")
        elif isinstance(a, dict):
            assert sorted(a) == sorted(b), f"{module}.{name}: different keys"
        else:
            assert a == b, f"{module}.{name}: {a!r} in NumPy, {b!r} in torch"
    for numpy_name, torch_name in _paired(module):
        fn, obj = numpy_names[numpy_name], torch_names[torch_name]
        torch_args = _arguments(obj.forward)[1:] if inspect.isclass(obj) else _arguments(obj)
        torch_args = [a for a in torch_args if a not in TORCH_FORWARD_OPTIONS]
        numpy_args, torch_args = _comparable(_arguments(fn), torch_args)
        numpy_args = [a for a in numpy_args if a != "model"]
        it = iter(numpy_args)
        assert all(a in it for a in torch_args), (
            f"{module}: {torch_name} takes {torch_args}, not in the order of "
            f"{numpy_name}'s {numpy_args}")


@pytest.mark.parametrize("module", _mirrored())
def test_torch_modules_convert_to_and_from_numpy(module):
    for numpy_name, torch_name in _paired(module):
        obj = _public("torch", module)[torch_name]
        if inspect.isclass(obj):
            assert hasattr(obj, "from_numpy") and hasattr(obj, "to_numpy"), (
                f"{module}.{torch_name} mirrors {numpy_name} but has no from_numpy/to_numpy")
