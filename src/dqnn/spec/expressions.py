"""Integer expressions of n-dependent specs, parsed with ``ast`` and evaluated without ``eval``.

An expression is an integer literal or a string such as ``"n // 2"``, ``"max(1, n - 2)"`` or
``"log2(n)"``. Allowed: integer literals; the variables the context gives (``n``; ``L``, the number of DQNN
layers; ``l``, the layer index inside a layer); ``+ - * // % **`` and unary ``-``; the functions
``min(a, b, ...)``, ``max(a, b, ...)``, ``cdiv(a, b)`` (ceiling division, ``-(-a // b)``) and ``log2(a)``
(``ceil(log2(a))`` for ``a >= 1``: the number of halvings from ``a`` to 1). Nothing else parses: no attribute,
subscript, comparison, true division, keyword argument or other name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

#: Longest expression string accepted.
MAX_LENGTH = 200
#: Largest magnitude of any intermediate value (expressions describe qubit counts and indices).
MAX_VALUE = 2**40
#: The functions an expression may call.
FUNCTIONS: dict[str, Callable[..., int]] = {
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "cdiv": lambda a, b: -(-a // b),
    "log2": lambda a: (a - 1).bit_length(),
}
_ARITY = {"min": (1, 64), "max": (1, 64), "cdiv": (2, 2), "log2": (1, 1)}
_OPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


class ExpressionError(ValueError):
    """An expression that does not parse or evaluate (the spec builder names the key it came from)."""


def variables_of(expr: int | str) -> frozenset[str]:
    """The variable names an expression uses (after checking that it parses)."""
    if not isinstance(expr, str):
        return frozenset()
    tree = _parse(expr)
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in FUNCTIONS)


def evaluate(expr: int | str, env: Mapping[str, int]) -> int:
    """The value of ``expr`` (an int, or a string in the names of ``env``); ExpressionError otherwise."""
    if isinstance(expr, bool) or not isinstance(expr, (int, str)):
        raise ExpressionError(f"expected an integer or an expression string, got {type(expr).__name__}")
    if isinstance(expr, int):
        return expr
    return _eval(_parse(expr).body, env)


def _parse(expr: str) -> ast.Expression:
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"expression {expr!r} does not parse ({err.msg})") from None
    for node in ast.walk(tree):
        _allowed(node, expr)
    return tree


def _allowed(node: ast.AST, expr: str) -> None:
    ok = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.USub, ast.UAdd, ast.Call, *_OPS)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise ExpressionError(f"expression {expr!r}: only integer literals are allowed, not {node.value!r}")
        return
    if isinstance(node, ast.Div):
        raise ExpressionError(f"expression {expr!r}: '/' is not allowed; use '//' (floor) or cdiv(a, b) (ceiling)")
    if not isinstance(node, ok):
        raise ExpressionError(
            f"expression {expr!r}: {type(node).__name__} is not allowed (integers, variables, + - * // % **, "
            f"{', '.join(FUNCTIONS)})"
        )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(f"expression {expr!r}: only {', '.join(FUNCTIONS)} may be called")
        if node.keywords:
            raise ExpressionError(f"expression {expr!r}: {node.func.id}() takes no keyword arguments")
        lo, hi = _ARITY[node.func.id]
        if not lo <= len(node.args) <= hi:
            raise ExpressionError(f"expression {expr!r}: {node.func.id}() takes {lo}..{hi} argument(s)")


def _check(value: int) -> int:
    if abs(value) > MAX_VALUE:
        raise ExpressionError(f"value {value} exceeds the limit {MAX_VALUE}")
    return value


def _eval(node: ast.AST, env: Mapping[str, int]) -> int:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int)  # _allowed let only integer literals through
        return _check(node.value)
    if isinstance(node, ast.Name):
        if node.id not in env:
            if node.id == "n":
                raise ExpressionError(
                    'n is not defined: the spec has no \'n\' (give "n": {"min": ...} to make it depend on n, or '
                    'a fixed "n")'
                )
            known = ", ".join(sorted(env)) or "none here"
            raise ExpressionError(f"unknown variable {node.id!r} (variables: {known})")
        return int(env[node.id])
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return _check(-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        op = type(node.op)
        if op in (ast.FloorDiv, ast.Mod) and b == 0:
            raise ExpressionError(f"division by zero ({a} {_OPS[op]} 0)")
        if op is ast.Pow:
            if b < 0:
                raise ExpressionError(f"negative exponent ({a} ** {b})")
            if abs(a) > 1 and b > 64:
                raise ExpressionError(f"exponent too large ({a} ** {b})")
            return _check(a**b)
        arith: dict[type, Callable[[int, int], int]] = {
            ast.Add: lambda x, y: x + y,
            ast.Sub: lambda x, y: x - y,
            ast.Mult: lambda x, y: x * y,
            ast.FloorDiv: lambda x, y: x // y,
            ast.Mod: lambda x, y: x % y,
        }
        return _check(arith[op](a, b))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(a, env) for a in node.args]
        name = node.func.id
        if name == "cdiv" and args[1] == 0:
            raise ExpressionError("division by zero in cdiv")
        if name == "log2" and args[0] < 1:
            raise ExpressionError(f"log2 of {args[0]} (needs an argument >= 1)")
        return _check(FUNCTIONS[name](*args))
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # unreachable after _allowed
