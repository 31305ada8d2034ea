"""A grading trial (``seqlearn doctor --grading``): grade one honest and one hostile submission
in the sandbox, on this machine, and report what held.

The trial writes, in a temporary folder, a one-exercise source notebook (chapter 1's
``one_hot``), an honest submission, and a hostile one whose function tries to escape in six ways
(read the honest submission, write outside its folder from Python and from C, start a process
from C, open a network connection, resolve a host name). The hostile function raises an error
saying which attempts succeeded, so the grader's reason tells; the trial also checks from
outside that no file appeared and that the gradebook holds the honest grade.
"""

import csv
import tempfile
import time
from pathlib import Path

import nbformat

EXERCISE_ID = "01-one-hot"
STUB = ('def one_hot(indices, vocab_size):\n'
        '    raise NotImplementedError("write one_hot")\n')
HONEST = ('def one_hot(indices, vocab_size):\n'
          '    codes = np.zeros((len(indices), vocab_size))\n'
          '    codes[np.arange(len(indices)), indices] = 1.0\n'
          '    return codes\n')
HOSTILE = '''def one_hot(indices, vocab_size):
    import ctypes, os, socket
    libc = ctypes.CDLL(None, use_errno=True)
    escaped = []
    attempts = {{
        "read another submission": lambda: open({honest!r}).read(),
        "write outside (Python)": lambda: open({canary!r} + ".py", "w").write("x"),
        "write outside (C)": lambda: libc.open({canary_c!r}, os.O_WRONLY | os.O_CREAT, 0o644) >= 0
                                     or (_ for _ in ()).throw(OSError()),
        "start a process (C)": lambda: (lambda pid: libc._exit(0) if pid == 0 else
                                        (pid > 0 or (_ for _ in ()).throw(OSError())))(libc.fork()),
        "open a connection": lambda: socket.create_connection(("1.1.1.1", 53), timeout=1),
        "resolve a host name": lambda: socket.getaddrinfo("pypi.org", 443),
    }}
    for name, attempt in attempts.items():
        try:
            attempt()
        except BaseException:
            continue
        escaped.append(name)
    raise RuntimeError("ESCAPED: " + ", ".join(escaped) if escaped else "HELD")
'''


def _notebook(source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"tags": ["exercise"], "exercise_id": EXERCISE_ID}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Grading trial"), cell]
    return nb


def run_trial(timeout=20.0):
    """Grade the two submissions under Bubblewrap; ``(lines, problems)``."""
    from .grader import grade_all, write_outputs
    from .isolation import bwrap_status

    available, why = bwrap_status()
    if not available:
        return [], [f"grading trial: the sandbox is not available ({why})"]
    lines, problems = [], []
    with tempfile.TemporaryDirectory(prefix="seqlearn-trial-") as tmp:
        tmp = Path(tmp)
        (tmp / "source").mkdir()
        (tmp / "class").mkdir()
        nbformat.write(_notebook(STUB), tmp / "source" / "trial.ipynb")
        honest = tmp / "class" / "honest.ipynb"
        nbformat.write(_notebook(HONEST), honest)
        canary = str(tmp / "escaped")
        nbformat.write(_notebook(HOSTILE.format(honest=str(honest), canary=canary,
                                                canary_c=(canary + ".c").encode())),
                       tmp / "class" / "hostile.ipynb")
        start = time.perf_counter()
        results = grade_all([tmp / "class"], tmp / "source", timeout=timeout)
        seconds = time.perf_counter() - start
        write_outputs(results, tmp / "out" / "grades.csv")
        rows = {r["submission"]: r for r in csv.DictReader(open(tmp / "out" / "grades.csv"))}
        honest_row, hostile_row = rows.get("honest.ipynb"), rows.get("hostile.ipynb")
        if honest_row and honest_row["total"] == honest_row["max_total"] != "0":
            lines.append(f"trial       honest submission: full marks ({honest_row['total']}/"
                         f"{honest_row['max_total']})")
        else:
            problems.append(f"grading trial: the honest submission did not get full marks: "
                            f"{honest_row and honest_row['notes']}")
        notes = hostile_row["notes"] if hostile_row else "no row"
        if "HELD" in notes and hostile_row["total"] == "0":
            lines.append("trial       hostile submission: every escape refused (reading another "
                         "submission, writing outside from Python and C, starting a process, "
                         "network, name resolution)")
        else:
            problems.append(f"grading trial: the sandbox did not hold: {notes}")
        leaked = [p.name for p in tmp.glob("escaped*")]
        if leaked:
            problems.append(f"grading trial: files written outside the sandbox: {leaked}")
        lines.append(f"trial       graded 2 submissions in {seconds:.1f} s")
    return lines, problems


__all__ = ["EXERCISE_ID", "STUB", "HONEST", "HOSTILE", "run_trial"]
