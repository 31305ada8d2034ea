"""`seqlearn doctor` reports the versions in use and says plainly when the unrelated PyPI
`seqlearn` is installed or imported instead of the course's package."""

import os
import subprocess
import sys

import numpy as np
import torch

import seqlearn
from seqlearn import doctor
from seqlearn.cli import main

from conftest import ROOT


def _run(args, pythonpath=None):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)


def test_doctor_in_process_reports_versions_and_exits_0(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert np.__version__ in out and torch.__version__ in out
    assert seqlearn.__version__ in out and seqlearn.__file__ in out
    assert "CUDA" in out and "all good" in out


def test_python_m_seqlearn_doctor_prints_the_versions():
    done = _run(["-m", "seqlearn", "doctor"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Python      {sys.version.split()[0]}" in done.stdout
    assert f"NumPy       {np.__version__}" in done.stdout
    assert f"PyTorch     {torch.__version__}" in done.stdout
    assert f"seqlearn    {seqlearn.__version__}" in done.stdout


def _fake_pypi_seqlearn(folder, with_package=True):
    """The unrelated PyPI package as Python would see it: no COURSE, version 0.2.2."""
    if with_package:
        (folder / "seqlearn").mkdir(parents=True)
        (folder / "seqlearn" / "__init__.py").write_text('__version__ = "0.2.2"\n')
    info = folder / "seqlearn-0.2.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: seqlearn\nVersion: 0.2.2\n")
    return folder


def test_doctor_says_when_the_imported_seqlearn_is_the_pypi_package(tmp_path):
    # With the PyPI package first on the path `python -m seqlearn` cannot even start, so the
    # doctor is run as a file.
    fake = _fake_pypi_seqlearn(tmp_path)
    done = _run([str(ROOT / "seqlearn" / "doctor.py")], pythonpath=fake)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT this course's package" in done.stdout
    assert str(fake / "seqlearn" / "__init__.py") in done.stdout
    assert "pip uninstall -y seqlearn" in done.stdout
    assert f"NumPy       {np.__version__}" in done.stdout  # the real NumPy, not seqlearn/numpy


def test_doctor_says_when_the_installed_distribution_is_the_pypi_package(tmp_path):
    # The course's package is imported (from the checkout), but the installed 'seqlearn'
    # distribution is PyPI's 0.2.2.
    fake = _fake_pypi_seqlearn(tmp_path, with_package=False)
    done = _run(["-m", "seqlearn", "doctor"], pythonpath=fake)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "installed distribution 'seqlearn' 0.2.2 is the unrelated PyPI" in done.stdout


def test_diagnose_flags_a_module_without_course(monkeypatch):
    impostor = type(sys)("seqlearn")
    impostor.__file__ = "/somewhere/seqlearn/__init__.py"
    monkeypatch.setitem(sys.modules, "seqlearn", impostor)
    lines, problems = doctor.diagnose()
    assert any("/somewhere/seqlearn/__init__.py" in p and "PyPI" in p for p in problems)


def test_doctor_reports_the_modules_and_the_grading_sandbox():
    lines, problems = doctor.diagnose()
    assert not problems
    assert any(line.startswith("modules     all importable") for line in lines)
    assert any(line.startswith("sandbox     Bubblewrap available") for line in lines), lines


def test_doctor_grading_runs_an_honest_and_a_hostile_submission():
    out = subprocess.run([sys.executable, "-m", "seqlearn", "doctor", "--grading"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "honest submission: full marks (4/4)" in out.stdout
    assert "hostile submission: every escape refused" in out.stdout


def test_a_missing_module_is_a_problem_named_by_the_doctor(monkeypatch):
    real = doctor._module_version

    def missing_nbformat(name):
        return (None, "not importable (ModuleNotFoundError: No module named 'nbformat')") \
            if name == "nbformat" else real(name)

    monkeypatch.setattr(doctor, "_module_version", missing_nbformat)
    _, problems = doctor.diagnose()
    assert any("the module 'nbformat' that the course needs is not importable" in p for p in problems)
