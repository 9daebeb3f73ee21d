"""The schema as each engine's own catalogue describes it, in one engine-neutral shape.

SQLite: PRAGMA table_info / foreign_key_list / index_list / index_info, and sqlite_master's SQL
for CHECKs and partial-index predicates. PostgreSQL: information_schema.columns and pg_catalog
(pg_constraint, pg_index). What the engines spell differently is normalised here, and only that:
- types by family: INTEGER/BIGINT -> integer, REAL/DOUBLE PRECISION -> real, BLOB/BYTEA -> blob;
- a SQLite INTEGER PRIMARY KEY (the rowid) is NOT NULL, as PostgreSQL's primary keys are;
- defaults without PostgreSQL's casts and parentheses;
- a CHECK as the columns it names, its string literals and its numbers: `kind IN ('a', 'b')` and
  PostgreSQL's `kind = ANY (ARRAY['a'::text, 'b'::text])` agree; a GLOB pattern and its anchored
  regular expression (`'^...$'`) agree;
- an index expression is only "an expression" (IFNULL and COALESCE agree), a partial index's
  predicate is compared without parentheses, spaces or case.
Identity columns are not compared: SQLite's plain INTEGER PRIMARY KEY may reuse the newest row's
id after it is deleted, where PostgreSQL's identity never does; only ids that name something
outside the row (persons, chats, notes) must never come back, and those use AUTOINCREMENT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storage.backends import is_postgres_url
from tests.storage_factory import database, raw_rows


@dataclass(frozen=True)
class Column:
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Check:
    columns: frozenset[str]
    strings: frozenset[str]
    numbers: frozenset[float]


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]
    on_delete: str


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]
    unique: bool
    where: str | None


@dataclass(frozen=True)
class Table:
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    unique: frozenset[tuple[str, ...]]
    foreign_keys: frozenset[ForeignKey]
    checks: frozenset[Check]


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    indexes: dict[str, Index]


EXPRESSION = "<expression>"
_TYPES = {
    "integer": "integer",
    "bigint": "integer",
    "text": "text",
    "real": "real",
    "double precision": "real",
    "blob": "blob",
    "bytea": "blob",
}
_ON_DELETE = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_STRING = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"(?<![A-Za-z_0-9])\d+(?:\.\d+)?(?![A-Za-z_0-9])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


async def read_schema(folder: Path) -> Schema:
    """The schema of the folder's database (tests/storage_factory.py), from its catalogue."""
    if is_postgres_url(database(folder)):
        return await _postgres(folder)
    return await _sqlite(folder)


def check(expression: str, columns: set[str]) -> Check:
    """A CHECK expression as the columns it names, its string literals and its numbers."""
    strings = frozenset(
        s.replace("''", "'").removeprefix("^").removesuffix("$")
        for s in _STRING.findall(expression)
    )
    rest = _STRING.sub(" ", expression)
    return Check(
        columns=frozenset(w for w in _WORD.findall(rest) if w in columns),
        strings=strings,
        numbers=frozenset(float(n) for n in _NUMBER.findall(rest)),
    )


def _predicate(text: str | None) -> str | None:
    return re.sub(r"[()\s]", "", text).lower() if text else None


def _default(text: str | None) -> str | None:
    if text is None:
        return None
    return re.sub(r"::[a-z ]+", "", text).strip("()")


async def _sqlite(folder: Path) -> Schema:
    tables, indexes = {}, {}
    sql_of = dict(
        await raw_rows(
            folder,
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index')"
            " AND name NOT LIKE 'sqlite_%'",
        )
    )
    names = [
        n
        for (n,) in await raw_rows(
            folder,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
    ]
    for name in names:
        info = await raw_rows(folder, f'PRAGMA table_info("{name}")')
        key = tuple(col for _, col, *_, pk in sorted(info, key=lambda r: r[5]) if pk)
        rowid = len(key) == 1 and any(r[1] == key[0] and r[2].upper() == "INTEGER" for r in info)
        columns = {
            col: Column(
                _TYPES[kind.lower()], bool(not_null) or (rowid and col == key[0]), _default(dflt)
            )
            for _, col, kind, not_null, dflt, _ in info
        }
        unique = set()
        for _, index, is_unique, origin, _partial in await raw_rows(
            folder, f'PRAGMA index_list("{name}")'
        ):
            cols = tuple(
                col if col is not None else EXPRESSION
                for _, _, col in await raw_rows(folder, f'PRAGMA index_info("{index}")')
            )
            if origin == "u":
                unique.add(cols)
            elif origin == "c":
                where = re.search(r"\bWHERE\b(.*)$", sql_of[index], re.S | re.I)
                indexes[index] = Index(name, cols, bool(is_unique), _predicate(where and where[1]))
        by_id: dict[int, list[tuple]] = {}
        for row in await raw_rows(folder, f'PRAGMA foreign_key_list("{name}")'):
            by_id.setdefault(row[0], []).append(row)
        foreign = {
            ForeignKey(
                tuple(r[3] for r in sorted(rows, key=lambda r: r[1])),
                rows[0][2],
                tuple(r[4] for r in sorted(rows, key=lambda r: r[1])),
                rows[0][6].upper(),
            )
            for rows in by_id.values()
        }
        checks = frozenset(check(expr, set(columns)) for expr in _sqlite_checks(sql_of[name]))
        tables[name] = Table(columns, key, frozenset(unique), frozenset(foreign), checks)
    return Schema(tables, indexes)


def _sqlite_checks(sql: str) -> list[str]:
    """The expression inside each CHECK (...) of a CREATE TABLE statement."""
    found = []
    for start in re.finditer(r"\bCHECK\s*\(", sql, re.I):
        depth, i = 1, start.end()
        while depth:
            if sql[i] == "'":
                i = sql.index("'", i + 1)
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        found.append(sql[start.end() : i - 1])
    return found


async def _postgres(folder: Path) -> Schema:
    columns: dict[str, dict[str, Column]] = {}
    for table, col, kind, nullable, dflt in await raw_rows(
        folder,
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name != 'schema_version' ORDER BY table_name, ordinal_position",
    ):
        columns.setdefault(table, {})[col] = Column(_TYPES[kind], nullable == "NO", _default(dflt))
    constraints = await raw_rows(
        folder,
        "SELECT t.relname, c.contype::text, pg_get_constraintdef(c.oid), r.relname, c.confdeltype::text,"
        " ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace LEFT JOIN pg_class r ON r.oid = c.confrelid"
        " WHERE s.nspname = 'public' AND t.relname != 'schema_version'",
    )
    parts: dict[str, dict[str, set]] = {
        t: {"p": set(), "u": set(), "f": set(), "c": set()} for t in columns
    }
    for table, kind, definition, referenced, on_delete, cols, ref_cols in constraints:
        if kind == "p":
            parts[table]["p"].add(tuple(cols))
        elif kind == "u":
            parts[table]["u"].add(tuple(cols))
        elif kind == "f":
            fk = ForeignKey(tuple(cols), referenced, tuple(ref_cols), _ON_DELETE[on_delete])
            parts[table]["f"].add(fk)
        elif kind == "c":
            parts[table]["c"].add(check(definition, set(columns[table])))
    tables = {
        name: Table(
            columns[name],
            next(iter(p["p"]), ()),
            frozenset(p["u"]),
            frozenset(p["f"]),
            frozenset(p["c"]),
        )
        for name, p in parts.items()
    }
    indexes = {}
    for index, table, unique, where, cols in await raw_rows(
        folder,
        "SELECT i.relname, t.relname, x.indisunique, pg_get_expr(x.indpred, x.indrelid),"
        " ARRAY(SELECT COALESCE(a.attname::text, :expression) FROM unnest(x.indkey) WITH ORDINALITY k(n, o)"
        "       LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n"
        "       ORDER BY k.o)"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace"
        " WHERE s.nspname = 'public' AND t.relname != 'schema_version'"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        {"expression": EXPRESSION},
    ):
        indexes[index] = Index(table, tuple(cols), bool(unique), _predicate(where))
    return Schema(tables, indexes)
