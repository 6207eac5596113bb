"""On SQLite, text compared without regard to case as PostgreSQL compares it.

SQLite's own ``upper()``, ``lower()`` and ``LIKE`` fold only the ASCII letters: to them
``Traoré`` does not contain ``TRAORÉ``, and ``lower('É')`` is ``É``. PostgreSQL folds every
letter. Each new SQLite connection replaces the three with Python's Unicode case rules (as
Django already does for ``REGEXP``), so ``icontains``, ``iexact``, ``Lower()`` and ``Upper()``
answer on SQLite as on PostgreSQL, and no code above the ORM asks which database it runs on.

Replacing a built-in function that an index is built on is safe only if it gives the same
result for every row already indexed: otherwise SQLite cannot find the row's entry again (a
duplicate slips past a unique index, and a delete fails with "database disk image is
malformed"). Here:

- ``lower()`` keys one index, the unique (merchant, lower(email)). The customer rules accept
  only ASCII before the ``@`` and store the domain already lower-cased, so for every email they
  ever stored both ``lower()`` agree. Rows written around the rules are covered too: migration
  0011 rebuilds that index with the function below (and fails, naming the index, if two stored
  emails prove to be one).
- ``upper()`` and ``LIKE`` are in no index. SQLite would only use an index for a ``LIKE`` on a
  column collated ``NOCASE``, which Django never creates, so no plan changes either.

A plain ``sqlite3`` shell on the file keeps SQLite's ASCII rules: whatever it writes goes around
the customer rules, and ``REINDEX customer_unique_email_per_merchant`` puts the index right.
"""

import functools
import re

#: A pattern that matches no text: SQLite's ``LIKE`` with a pattern ending in its escape.
_NO_MATCH = re.compile(r"(?!)")


def _text(value) -> str | None:
    """A value as SQLite's text functions read it (NULL stays NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def upper(value) -> str | None:
    text = _text(value)
    return None if text is None else text.upper()


def lower(value) -> str | None:
    text = _text(value)
    return None if text is None else text.lower()


@functools.lru_cache(maxsize=512)
def _like_pattern(pattern: str, escape: str | None) -> re.Pattern[str]:
    """``pattern`` as a regular expression: ``%`` any text, ``_`` any one character, and
    ``escape`` before a character that very character. Case is folded letter by letter, as
    PostgreSQL's ``UPPER(…) LIKE UPPER(…)`` does."""
    parts = []
    characters = iter(pattern)
    for character in characters:
        if character == escape:
            escaped = next(characters, None)
            if escaped is None:
                return _NO_MATCH
            parts.append(re.escape(escaped))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def like(pattern, value, *escape) -> bool | None:
    """``value LIKE pattern [ESCAPE escape]``: SQLite calls ``like(pattern, value[, escape])``."""
    pattern, value = _text(pattern), _text(value)
    escape_character = _text(escape[0]) if escape else None
    if pattern is None or value is None or (escape and escape_character is None):
        return None
    if escape_character is not None and len(escape_character) != 1:
        raise ValueError("ESCAPE expression must be a single character")
    return _like_pattern(pattern, escape_character).fullmatch(value) is not None


def register_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give a new SQLite connection the functions above."""
    if connection.vendor != "sqlite":
        return
    database = connection.connection
    database.create_function("upper", 1, upper, deterministic=True)
    database.create_function("lower", 1, lower, deterministic=True)
    database.create_function("like", 2, like, deterministic=True)
    database.create_function("like", 3, like, deterministic=True)
    # Some SQLite builds refuse functions the application defines inside the schema (the email
    # index) unless the schema is trusted; it is: our migrations wrote it.
    database.execute("PRAGMA trusted_schema = ON")
