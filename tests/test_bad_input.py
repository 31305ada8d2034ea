"""Bad input, faults and determinism over the whole public API (the vocabulary is in
``tests/bad_input.py``; the tables, one per part of the package, in ``tests/bad_input_tables/``).

A new public function cannot escape: the first test walks ``__all__`` and fails for a name no
table lists."""

import importlib
import pkgutil

import pytest

import seqlearn
import seqlearn.data
import seqlearn.numpy
import seqlearn.torch
from bad_input import Accepted, Bad, Valid, all_finite, same, shares_memory, snapshot
from conftest import ROOT


def public_names():
    """``{"numpy.rnn.init_rnn_params": object, ...}`` for every public callable."""
    names = {}
    for pkg in (seqlearn.numpy, seqlearn.torch, seqlearn.data):
        short = pkg.__name__.split(".", 1)[1]
        modules = [m.name for m in pkgutil.iter_modules(pkg.__path__)]
        for mod_name in modules:
            module = importlib.import_module(f"{pkg.__name__}.{mod_name}")
            for name in getattr(module, "__all__", []):
                obj = getattr(module, name)
                if callable(obj) and getattr(obj, "__module__", "").startswith("seqlearn"):
                    names[f"{short}.{mod_name}.{name}"] = obj
    return names


def tables():
    merged = {}
    for info in sorted(pkgutil.iter_modules([str(ROOT / "tests" / "bad_input_tables")]),
                       key=lambda m: m.name):
        module = importlib.import_module(f"bad_input_tables.{info.name}")
        for key, cases in module.TABLE.items():
            assert key not in merged, f"{key} is in two tables"
            merged[key] = cases
    return merged


TABLE = tables()
PUBLIC = public_names()


def cases_of(kind):
    return [pytest.param(case, id=f"{key}:{case.label}")
            for key, cases in sorted(TABLE.items()) for case in cases if isinstance(case, kind)]


def test_every_public_name_is_in_a_table():
    missing = sorted(set(PUBLIC) - set(TABLE))
    assert not missing, f"{len(missing)} public names have no bad-input entry: {missing}"
    unknown = sorted(set(TABLE) - set(PUBLIC))
    assert not unknown, f"table entries for names that are not public: {unknown}"


def test_every_public_name_has_a_valid_call():
    without = sorted(k for k, cases in TABLE.items() if not any(isinstance(c, Valid) for c in cases))
    assert not without, f"no Valid case for: {without}"


@pytest.mark.parametrize("case", cases_of(Bad))
def test_bad_input_is_refused_by_name(case):
    with pytest.raises(case.error) as info:
        case.call()
    assert info.type in (ValueError, TypeError) or issubclass(info.type, (ValueError, TypeError))
    message = str(info.value)
    for name in case.names:
        assert name in message, f"the message does not name {name!r}: {message}"


@pytest.mark.parametrize("case", cases_of(Accepted))
def test_documented_acceptance(case):
    result = case.call()
    if case.finite:
        assert all_finite(result)


@pytest.mark.parametrize("case", cases_of(Valid))
def test_a_valid_call_leaves_its_arguments_alone(case):
    args, kwargs = case.args(), case.kwargs()
    before = snapshot((args, kwargs))
    result = case.call(args, kwargs)
    assert same((args, kwargs), before), "the call modified its arguments in place"
    if not case.returns_view:
        assert not shares_memory(result, (args, kwargs)), \
            "the result is a view of an argument (say so in the docstring, or copy)"


@pytest.mark.parametrize("case", [c for c in cases_of(Valid) if c.values[0].draws_random])
def test_seeding_makes_random_draws_repeat(case):
    seqlearn.seed(0)
    first = case.call()
    seqlearn.seed(0)
    second = case.call()
    assert same(first, second), "two calls after seqlearn.seed(0) differ"
