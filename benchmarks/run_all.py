"""Run every benchmark in this folder (``bench_*.py``, each with a ``main()``) in one process.

    .venv/bin/python benchmarks/run_all.py        (or: make benchmark)

Each benchmark prints its own table of times measured side by side, with the ratios and the
budgets in CONTRIBUTING.md. Benchmarks are never tests: they report, they do not fail.
"""

import importlib.util
import platform
import sys
from pathlib import Path

import torch


def main():
    here = Path(__file__).resolve().parent
    print(f"Python {platform.python_version()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    for path in sorted(here.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\n== {path.name} ==")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
