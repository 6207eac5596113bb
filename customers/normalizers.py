"""Small pure functions that turn what people type into what we store.

Each one takes a raw value and returns the canonical value, or raises ``ValidationError`` with a
message a person can act on. They know nothing about models, forms or the API: ``Customer``
calls them from its validation, and every door (API, dashboard, admin, import) reaches them
through it. The list filters reuse the same functions, so a search matches what was stored.
"""

import functools
import gettext
import json
import math
import re
import unicodedata
import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING

import phonenumbers
import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.text import format_lazy, get_text_list
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

PHONE_EXAMPLE = "+221771234567"

#: No text we store or look up may hold a NUL character: no database column should receive one.
NULL_CHARACTER_MESSAGE = _("Null characters are not allowed.")
#: Nor half of a UTF-16 surrogate pair (JSON's "\ud800" alone): it is no character at all, and
#: no database encoding can hold it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = _(
    "Text must be valid Unicode: lone surrogates (\\ud800 to \\udfff) are not characters."
)


def not_a_choice_message(choices) -> "StrOrPromise":
    """The message for a value that is not one of ``choices`` (``(value, label)`` pairs): it
    names the values to use, as they are written (``individual or business``). Whoever refuses
    the value fills in ``%(value)s``, as Django's own ``invalid_choice`` messages are filled."""
    values: list[StrOrPromise] = [str(value) for value, _label in choices]
    return format_lazy(
        _("Value '%(value)s' is not a valid choice; use {choices}."),
        choices=get_text_list(values, _("or")),
    )


METADATA_MAX_KEYS = 50
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
METADATA_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
#: Metadata numbers are those every JSON reader keeps exactly (I-JSON, RFC 7493): integers of
#: at most this size either way, and finite floats.
METADATA_INTEGER_LIMIT = 2**53 - 1

ADDRESS_KEYS = ("line1", "line2", "city", "state", "postal_code")
ADDRESS_VALUE_MAX_LENGTH = 200

# Names people use that ISO 3166 spells differently.
COUNTRY_ALIASES = {
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "drc": "CD",
    "dr congo": "CD",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "cape verde": "CV",
    "swaziland": "SZ",
    "the gambia": "GM",
    "uk": "GB",
    "usa": "US",
    "united states of america": "US",
}


def text_problem(text: str) -> ValidationError | None:
    """Why ``text`` cannot be stored (a NUL character, a lone surrogate), or None."""
    if "\x00" in text:
        return ValidationError(NULL_CHARACTER_MESSAGE, code="null_characters_not_allowed")
    if LONE_SURROGATE.search(text):
        return ValidationError(LONE_SURROGATE_MESSAGE, code="lone_surrogate")
    return None


def printable(text: str) -> str:
    """``text`` safe to echo in a message: a lone surrogate, which no encoding can carry, shows
    as U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text)


# --- names of countries and currencies, in the language of the page -------------------------


@functools.cache
def _iso_names(domain: str, language: str) -> gettext.NullTranslations:
    """pycountry's translations of the ISO ``domain`` ("iso3166-1", "iso4217") into
    ``language``; English, or a language pycountry lacks, reads the names as they are."""
    return gettext.translation(
        domain, pycountry.LOCALES_DIR, languages=[language.split("-")[0]], fallback=True
    )


def _in_language(domain: str, name: str, language: str | None = None) -> str:
    """``name`` in ``language`` (the page's by default), with the typographic apostrophe
    (U+2019) outside English."""
    language = language or get_language() or "en"
    translated = _iso_names(domain, language).gettext(name)
    return translated if language.startswith("en") else translated.replace("'", "\u2019")


def collation_key(text: str) -> str:
    """A name's place in an alphabetical list, without a system locale: accents and case
    aside first ("Égypte" among the E, not after "Zimbabwe"), then exactly."""
    folded = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    base = "".join(char for char in folded if not unicodedata.combining(char)).casefold()
    return f"{base}\x00{text}"


def country_name(code: str) -> str:
    """The country of an alpha-2 code by its usual name, in the page's language ("Senegal",
    "Sénégal"); the code itself if it is none."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    if country is None:
        return code or ""
    name = getattr(country, "common_name", None) or country.name
    return _in_language("iso3166-1", name)


def currency_name(code: str) -> str:
    """The currency of an ISO 4217 code by name, in the page's language."""
    currency = pycountry.currencies.get(alpha_3=code) if code else None
    return _in_language("iso4217", currency.name) if currency else ""


@functools.cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    choices = (
        (c.alpha_2, _in_language("iso3166-1", c.name, language)) for c in pycountry.countries
    )
    return tuple(sorted(choices, key=lambda choice: collation_key(choice[1])))


#: How much of a value a message echoes: enough to find it, never a whole 10 MB cell.
SHOWN_LENGTH = 60


def shown(text: str) -> str:
    """``text`` as a message echoes it: printable, and cut with an ellipsis past
    ``SHOWN_LENGTH`` characters."""
    text = printable(text)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def country_choices() -> list[tuple[str, str]]:
    """(alpha-2 code, name) of every ISO 3166 country, by name, in the page's language."""
    return list(_country_choices(get_language() or "en"))


@functools.cache
def _currency_choices(language: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (c.alpha_3, f"{c.alpha_3} · {_in_language('iso4217', c.name, language)}")
            for c in pycountry.currencies
        )
    )


def currency_choices() -> list[tuple[str, str]]:
    """(code, "code · name") of every ISO 4217 currency, by code, names in the page's
    language."""
    return list(_currency_choices(get_language() or "en"))


#: A customer's website is a web page: http or https, not any URL (ftp:, mailto:).
WEBSITE_SCHEMES = ["http", "https"]
WEBSITE_SCHEME_MESSAGE = _("Enter a website address that starts with http:// or https://.")
_validate_url = URLValidator(schemes=WEBSITE_SCHEMES)


def normalize_website(value: str) -> str:
    """A website's address, trimmed; refused with the one message that says what is wrong:
    the scheme ("example.com"), else the address itself ("https://exa mple.com")."""
    value = value.strip()
    scheme, separator, _rest = value.partition("://")
    if not separator or scheme.lower() not in WEBSITE_SCHEMES:
        raise ValidationError(WEBSITE_SCHEME_MESSAGE, code="invalid")
    _validate_url(value)
    return value


def normalize_email(value: str) -> str:
    """Trim the address and lower-case its domain (the local part is case-sensitive by RFC)."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at:
        value = f"{local}@{domain.lower()}"
    validate_email(value)
    return value


def _folded(name: str) -> str:
    """A country name as people type it, compared without case, accents, hyphens or the kind of
    apostrophe: "Côte d\u2019Ivoire", "cote d'ivoire" and "COTE-D'IVOIRE" are one."""
    text = unicodedata.normalize("NFKD", name.replace("\u2019", "'").replace("\u2018", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().replace("-", " ").split())


@functools.cache
def _country_names() -> dict[str, str]:
    """Every name of every country, in English and in French (pycountry's ISO 3166
    translations), folded, to its alpha-2 code."""
    french = _iso_names("iso3166-1", "fr")
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                names.setdefault(_folded(name), country.alpha_2)
                names.setdefault(_folded(french.gettext(name)), country.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        names.setdefault(_folded(alias), code)
    return names


#: Longer than any name of a country with room for accents written as separate marks: longer
#: text is not looked up (folding ten megabytes of it, character by character, took seconds).
COUNTRY_TEXT_MAX_LENGTH = 200


def normalize_country(value: str) -> str:
    """ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 code or a name in English or French
    (any case, with or without accents: "Senegal", "Sénégal", "Côte d'Ivoire", "Nigéria")."""
    text = " ".join(value.split())
    if not text:
        return ""
    country = None
    if text.isalpha() and len(text) == 2:
        country = pycountry.countries.get(alpha_2=text.upper())
    elif text.isalpha() and len(text) == 3:
        country = pycountry.countries.get(alpha_3=text.upper())
    if country is not None:
        return country.alpha_2
    if len(text) <= COUNTRY_TEXT_MAX_LENGTH:
        code = _country_names().get(_folded(text))
        if code:
            return code
        if not text.isdigit():
            try:
                return pycountry.countries.lookup(text).alpha_2
            except LookupError:
                pass
    raise ValidationError(
        _(
            "Country '%(value)s' is not an ISO 3166 country; use a code such as SN or SEN, "
            "or a name in English or French such as Senegal or Sénégal."
        ),
        code="invalid_country",
        params={"value": shown(text)},
    )


_time_zones = functools.cache(zoneinfo.available_timezones)


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows (``Africa/Dakar``, ``UTC``)."""
    if value not in _time_zones():
        raise ValidationError(
            _("Time zone '%(value)s' is not known; use an IANA name such as Africa/Dakar."),
            code="invalid_time_zone",
            params={"value": value},
        )


def normalize_currency(value: str) -> str:
    """ISO 4217 alphabetic code, upper case."""
    text = value.strip().upper()
    if not text:
        return ""
    if len(text) != 3 or pycountry.currencies.get(alpha_3=text) is None:
        raise ValidationError(
            _("Currency '%(value)s' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."),
            code="invalid_currency",
            params={"value": shown(value.strip())},
        )
    return text


def normalize_phone(value: str, country: str = "") -> str:
    """E.164 (``+221771234567``). A number without ``+`` is read as a national number of
    ``country`` (an alpha-2 code); without a country it cannot be read, and we say so."""
    text = value.strip()
    if not text:
        return ""
    if _ASCII_LETTER.search(text) if text.isascii() else any(c.isalpha() for c in text):
        raise _invalid_phone()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and not country:
        raise ValidationError(
            _(
                "Add the country code to the phone number (e.g. %(example)s), or set the "
                "customer's country."
            ),
            code="phone_needs_country",
            params={"example": PHONE_EXAMPLE},
        )
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else country)
    except phonenumbers.NumberParseException:
        raise _invalid_phone() from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_ASCII_LETTER = re.compile("[A-Za-z]")


def _invalid_phone() -> ValidationError:
    return ValidationError(
        _("Enter a valid phone number, e.g. %(example)s."),
        code="invalid_phone",
        params={"example": PHONE_EXAMPLE},
    )


#: A phone as people type or copy it: digits, spaces, dashes, dots and parentheses, with an
#: optional leading ``+``.
_PHONE_LIKE = re.compile(r"\+?[0-9\s().-]+")


def phone_search_digits(term: str, min_digits: int) -> str:
    """What a search term means as (part of) a stored phone, or ``""`` if it is not phone-like.

    Phones are stored in E.164 and shown formatted, so separators are dropped:
    ``+221 77 123`` → ``+22177123``. A leading ``00`` is the international prefix, as
    ``normalize_phone`` reads it (``00221 77`` → ``+22177``); otherwise one leading national
    trunk ``0`` is dropped, as E.164 has none (``077 123 45 67`` → ``771234567``). Fewer than
    ``min_digits`` digits left is too little to look a phone up by.
    """
    text = term.strip()
    if not _PHONE_LIKE.fullmatch(text):
        return ""
    digits = "".join(char for char in text if char in "0123456789")
    if text.startswith("+"):
        prefix = "+"
    elif digits.startswith("00"):
        prefix, digits = "+", digits[2:]
    else:
        prefix, digits = "", digits.removeprefix("0")
    return prefix + digits if len(digits) >= min_digits else ""


def _metadata_error(key: str, message: "StrOrPromise", code: str, **params) -> ValidationError:
    # ``field`` lets the API name the nested field as ``metadata.<key>``.
    return ValidationError(
        message,
        code=code,
        params={"field": f"metadata.{printable(key)}", "key": shown(key), **params},
    )


def _nested_problem(field: str, key: str, problem: ValidationError) -> ValidationError:
    """A text problem of one key or value of an object field, named ``<field>.<key>``."""
    return ValidationError(
        problem.message, code=problem.code, params={"field": f"{field}.{printable(key)}"}
    )


def validate_metadata(value) -> None:
    """Flat key-value pairs: ≤ 50 keys of ≤ 40 chars ``[A-Za-z0-9_.-]``; each value a string
    (≤ 500 chars), a number or a boolean."""
    if value is None or value == "":
        return
    if not isinstance(value, dict):
        raise ValidationError(
            _("Metadata must be an object of key-value pairs."), code="metadata_not_object"
        )
    errors = []
    if len(value) > METADATA_MAX_KEYS:
        errors.append(
            ValidationError(
                _("Metadata can hold at most %(limit)d keys; %(count)d were given."),
                code="metadata_too_many_keys",
                params={"limit": METADATA_MAX_KEYS, "count": len(value)},
            )
        )
    for key, item in value.items():
        if problem := text_problem(key) or (isinstance(item, str) and text_problem(item)):
            errors.append(_nested_problem("metadata", key, problem))
        elif len(key) > METADATA_KEY_MAX_LENGTH:
            errors.append(
                _metadata_error(
                    key,
                    _("Metadata key '%(key)s' is longer than %(limit)d characters."),
                    "metadata_key_too_long",
                    limit=METADATA_KEY_MAX_LENGTH,
                )
            )
        elif not METADATA_KEY_PATTERN.match(key):
            errors.append(
                _metadata_error(
                    key,
                    _("Metadata key '%(key)s' may only contain letters, digits, '_', '.' and '-'."),
                    "metadata_key_invalid",
                )
            )
        if isinstance(item, str):
            if len(item) > METADATA_VALUE_MAX_LENGTH:
                errors.append(
                    _metadata_error(
                        key,
                        _("Metadata value of '%(key)s' is longer than %(limit)d characters."),
                        "metadata_value_too_long",
                        limit=METADATA_VALUE_MAX_LENGTH,
                    )
                )
        elif isinstance(item, int | float | Decimal) and not isinstance(item, bool):
            if not _exact_json_number(item):
                errors.append(_number_out_of_range(key))
        elif not isinstance(item, bool):
            errors.append(
                _metadata_error(
                    key,
                    _(
                        "Metadata value of '%(key)s' must be a string, a number or a boolean; "
                        "nested objects, lists and null are not allowed."
                    ),
                    "metadata_value_invalid",
                )
            )
    if errors:
        raise ValidationError(errors)


def _number_out_of_range(key: str) -> ValidationError:
    return _metadata_error(
        key,
        _(
            "Metadata number of '%(key)s' is out of range: whole numbers go from -%(limit)d to "
            "%(limit)d; store a larger one as text."
        ),
        "metadata_number_out_of_range",
        limit=METADATA_INTEGER_LIMIT,
    )


def _exact_json_number(number: int | float | Decimal) -> bool:
    if isinstance(number, int):
        return abs(number) <= METADATA_INTEGER_LIMIT
    return math.isfinite(number)


# --- metadata as people type it: a kind and a text ----------------------------------------------

METADATA_KINDS = ("text", "number", "boolean")
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$")


def metadata_kind(value) -> str:
    """``boolean``, ``number`` or ``text``: how a stored metadata value is typed by people."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return "text"


def metadata_text(value) -> str:
    """A stored metadata value as people type it: ``true``/``false``, a number, or the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def metadata_from_text(key: str, kind: str, text: str):
    """The value that ``text`` of ``kind`` stands for (the inverse of ``metadata_text``)."""
    if kind == "number":
        try:
            number = json.loads(text) if _NUMBER.match(text) else None
        except ValueError:  # more digits than Python reads as a whole number
            raise _number_out_of_range(key) from None
        if number is None:
            raise ValidationError(
                _("The value of '%(key)s' is not a number, e.g. 42 or 9.5."),
                code="metadata_not_number",
                params={"key": printable(key)},
            )
        if not _exact_json_number(number):
            raise _number_out_of_range(key)
        return number
    if kind == "boolean":
        if text.lower() not in {"true", "false"}:
            raise ValidationError(
                _("The value of '%(key)s' must be true or false."),
                code="metadata_not_boolean",
                params={"key": printable(key)},
            )
        return text.lower() == "true"
    return text


def validate_address(value) -> None:
    """An object with optional string keys line1, line2, city, state and postal_code."""
    if value is None or value == "":
        return
    if not isinstance(value, dict):
        raise ValidationError(
            _("Address must be an object with line1, line2, city, state and postal_code."),
            code="address_not_object",
        )
    errors = []
    for key, item in value.items():
        path = {"field": f"address.{printable(key)}", "key": shown(key)}
        if problem := text_problem(key) or (isinstance(item, str) and text_problem(item)):
            errors.append(_nested_problem("address", key, problem))
        elif key not in ADDRESS_KEYS:
            errors.append(
                ValidationError(
                    _(
                        "Unknown address field '%(key)s'; use line1, line2, city, state or "
                        "postal_code."
                    ),
                    code="address_unknown_key",
                    params=path,
                )
            )
        elif item is not None and not isinstance(item, str):
            errors.append(
                ValidationError(
                    _("Address field '%(key)s' must be a string."),
                    code="address_value_invalid",
                    params=path,
                )
            )
        elif item and len(item) > ADDRESS_VALUE_MAX_LENGTH:
            errors.append(
                ValidationError(
                    _("Address field '%(key)s' is longer than %(limit)d characters."),
                    code="address_value_too_long",
                    params={**path, "limit": ADDRESS_VALUE_MAX_LENGTH},
                )
            )
    if errors:
        raise ValidationError(errors)


def normalize_address(value) -> dict:
    """Trimmed strings, empty keys dropped, in the documented key order."""
    if not value:
        return {}
    result = {}
    for key in ADDRESS_KEYS:
        item = value.get(key)
        if isinstance(item, str) and item.strip():
            result[key] = item.strip()
    return result
