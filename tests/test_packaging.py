"""The package declares what it imports: its wheel, installed into a fresh virtual environment
that holds only its declared dependencies (and theirs), runs ``seqlearn doctor``, ``release`` and
``grade``; and ``doctor`` fails, naming the module, when one of them is missing.

Nothing is downloaded: the fresh environment sees this environment's installed copies of exactly
those distributions, linked into a folder of its own."""

import subprocess
import sys
import zipfile

from conftest import ROOT
from environments import build_wheel, fresh_venv
from seqlearn.grading.gradescope import runtime_distributions

BOOK = ROOT / "book"


def _declared(wheel):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.startswith("Requires-Dist:")]


def _run(python, *args, cwd):
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd)


def test_the_wheel_alone_releases_and_grades(tmp_path):
    wheel = build_wheel(tmp_path)
    declared = _declared(wheel)
    assert any(r.startswith("nbformat") for r in declared), declared
    needed = runtime_distributions(requires=declared)
    assert "torch" in needed and "nbformat" in needed

    python = fresh_venv(tmp_path, needed)
    fresh, deps = tmp_path / "venv", tmp_path / "deps" / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    check = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    work = tmp_path / "work"   # not the checkout, whose seqlearn/ would shadow the wheel's
    work.mkdir()
    doctor = _run(python, "-m", "seqlearn", "doctor", cwd=work)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert str(fresh) in doctor.stdout and "seqlearn doctor: all good" in doctor.stdout
    release = _run(python, "-m", "seqlearn", "release", str(BOOK / "01_introduction.ipynb"),
                   "--out", "student", cwd=work)
    assert release.returncode == 0, release.stderr
    grade = _run(python, "-m", "seqlearn", "grade", "student", "--source", str(BOOK), "--out",
                 "grades.csv", cwd=work)
    assert grade.returncode == 0, grade.stderr
    assert "graded 1 submission(s)" in grade.stdout
    assert "not attempted" in (work / "grades.csv").read_text()

    # Without a declared dependency the doctor says which, and fails.
    for link in deps.iterdir():
        if link.name.startswith("nbformat"):
            link.unlink()
    doctor = _run(python, "-m", "seqlearn", "doctor", cwd=work)
    assert doctor.returncode == 1
    assert "the module 'nbformat' that the course needs is not importable" in doctor.stdout
