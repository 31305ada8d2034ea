"""The public API: what ``seqlearn.numpy`` and ``seqlearn.torch`` export, and that no module or
notebook reaches into another module's private names (CONTRIBUTING.md, "The public API")."""

import ast
import importlib
import pkgutil
import re

import pytest

import seqlearn
from conftest import ALL_NOTEBOOKS, ROOT, cell_source, load_notebook

PACKAGE = ROOT / "seqlearn"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))

# Private attributes of other libraries that the package must touch, each with its reason.
FOREIGN_PRIVATE = {
    "_qkv_same_embed_dim": "torch.nn.MultiheadAttention keeps no public flag for separate q/k/v weights",
    "_exit": "os._exit, named in a message about a worker that died",
}


def _modules(package):
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__))


@pytest.mark.parametrize("half", ["numpy", "torch"])
def test_each_half_imports_its_modules(half):
    package = importlib.import_module(f"seqlearn.{half}")
    modules = _modules(package)
    assert modules, half
    for name in modules:
        assert getattr(package, name, None) is importlib.import_module(f"seqlearn.{half}.{name}"), (
            f"seqlearn.{half} does not import its module {name!r}: add it to its __init__.py")
    assert sorted(package.__all__) == modules


def _all_modules():
    names = []
    for path in SOURCES:
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(parts))
    return names


@pytest.mark.parametrize("name", _all_modules())
def test_every_module_declares_its_public_names(name):
    if name in ("seqlearn.__main__",):
        return  # a script, not a module to import from
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for public in module.__all__:
        assert not public.startswith("_") or public == "__version__", (name, public)
        assert hasattr(module, public), f"{name}.__all__ names {public!r}, which it does not define"


def _private_uses(tree, module_aliases):
    """(line, what) for each private name taken from another module in ``tree``: an import of a
    private name from seqlearn, or an attribute ``alias._x`` of a seqlearn module ``alias``; and
    every ``obj._x`` whose ``_x`` is not defined in the same source."""
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            defined.add(node.attr)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            from_seqlearn = node.level > 0 or (node.module or "").split(".")[0] == "seqlearn"
            for alias in node.names:
                if from_seqlearn and alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append((node.lineno, f"imports the private {alias.name!r}"))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__") or re.fullmatch(r"_repr_\w+_", attr):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in module_aliases:
                found.append((node.lineno, f"uses {base.id}.{attr}, private to another module"))
            elif attr not in defined and attr not in FOREIGN_PRIVATE:
                found.append((node.lineno, f"uses .{attr}, which this source does not define"))
    return found


def _seqlearn_aliases(tree):
    aliases = {"seqlearn"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("seqlearn")):
            aliases.update(a.asname or a.name for a in node.names)  # modules and functions alike
        elif isinstance(node, ast.Import):
            aliases.update(a.asname or a.name for a in node.names if a.name.startswith("seqlearn"))
    return aliases


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_uses_another_modules_private_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = _private_uses(tree, _seqlearn_aliases(tree))
    assert not found, "\n".join(f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in found)


def _notebook_code(path):
    lines = []
    for cell in load_notebook(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in cell_source(cell).splitlines():
            # IPython magics and shell escapes are not Python: a `pass` keeps the block valid
            stripped = line.lstrip()
            lines.append(line[:len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line)
        lines.append("")
    return "\n".join(lines)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_notebook_uses_private_names_of_the_package(path):
    tree = ast.parse(_notebook_code(path))
    aliases = _seqlearn_aliases(tree)
    # In a notebook only the package's private names count (a figure's internals are not ours).
    found = [(line, what) for line, what in _private_uses(tree, aliases) if "does not define" not in what]
    assert not found, "\n".join(f"{path.relative_to(ROOT)}: {what}" for _, what in found)


def test_the_public_api_is_reachable_from_the_top():
    from seqlearn import numpy as snp
    from seqlearn import torch as st

    assert callable(snp.lstm.lstm_forward) and callable(snp.rnn.rnn_forward)
    assert isinstance(st.lstm.LSTM, type)
    assert seqlearn.validate.describe is not None


def test_the_api_reference_page_documents_every_public_module():
    page = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", page, re.M))
    wanted = {"seqlearn", "seqlearn.validate", "seqlearn.data"}
    for half in ("numpy", "torch", "data"):
        package = importlib.import_module(f"seqlearn.{half}")
        wanted |= {f"seqlearn.{half}.{name}" for name in _modules(package)}
    assert wanted - documented == set(), f"book/api.md lacks {sorted(wanted - documented)}"
    assert all(importlib.import_module(name) for name in documented)
