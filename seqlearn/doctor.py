"""``seqlearn doctor``: what the course's code will run on, and whether ``seqlearn`` is the right one.

Prints the versions of Python, NumPy and PyTorch, whether CUDA is available (and the GPU's name),
which ``seqlearn`` is imported and from where, whether every module the course's commands need
can be imported, and whether the grading sandbox (Bubblewrap) is available. PyPI's ``seqlearn``
(0.2, 2015) is an unrelated package with the same name: the doctor says so plainly when it is the
one installed or imported. It exits with status 1 when something is wrong (0 when all is well).

``--grading`` also grades a small honest and a small hostile submission in the sandbox and
reports what held, so that an instructor can trust a machine before grading on it.

    python -m seqlearn doctor [--grading]
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
#: Modules that the chapters and the commands (release, grade) import, beyond NumPy and PyTorch.
NEEDED_MODULES = ("matplotlib", "ipywidgets", "IPython", "sklearn", "tqdm", "pygments", "nbformat")


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
    for name in NEEDED_MODULES:
        module, version = _module_version(name)
        if module is None:
            problems.append(f"the module '{name}' that the course needs is {version}; install "
                            "the course's package with its dependencies: pip install "
                            f"'seqlearn @ git+{REPOSITORY_URL}'")
    lines.append("modules     " + ("all importable: " + ", ".join(NEEDED_MODULES)
                                   if not any("the module" in p for p in problems)
                                   else "some missing (see below)"))
    try:
        from seqlearn.grading.isolation import bwrap_status

        available, why = bwrap_status()
        lines.append("sandbox     " + ("Bubblewrap available: `seqlearn grade` isolates each "
                                       "submission" if available else
                                       f"not available ({why}); `seqlearn grade` then needs "
                                       "--no-sandbox"))
    except Exception as err:  # noqa: BLE001 - e.g. the unrelated seqlearn
        lines.append(f"sandbox     could not be checked ({type(err).__name__}: {err})")
    for installed in _installed_distributions():
        lines.append(f"installed   seqlearn {installed} (package metadata)")
        if installed.startswith("0.2"):
            problems.append(
                f"the installed distribution 'seqlearn' {installed} is the unrelated PyPI "
                "package (seqlearn 0.2, 2015), not this course's; code run outside this checkout "
                "may import it. Replace it with: " + FIX)
    return lines, problems


def grading_trial():
    """Grade a small honest and a small hostile submission in the sandbox; return ``(lines,
    problems)`` saying what held."""
    from seqlearn.grading.trial import run_trial

    return run_trial()


def main(argv=None):
    """Print the report; return 0 when the course's package is the one in use and nothing is
    missing, else 1. ``argv``: ``["--grading"]`` adds the grading trial."""
    argv = sys.argv[1:] if argv is None else argv
    lines, problems = diagnose()
    if "--grading" in argv and not problems:
        more, trouble = grading_trial()
        lines += more
        problems += trouble
    print("\n".join(lines))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("seqlearn doctor: " + ("all good" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["COURSE", "REPOSITORY_URL", "FIX", "NEEDED_MODULES", "diagnose", "grading_trial", "main"]
