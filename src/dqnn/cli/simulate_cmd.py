"""``dqnn simulate`` and ``dqnn demo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dqnn.cli._app import app

console = Console(stderr=True)


@app.command()
def simulate(
    spec_file: Annotated[
        str, typer.Argument(help="Network: a spec (.json or .toml; see dqnn.spec) or path/to/file.py:function.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the output density matrix (.npy).")] = Path(
        "rho_out.npy"
    ),
    seed: Annotated[int | None, typer.Option(help="Seed for random perceptrons (overrides the spec's).")] = None,
    n: Annotated[
        int | None,
        typer.Option("--n", help="n of a spec that depends on n (or of a Python function); an error for a fixed spec."),
    ] = None,
    allow_outside: Annotated[
        bool,
        typer.Option("--allow-outside", help="Let paths inside the spec (matrices, parameters) leave its folder."),
    ] = False,
) -> None:
    """Simulate a network described in a spec file and write its output state to a .npy file.

    The spec's stored parameters are used when it has them; otherwise the network is initialised from the seed.
    """
    import numpy as np

    from dqnn import spec

    try:
        net, _, rho = spec.network_source(spec_file, allow_outside=allow_outside).simulate(n, seed)
    except ValueError as err:  # a SpecError (one line), or a simulation that refuses its input
        typer.echo(f"error: {' '.join(str(err).split())}", err=True)  # one line, never wrapped
        raise typer.Exit(2) from err
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, rho, allow_pickle=False)
    console.print(net.describe())
    console.print(
        f"output state {rho.shape} written to {out} (trace {np.trace(rho).real:.12f}, purity "
        f"{np.real(np.trace(rho @ rho)):.6f})"
    )


def demo_simulation(seed: int) -> dict[str, float]:
    """A [2, 3, 2] network of Haar perceptrons: output fidelities with a few reference states."""
    import jax
    import numpy as np

    from dqnn.model import gates, states
    from dqnn.model.network import Network
    from dqnn.presets import architectures
    from dqnn.sim.simulate import output_state, peak_stored_qubits

    key = jax.random.key(seed)
    k1, k2, k3 = jax.random.split(key, 3)
    u1 = [np.asarray(gates.haar_unitary(k, 8)) for k in jax.random.split(k1, 3)]
    u2 = [np.asarray(gates.haar_unitary(k, 16)) for k in jax.random.split(k2, 2)]
    net = Network.from_unitaries([2, 3, 2], [u1, u2])
    psi = states.haar_state(k3, 2)
    rho = output_state(net, None, psi)
    return {
        "trace": float(np.real(np.trace(rho))),
        "purity": float(np.real(np.trace(rho @ rho))),
        "fidelity_with_input": float(states.fidelity_pure(rho, psi)),
        "fidelity_with_00": float(states.fidelity_pure(rho, states.zero_state(2))),
        "fig3b_n8_peak_log2_entries": float(peak_stored_qubits(architectures.fig3b(8, 4))),
    }


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("results/demo"),
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """Simulate a small [2, 3, 2] network and print fidelities (make demo runs `dqnn reproduce --quick`)."""
    out.mkdir(parents=True, exist_ok=True)
    res = demo_simulation(seed)
    table = Table(title="[2, 3, 2] DQNN of Haar perceptrons")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in res.items():
        table.add_row(k, f"{v:.6f}")
    Console().print(table)
    (out / "demo.json").write_text(json.dumps(res, indent=2))
    console.print(f"results written to {out.resolve()}")
