"""``seqlearn doctor``: what the course's code will run on, and whether ``seqlearn`` is the right one.

Prints the versions of Python, NumPy and PyTorch, whether CUDA is available (and the GPU's name),
and which ``seqlearn`` is imported and from where. PyPI's ``seqlearn`` (0.2, 2015) is an unrelated
package with the same name: the doctor says so plainly when it is the one installed or imported,
and exits with status 1 (0 when all is well).

    python -m seqlearn doctor
    python path/to/seqlearn/doctor.py      # works even when ``import seqlearn`` finds the wrong one
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a file, Python puts this file's folder first on sys.path, where the folders
    # numpy/ and torch/ of the course's package would shadow the real NumPy and PyTorch.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import importlib
import importlib.metadata
import platform

COURSE = "Sequence Learning"
REPOSITORY_URL = "https://github.com/sequence-learning/sequence-learning"
FIX = f"pip uninstall -y seqlearn && pip install 'seqlearn @ git+{REPOSITORY_URL}'"


def _module_version(name):
    try:
        module = importlib.import_module(name)
    except Exception as err:  # noqa: BLE001 - a broken install is something to report
        return None, f"not importable ({type(err).__name__}: {err})"
    return module, getattr(module, "__version__", "unknown version")


def _installed_distributions():
    """The versions of every distribution named 'seqlearn' that Python can see, in path order."""
    versions = []
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").strip().lower().replace("_", "-")
        if name == "seqlearn" and dist.version not in versions:
            versions.append(dist.version)
    return versions


def diagnose():
    """Return ``(lines, problems)``: the report's lines and a list of problems (empty when fine)."""
    lines, problems = [], []
    lines.append(f"Python      {platform.python_version()} ({sys.executable})")
    _, numpy_version = _module_version("numpy")
    lines.append(f"NumPy       {numpy_version}")
    torch, torch_version = _module_version("torch")
    lines.append(f"PyTorch     {torch_version}")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                lines.append(f"CUDA        available: {torch.cuda.device_count()} device(s), "
                             f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})")
            else:
                lines.append("CUDA        not available (the course's torch code runs on the CPU)")
        except Exception as err:  # noqa: BLE001
            lines.append(f"CUDA        could not be queried ({type(err).__name__}: {err})")

    seqlearn, _ = _module_version("seqlearn")
    if seqlearn is None:
        problems.append("the course's package 'seqlearn' is not importable. Install it with: "
                        f"pip install 'seqlearn @ git+{REPOSITORY_URL}'")
    else:
        where = getattr(seqlearn, "__file__", None) or "?"
        version = getattr(seqlearn, "__version__", "unknown version")
        lines.append(f"seqlearn    {version} ({where})")
        if getattr(seqlearn, "COURSE", None) != COURSE:
            problems.append(
                f"the 'seqlearn' imported from {where} is NOT this course's package: it is the "
                "unrelated PyPI package of the same name (seqlearn 0.2, 2015). Replace it with: "
                + FIX)
    for installed in _installed_distributions():
        lines.append(f"installed   seqlearn {installed} (package metadata)")
        if installed.startswith("0.2"):
            problems.append(
                f"the installed distribution 'seqlearn' {installed} is the unrelated PyPI "
                "package (seqlearn 0.2, 2015), not this course's; code run outside this checkout "
                "may import it. Replace it with: " + FIX)
    return lines, problems


def main():
    """Print the report; return 0 when the course's package is the one in use, else 1."""
    lines, problems = diagnose()
    print("\n".join(lines))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("seqlearn doctor: " + ("all good" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["COURSE", "REPOSITORY_URL", "FIX", "diagnose", "main"]
