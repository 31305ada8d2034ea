"""What every chapter notebook shares: its first code cell and the setup that cell calls."""

from . import REPOSITORY_URL

#: The first code cell of every notebook in book/ and lectures/ (a test enforces it). On Colab it
#: installs this course's package from the repository (PyPI's 'seqlearn' is an unrelated 2015
#: package); everywhere it checks that the right package was imported, then seeds.
SETUP_CELL = f'''\
# Setup (the same in every chapter). On Colab this installs the course's package first.
import sys
if "google.colab" in sys.modules:
    %pip install --quiet "seqlearn @ git+{REPOSITORY_URL}"
import seqlearn
if getattr(seqlearn, "COURSE", None) != "Sequence Learning":
    raise ImportError(
        f"The 'seqlearn' imported from {{getattr(seqlearn, '__file__', '?')}} is the unrelated "
        "PyPI package (seqlearn 0.2, 2015), not this course's. Install the course's with: "
        "pip uninstall -y seqlearn && pip install 'seqlearn @ git+{REPOSITORY_URL}'")
seqlearn.setup_notebook(seed=0)'''


def setup_notebook(seed=0):
    """Seed every generator (``seqlearn.seed``), apply the course's plotting style, and make the
    figures shown carry their description (``seqlearn.alt_text``, the book's alt text)."""
    from . import alt_text
    from . import seed as seed_all
    from .plotting import use_course_style

    use_course_style()
    alt_text.install()
    seed_all(seed)


__all__ = ["SETUP_CELL", "setup_notebook"]
