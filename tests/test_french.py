"""The dashboard in French: the browser's language or the header's switcher picks it, dates and
numbers follow it, countries are named and sorted in it and read in it; the API stays English.
The catalogue is complete, compiled, and knows every string the code and the templates mark."""

import ast
import datetime
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer, CustomerCount
from customers.normalizers import collation_key
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

FRENCH = {"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}
ENGLISH = {"accept-language": "en-US,en;q=0.9"}
NBSP = "\u00a0"

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


def logged_in(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    """The page's text as a reader sees it: tags dropped, spaces folded (no-break ones kept)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the language ----------------------------------------------------------------------------


def test_a_french_browser_gets_the_dashboard_in_french(client, editor, merchant):
    customer = make_customer(merchant, name="Awa Ndiaye", country="SN", status="blocked")
    logged_in(client, editor)

    listing = client.get("/customers/", headers=FRENCH)
    assert listing.status_code == 200
    assert listing["Content-Language"] == "fr"
    body = listing.content.decode()
    assert '<html lang="fr">' in body
    page = text_of(listing)
    for french in ["Vue d’ensemble", "Nouveau client", "Exporter en CSV", "1 client", "Bloqué"]:
        assert french in page, french
    for english in ["Overview", "New customer", "Export CSV", "1 customer", "Blocked"]:
        assert english not in page, english

    detail = text_of(client.get(f"/customers/{customer.pk}/", headers=FRENCH))
    for french in ["Informations", "Historique", "Sénégal", "Activer", "Modifier", "Créé"]:
        assert french in detail, french
    assert "Senegal" not in detail

    form = text_of(client.get("/customers/new/", headers=FRENCH))
    for french in ["Identité", "Prénom", "Adresse, ligne 1", "(facultatif)", "Créer le client"]:
        assert french in form, french


def test_an_english_browser_gets_english(client, editor, merchant):
    make_customer(merchant, name="Awa Ndiaye", country="SN")
    response = logged_in(client, editor).get("/customers/", headers=ENGLISH)
    assert '<html lang="en">' in response.content.decode()
    page = text_of(response)
    assert "New customer" in page and "1 customer" in page
    assert "Nouveau client" not in page


def test_a_language_the_dashboard_does_not_speak_falls_back_to_english(client, editor):
    response = logged_in(client, editor).get("/customers/", headers={"accept-language": "wo-SN"})
    assert '<html lang="en">' in response.content.decode()


def test_the_switcher_sets_the_language_and_returns_to_the_same_page(client, editor):
    logged_in(client, editor)
    page = client.get("/customers/?status=blocked", headers=ENGLISH).content.decode()
    # The header's form, usable without JavaScript: a labelled select and a button.
    assert f'action="{reverse("set_language")}"' in page
    assert '<input type="hidden" name="next" value="/customers/?status=blocked">' in page
    assert '<label class="visually-hidden" for="language">Language</label>' in page
    assert re.search(r'<option value="fr"\s+lang="fr">Français</option>', page)

    response = client.post(
        reverse("set_language"),
        {"language": "fr", "next": "/customers/?status=blocked"},
        headers=ENGLISH,
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/?status=blocked"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"

    # The choice wins over what the browser asks for, on every page, until changed again.
    again = client.get("/customers/?status=blocked", headers=ENGLISH)
    assert '<html lang="fr">' in again.content.decode()
    assert re.search(r'<option value="fr"\s+lang="fr" selected>Français', again.content.decode())
    assert re.search(r'<option value="en"\s+lang="en">English</option>', again.content.decode())
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Overview" in text_of(client.get("/", headers=FRENCH))


def test_the_switcher_refuses_to_send_the_browser_elsewhere(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_login_page_speaks_french_and_offers_the_switcher(client):
    page = text_of(client.get("/accounts/login/", headers=FRENCH))
    assert "Se connecter" in page and "Langue" in page


def test_flash_messages_and_validation_messages_are_french(client, editor, merchant):
    logged_in(client, editor)
    data = {
        "type": "individual",
        "status": "active",
        "name": "Awa Ndiaye",
        "email": "",
        "phone": "",
        "country": "Sénégal",
        "metadata-0-key": "",
        "metadata-0-type": "text",
        "metadata-0-value": "",
    }
    refused = text_of(client.post("/customers/new/", data, headers=FRENCH))
    assert "Corrigez les champs signalés ci-dessous." in refused
    assert "Donnez une adresse e-mail ou un numéro de téléphone (ou les deux)." in refused

    created = client.post(
        "/customers/new/", {**data, "phone": "77 123 45 67"}, headers=FRENCH, follow=True
    )
    customer = Customer.objects.get()
    assert (customer.country, customer.phone) == ("SN", "+221771234567")
    assert [str(message) for message in created.context["messages"]] == [
        f"Client «{NBSP}Awa Ndiaye{NBSP}» créé."
    ]


# --- dates and numbers --------------------------------------------------------------------------


def test_dates_are_written_with_french_month_names(client, viewer, merchant):
    customer = make_customer(merchant, name="Awa Ndiaye")
    moment = datetime.datetime(2026, 11, 30, 13, 5, tzinfo=datetime.UTC)
    Customer.objects.filter(pk=customer.pk).update(created_at=moment, updated_at=moment)
    logged_in(client, viewer)

    detail = client.get(f"/customers/{customer.pk}/", headers=FRENCH).content.decode()
    assert '<time datetime="2026-11-30T13:05:00Z" title="30 novembre 2026, 13:05 UTC">' in detail
    assert "30 novembre 2026, 13:05 UTC</time>" in detail
    assert "30 novembre 2026" in text_of(client.get("/customers/", headers=FRENCH))

    english = client.get(f"/customers/{customer.pk}/", headers=ENGLISH).content.decode()
    assert "30 Nov 2026, 13:05 UTC</time>" in english


def test_numbers_are_grouped_the_french_way(client, viewer, merchant):
    CustomerCount.objects.create(
        merchant=merchant, status="active", type="individual", count=1234567
    )
    logged_in(client, viewer)

    assert f"1{NBSP}234{NBSP}567 clients" in text_of(client.get("/", headers=FRENCH))
    assert "1,234,567 customers" in text_of(client.get("/", headers=ENGLISH))


def test_the_chart_keeps_its_coordinates_as_numbers_in_french(client, viewer, merchant):
    make_customer(merchant)
    make_customer(merchant)
    page = logged_in(client, viewer).get("/", headers=FRENCH).content.decode()
    coordinates = re.findall(r'<rect class="chart-bar" x="([^"]*)" y="([^"]*)"', page)
    assert coordinates
    assert all("," not in value for pair in coordinates for value in pair)


# --- countries ----------------------------------------------------------------------------------


def options(page: str, select: str) -> list[tuple[str, str]]:
    found = re.search(rf'<select name="{select}".*?</select>', page, flags=re.S)
    assert found, select
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found.group(0))


def test_the_country_list_names_and_sorts_countries_in_french(client, editor):
    logged_in(client, editor)
    french = options(client.get("/customers/new/", headers=FRENCH).content.decode(), "country")
    names = dict(french)
    assert names["SN"] == "Sénégal"
    assert names["CI"] == "Côte d’Ivoire"
    assert names["DE"] == "Allemagne"
    order = [label for value, label in french if value]
    assert order == sorted(order, key=collation_key)
    # Accents aside: "Égypte" and "Équateur" among the E, not after "Zimbabwe".
    assert order.index("Dominique") < order.index("Égypte") < order.index("Équateur")
    assert order.index("Équateur") < order.index("Espagne") < order.index("Zimbabwe")

    english = dict(
        options(client.get("/customers/new/", headers=ENGLISH).content.decode(), "country")
    )
    assert english["SN"] == "Senegal"
    currencies = dict(
        options(client.get("/customers/new/", headers=FRENCH).content.decode(), "currency")
    )
    assert currencies["XOF"] == "XOF · Franc CFA (BCEAO)"


def test_the_list_filter_reads_a_french_country_name(client, viewer, merchant):
    make_customer(merchant, name="Awa Ndiaye", country="SN")
    make_customer(merchant, name="Koffi Yao", country="CI")
    response = logged_in(client, viewer).get(
        "/customers/", {"country": "Côte d’Ivoire"}, headers=FRENCH
    )
    assert [customer.name for customer in response.context["object_list"]] == ["Koffi Yao"]
    overview = text_of(client.get("/", headers=FRENCH))
    assert "Sénégal" in overview and "Côte d’Ivoire" in overview


def test_a_value_that_is_not_a_choice_is_refused_in_french_naming_the_choices(client, viewer):
    response = logged_in(client, viewer).get("/customers/", {"type": "person"}, headers=FRENCH)

    assert (
        f"La valeur «{NBSP}person{NBSP}» n’est pas un choix valide{NBSP}; "
        "utilisez individual ou business."
    ) in text_of(response)


# --- the API stays English ----------------------------------------------------------------------


def test_the_api_answers_in_english_whatever_the_browser_asks(merchant):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    response = api.post(
        "/api/v1/customers",
        {"name": "Awa", "email": "not-an-email", "country": "Atlantide"},
        format="json",
        headers=FRENCH,
    )
    assert response.status_code == 400
    assert "Content-Language" not in response
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Invalid fields: email, country.",
            "fields": {
                "email": ["Enter a valid email address."],
                "country": [
                    "Country 'Atlantide' is not an ISO 3166 country; use a code such as SN or "
                    "SEN, or a name in English or French such as Senegal or Sénégal."
                ],
            },
        }
    }
    created = api.post(
        "/api/v1/customers",
        {"name": "Koffi Yao", "email": "koffi@example.com", "country": "Côte d’Ivoire"},
        format="json",
        headers=FRENCH,
    )
    assert created.status_code == 201
    assert created.json()["data"]["country"] == "CI"
    assert created.json()["data"]["status"] == "active"


def test_a_french_page_leaves_the_next_request_in_english(client, viewer):
    """The language is the request's: nothing after a French page runs in French."""
    from django.utils import translation

    logged_in(client, viewer).get("/customers/", headers=FRENCH)
    assert translation.get_language() == "en"
    assert str(Customer.Status.BLOCKED.label) == "Blocked"


# --- the catalogue ------------------------------------------------------------------------------


def po_entries() -> dict[tuple[str | None, str], list[str]]:
    """(context, msgid) → the msgstr (or each plural's) of the French catalogue."""

    def unquote(lines: list[str]) -> str:
        return "".join(ast.literal_eval(line) for line in lines)

    entries: dict[tuple[str | None, str], list[str]] = {}
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        if "#, fuzzy" in block:
            raise AssertionError(f"fuzzy entry in the catalogue:\n{block}")
        fields: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#~"):
                raise AssertionError(f"obsolete entry left in the catalogue:\n{block}")
            if line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if line.startswith('"'):
                fields[current].append(line)  # type: ignore[index]
            else:
                current = keyword
                fields[current] = [rest]
        msgid = unquote(fields.get("msgid", ['""']))
        if not msgid:
            continue  # the header
        context = unquote(fields["msgctxt"]) if "msgctxt" in fields else None
        if "msgid_plural" in fields:
            translations = [unquote(fields[f"msgstr[{n}]"]) for n in range(2)]
        else:
            translations = [unquote(fields["msgstr"])]
        entries[(context, msgid)] = translations
    return entries


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}", text))


def test_the_catalogue_is_complete_and_keeps_every_placeholder():
    entries = po_entries()
    assert len(entries) > 500
    for (__, msgid), translations in entries.items():
        for translation in translations:
            assert translation, f"{msgid!r} has no French"
            assert placeholders(translation) == placeholders(msgid), msgid


def test_the_compiled_catalogue_is_the_one_in_the_source():
    """django.mo ships with the code (nothing to compile on a fresh machine) and says what
    django.po says: ``make messages`` compiles it after every change."""
    compiled = gettext.GNUTranslations((CATALOGUE / "django.mo").open("rb"))
    for (context, msgid), translations in po_entries().items():
        key = f"{context}\x04{msgid}" if context else msgid
        if len(translations) == 2:
            assert compiled.ngettext(key, key, 1) == translations[0], msgid
            assert compiled.ngettext(key, key, 2) == translations[1], msgid
        else:
            assert compiled.gettext(key) == translations[0], msgid


TRANSLATE_TAG = re.compile(
    r"""\{%\s*translate\s+(?P<q>["'])(?P<msgid>.*?)(?P=q)"""
    r"""(?:\s+context\s+(?P<cq>["'])(?P<context>.*?)(?P=cq))?"""
)
BLOCK_TAG = re.compile(
    r"\{%\s*blocktranslate(?P<options>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktranslate\s*%\}", re.S
)
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext_lazy", "pgettext_lazy", "ngettext"}


def template_msgids() -> set[tuple[str | None, str]]:
    found = set()
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in TRANSLATE_TAG.finditer(text):
            found.add((match["context"], match["msgid"]))
        for match in BLOCK_TAG.finditer(text):
            singular = match["body"].split("{% plural %}")[0]
            context = re.search(r"""context\s+["'](.*?)["']""", match["options"])
            found.add(
                (
                    context[1] if context else None,
                    re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", singular),
                )
            )
    return found


def code_msgids() -> set[tuple[str | None, str]]:
    found = set()
    for package in ("customers", "webhooks"):
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in (
                    GETTEXT_CALLS
                ):
                    continue
                strings = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
                if node.func.id.startswith("p") and len(strings) >= 2:  # type: ignore[attr-defined]
                    found.add((strings[0], strings[1]))
                elif strings and isinstance(strings[0], str):
                    found.add((None, strings[0]))
    return found


def test_every_string_marked_in_the_code_and_the_templates_is_in_the_catalogue():
    """A string marked for translation but missing from django.po would show in English on a
    French page: run ``make messages`` and translate it."""
    known = set(po_entries())
    marked = template_msgids() | code_msgids()
    assert len(marked) > 400
    missing = sorted(marked - known, key=str)
    assert missing == []
