"""MkDocs hook: the API reference pages, generated from the source tree at build time.

One page per public subpackage of ``src/dqnn`` (its docstring, then one section per public module, rendered by
mkdocstrings) and one per public top-level module. Nothing is listed by hand, so the reference follows the
package's layout as it is on the day of the build (modules renamed, added or removed need no docs edit).
Private modules (a name starting with ``_``) are left out. The pages go under ``api/`` and are appended to the
``nav`` as "API reference", in the order of the layout line of ``dqnn/__init__.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "dqnn"
NAV_TITLE = "API reference"


def _public(p: Path) -> bool:
    return not p.name.startswith("_") and ((p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py")


def _layout_order() -> list[str]:
    """Subpackage and module names in the order ``dqnn/__init__.py`` mentions them (``:mod:`dqnn.x```)."""
    doc = ast.get_docstring(ast.parse((SRC / "__init__.py").read_text())) or ""
    seen: list[str] = []
    for name in re.findall(r"dqnn\.(\w+)", doc):
        if name not in seen:
            seen.append(name)
    return seen


def _sorted(names: list[str], order: list[str]) -> list[str]:
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def _submodules(pkg: Path) -> list[str]:
    """Public modules of a subpackage, in the order its ``__init__`` mentions them, then alphabetically."""
    init = (pkg / "__init__.py").read_text()
    names = [p.stem for p in pkg.iterdir() if _public(p) and p.suffix == ".py"]
    names += [p.name for p in pkg.iterdir() if _public(p) and p.is_dir()]

    def key(n: str) -> tuple[int, str]:
        m = re.search(rf"\.{n}\b", init)
        return (m.start() if m else len(init), n)

    return sorted(names, key=key)


def pages() -> list[tuple[str, str, str]]:
    """``(title, uri, markdown)`` of every API page."""
    order = _layout_order()
    out = [
        (
            "dqnn",
            "api/dqnn.md",
            "# dqnn {#api-dqnn}\n\n::: dqnn\n    options:\n      members: false\n      show_root_heading: false\n",
        )
    ]
    entries = [p for p in SRC.iterdir() if _public(p)]
    for name in _sorted([p.stem if p.suffix == ".py" else p.name for p in entries], order):
        path = SRC / name
        full = f"dqnn.{name}"
        if path.is_dir():
            parts = [
                f"# {full}\n",
                f"::: {full}\n    options:\n      members: false\n      show_root_heading: false\n",
            ]
            parts += [f"::: {full}.{m}\n" for m in _submodules(path)]
            text = "\n".join(parts)
        else:
            text = f"# {full}\n\n::: {full}\n    options:\n      show_root_heading: false\n"
        out.append((full, f"api/{full}.md", text))
    return out


def on_config(config: Any) -> Any:
    nav = config["nav"]
    entries = [{title: uri} for title, uri, _ in pages()]
    for item in nav:
        if isinstance(item, dict) and NAV_TITLE in item:
            item[NAV_TITLE] = entries
            break
    else:
        nav.append({NAV_TITLE: entries})
    return config


def on_files(files: Files, config: Any) -> Files:
    for _, uri, text in pages():
        files.append(File.generated(config, uri, content=text))
    return files
