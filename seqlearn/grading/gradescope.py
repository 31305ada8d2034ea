"""A Gradescope autograder for the course's chapters.

``seqlearn gradescope --out autograder.zip [CHAPTER...]`` writes the zip that Gradescope's
"Autograder" assignment type expects (https://gradescope-autograders.readthedocs.io):

* ``setup.sh`` installs, on Gradescope's Ubuntu image, Bubblewrap, the CPU build of PyTorch and
  the course's other runtime dependencies at the versions this environment was tested with
  (``requirements.txt``), then the course's package from the copy in the zip;
* ``run_autograder`` grades every ``.ipynb`` in ``/autograder/submission`` against the chapters'
  student editions carried in the zip (``source_notebooks/``; no ``--source`` to remember) and
  writes ``/autograder/results/results.json``;
* ``seqlearn_src/`` is the course's package, ``source_notebooks/`` the student editions.

Gradescope runs each submission in a container of its own. The grader still uses Bubblewrap
when the container lets it create namespaces; when it cannot, ``run_autograder`` grades with
``--no-sandbox`` explicitly and says so in the output (the container is then the boundary).

``python -m seqlearn.grading.gradescope run --root DIR`` is what ``run_autograder`` calls; the
root (default ``/autograder``, or ``$AUTOGRADER_ROOT``) can point at a simulated tree.
"""

import argparse
import importlib.metadata
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path

#: The CPU wheels of PyTorch (an unpinned ``pip install torch`` fetches a CUDA build of GBs).
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is uploaded.
set -euo pipefail
cd "$(dirname "$0")"
apt-get update -qq
apt-get install -y -qq bubblewrap python3-pip python3-venv >/dev/null
python3 -m pip install --quiet --upgrade pip
python3 -m pip install --quiet --index-url {torch_index} "torch=={torch_version}"
python3 -m pip install --quiet -r requirements.txt
python3 -m pip install --quiet --no-deps ./seqlearn_src
python3 -m seqlearn doctor
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission; AUTOGRADER_ROOT and PYTHON may point elsewhere (tests).
root="${AUTOGRADER_ROOT:-/autograder}"
exec "${PYTHON:-python3}" -m seqlearn.grading.gradescope run --root "$root"
"""


def runtime_distributions(name="seqlearn", requires=None):
    """The installed distributions that ``name`` needs to run, with their versions: its declared
    dependencies (``requires``, requirement strings; default: the installed ``name``'s
    metadata) and theirs, recursively (environment markers evaluated here; extras ignored).
    ``{canonical name: version}``."""
    from packaging.requirements import Requirement

    def canonical(text):
        return re.sub(r"[-_.]+", "-", text).lower()

    needed, todo = {}, [None]
    while todo:
        current = todo.pop()
        if current is None:
            texts = importlib.metadata.requires(name) if requires is None else requires
        else:
            texts = importlib.metadata.requires(current)
        for text in texts or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = canonical(req.name)
            if key not in needed:
                needed[key] = importlib.metadata.version(req.name)
                todo.append(req.name)
    return dict(sorted(needed.items()))


def _chapter_paths(source_dir, chapters):
    """The chapter notebooks of ``source_dir`` named by ``chapters`` ("04", "04_bptt" or a file
    name; all chapters with exercises when empty)."""
    from .submission import load_sources

    available = {s.path.name: s.path for s in load_sources(source_dir)}
    if not chapters:
        return sorted(available.values())
    chosen = []
    for wanted in chapters:
        stem = Path(wanted).stem
        matches = [p for n, p in available.items() if Path(n).stem == stem or n.split("_")[0] == stem]
        if len(matches) != 1:
            raise ValueError(f"chapter {wanted!r}: expected one of "
                             f"{', '.join(sorted(Path(n).stem for n in available))}, "
                             f"got {len(matches)} match(es)")
        chosen.append(matches[0])
    return chosen


def build_autograder(out, chapters=(), source_dir=None):
    """Write the autograder zip to ``out`` for ``chapters`` of ``source_dir`` (default: the
    course's ``book/``); returns the list of names in the zip."""
    import nbformat

    import seqlearn

    from ..release import student_edition
    from .cli import default_source_dir

    source_dir = Path(source_dir) if source_dir else default_source_dir()
    if not source_dir.is_dir():
        raise ValueError(f"source: the chapters' folder {source_dir} does not exist")
    paths = _chapter_paths(source_dir, chapters)
    package = Path(seqlearn.__file__).resolve().parent
    project = package.parent
    requirements = runtime_distributions()
    torch_version = requirements.pop("torch").split("+")[0]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name, text, executable=False):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)

        add("setup.sh", SETUP_SH.format(torch_index=TORCH_INDEX, torch_version=torch_version),
            executable=True)
        add("run_autograder", RUN_AUTOGRADER, executable=True)
        add("requirements.txt", "".join(f"{n}=={v}\n" for n, v in requirements.items()))
        for path in paths:
            edition = student_edition(nbformat.read(path, as_version=4), name=str(path))
            add(f"source_notebooks/{path.name}", nbformat.writes(edition))
        for name in ("pyproject.toml", "README.md"):
            if (project / name).exists():
                add(f"seqlearn_src/{name}", (project / name).read_bytes())
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                add(f"seqlearn_src/seqlearn/{path.relative_to(package).as_posix()}",
                    path.read_bytes())
        return zf.namelist()


def _submission_metadata(root):
    """The first student's id and name from Gradescope's ``submission_metadata.json``."""
    try:
        users = json.loads((root / "submission_metadata.json").read_text()).get("users") or []
        user = users[0]
        return str(user.get("id") or user.get("email") or ""), str(user.get("name") or "")
    except (OSError, ValueError, IndexError, AttributeError):
        return "", ""


def run_autograder(root="/autograder", timeout=60.0, memory_mb=2048):
    """Grade ``root/submission/*.ipynb`` against ``root/source/source_notebooks`` and write
    ``root/results/results.json`` in Gradescope's format; returns that dict."""
    from .grader import feedback_lines, grade_all
    from .isolation import bwrap_status

    root = Path(root)
    start = time.monotonic()
    sources = root / "source" / "source_notebooks"
    files = sorted(p for p in (root / "submission").glob("**/*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(root / "submission").parts))
    sandbox, why = bwrap_status()
    output = [] if sandbox else [
        f"Graded without Bubblewrap ({why}); Gradescope's container isolates this run."]
    student_id, name = _submission_metadata(root)
    tests, results = [], []
    if not files:
        output.append("No notebook (.ipynb) found in the submission: upload the chapter's "
                      "notebook file itself.")
    else:
        results = grade_all(files, sources, timeout=timeout, memory_mb=memory_mb, isolate=sandbox,
                            keep="all")
    for r in results:
        prefix = f"{Path(r.relative_path).name}: " if len(results) > 1 else ""
        output.append(f"{r.relative_path}: {r.total}/{r.max_total} ({r.notebook or 'not graded'})")
        output += [f"  {n}" for n in r.notes
                   if not any(n.startswith(e.exercise_id + ":") for e in r.exercises)]
        for e in r.exercises:
            tests.append({"name": prefix + e.exercise_id, "score": e.score,
                          "max_score": e.max_score, "output": "\n".join(feedback_lines(e)),
                          "visibility": "visible"})
    result = {
        "score": sum(r.total for r in results),
        "execution_time": int(time.monotonic() - start),
        "output": "\n".join(output),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"student_id": student_id, "name": name, "sandbox": bool(sandbox),
                       "submissions": [{"file": r.relative_path, "notebook": r.notebook,
                                        "status": r.status, "total": r.total,
                                        "max_total": r.max_total} for r in results]},
    }
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m seqlearn.grading.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="grade /autograder/submission (what run_autograder calls)")
    run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    run.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = run_autograder(args.root, timeout=args.timeout)
    print(f"score {result['score']} written to {Path(args.root) / 'results' / 'results.json'}")
    return 0


def add_arguments(parser):
    """The options of ``seqlearn gradescope``."""
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER",
                        help="chapters to grade, e.g. 04 or 04_bptt (default: every chapter with "
                             "exercises)")
    parser.add_argument("--out", required=True, help="the zip to write, e.g. autograder.zip")
    parser.add_argument("--source", default=None,
                        help="folder with the chapters' notebooks (default: the course's book/)")
    return parser


def run_command(args):
    """``seqlearn gradescope``: write the zip and say what is in it."""
    try:
        names = build_autograder(args.out, args.chapters, args.source)
    except ValueError as err:
        print(f"seqlearn gradescope: {err}", file=sys.stderr)
        return 2
    notebooks = [n.split("/", 1)[1] for n in names if n.startswith("source_notebooks/")]
    print(f"seqlearn gradescope: wrote {args.out} ({len(names)} files) for "
          f"{', '.join(notebooks)}; upload it as the autograder of a Gradescope assignment")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["TORCH_INDEX", "SETUP_SH", "RUN_AUTOGRADER", "runtime_distributions",
           "build_autograder", "run_autograder", "main", "add_arguments", "run_command"]
