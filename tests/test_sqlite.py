"""Text compared without regard to case gives the same answers on SQLite as on PostgreSQL, for
every letter and not only ASCII ones (``customers/sqlite.py``).

The ORM tests run on both databases and so prove the agreement; the tests marked ``sqlite`` are
about SQLite's own functions and the email index built on one of them.
"""

import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models.functions import Lower, Upper

from customers.models import Customer
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lookup", "found"),
    [
        ({"name__icontains": "TRAORÉ"}, True),
        ({"name__icontains": "traoré"}, True),
        ({"name__icontains": "TRAORE"}, False),
        ({"name__iexact": "élodie TRAORÉ"}, True),
        ({"name__istartswith": "éLODIE"}, True),
        ({"name__iendswith": "RAORÉ"}, True),
        ({"name__icontains": "É_"}, False),
        ({"name__icontains": "%"}, False),
    ],
)
def test_lookups_ignore_the_case_of_accented_letters(merchant, lookup, found):
    make_customer(merchant, name="Élodie Traoré")
    assert Customer.objects.filter(**lookup).exists() is found


def test_upper_and_lower_change_the_case_of_accented_letters(merchant):
    make_customer(merchant, name="Élodie Traoré")
    cased = Customer.objects.annotate(upper=Upper("name"), lower=Lower("name"))
    assert list(cased.values_list("upper", "lower")) == [("ÉLODIE TRAORÉ", "élodie traoré")]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("value", "pattern", "escape", "matches"),
    [
        ("Traoré", "%TRAORÉ%", None, 1),
        ("Traoré", "TRAOR_", None, 1),  # one character, however many bytes it takes
        ("Traoré", "TRAOR", None, 0),
        ("Pays on Fridays.\nCall first.", "%FRIDAYS.%CALL%", None, 1),
        ("50% off", "50\\% OFF", "\\", 1),
        ("500 off", "50\\% OFF", "\\", 0),
        ("a_b", "%\\_%", "\\", 1),
        ("ab", "%\\_%", "\\", 0),
        ("a\\b", "A\\\\B", "\\", 1),
        ("ab", "AB\\", "\\", 0),  # a pattern ending in its escape matches nothing
        ("Traoré", "TRAORÉ!", "!", 0),
        (None, "%", None, None),
        ("a", None, None, None),
    ],
)
def test_like_folds_every_letter_and_keeps_sqlite_wildcards_and_escape(
    value, pattern, escape, matches
):
    with connection.cursor() as cursor:
        if escape is None:
            cursor.execute("SELECT %s LIKE %s", [value, pattern])
        else:
            cursor.execute("SELECT %s LIKE %s ESCAPE %s", [value, pattern, escape])
        assert cursor.fetchone() == (matches,)


@pytest.mark.sqlite
def test_like_with_a_null_escape_is_null():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'a' LIKE 'a' ESCAPE NULL")
        assert cursor.fetchone() == (None,)


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_migration_rebuilds_an_email_index_written_by_plain_sqlite(merchant):
    # A plain sqlite3 connection to the same database keys the index with SQLite's own
    # lower(), which leaves É as it is.
    customer = make_customer(merchant, email="elodie@example.com")
    plain = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
    with plain:
        plain.execute(
            "UPDATE customers_customer SET email = 'ÉLODIE@example.com' WHERE id = ?",
            [customer.pk.hex],
        )
    plain.close()

    # The migration applied as ``migrate`` applies it, from the state before it; unapplying the
    # dozen migrations after it, then applying them again, would take seconds.
    loader = MigrationLoader(connection)
    migration = loader.get_migration("customers", "0011_email_index_rebuilt_with_unicode_lower")
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.apply(loader.project_state(migration.dependencies[0]), editor)

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        assert cursor.fetchall() == [("ok",)]
    duplicate = Customer(
        merchant=merchant, name="Other", email="élodie@example.com", source="api", created_by="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save(force_insert=True)
