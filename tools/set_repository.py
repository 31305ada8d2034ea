"""Point the course at another GitHub repository (a fork): ``make repository URL=...``.

    .venv/bin/python tools/set_repository.py https://github.com/me/my-course [--dry-run]

The repository's address is one setting, ``REPOSITORY_URL`` in ``seqlearn/__init__.py``; this
script replaces it, in both its forms (``https://github.com/owner/name`` and the ``owner/name``
of the Colab links), in every tracked text file that holds it: the package, the doctor, the
book's configuration (Colab and repository buttons), ``pyproject.toml``, the README, and the
setup cell of every notebook (chapters, decks, student editions). It prints the files changed.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")


def current_url(root=ROOT):
    text = (Path(root) / "seqlearn" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^REPOSITORY_URL = "([^"]+)"', text, re.M).group(1)


def tracked_files(root=ROOT):
    out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    return [Path(root) / line for line in out.stdout.splitlines()]


def set_repository(new_url, root=ROOT, dry_run=False, files=None):
    """Replace the current repository URL by ``new_url`` everywhere; returns the files changed."""
    match = GITHUB.match(new_url.rstrip("/"))
    if not match:
        raise ValueError(f"URL: expected https://github.com/OWNER/NAME, got {new_url!r}")
    new_url = new_url.rstrip("/")
    old_url = current_url(root)
    old_slug, new_slug = old_url.split("github.com/")[1], new_url.split("github.com/")[1]
    changed = []
    for path in files if files is not None else tracked_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if old_slug not in text:
            continue
        new_text = text.replace(old_url, new_url).replace(old_slug, new_slug)
        if new_text != text:
            changed.append(path)
            if not dry_run:
                path.write_text(new_text, encoding="utf-8")
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        changed = set_repository(args.url, dry_run=args.dry_run)
    except ValueError as err:
        print(f"set_repository: {err}", file=sys.stderr)
        return 2
    for path in changed:
        print(path.relative_to(ROOT))
    print(f"{'would change' if args.dry_run else 'changed'} {len(changed)} file(s); run "
          "`make test` (the student editions and setup cells are checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
