"""Griffe extension for the docs build: Sphinx cross-reference roles in dqnn's docstrings become autorefs links.

dqnn's docstrings use Sphinx roles (``:func:`output_factors```, ``:class:`~dqnn.model.families.Fixed```,
``:mod:`dqnn.sim.packed```). mkdocstrings renders Markdown, so this extension rewrites every role into an
autorefs link ``[`text`][canonical.path]``, resolving the target the way Sphinx does: relative to the object
(its class, then its module, following the module's imports), else as an absolute path. Targets are replaced
by their canonical path (where the object is defined), which is where the API pages render it.

A target that is private (a name starting with ``_``: not on the API pages) is rendered as code, unlinked.
A target that cannot be resolved is rendered as code too and logged at INFO level with the prefix
``dqnn-docs: unresolved``; set ``DQNN_DOCS_STRICT_REFS=1`` to log those as warnings (``mkdocs build
--strict`` then fails on them). ``.. math::`` blocks become fenced ``tex`` code blocks.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import griffe

_log = logging.getLogger("mkdocs.plugins.dqnn_docs")

ROLE = re.compile(r":(?:py:)?(func|class|mod|data|meth|attr|exc|obj|const):`(?P<body>[^`]+)`")
MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")

#: Top-level names of other packages that docstrings refer to (rendered as code, not links).
_EXTERNAL = {"numpy", "scipy", "jax", "optax", "opt_einsum", "qiskit", "dask", "typer", "matplotlib"}

#: Every rewritten reference: (object path, role target, outcome) with outcome "linked", "private", "external"
#: or "unresolved".
REPORT: list[tuple[str, str, str]] = []


def _lookup(collection: Any, path: str) -> Any:
    """The griffe object at dotted ``path`` (following aliases), or None."""
    parts = path.split(".")
    try:
        obj = collection[parts[0]]
        for part in parts[1:]:
            obj = obj.final_target if obj.is_alias else obj
            obj = obj.members[part]
        return obj.final_target if obj.is_alias else obj
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError, AttributeError):
        return None


def _scopes(obj: Any) -> list[Any]:
    """Where a relative name is looked up, innermost first: the object, its parents up to its module."""
    out = []
    cur = obj
    while cur is not None:
        out.append(cur)
        if cur.is_module:
            break
        cur = cur.parent
    return out


def _resolve(obj: Any, target: str) -> Any:
    collection = obj.modules_collection
    head, _, rest = target.partition(".")
    for scope in _scopes(obj):
        member = scope.members.get(head) if hasattr(scope, "members") else None
        if member is None:
            continue
        try:
            base = member.final_target if member.is_alias else member
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            base = None
        if base is None:
            # an import of something griffe did not load: try its target path
            base = _lookup(collection, member.target_path) if member.is_alias else None
        if base is None:
            continue
        return base if not rest else _lookup(collection, f"{base.path}.{rest}")
    return _lookup(collection, target)


def _is_private(path: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in path.split("."))


def _rewrite_roles(obj: Any, text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        body = m.group("body").strip()
        explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", body)
        if explicit:
            title, target = explicit.group("title"), explicit.group("target")
        else:
            title, target = None, body
        short = target.startswith("~")
        target = target.lstrip("~").lstrip(".")
        if title is None:
            title = target.rsplit(".", 1)[-1] if short else target
        found = _resolve(obj, target)
        if found is None:
            if target.split(".")[0] in _EXTERNAL:
                outcome = "external"  # no inventory of other packages is fetched at build time
            else:
                outcome = "private" if _is_private(target) else "unresolved"
            REPORT.append((obj.path, target, outcome))
            if outcome == "unresolved":
                level = logging.WARNING if os.environ.get("DQNN_DOCS_STRICT_REFS") == "1" else logging.INFO
                _log.log(level, f"dqnn-docs: unresolved cross-reference {target!r} in the docstring of {obj.path}")
            return f"`{title}`"
        path = found.path
        if _is_private(path):
            REPORT.append((obj.path, target, "private"))
            return f"`{title}`"
        REPORT.append((obj.path, target, "linked"))
        return f"[`{title}`][{path}]"

    return ROLE.sub(repl, text)


def _rewrite_math(text: str) -> str:
    """``.. math::`` directives (and their indented bodies) as fenced ``tex`` blocks."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = MATH.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        body = [m.group("first").strip()] if m.group("first").strip() else []
        i += 1
        # the directive's body: the following lines indented deeper, up to the first blank line
        while i < len(lines) and lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) > len(indent):
            body.append(lines[i].strip())
            i += 1
        out += [f"{indent}```tex", *[f"{indent}{b}" for b in body], f"{indent}```"]
    return "\n".join(out)


def _walk(obj: Any, seen: set[int]) -> None:
    if id(obj) in seen or obj.is_alias:
        return
    seen.add(id(obj))
    if obj.docstring is not None:
        value = obj.docstring.value
        new = _rewrite_math(_rewrite_roles(obj, value)) if (":" in value or ".. math::" in value) else value
        if new != value:
            obj.docstring.value = new
            # drop anything griffe parsed from the old text
            obj.docstring.__dict__.pop("parsed", None)
    for member in list(obj.members.values()):
        _walk(member, seen)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles and ``.. math::`` blocks in every docstring of a loaded package (module doc)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name == "dqnn":
            _walk(pkg, set())
