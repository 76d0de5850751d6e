"""Migrations build the same schema on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from review import store


def _generic(type_) -> str:
    # Compare kinds of column, not each engine's spelling (VARCHAR(40) vs VARCHAR(40), BLOB vs BYTEA).
    name = type(type_).__name__.upper()
    for kind, words in (("integer", ("INT",)), ("float", ("FLOAT", "REAL", "DOUBLE", "NUMERIC")),
                        ("binary", ("BLOB", "BYTEA", "BINARY")), ("text", ("TEXT", "CHAR", "STRING"))):
        if any(w in name for w in words):
            length = getattr(type_, "length", None)
            return f"{kind}({length})" if kind == "text" and length else kind
    return name


def schema(url: str) -> dict:
    engine = store.connect(url)
    try:
        store.migrate(engine)
        found = inspect(engine)
        out = {}
        for table in sorted(found.get_table_names()):
            out[table] = {
                "columns": [(c["name"], _generic(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                "primary key": found.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                        tuple(f["referred_columns"])) for f in found.get_foreign_keys(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  # PostgreSQL lists a unique constraint's own index too
                                  for i in found.get_indexes(table) if not i.get("duplicates_constraint")),
                "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            }
        return out
    finally:
        engine.dispose()


def test_migrations_build_the_same_schema_on_both_engines(tmp_path, pg_server):
    on_sqlite = schema(f"sqlite:///{tmp_path / 'r.db'}")
    on_postgresql = schema(pg_server.create_database())
    assert set(on_sqlite) == set(on_postgresql)
    assert {"imports", "records", "events", "dedup_pairs", "protocol_versions", "import_files",
            "team_members", "schema_migrations"} <= set(on_sqlite)
    for table in on_sqlite:
        assert on_sqlite[table] == on_postgresql[table], table
