"""pandas DataFrames of result objects, with fixed column types so that a frame survives a CSV round trip.

pandas is optional: it is imported inside these functions only (``pip install pandas``). A schema maps each
column to one of ``"str"``, ``"int"``, ``"float"``, ``"bool"`` or ``"Int64"`` (an integer that may be missing);
:func:`frame` builds a frame from rows (dicts; missing keys and None become missing values) and
:func:`read_csv` reads a CSV back into the same types, so that ``read_csv(path, schema)`` equals the frame
written there (floats are written with repr and read back with float(), to the last bit).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

Schema = Mapping[str, str]


def pandas() -> Any:
    """The pandas module, or an ImportError that says how to get it."""
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("DataFrames of dqnn results need pandas: pip install pandas") from err
    return pd


def _typed(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    pd = pandas()
    for col, kind in schema.items():
        s = df[col]
        if kind == "str":
            df[col] = s.where(s.notna(), "").astype(str)
        elif kind == "int":
            df[col] = s.astype("int64")
        elif kind == "Int64":
            df[col] = pd.array([None if v is None or v != v else int(v) for v in s], dtype="Int64")
        elif kind == "float":
            df[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif kind == "bool":
            df[col] = [v if isinstance(v, bool) else str(v).strip().lower() == "true" for v in s]
            df[col] = df[col].astype(bool)
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown column type {kind!r}")
    return df


def frame(rows: Iterable[Mapping[str, Any]], schema: Schema) -> pd.DataFrame:
    """A DataFrame of ``rows`` with exactly the columns of ``schema``, typed (missing values: NaN, <NA>, "")."""
    pd = pandas()
    cols = list(schema)
    data = [{c: row.get(c) for c in cols} for row in rows]
    df = pd.DataFrame(data, columns=cols)
    return _typed(df, schema)


def read_csv(path: str | os.PathLike[str], schema: Schema) -> pd.DataFrame:
    """The CSV at ``path`` (a header row with the schema's columns, others ignored) as a typed DataFrame."""
    pd = pandas()
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)  # text; numbers parsed below
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing")
    df = df[list(schema)].copy()
    for col, kind in schema.items():  # numbers as text -> numbers, exactly (float() reads repr() back to the bit)
        if kind in ("float", "int", "Int64"):
            df[col] = [
                float("nan") if v is None or v != v else (int(v) if kind != "float" else float(v)) for v in df[col]
            ]
    return _typed(df, schema)


def html_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None) -> str:
    """A small HTML table (for ``_repr_html_``; no pandas needed)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    cap = "" if caption is None else f"<caption>{html.escape(caption)}</caption>"
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fmt(x: Any, spec: str = ".4g") -> str:
    """``x`` formatted with ``spec``, or ``-`` for None / NaN."""
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    try:
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


__all__ = ["Schema", "fmt", "frame", "html_table", "pandas", "read_csv"]
