"""The tables as the migrations leave them, read back from the database itself."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

OUR_MODELS = [
    model
    for label in ("customers", "webhooks")
    for model in apps.get_app_config(label).get_models()
]


def plain_indexes(table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """``(name, columns, unique)`` of each B-tree index of ``table`` that is on columns alone,
    without a condition or another operator class than their types' own: the ones that serve a
    lookup by their leading columns alike."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, i.indisunique, "
                "  array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "        ORDER BY k.n) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am ON pg_am.oid = c.relam "
                "WHERE i.indrelid = %s::regclass AND pg_am.amname = 'btree' "
                "AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS ("
                "  SELECT FROM unnest(i.indclass) AS k(class) "
                "  JOIN pg_opclass o ON o.oid = k.class WHERE NOT o.opcdefault)",
                [table],
            )
            return [(name, tuple(columns), unique) for name, unique, columns in cursor.fetchall()]
        found = []
        cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
        for _, name, unique, _, partial in cursor.fetchall():
            cursor.execute(f"PRAGMA index_xinfo({connection.ops.quote_name(name)})")
            keys = [(cid, column) for _, cid, column, _, _, key in cursor.fetchall() if key]
            if not partial and all(cid >= 0 for cid, _ in keys):
                found.append((name, tuple(column for _, column in keys), bool(unique)))
        return found


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda model: model._meta.label)
def test_no_index_is_the_leading_part_of_another(model):
    """An index whose columns lead another index of its table only doubles the writes: the
    longer one serves its lookups (a foreign key's own index, typically)."""
    indexes = plain_indexes(model._meta.db_table)
    assert indexes, f"no index read for {model._meta.db_table}"
    doubled = [
        f"{name} {columns} leads {other} {other_columns}"
        for name, columns, unique in indexes
        if not unique
        for other, other_columns, _ in indexes
        if other != name and other_columns[: len(columns)] == columns
    ]
    assert doubled == []
