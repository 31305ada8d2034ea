"""Publishing: the GitHub Actions workflow is well formed and runs the CI script itself (so it
cannot drift from what CI runs here); the repository's address is one setting that
tools/set_repository.py changes everywhere."""

import re
import shutil
import subprocess
import sys

import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import set_repository  # noqa: E402

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
STEP_KEYS = {"name", "id", "uses", "run", "with", "env", "if", "shell", "working-directory",
             "continue-on-error", "timeout-minutes"}
JOB_KEYS = {"runs-on", "steps", "needs", "env", "environment", "permissions", "timeout-minutes",
            "if", "outputs", "strategy", "concurrency", "name"}


def test_the_workflow_is_well_formed_and_runs_the_ci_script():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    trigger = workflow.get("on", workflow.get(True))      # YAML 1.1 reads a bare `on` as True
    assert trigger["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    jobs = workflow["jobs"]
    assert set(jobs) == {"build", "deploy"} and jobs["deploy"]["needs"] == "build"
    for name, job in jobs.items():
        assert set(job) <= JOB_KEYS, (name, set(job) - JOB_KEYS)
        assert isinstance(job["runs-on"], str) and job["steps"]
        for step in job["steps"]:
            assert set(step) <= STEP_KEYS, (name, step)
            assert ("uses" in step) != ("run" in step), f"a step has one of uses/run: {step}"
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    runs = [s["run"] for s in jobs["build"]["steps"] if "run" in s]
    assert any(r.strip().endswith("bash .ci/run") for r in runs), runs
    upload = [s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert jobs["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    # the CI script that the workflow runs tests, builds the book and tests it in a browser
    ci = (ROOT / ".ci" / "run").read_text()
    assert all(f"make {target}" in ci for target in ("test", "book", "site-test"))


def test_the_repository_address_is_changed_everywhere(tmp_path):
    files = set_repository.tracked_files()
    old = set_repository.current_url()
    holding = [p for p in files if p.suffix in (".py", ".yml", ".toml", ".md", ".ipynb")
               and old.split("github.com/")[1] in p.read_text(encoding="utf-8", errors="ignore")]
    assert {"seqlearn/__init__.py", "seqlearn/doctor.py", "_config.yml", "README.md",
            "pyproject.toml"} <= {p.relative_to(ROOT).as_posix() for p in holding}
    copies = []
    for path in holding:
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
        copies.append(copy)
    changed = set_repository.set_repository("https://github.com/someone/their-course",
                                            root=tmp_path, files=copies)
    assert sorted(changed) == sorted(copies)
    for copy in copies:
        text = copy.read_text(encoding="utf-8")
        assert old.split("github.com/")[1] not in text
        assert "someone/their-course" in text
    assert set_repository.current_url(tmp_path) == "https://github.com/someone/their-course"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "set_repository.py"),
                             "not-a-url", "--dry-run"], capture_output=True, text=True)
    assert result.returncode == 2 and "expected https://github.com/OWNER/NAME" in result.stderr
