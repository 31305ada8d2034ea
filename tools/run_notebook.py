"""Execute notebooks with nbclient and print each one's wall time (and any error).

    .venv/bin/python tools/run_notebook.py book/02_perceptron.ipynb [--show]

``--show`` also prints the text outputs, to read what a run produced; ``--prose`` lists the
numbers in the notebook's prose that its run does not produce (tests/prose_numbers.py).
"""

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def run(path, show=False, timeout=600, prose=False):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
        error = None
    except CellExecutionError as err:
        error = str(err)[-3000:]
    seconds = time.perf_counter() - start
    if show:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if "text" in out:
                    print(out["text"][:2000])
                elif out.get("output_type") in ("display_data", "execute_result"):
                    print("[" + ", ".join(out["data"]) + "]")
    if prose:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from prose_numbers import describe_unproduced
        print(describe_unproduced(nb, path) or f"{path}: every number in the prose is produced")
    return seconds, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--prose", action="store_true")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        seconds, error = run(path, args.show, prose=args.prose)
        print(f"{path}: {seconds:.1f} s" + ("" if error is None else " FAILED"))
        if error:
            print(error)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
