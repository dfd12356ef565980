"""``dqnn export``: a network spec with seeded parameters as an OpenQASM 3 file or a Qiskit (QPY) circuit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dqnn.cli._app import app
from dqnn.cli._choices import EXPORT_FORMATS as FORMATS
from dqnn.cli._choices import LAYOUTS

console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(2)


@app.command("export")
def export_cmd(
    network: Annotated[
        Path, typer.Option("--network", help="Network spec (.json or .toml) or file.py:function; see dqnn.spec.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the circuit (.qasm, or .qpy for qiskit).")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)} (qiskit: a QPY file).")] = "qasm3",
    layout: Annotated[
        str, typer.Option(help=f"One of {', '.join(LAYOUTS)}: mid-circuit reset, or one qubit per node.")
    ] = "reuse",
    seed: Annotated[int | None, typer.Option(help="Seed of the parameters (default: the spec's, else 0).")] = None,
    basis: Annotated[
        str | None, typer.Option(help="Synthesise into these gates, comma separated (e.g. rz,sx,x,cx).")
    ] = None,
    bind: Annotated[
        bool, typer.Option("--bind", help="Write the angles as numbers (default: circuit parameters).")
    ] = False,
) -> None:
    """Export a network with seeded parameters to a circuit; the angles go to OUT.params.json unless --bind."""
    if fmt not in FORMATS:
        raise _fail(f"--format {fmt!r} is not one of {FORMATS}")
    if layout not in LAYOUTS:
        raise _fail(f"--layout {layout!r} is not one of {LAYOUTS}")
    try:
        import jax

        from dqnn import spec
        from dqnn.hardware import export

        src = spec.network_source(str(network))
        if src.depends_on_n:
            raise _fail(f"--network {network} depends on n: export takes one network (fix n in the spec)")
        net = src.network()
        params = src.parameters()  # a spec that carries parameters (e.g. a trained network) exports them
        if params is None:
            spec_seed = spec.load(network).get("seed", 0) if network.suffix in (".json", ".toml") else 0
            params = net.init(jax.random.key(int(seed if seed is not None else spec_seed)))
        gates = None if basis is None else [g.strip() for g in basis.split(",") if g.strip()]
        if gates is not None:
            from qiskit.circuit.library import get_standard_gate_name_mapping

            known = set(get_standard_gate_name_mapping())
            unknown = [g for g in gates if g not in known]
            if unknown or not gates:
                raise _fail(f"--basis {basis!r}: unknown gate name(s) {unknown} (Qiskit standard gate names)")
        ex = export.to_circuit(net, params, layout, basis_gates=gates)
    except (ValueError, TypeError, KeyError) as err:
        raise _fail(f"--network {network}: {err}") from err
    except ImportError as err:
        raise _fail(f"dqnn export needs qiskit: {err}") from err
    values = {p.name: v for p, v in ex.values(params).items()}
    circuit = ex.bound(params) if bind else ex.circuit
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "qasm3":
            out.write_text(export.to_qasm3(ex, params if bind else None))
        else:
            from qiskit import qpy

            with out.open("wb") as fh:
                qpy.dump(circuit, fh)
        if values and not bind:
            Path(f"{out}.params.json").write_text(json.dumps(values, indent=2))
    except OSError as err:
        raise _fail(f"--out {out}: {err}") from err
    lay = ex.layout
    console.print(
        f"{net.describe().splitlines()[0]}: {layout} layout, {lay.num_qubits} qubits (fresh: {sum(net.widths)}), "
        f"inputs on {list(lay.inputs)}, outputs on {list(lay.outputs)}, {len(values)} angle(s)"
        + ("" if bind or not values else f" in {out}.params.json")
        + f"; written to {out}",
        soft_wrap=True,
    )
