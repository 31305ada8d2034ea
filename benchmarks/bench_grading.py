"""Time ``seqlearn grade`` on 100 generated chapter-1 submissions: under Bubblewrap with ``--jobs 1``
and ``--jobs 2``, and with ``--jobs 2`` and ``--no-sandbox``, side by side in one run.

    .venv/bin/python benchmarks/bench_grading.py [--n 100]

The submissions are a mix: correct, partly wrong, unattempted, a syntax error, an exception at
import, ``sys.exit``, ``os._exit``, a memory bomb, a flood of printing, a call into the reference
implementation and an infinite loop (which uses up its ``--timeout``). They answer the chapter's
first two exercises; its other exercises are left as stubs and graded too ("not attempted"). Every
exercise starts a worker process, so the time is mostly process start-up (and, in the sandbox,
namespace set-up). The first line printed says how many exercises each submission has, counted
from the source notebook.
"""

import argparse
import csv
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

ONE_HOT = ("def one_hot(indices, vocab_size):\n    codes = np.zeros((len(indices), vocab_size))\n"
           "    codes[np.arange(len(indices)), indices] = 1.0\n    return codes\n")
PAIRS = "def next_step_pairs(sequence):\n    sequence = np.asarray(sequence)\n    return sequence[:-1], sequence[1:]\n"
VARIANTS = [
    ("correct", ONE_HOT, PAIRS),
    ("partly_wrong", ONE_HOT, "def next_step_pairs(sequence):\n    return sequence, sequence\n"),
    ("unattempted", None, None),
    ("syntax_error", "def one_hot(indices, vocab_size)\n    pass\n", PAIRS),
    ("import_error", "raise ValueError('x')\n", PAIRS),
    ("sys_exit", "import sys\ndef one_hot(indices, vocab_size):\n    sys.exit(1)\n", PAIRS),
    ("os_exit", "import os\ndef one_hot(indices, vocab_size):\n    os._exit(1)\n", PAIRS),
    ("memory_bomb", "def one_hot(indices, vocab_size):\n    return bytearray(8 << 30)\n", PAIRS),
    ("print_flood", ONE_HOT.replace("):\n", "):\n    print('x' * 10**7)\n", 1), PAIRS),
    ("reference", "import importlib\nm = importlib.import_module('seq' + 'learn.checks.introduction')\n"
                  "one_hot = m.reference_one_hot\n", PAIRS),
    ("correct", ONE_HOT, PAIRS),
    ("correct", ONE_HOT, PAIRS),
]
#: The total each kind of submission must score (01-one-hot is worth 4, 01-next-step-pairs 6;
#: the chapter's other exercises are left as stubs, worth 0).
EXPECTED_TOTAL = {"correct": 10, "partly_wrong": 4, "unattempted": 0, "syntax_error": 6,
                  "import_error": 6, "sys_exit": 6, "os_exit": 6, "memory_bomb": 6,
                  "print_flood": 10, "reference": 6, "infinite_loop": 6}
LOOP = ("infinite_loop", "def one_hot(indices, vocab_size):\n    while True:\n        pass\n", PAIRS)


#: The exercises that the submissions answer; the chapter's others stay stubs.
ANSWERED = ("01-one-hot", "01-next-step-pairs")


def loop_indices(n):
    """The submissions (by index) that are infinite loops."""
    return {n // 3, 2 * n // 3} if n else set()


def exercise_ids():
    """The exercise ids of the source notebook, in order: each is graded in every submission."""
    source = nbformat.read(BOOK / "01_introduction.ipynb", as_version=4)
    return [c.metadata.get("exercise_id") for c in source.cells
            if c.cell_type == "code" and "exercise" in c.metadata.get("tags", [])]


def describe_run(n, timeout):
    """What the run grades, counted from the source notebook."""
    ids = exercise_ids()
    answered = [e for e in ids if e in ANSWERED]
    loops = len(loop_indices(n))
    return (f"grading {n} chapter-1 submissions ({len(ids)} exercises each: {len(answered)} "
            f"answered, {len(ids) - len(answered)} left as stubs; a worker per exercise; "
            f"--timeout {timeout:g} s, {loops} of them infinite loops)")


def make_submissions(folder, n):
    source = nbformat.read(BOOK / "01_introduction.ipynb", as_version=4)
    source.cells = [c for c in source.cells if "solution" not in c.metadata.get("tags", [])]
    for k in range(n):
        name, one_hot, pairs = LOOP if k in loop_indices(n) else VARIANTS[k % len(VARIANTS)]
        nb = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
        for cell in nb.cells:
            if "exercise" in cell.metadata.get("tags", []):
                eid = cell.metadata.get("exercise_id")
                if eid == "01-one-hot" and one_hot:
                    cell.source = one_hot
                if eid == "01-next-step-pairs" and pairs:
                    cell.source = pairs
        nb.metadata["student_id"] = f"s{k:03d}_{name}"
        nbformat.write(nb, Path(folder) / f"s{k:03d}.ipynb")


def main(n=100, timeout=2.0):
    from seqlearn.grading.grader import grade_all, write_outputs

    rows = []
    ids = exercise_ids()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        make_submissions(subs, n)
        print(describe_run(n, timeout))
        for jobs, isolate in ((1, True), (2, True), (2, False)):
            start = time.perf_counter()
            results = grade_all([subs], BOOK, jobs=jobs, timeout=timeout, memory_mb=1024,
                                isolate=isolate)
            out = Path(tmp) / f"jobs{jobs}-{isolate}" / "grades.csv"
            write_outputs(results, out)
            wall = time.perf_counter() - start
            with open(out, newline="") as f:
                table = list(csv.DictReader(f))
            count = len(table)
            assert count == n, f"{count} rows for {n} submissions"
            graded = [c for c in table[0] if c in ids]
            assert graded == ids, f"graded {graded}, the chapter has {ids}"
            wrong = [(r["student_id"], r["total"]) for r in table
                     if float(r["total"]) != EXPECTED_TOTAL[r["student_id"].split("_", 1)[1]]]
            assert not wrong, f"scored differently than expected: {wrong}"
            rows.append({"jobs": jobs, "sandbox": isolate, "wall_s": wall, "per_submission_s": wall / n})
            print(f"  --jobs {jobs}{'' if isolate else ' --no-sandbox'}: {wall:6.1f} s wall, "
                  f"{wall / n * 1000:6.0f} ms per submission, {count} rows, every total as expected")
    print(f"  speed-up with 2 jobs (sandbox): {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x; "
          f"cost of the sandbox at 2 jobs: {rows[1]['wall_s'] / rows[2]['wall_s']:.2f}x")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    main(parser.parse_args().n)
