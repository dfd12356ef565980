"""The one error of spec files, :class:`SpecError`, and the helpers that phrase it.

Every problem of a spec is one line ``<file>: <key path>: <problem>``; the key path names the offending entry as
``layers[1][0].family.circuit[2]`` (a table key after a dot, a list position in brackets), and the problem lists
the valid names where there is a closed set of them (keys, families, gates, element kinds, patterns).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SpecError(ValueError):
    """A spec that cannot be read or built: ``str(err)`` is ``"<file>: <key path>: <problem>"`` on one line.

    ``file`` is the spec file as given (``"<spec>"`` for a dict built in Python), ``key`` the key path (``""`` for
    the file as a whole), ``problem`` the rest.
    """

    def __init__(self, file: str, key: str, problem: str):
        self.file = str(file)
        self.key = str(key)
        self.problem = " ".join(str(problem).split())  # one line, whatever the wrapped message held
        super().__init__(f"{self.file}: {self.key}: {self.problem}" if self.key else f"{self.file}: {self.problem}")


def join(path: str, key: str | int) -> str:
    """The key path of entry ``key`` (a table key or a list position) below ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def names(options: Iterable[str]) -> str:
    """``"a, b, c"``: the valid names, for a message."""
    return ", ".join(str(o) for o in options)


def suggestion(word: str, options: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` when ``word`` is close to one of ``options`` (difflib), else ``""``."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def type_name(value: object) -> str:
    """How a spec value reads in a message: ``a boolean (true)``, ``a string ('x')``, ``a list``, ..."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return type(value).__name__
