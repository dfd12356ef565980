"""The spec schema, written as data: per key its type, whether it is required, and its allowed values.

:data:`ARCHITECTURE` and :data:`WIDTHS` are the schemas of the two forms of a spec file; :func:`validate` checks a
parsed file against them and raises one :class:`~dqnn.spec.errors.SpecError` naming the key path of the first
problem (unknown or misspelled keys with the close match, wrong types, with a boolean never an integer, missing
keys, names outside a closed set, listing the valid ones). The nodes are small frozen dataclasses; each has
``check(value, path, file)``. What depends on ``n`` (ranges of qubit indices, the values of expressions) is checked
when the network is built (:mod:`dqnn.spec.builder`), with the same kind of message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dqnn.model import gates
from dqnn.spec import expressions
from dqnn.spec.errors import SpecError, join, names, suggestion, type_name


class Node(Protocol):
    """A schema node: ``check`` raises :class:`SpecError` (naming ``path`` in ``file``) when ``value`` breaks it."""

    @property
    def what(self) -> str:
        """How the node reads in a message ("an integer", "a perceptron")."""
        ...

    def check(self, value: Any, path: str, file: str) -> None:
        """Raise :class:`SpecError` unless ``value`` fits."""
        ...


def _need(ok: bool, file: str, path: str, what: str, value: Any) -> None:
    if not ok:
        raise SpecError(file, path, f"expected {what}, got {type_name(value)}")


@dataclass(frozen=True)
class Int:
    """An integer (a boolean is not one), at least ``min`` when given."""

    min: int | None = None
    what: str = "an integer"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, int) and not isinstance(value, bool), file, path, self.what, value)
        if self.min is not None and value < self.min:
            raise SpecError(file, path, f"must be >= {self.min}, got {value}")


@dataclass(frozen=True)
class Number:
    """A real number (integer or float; a boolean is not one)."""

    what: str = "a number"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, (int, float)) and not isinstance(value, bool), file, path, self.what, value)


@dataclass(frozen=True)
class Bool:
    """``true`` or ``false``."""

    what: str = "a boolean (true or false)"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, bool), file, path, self.what, value)


@dataclass(frozen=True)
class Str:
    """A string; one of ``choices`` when given (the message lists them and suggests the close one)."""

    choices: tuple[str, ...] | None = None
    what: str = "a string"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, str), file, path, self.what, value)
        if self.choices is not None and value not in self.choices:
            raise SpecError(
                file, path, f"unknown value {value!r}{suggestion(value, self.choices)} (valid: {names(self.choices)})"
            )


@dataclass(frozen=True)
class Pauli:
    """A Pauli string such as ``"Y"`` or ``"ZZ"`` (letters I, X, Y, Z)."""

    what: str = "a Pauli string (letters I, X, Y, Z)"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, str), file, path, self.what, value)
        if not value or set(value.upper()) - set("IXYZ"):
            raise SpecError(file, path, f"{value!r} is not a Pauli string (letters I, X, Y, Z)")


@dataclass(frozen=True)
class Expr:
    """An integer expression (:mod:`dqnn.spec.expressions`): an integer, or a string that parses as one."""

    what: str = "an integer or an integer expression string"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, (int, str)) and not isinstance(value, bool), file, path, self.what, value)
        try:
            expressions.variables_of(value)
        except expressions.ExpressionError as err:
            raise SpecError(file, path, str(err)) from None


@dataclass(frozen=True)
class ListOf:
    """A list of ``item`` with at least ``min_len`` entries (exactly ``length`` when given)."""

    item: Node
    min_len: int = 0
    length: int | None = None
    what: str = "a list"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, list), file, path, self.what, value)
        if self.length is not None and len(value) != self.length:
            raise SpecError(file, path, f"expected {self.length} entries, got {len(value)}")
        if len(value) < self.min_len:
            raise SpecError(file, path, f"expected at least {self.min_len} entries, got {len(value)}")
        for i, v in enumerate(value):
            self.item.check(v, join(path, i), file)


@dataclass(frozen=True)
class Key:
    """One key of a :class:`Table`: its node, whether it is required, and a line of documentation."""

    node: Node
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A table with the given keys and no other (an unknown key is an error that suggests the close key)."""

    keys: dict[str, Key]
    what: str = "a table"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, dict), file, path, self.what, value)
        valid = list(self.keys)
        for k in value:
            if k not in self.keys:
                raise SpecError(
                    file,
                    join(path, str(k)),
                    f"unknown key{suggestion(k, valid)} (valid keys of {self.what}: {names(valid)})",
                )
        for k, key in self.keys.items():
            if k in value:
                key.node.check(value[k], join(path, k), file)
            elif key.required:
                raise SpecError(
                    file,
                    join(path, k),
                    f"missing required key (required keys of {self.what}: "
                    f"{names(n for n, kk in self.keys.items() if kk.required)})",
                )


@dataclass(frozen=True)
class MapOf:
    """A table of any keys: each key checked by ``key``, each value by ``value`` (at least one entry)."""

    key: Node
    value: Node
    what: str = "a table"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, dict) and len(value) > 0, file, path, f"{self.what} (not empty)", value)
        for k, v in value.items():
            self.key.check(k, join(path, str(k)), file)
            self.value.check(v, join(path, str(k)), file)


@dataclass(frozen=True)
class OneOf:
    """The first option whose ``accepts`` matches the value's type; ``what`` lists them for the message."""

    options: tuple[tuple[type | tuple[type, ...], Node], ...]
    what: str = "one of several forms"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        for types, node in self.options:
            if isinstance(value, types) and not (isinstance(value, bool) and bool not in _flat(types)):
                node.check(value, path, file)
                return
        raise SpecError(file, path, f"expected {self.what}, got {type_name(value)}")


def _flat(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


@dataclass(frozen=True)
class Variant:
    """A table with exactly one key, which names the kind (``{"npy": "U.npy"}``, ``{"circuit": [...]}``)."""

    kinds: dict[str, Node]
    what: str = "a one-key table"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, dict), file, path, self.what, value)
        keys = list(value)
        if len(keys) != 1:
            raise SpecError(file, path, f"{self.what} has exactly one key, one of {names(self.kinds)}; got {keys}")
        k = keys[0]
        if k not in self.kinds:
            raise SpecError(
                file, join(path, str(k)), f"unknown kind{suggestion(k, self.kinds)} (valid: {names(self.kinds)})"
            )
        self.kinds[k].check(value[k], join(path, k), file)


@dataclass(frozen=True)
class Tagged:
    """A list ``[kind, arg, ...]`` whose first entry names the kind and fixes the nodes of the rest."""

    kinds: dict[str, tuple[Node, ...]]
    what: str = "a tagged list"
    forms: dict[str, str] = field(default_factory=dict)

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, list) and len(value) >= 1, file, path, f"{self.what} [kind, ...]", value)
        kind = value[0]
        if not isinstance(kind, str) or kind not in self.kinds:
            raise SpecError(
                file,
                join(path, 0),
                f"unknown element kind {kind!r}{suggestion(str(kind), self.kinds)} (valid: {names(self.kinds)})",
            )
        args = self.kinds[kind]
        if len(value) != 1 + len(args):
            raise SpecError(file, path, f"a {kind!r} element is {self.forms.get(kind, kind)}, got {len(value)} entries")
        for i, (node, v) in enumerate(zip(args, value[1:], strict=True)):
            node.check(v, join(path, i + 1), file)


@dataclass(frozen=True)
class Switch:
    """A table whose schema is chosen by the value of key ``on`` (``cases``), or ``default`` when it is absent."""

    on: str
    cases: dict[str, Table]
    default: Table | None = None
    what: str = "a table"

    def check(self, value: Any, path: str, file: str) -> None:
        """See the class."""
        _need(isinstance(value, dict), file, path, self.what, value)
        if self.on not in value:
            if self.default is None:
                raise SpecError(file, join(path, self.on), f"missing required key (valid: {names(self.cases)})")
            self.default.check(value, path, file)
            return
        Str(tuple(self.cases)).check(value[self.on], join(path, self.on), file)
        self.cases[value[self.on]].check(value, path, file)


# ---------------------------------------------------------------------------------------------------------------
# the schema of a spec file

PATH = Str(what="a path relative to the spec file")
NPY = Table({"npy": Key(PATH, True, "a .npy file")}, "an npy reference")
WIRES = ListOf(Int(min=0, what="a local wire (integer >= 0)"), min_len=1)
QUBITS = ListOf(Expr(what="a qubit index (an integer or an expression)"))
#: Named gates of circuits: :data:`dqnn.model.gates.NAMED_GATES`.
GATE_NAMES = tuple(gates.NAMED_GATES)
ELEMENT = Tagged(
    {
        "rot": (OneOf(((str, Pauli()), (dict, NPY)), "a Pauli string or {npy = ...}"), WIRES),
        "gate": (OneOf(((str, Str(GATE_NAMES)), (dict, NPY)), "a gate name or {npy = ...}"), WIRES),
        "random": (WIRES,),
    },
    "a circuit element",
    {
        "rot": '["rot", GENERATOR, [wires]]',
        "gate": '["gate", NAME, [wires]]',
        "random": '["random", [wires]]',
    },
)
#: Family names given as a plain string.
FAMILY_NAMES = ("haar", "fig3a", "fig3b-v1", "fig3b-v2")
#: Fig. 3b two-qubit blocks (:func:`dqnn.model.families.two_qubit_w`).
W_KINDS = ("haar-rotation", "ry-cz")
HAMILTONIAN = OneOf(
    ((str, PATH), (dict, MapOf(Pauli(), Number(), "a Pauli sum"))),
    "a path to a .npy matrix or a Pauli sum {PAULI = coefficient}",
)
FAMILY_TABLE = Variant(
    {
        "npy": PATH,
        "circuit": ListOf(ELEMENT, min_len=1),
        "fig3b-v1": Str(W_KINDS),
        "hamiltonian": HAMILTONIAN,
    },
    "a family table",
)
FAMILY = OneOf(((str, Str(FAMILY_NAMES)), (dict, FAMILY_TABLE)), f"a family name ({names(FAMILY_NAMES)}) or a table")
PERCEPTRON = Table(
    {
        "inputs": Key(QUBITS, False, "qubits of layer l (default none)"),
        "outputs": Key(ListOf(QUBITS.item, min_len=1), True, "qubits of layer l + 1"),
        "family": Key(FAMILY, False, 'default "haar"'),
    },
    "a perceptron",
)
_K = Key(Expr(), False, "outputs per perceptron (default 1)")
_FAM = Key(FAMILY, False, 'default "haar"')
PATTERNS: dict[str, Table] = {
    "global": Table({"pattern": Key(Str()), "family": _FAM, "k": _K}, "a global pattern"),
    "window": Table(
        {
            "pattern": Key(Str()),
            "size": Key(Expr(), True, "inputs per perceptron"),
            "stride": Key(Expr(), False, "default 1"),
            "offset": Key(Expr(), False, "first input of perceptron 0 (default 0)"),
            "boundary": Key(Str(("clip", "periodic", "error")), False, 'default "clip"'),
            "family": _FAM,
            "k": _K,
        },
        "a window pattern",
    ),
    "brick": Table(
        {
            "pattern": Key(Str()),
            "pair": Key(FAMILY, False, 'family on (j, j+1) (default "haar")'),
            "single": Key(FAMILY, False, 'family on the other positions (default "fig3b-v2")'),
            "parity": Key(Expr(), False, "first pair start (default l % 2)"),
            "outputs": Key(Str(("first", "both")), False, 'default "first"'),
        },
        "a brick pattern",
    ),
    "pyramid": Table({"pattern": Key(Str()), "family": _FAM, "k": _K}, "a pyramid pattern"),
}
ITEM = Switch("pattern", PATTERNS, PERCEPTRON, "a perceptron or a pattern")
LAYER = OneOf(
    ((list, ListOf(ITEM, min_len=1)), (dict, Switch("pattern", PATTERNS, None, "a pattern"))),
    "a list of perceptrons and patterns, or a pattern table",
)
N_RANGE = Table(
    {"min": Key(Int(min=1), False, "smallest n (default 1)"), "max": Key(Int(min=1), False, "largest n")},
    "an n range",
)
N = OneOf(((int, Int(min=1)), (dict, N_RANGE)), "an integer (a fixed n) or a table {min = ..., max = ...}")
INPUT = OneOf(
    ((str, Str(("zero", "haar"))), (list, ListOf(ListOf(Number(), length=2), min_len=1))),
    '"zero", "haar" or a list of [re, im] amplitudes',
)
_COMMON = {
    "n": Key(N, False, "a fixed n, or {min, max}: the spec depends on n"),
    "seed": Key(Int(min=0), False, "seed of the random initialisation (default 0)"),
    "input": Key(INPUT, False, 'input state (default "zero")'),
    "parameters": Key(PATH, False, "an .npz of parameters, relative to the spec file"),
}
#: Form 1, a preset: ``architecture``, ``n``, ``layers``, ``w`` and the common keys.
ARCHITECTURE = Table(
    {
        "architecture": Key(Str(("fig3a", "fig3b", "global")), True, "the preset"),
        **_COMMON,
        "n": Key(N, True, "qubits per layer, or {min, max}"),
        "layers": Key(Expr(), False, "DQNN layers (default 1)"),
        "w": Key(Str(W_KINDS), False, "Fig. 3b block"),
    },
    "an architecture spec",
)
#: Form 2, widths and perceptrons (or patterns): ``widths``, ``layers``, ``L``, ``strict`` and the common keys.
WIDTHS = Table(
    {
        "widths": Key(
            OneOf(((list, ListOf(Expr(), min_len=2)), (str, Expr())), "a list of widths or one expression in l"), True
        ),
        "layers": Key(
            OneOf(
                ((list, ListOf(LAYER, min_len=1)), (dict, Table({"each": Key(LAYER, True)}, "a layers table"))),
                "a list with one entry per layer, or a table {each = LAYER}",
            ),
            True,
        ),
        "L": Key(Expr(), False, "DQNN layers (an expression in n)"),
        "strict": Key(Bool(), False, "default false"),
        **_COMMON,
    },
    "a widths spec",
)
#: Keys that dqnn adds to a loaded spec (a file may not hold them).
RESERVED = ("_base", "_file", "_allow_outside")
#: The keys of the whole file: an ``architecture`` spec or a ``widths`` spec.
TOP_KEYS = tuple(dict.fromkeys([*ARCHITECTURE.keys, *WIDTHS.keys]))


def validate(data: Any, file: str) -> None:
    """Check a parsed spec against the schema; :class:`SpecError` names the first offending key path."""
    if not isinstance(data, dict):
        raise SpecError(file, "", f"the top level must be a table, got {type_name(data)}")
    data = {k: v for k, v in data.items() if k not in RESERVED}
    if "architecture" in data:
        ARCHITECTURE.check(data, "", file)
        return
    if "widths" not in data:
        for k in data:
            if k not in TOP_KEYS:
                raise SpecError(file, str(k), f"unknown key{suggestion(k, TOP_KEYS)} (valid keys: {names(TOP_KEYS)})")
        raise SpecError(file, "widths", "missing required key: give 'architecture' (a preset) or 'widths' and 'layers'")
    WIDTHS.check(data, "", file)
    if isinstance(data["widths"], str) and "L" not in data:
        raise SpecError(file, "L", "missing: 'widths' given as one expression in l needs 'L' (the number of layers)")
