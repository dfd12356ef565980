"""The documentation against the code: spec examples load with dqnn.spec, the CLI page lists every option.

Spec examples are the files of ``docs/examples/specs/`` (shown on the spec page through snippets) and every
fenced ``json`` or ``toml`` block of a page that describes a network (``"widths"`` or ``"architecture"``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest

from dqnn import spec

DOCS = Path(__file__).resolve().parents[1] / "docs"
SPEC_DIR = DOCS / "examples" / "specs"
SPEC_FILES = sorted(p for p in SPEC_DIR.iterdir() if p.suffix in (".json", ".toml"))
FENCE = re.compile(r"^```(json|toml)[^\n]*\n(.*?)^```", re.M | re.S)


def _fenced_specs() -> list[tuple[str, str, str]]:
    out = []
    for page in sorted(DOCS.rglob("*.md")):
        for k, m in enumerate(FENCE.finditer(page.read_text())):
            body = m.group(2)
            if body.lstrip().startswith("--8<--"):
                continue  # a snippet of a file in docs/examples/specs: tested as a file
            if re.search(r"\barchitecture\b|\bwidths\b", body):
                out.append((f"{page.relative_to(DOCS)}#{k}", m.group(1), body))
    return out


FENCED = _fenced_specs()


def _check(path: Path) -> None:
    data = spec.load(path)
    net = spec.build(data)
    rho_in = np.asarray(spec.input_state(data, net.num_inputs))
    assert rho_in.shape == (2**net.num_inputs,)
    assert net.depth == len(data["layers"]) if "widths" in data else net.depth == int(data.get("layers", 1))


def test_spec_examples_exist():
    assert len(SPEC_FILES) >= 4
    shown = (DOCS / "guide" / "spec.md").read_text()
    for p in SPEC_FILES:
        assert f"examples/specs/{p.name}" in shown, f"{p.name} is not shown on guide/spec.md"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_spec_file_example_loads(path: Path):
    _check(path)


@pytest.mark.parametrize(("where", "suffix", "body"), FENCED, ids=[w for w, _, _ in FENCED])
def test_fenced_spec_example_loads(where: str, suffix: str, body: str, tmp_path: Path):
    f = tmp_path / f"spec.{suffix}"
    f.write_text(body)
    for npy in SPEC_DIR.glob("*.npy"):  # matrices the examples name, relative to the spec file
        shutil.copy(npy, tmp_path / npy.name)
    _check(f)


def test_one_spec_example_simulates_to_a_density_matrix():
    from dqnn import output_state

    data = spec.load(SPEC_DIR / "mixed_families.toml")
    net = spec.build(data)
    rho = np.asarray(output_state(net, net.init(jax.random.key(data["seed"])), spec.input_state(data, 2)))
    assert rho.shape == (2, 2)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-12


def test_cli_page_lists_every_command_and_option():
    import typer.main

    from dqnn.cli import app

    page = (DOCS / "guide" / "cli.md").read_text()
    group = typer.main.get_command(app)
    for param in group.params:  # options of `dqnn` itself, before the command
        for opt in param.opts:
            if opt.startswith("-"):
                assert opt in page, f"guide/cli.md does not mention the global option {opt}"
    for name, cmd in group.commands.items():
        assert f"dqnn {name}" in page, f"guide/cli.md does not describe `dqnn {name}`"
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in page, f"guide/cli.md does not mention {opt} of `dqnn {name}`"


PYTHON_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.M | re.S)
CODE_PAGES = [p for p in sorted(DOCS.rglob("*.md")) if PYTHON_FENCE.search(p.read_text())]


@pytest.mark.parametrize("page", CODE_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_python_blocks_run(page: Path):
    """Every ```python block of a page runs, in order, in one namespace (snippets of scripts are the tutorials')."""
    import warnings

    blocks = [b for b in PYTHON_FENCE.findall(page.read_text()) if not b.lstrip().startswith("--8<--")]
    namespace: dict[str, object] = {"__name__": "docs_example"}
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=DeprecationWarning, module="docs_example")
        for k, block in enumerate(blocks):
            try:
                exec(compile(block, f"{page.name}[{k}]", "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"{page.relative_to(DOCS)}, python block {k} failed: {err!r}\n{block}") from err
