"""How the dashboard looks and reads: axe-core finds no WCAG 2 A/AA violation on any page in
the light or the dark theme, in English or in French, nothing overflows a phone's width, and
the dark theme keeps its contrast and a visible focus ring.

axe-core is the npm package pinned in ``vendor/axe-core`` (see its README); it is given to the
page as an init script, which the Content-Security-Policy does not apply to, and is never served
by the application.
"""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from customers.services import customer_set_status, customer_update
from tests.factories import make_api_key, make_customer, make_user, make_webhook_endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
# Every page twice: in English in the light theme, then in French in the dark one. The French
# pass runs the rules that a language can break (the page's lang, names and labels of controls,
# contrast of the longer words) besides the colour rules the dark theme can break; the rest is
# the same markup in either language (and axe's whole run is the slow part of the test).
AXE_RULES = {
    "light": WCAG,
    "dark": {
        "type": "rule",
        "values": [
            "color-contrast",
            "link-in-text-block",
            "html-has-lang",
            "html-lang-valid",
            "valid-lang",
            "document-title",
            "label",
            "button-name",
            "link-name",
            "select-name",
            "aria-command-name",
            "aria-input-field-name",
            "aria-toggle-field-name",
            "svg-img-alt",
        ],
    },
}

RUN_AXE = """async (runOnly) => {
  const results = await axe.run(document, { runOnly, resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    rule: violation.id,
    help: violation.help,
    nodes: violation.nodes.map((node) => `${node.target.join(" ")}: ${node.failureSummary}`),
  }));
}"""

# WCAG 2's relative luminance and contrast ratio of two computed colours ("rgb(r, g, b)").
CONTRAST = """([first, second]) => {
  const luminance = (color) => {
    const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map((value) => {
      const channel = Number(value) / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(first), luminance(second)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


@pytest.fixture
def dashboard(merchant):
    """A merchant with something on every page: customers with a history, a key, an endpoint
    with deliveries waiting."""
    endpoint = make_webhook_endpoint(merchant, description="Order back-end")
    customer = make_customer(
        merchant,
        name="Awa Diop",
        email="awa@example.com",
        phone="+221771234567",
        country="SN",
        metadata={"tier": "gold", "limit": 500},
    )
    customer = customer_update(
        customer=customer, actor="user:tests", source="admin", data={"company": "Diop SARL"}
    )
    customer_set_status(
        customer=customer, status="blocked", actor="user:tests", source="admin", reason="Fraud"
    )
    make_customer(merchant, name="Moussa Ndiaye", phone="+221781234567")
    make_api_key(merchant)
    return {"customer": customer, "endpoint": endpoint}


def visit(page, path: str):
    response = page.goto(path)
    assert response is not None, path
    return response


def refused(page, button: str):
    """Submit the page's form as it is; it comes back with its errors shown."""
    page.get_by_role("button", name=button).click()
    expect(page.locator(".form-errors")).to_be_visible()


def test_axe_finds_no_violation_on_any_page_light_or_dark_english_or_french(
    page, context, live_server, log_in, merchant, dashboard
):
    """Every page, and a form showing its errors (the same includes as every form's): in
    English and light, then in French and dark."""
    customer, endpoint = dashboard["customer"], dashboard["endpoint"]

    def edit_refused():
        visit(page, f"/customers/{customer.pk}/edit/")
        page.locator("#id_email").fill("")
        page.locator("#id_phone").fill("")
        page.locator(".form-actions button[type=submit]").click()
        expect(page.locator(".form-errors")).to_be_visible()

    pages = {
        "overview": lambda: visit(page, "/"),
        "list": lambda: visit(page, "/customers/?limit=25"),
        "detail": lambda: visit(page, f"/customers/{customer.pk}/"),
        "new customer": lambda: visit(page, "/customers/new/"),
        "edit customer": edit_refused,
        "block": lambda: visit(page, f"/customers/{customer.pk}/block/"),
        "activity": lambda: visit(page, "/activity/"),
        "API keys": lambda: visit(page, "/api-keys/"),
        "webhooks": lambda: visit(page, "/webhooks/"),
        "new endpoint": lambda: visit(page, "/webhooks/new/"),
        "endpoint": lambda: visit(page, f"/webhooks/{endpoint.pk}/"),
        "import": lambda: visit(page, "/imports/new/"),
        "not found": lambda: visit(page, "/customers/00000000-0000-4000-8000-000000000000/"),
    }
    page.add_init_script(path=str(AXE))
    found = {}
    passes = (("en", "light"), ("fr", "dark"))

    def speak(language: str):
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )

    def check(name: str, language: str, scheme: str):
        assert page.evaluate("typeof axe") == "object", f"axe-core did not load on {name}"
        assert page.evaluate("document.documentElement.lang") == language, name
        page.emulate_media(color_scheme=scheme)
        violations = page.evaluate(RUN_AXE, AXE_RULES[scheme])
        if violations:
            found[f"{name} ({language}, {scheme})"] = violations

    for language, scheme in passes:
        speak(language)
        visit(page, "/accounts/login/")
        check("login", language, scheme)
    log_in(make_user(merchant, group="Manager"))
    for language, scheme in passes:
        speak(language)
        for name, open_page in pages.items():
            open_page()
            check(name, language, scheme)

    assert found == {}


def test_no_page_overflows_a_phone(page, log_in, merchant, dashboard):
    customer, endpoint = dashboard["customer"], dashboard["endpoint"]
    log_in(make_user(merchant, group="Manager"))
    page.set_viewport_size({"width": 390, "height": 844})

    for path in [
        "/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/activity/",
        "/api-keys/",
        "/webhooks/",
        f"/webhooks/{endpoint.pk}/",
        "/imports/new/",
        f"/customers/{customer.pk}/edit/",
    ]:
        visit(page, path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path

    # The list shows every column of a customer, each cell labelled, as a card.
    visit(page, "/customers/")
    row = page.locator("tbody tr").filter(has_text="Awa Diop")
    for label in ["Contact", "Type", "Status", "Country", "Created"]:
        expect(row.locator(f'td[data-label="{label}"]')).to_be_visible()

    # On the edit form, no badge, select or field is cut by the edge of the screen.
    visit(page, f"/customers/{customer.pk}/edit/")
    page.locator("#id_email").fill("")
    page.locator("#id_phone").fill("")
    refused(page, "Save changes")
    outside = page.evaluate(
        """() => [...document.querySelectorAll("main select, main input, main textarea, .badge")]
          .filter((element) => element.type !== "hidden")
          .map((element) => [element.name || element.className, element.getBoundingClientRect()])
          .filter(([, box]) => box.left < 0 || box.right > window.innerWidth)
          .map(([name]) => name)"""
    )
    assert outside == []


def test_dark_theme_text_contrast_and_focus_ring(page, log_in, merchant, dashboard):
    log_in(make_user(merchant, group="Manager"))
    page.emulate_media(color_scheme="dark")
    visit(page, "/customers/")

    colors = page.evaluate(
        """() => {
          const style = (selector) => getComputedStyle(document.querySelector(selector));
          return {
            body: [style("body").color, style("body").backgroundColor],
            card: [style(".card").color, style(".card").backgroundColor],
            muted: [style(".subtitle").color, style("body").backgroundColor],
          };
        }"""
    )
    assert colors["body"][1] != "rgb(245, 246, 248)", "the dark theme is not applied"
    for name, pair in colors.items():
        assert page.evaluate(CONTRAST, pair) >= 4.5, (name, pair)

    # The focus ring is an outline, which forced colours (Windows High Contrast) keep.
    page.emulate_media(color_scheme="dark", forced_colors="active")
    page.keyboard.press("/")
    ring = page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          return [style.outlineStyle, parseFloat(style.outlineWidth)];
        }"""
    )
    assert ring[0] != "none" and ring[1] >= 2, ring
