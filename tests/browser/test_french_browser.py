"""The dashboard in French, in a real browser: the header's switcher, then a customer created,
edited and blocked with French country names, French labels, messages and dates."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
FRENCH_MONTH = re.compile(
    r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre) \d{4}"
)


def test_create_edit_and_block_a_customer_in_french(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor", username="eddie"))
    page.goto("/customers/?status=active")

    # An English browser gets English; the header's switcher (no script needed) changes it and
    # comes back to the same page.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option(label="Français")
    page.get_by_role("button", name="Change").click()
    expect(page).to_have_url(re.compile(r"/customers/\?status=active$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()

    page.get_by_role("link", name="Nouveau client").first.click()
    page.get_by_label("Nom", exact=True).fill("Awa Ndiaye")
    page.get_by_label("E-mail").fill("awa@example.com")
    page.get_by_label("Téléphone").fill("77 123 45 67")
    page.get_by_label("Pays").select_option(label="Sénégal")
    page.get_by_label("Ville").fill("Dakar")
    page.get_by_role("button", name="Créer le client").click()

    expect(page.get_by_role("status")).to_have_text(f"Client «{NBSP}Awa Ndiaye{NBSP}» créé.")
    expect(page.get_by_text("Sénégal (SN)")).to_be_visible()
    expect(page.locator(".fields time").first).to_have_text(FRENCH_MONTH)

    page.get_by_role("link", name="Modifier").click()
    expect(page.get_by_label("Pays")).to_have_value("SN")
    page.get_by_label("Pays").select_option(label="Côte d’Ivoire")
    page.get_by_label("Entreprise").fill("Ndiaye SARL")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status")).to_have_text(f"Client «{NBSP}Awa Ndiaye{NBSP}» enregistré.")
    expect(page.get_by_text("Côte d’Ivoire (CI)")).to_be_visible()

    page.get_by_role("link", name="Bloquer").click()
    page.get_by_role("button", name="Bloquer le client").click()
    expect(page.get_by_role("alert")).to_be_focused()  # no reason given: said, in French
    expect(page.locator(".field-error .errorlist")).to_have_text(
        f"Dites pourquoi ce client est bloqué{NBSP}: le motif reste dans son historique."
    )
    page.get_by_label("Motif").fill("Trois rétrofacturations en une semaine")
    page.get_by_role("button", name="Bloquer le client").click()
    expect(page.get_by_role("status")).to_have_text(f"Client «{NBSP}Awa Ndiaye{NBSP}» bloqué.")
    expect(page.locator("h1 .badge")).to_have_text("Bloqué")
    expect(page.get_by_text("Statut modifié")).to_be_visible()
    expect(page.get_by_text(f"Motif{NBSP}: Trois rétrofacturations en une semaine")).to_be_visible()

    customer = Customer.objects.get()
    assert (customer.country, customer.company, customer.status) == ("CI", "Ndiaye SARL", "blocked")
