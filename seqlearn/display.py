"""Show the package's own source in a notebook, so the book and the code cannot drift apart."""

import html
import inspect


class SourceCode:
    """Highlighted source of a function or class: HTML in the book and Jupyter, text elsewhere."""

    def __init__(self, obj):
        try:
            self.code = inspect.getsource(obj)
        except (TypeError, OSError) as err:
            raise TypeError(
                f"show_source: argument 'obj' must be a function, class or module defined in "
                f"Python source, got {obj!r} ({err})"
            ) from None
        module = inspect.getmodule(obj)
        self.origin = f"{module.__name__}.{getattr(obj, '__qualname__', '')}".rstrip(".")

    def _repr_html_(self):
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:  # pygments comes with Jupyter; plain <pre> otherwise
            body = f"<pre>{html.escape(self.code)}</pre>"
        else:
            body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True))
        return f"<div><small><code>{html.escape(self.origin)}</code></small>{body}</div>"

    def __repr__(self):
        return f"# {self.origin}\n{self.code}"


def show_source(obj):
    """Return a displayable view of ``obj``'s source code (``inspect.getsource``)."""
    return SourceCode(obj)


__all__ = ["SourceCode", "show_source"]
