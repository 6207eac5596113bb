"""The staff dashboard through Django's test client: who may see and do what, the forms, the
flash messages, the CSV export and the cost of the list page."""

import csv
import io
import re
import uuid

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.renderers import DjangoTemplates, TemplatesSetting
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from customers import csvio
from customers.csvio import EXPORT_COLUMNS
from customers.forms import CustomerStatusForm
from customers.models import ApiKey, Customer, CustomerEvent
from customers.selectors import customer_history
from customers.services import api_key_authenticate, customer_set_status, customer_update
from tests.factories import make_api_key, make_customer, make_merchant, make_user, unique_checks

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, name="Ada Diallo", email="ada@example.com", country="SN")


@pytest.fixture
def foreign_customer(other_merchant):
    return make_customer(other_merchant, name="Chidi Okafor", email="chidi@example.com")


def logged_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def customer_form_data(**overrides) -> dict:
    """What the edit form posts for a plain customer: every input, most of them empty."""
    data = {
        "type": "individual",
        "status": "active",
        "name": "Awa Ndiaye",
        "first_name": "",
        "last_name": "",
        "company": "",
        "reference": "",
        "email": "awa@example.com",
        "phone": "",
        "whatsapp": "",
        "website": "",
        "country": "SN",
        "currency": "",
        "address_line1": "",
        "address_line2": "",
        "address_city": "",
        "address_state": "",
        "address_postal_code": "",
        "description": "",
        "metadata-0-key": "",
        "metadata-0-type": "text",
        "metadata-0-value": "",
    }
    data.update(overrides)
    return data


# --- anonymous users ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, needs_customer",
    [
        ("customers:list", False),
        ("customers:create", False),
        ("customers:export", False),
        ("customers:detail", True),
        ("customers:update", True),
        ("customers:delete", True),
        ("customers:apikey_list", False),
        ("customers:apikey_create", False),
    ],
)
def test_anonymous_user_is_sent_to_login(client, customer, name, needs_customer):
    url = reverse(name, args=[customer.pk] if needs_customer else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url}"


def test_anonymous_post_changes_nothing(client, customer):
    response = client.post(reverse("customers:status", args=[customer.pk]), {"status": "blocked"})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    customer.refresh_from_db()
    assert customer.status == "active"


# --- login and logout -----------------------------------------------------------------------


def test_login_page_logs_a_user_in(client, viewer):
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    response = client.post(LOGIN, {"username": "vera", "password": "password"})
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


def test_login_with_a_wrong_password_says_so(client, viewer):
    response = client.post(LOGIN, {"username": "vera", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post(client, viewer):
    logged_in(client, viewer)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302


def test_logging_out_says_so_on_the_login_page(client, viewer):
    logged_in(client, viewer)

    response = client.post(reverse("logout"), follow=True)

    assert response.redirect_chain == [(LOGIN, 302)]
    assert messages_of(response) == ["You have been logged out."]
    assertInHTML(
        '<li class="message message-success" role="status">You have been logged out.</li>',
        response.content.decode(),
    )
    assert "You have been logged out." not in client.get(LOGIN).content.decode()


# --- permissions: who sees what -------------------------------------------------------------


def test_user_without_a_group_gets_403_on_the_list(client, merchant):
    user = make_user(merchant)
    response = logged_in(client, user).get(reverse("customers:list"))
    assert response.status_code == 403
    assert "You may not do that" in response.content.decode()


@pytest.mark.parametrize("group", ["Viewer", "Editor", "Manager"])
def test_every_group_sees_the_list_and_the_detail(client, merchant, customer, group):
    logged_in(client, make_user(merchant, group=group))
    assert client.get(reverse("customers:list")).status_code == 200
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200


@pytest.mark.parametrize(
    ("group", "page", "status"),
    [
        ("Viewer", "detail", 404), ("Viewer", "update", 403), ("Viewer", "delete", 403),
        ("Editor", "detail", 404), ("Editor", "update", 404), ("Editor", "delete", 403),
        ("Manager", "detail", 404), ("Manager", "update", 404), ("Manager", "delete", 404),
    ],
)  # fmt: skip
def test_another_merchants_customer_is_404_where_the_group_may_go(
    client, merchant, foreign_customer, group, page, status
):
    # A page the group may not use at all is 403 anywhere; one it may use hides the customer.
    logged_in(client, make_user(merchant, group=group))
    url = reverse(f"customers:{page}", args=[foreign_customer.pk])
    assert client.get(url).status_code == status


def test_manager_posting_to_another_merchants_customer_gets_404(client, manager, foreign_customer):
    logged_in(client, manager)
    status_url = reverse("customers:status", args=[foreign_customer.pk])
    assert client.post(status_url, {"status": "blocked"}).status_code == 404
    delete_url = reverse("customers:delete", args=[foreign_customer.pk])
    assert client.post(delete_url).status_code == 404
    assert Customer.objects.filter(pk=foreign_customer.pk, status="active").exists()


def test_404_page_has_the_dashboard_look(client, viewer):
    response = logged_in(client, viewer).get(reverse("customers:detail", args=[uuid.uuid4()]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Nothing here" in body
    assert 'class="topbar"' in body
    assert "css/dashboard.css" in body


def test_list_shows_only_the_users_merchants(client, viewer, customer, foreign_customer):
    body = logged_in(client, viewer).get(reverse("customers:list")).content.decode()
    assert "Ada Diallo" in body
    assert "Chidi Okafor" not in body


def test_superuser_sees_every_merchant_with_a_merchant_column(client, customer, foreign_customer):
    admin = User.objects.create_superuser("root", "root@example.com", "password")
    body = logged_in(client, admin).get(reverse("customers:list")).content.decode()
    assert "Ada Diallo" in body
    assert "Chidi Okafor" in body
    assert "Lagos Goods" in body


def test_the_list_reads_the_merchants_only_to_show_their_names(
    client, viewer, customer, foreign_customer
):
    def page_query(user) -> str:
        with CaptureQueriesContext(connection) as queries:
            logged_in(client, user).get(reverse("customers:list"))
        page = 'FROM "customers_customer" '
        return next(q["sql"] for q in queries.captured_queries if page in q["sql"])

    admin = User.objects.create_superuser("root", "root@example.com", "password")

    assert "customers_merchant" not in page_query(viewer)  # one merchant: no column
    assert "customers_merchant" in page_query(admin)  # every merchant: a column of names


def test_viewer_sees_no_write_buttons(client, viewer, customer):
    logged_in(client, viewer)
    listing = client.get(reverse("customers:list")).content.decode()
    assert "New customer" not in listing
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:update", args=[customer.pk]) not in detail
    assert reverse("customers:delete", args=[customer.pk]) not in detail
    assert reverse("customers:status", args=[customer.pk]) not in detail
    assert "API keys" not in detail


def test_editor_sees_edit_and_block_but_not_delete(client, editor, customer):
    detail = logged_in(client, editor).get(reverse("customers:detail", args=[customer.pk]))
    body = detail.content.decode()
    assert reverse("customers:update", args=[customer.pk]) in body
    assert reverse("customers:block", args=[customer.pk]) in body
    assert reverse("customers:delete", args=[customer.pk]) not in body


def test_manager_sees_every_button_and_the_api_keys_link(client, manager, customer):
    detail = logged_in(client, manager).get(reverse("customers:detail", args=[customer.pk]))
    body = detail.content.decode()
    assert reverse("customers:update", args=[customer.pk]) in body
    assert reverse("customers:delete", args=[customer.pk]) in body
    assert reverse("customers:apikey_list") in body


@pytest.mark.parametrize(
    "name, data",
    [
        ("customers:create", customer_form_data()),
        ("customers:update", customer_form_data()),
        ("customers:delete", {}),
        ("customers:status", {"status": "blocked"}),
    ],
)
def test_viewer_posting_anyway_gets_403_and_nothing_changes(client, viewer, customer, name, data):
    args = [] if name == "customers:create" else [customer.pk]
    response = logged_in(client, viewer).post(reverse(name, args=args), data)
    assert response.status_code == 403
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert (customer.name, customer.status) == ("Ada Diallo", "active")


def test_editor_posting_a_delete_anyway_gets_403(client, editor, customer):
    response = logged_in(client, editor).post(reverse("customers:delete", args=[customer.pk]))
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_status_change_is_post_only(client, editor, customer):
    response = logged_in(client, editor).get(reverse("customers:status", args=[customer.pk]))
    assert response.status_code == 405


# --- the list -------------------------------------------------------------------------------


def test_list_filters_by_exact_email_from_the_query_string(client, viewer, merchant, customer):
    make_customer(merchant, name="Other Ada", email="ada.other@example.com")
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"email": "ADA@example.com"}
    )
    assert [c.name for c in response.context["object_list"]] == ["Ada Diallo"]
    assert response.context["filter"].form["email"].value() == "ADA@example.com"


def test_list_filters_by_several_statuses(client, viewer, merchant):
    make_customer(merchant, name="Blocked one", status="blocked")
    make_customer(merchant, name="Pending one", status="pending_kyc")
    make_customer(merchant, name="Active one")
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"status": "blocked,pending_kyc", "ordering": "name"}
    )
    assert [c.name for c in response.context["object_list"]] == ["Blocked one", "Pending one"]


def test_the_status_filter_is_a_box_per_status_and_nothing_else(client, viewer):
    response = logged_in(client, viewer).get(reverse("customers:list"), {"status": "blocked"})
    boxes = re.findall(r'<input type="checkbox" name="status" value="([^"]*)"[^>]*>', response.text)
    assert boxes == ["pending_kyc", "active", "inactive", "blocked"]
    assert re.search(r'value="blocked"[^>]* checked', response.text)
    assert "---------" not in response.text
    assert "(optional)" not in response.text  # no filter is required: none says it is optional


@pytest.mark.parametrize("term", ["+221 77 123 45 67", "77 123 45", "077 123 45 67"])
def test_list_search_finds_a_phone_as_the_list_shows_it(client, viewer, merchant, term):
    make_customer(merchant, name="Awa Diop", phone="+221771234567")
    make_customer(merchant, name="Moussa Sow", phone="+221781112233")
    logged_in(client, viewer)
    assert "+221 77 123 45 67" in client.get(reverse("customers:list")).text

    response = client.get(reverse("customers:list"), {"search": term})
    assert [c.name for c in response.context["object_list"]] == ["Awa Diop"]


def test_list_search_ignores_the_case_of_accented_letters(client, viewer, merchant):
    make_customer(merchant, name="Fatou Traoré")
    make_customer(merchant, name="Fatou Traore")
    response = logged_in(client, viewer).get(reverse("customers:list"), {"search": "TRAORÉ"})
    assert [c.name for c in response.context["object_list"]] == ["Fatou Traoré"]


def test_list_drops_empty_parameters_from_the_url(client, viewer):
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"search": "ada", "email": "", "type": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:list')}?search=ada"


def test_list_with_an_invalid_filter_shows_the_error_and_no_rows(client, viewer, customer):
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"created_after": "yesterday"}
    )
    assert response.status_code == 400
    assert list(response.context["object_list"]) == []
    body = response.content.decode()
    assert "Enter an ISO 8601 date or date-time" in body
    assert "Some filters are not valid" in body


def test_list_is_ordered_by_the_ordering_parameter(client, viewer, merchant):
    for name in ("Bintou", "Aminata", "Coumba"):
        make_customer(merchant, name=name)
    url = reverse("customers:list")
    logged_in(client, viewer)
    by_name = client.get(url, {"ordering": "name"}).context["object_list"]
    assert [c.name for c in by_name] == ["Aminata", "Bintou", "Coumba"]
    newest_first = client.get(url).context["object_list"]
    assert [c.name for c in newest_first] == ["Coumba", "Aminata", "Bintou"]


def test_sort_header_links_toggle_the_direction_and_keep_the_filters(client, viewer, customer):
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"country": "SN", "ordering": "name", "page": "1"}
    )
    body = response.content.decode()
    assert 'href="?country=SN&amp;ordering=-name"' in body
    assert 'aria-sort="ascending"' in body
    # Created goes back to the default ordering, which needs no parameter.
    assert 'href="?country=SN"' in body


SORT_HEADER = re.compile(
    r'<th scope="col"(?: class="(?P<classes>[^"]*)")?\s+aria-sort="(?P<sort>\w+)">'
    r'<a class="sort-link" href="(?P<href>[^"]*)">(?P<label>[^<]+)<'
)


def sort_headers(response) -> dict[str, tuple[str, str, str]]:
    """Each sortable header's label → (its classes, its aria-sort, where its link goes)."""
    return {
        match["label"]: (match["classes"] or "", match["sort"], match["href"])
        for match in SORT_HEADER.finditer(response.content.decode())
    }


def test_type_status_and_country_headers_sort_a_to_z_first(client, viewer, customer):
    response = logged_in(client, viewer).get(reverse("customers:list"))

    assert sort_headers(response) == {
        "Name": ("", "none", "?ordering=name"),
        "Type": ("hide-sm", "none", "?ordering=type"),
        "Status": ("", "none", "?ordering=status"),
        "Country": ("hide-sm", "none", "?ordering=country"),
        "Created": ("", "descending", "?ordering=created_at"),
    }
    # Contact is shown but not sortable: no index keeps a merchant's customers in email order.
    assertInHTML('<th scope="col" class="hide-sm">Contact</th>', response.content.decode())


@pytest.mark.parametrize(
    ("ordering", "label", "sort", "href"),
    [
        ("status", "Status", "ascending", "?country=SN&amp;ordering=-status"),
        ("-status", "Status", "descending", "?country=SN&amp;ordering=status"),
        ("type", "Type", "ascending", "?country=SN&amp;ordering=-type"),
        ("-type", "Type", "descending", "?country=SN&amp;ordering=type"),
        ("country", "Country", "ascending", "?country=SN&amp;ordering=-country"),
        ("-country", "Country", "descending", "?country=SN&amp;ordering=country"),
    ],
)
def test_a_second_click_on_type_status_or_country_reverses_it(
    client, viewer, customer, ordering, label, sort, href
):
    response = logged_in(client, viewer).get(
        reverse("customers:list"), {"country": "SN", "ordering": ordering, "page": "2"}
    )

    headers = sort_headers(response)
    assert headers[label][1:] == (sort, href)
    assert [header[1] for header in headers.values()].count("none") == 4


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("status", ["Awa", "Binta", "Coumba", "Fatou", "Dior", "Ebou"]),
        ("-status", ["Ebou", "Dior", "Fatou", "Coumba", "Binta", "Awa"]),
        ("type", ["Dior", "Ebou", "Awa", "Binta", "Coumba", "Fatou"]),
        ("-type", ["Fatou", "Coumba", "Binta", "Awa", "Ebou", "Dior"]),
        ("country", ["Fatou", "Dior", "Awa", "Coumba", "Binta", "Ebou"]),
        ("-country", ["Ebou", "Binta", "Coumba", "Awa", "Dior", "Fatou"]),
    ],
)
def test_list_rows_follow_the_status_type_or_country_ordering(
    client, viewer, merchant, ordering, expected
):
    # Created in this order: equal values keep it, oldest first (newest first reversed).
    for name, status, type_, country in [
        ("Awa", "active", "individual", "NG"),
        ("Binta", "active", "individual", "SN"),
        ("Coumba", "blocked", "individual", "NG"),
        ("Dior", "pending_kyc", "business", "GH"),
        ("Ebou", "pending_kyc", "business", "SN"),
        ("Fatou", "inactive", "individual", ""),
    ]:
        make_customer(merchant, name=name, status=status, type=type_, country=country)
    logged_in(client, viewer)

    response = client.get(reverse("customers:list"), {"ordering": ordering, "limit": "20"})

    assert [c.name for c in response.context["object_list"]] == expected


def test_list_paginates_with_total_and_a_page_size_choice(client, viewer, merchant):
    for n in range(25):
        make_customer(merchant, name=f"Customer {n:02d}")
    logged_in(client, viewer)
    first = client.get(reverse("customers:list"))
    assert len(first.context["object_list"]) == 20
    assert "1\u201320 of 25" in first.content.decode()
    second = client.get(reverse("customers:list"), {"page": "2"})
    assert len(second.context["object_list"]) == 5
    bigger = client.get(reverse("customers:list"), {"limit": "50"})
    assert len(bigger.context["object_list"]) == 25
    assert '<option value="50" selected>' in bigger.content.decode()


def test_page_past_the_end_shows_the_last_page(client, viewer, merchant):
    for _ in range(3):
        make_customer(merchant)
    response = logged_in(client, viewer).get(reverse("customers:list"), {"page": "99"})
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1
    assert len(response.context["object_list"]) == 3


def test_unsupported_page_size_falls_back_to_the_default(client, viewer, merchant):
    response = logged_in(client, viewer).get(reverse("customers:list"), {"limit": "100000"})
    assert response.context["paginator"].per_page == 20


def test_list_costs_the_same_queries_whatever_the_page_size(
    client, manager, merchant, other_merchant, django_assert_max_num_queries
):
    Membership = manager.memberships.model
    Membership.objects.create(user=manager, merchant=other_merchant)  # merchant column shown
    for n in range(110):
        make_customer(merchant if n % 2 else other_merchant, phone=f"+2217712{n:05d}")
    logged_in(client, manager)
    counts = []
    for limit in (20, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("customers:list"), {"limit": limit})
        assert len(response.context["object_list"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(8):
        client.get(reverse("customers:list"), {"limit": 100, "status": "active"})


def test_user_input_is_escaped_in_the_list_and_detail(client, viewer, merchant):
    hostile = make_customer(
        merchant,
        name='<script>alert("x")</script>',
        email="x@example.com",
        metadata={"note": '<img src=x onerror="alert(1)">'},
    )
    logged_in(client, viewer)
    for url in (reverse("customers:list"), reverse("customers:detail", args=[hostile.pk])):
        body = client.get(url).content.decode()
        assert '<script>alert("x")</script>' not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    detail = client.get(reverse("customers:detail", args=[hostile.pk])).content.decode()
    assert "<img src=x" not in detail
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in detail


# --- CSV export -----------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")  # spreadsheets then read the text as UTF-8
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_export_streams_exactly_the_filtered_rows(
    client, viewer, merchant, customer, foreign_customer
):
    make_customer(merchant, name="Blocked Binta", email="binta@example.com", status="blocked")
    make_customer(merchant, name="Blocked Bakary", phone="+221771110000", status="blocked")
    response = logged_in(client, viewer).get(
        reverse("customers:export"), {"status": "blocked", "ordering": "name", "page": "2"}
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = read_csv(response)
    assert [row["name"] for row in rows] == ["Blocked Bakary", "Blocked Binta"]
    assert list(rows[0]) == list(EXPORT_COLUMNS)


def test_export_is_sent_in_pieces_of_many_lines_not_a_piece_per_customer(
    client, viewer, merchant, monkeypatch
):
    monkeypatch.setattr(csvio, "PIECE_ROWS", 2)
    for n in range(5):
        make_customer(merchant, name=f"Customer {n}", email=f"c{n}@example.com")
    response = logged_in(client, viewer).get(reverse("customers:export"), {"ordering": "name"})

    pieces = [piece.decode() for piece in response.streaming_content]
    # The header and two customers, two more, then the last one.
    assert [piece.count("\r\n") for piece in pieces] == [3, 2, 1]
    rows = list(csv.DictReader(io.StringIO("".join(pieces)[1:])))
    assert [row["name"] for row in rows] == [f"Customer {n}" for n in range(5)]


def test_export_without_filters_has_every_customer_of_the_users_merchants_only(
    client, viewer, customer, foreign_customer
):
    rows = read_csv(logged_in(client, viewer).get(reverse("customers:export")))
    assert [row["email"] for row in rows] == ["ada@example.com"]


def test_export_with_an_invalid_filter_goes_back_to_the_list(client, viewer):
    response = logged_in(client, viewer).get(reverse("customers:export"), {"type": "robot"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:list')}?type=robot"


def test_list_links_to_the_export_with_the_same_filters(client, viewer, customer):
    response = logged_in(client, viewer).get(reverse("customers:list"), {"country": "SN"})
    assert f'href="{reverse("customers:export")}?country=SN"' in response.content.decode()


# --- detail ---------------------------------------------------------------------------------


def test_detail_shows_every_field_metadata_and_history(client, editor, merchant):
    customer = make_customer(
        merchant,
        name="Kofi Mensah",
        first_name="Kofi",
        last_name="Mensah",
        company="Mensah Trading",
        reference="crm-42",
        email="kofi@example.com",
        phone="+233241234567",
        whatsapp="+233241234567",
        country="GH",
        currency="GHS",
        website="https://mensah.example.com",
        description="Wholesale buyer.",
        address={"line1": "1 Ring Road", "city": "Accra"},
        metadata={"tier": "gold", "orders": 12, "vip": True},
    )
    customer_update(
        customer=customer, actor=editor, source="api", data={"email": "kofi@mensah.example.com"}
    )
    body = logged_in(client, editor).get(reverse("customers:detail", args=[customer.pk]))
    text = body.content.decode()
    for expected in (
        "Kofi Mensah",
        "Mensah Trading",
        "crm-42",
        "kofi@mensah.example.com",
        "+233 24 123 4567",
        "Ghana",
        "GHS",
        "https://mensah.example.com",
        "Wholesale buyer.",
        "1 Ring Road",
        "Accra",
        "tier",
        "gold",
        ">12<",
        ">true<",
        "badge-active",
    ):
        assert expected in text, expected
    history = body.context["history"]
    assert [event.action for event in history] == ["updated", "created"]
    assert "kofi@example.com" in text  # old value
    assert "eddie" in text and ">API<" in text  # who, and through which door


# --- create ---------------------------------------------------------------------------------


def test_editor_creates_a_customer_through_the_services(client, editor, merchant):
    response = logged_in(client, editor).post(
        reverse("customers:create"),
        customer_form_data(
            name="",
            first_name="Awa",
            last_name="Ndiaye",
            phone="77 123 45 67",
            address_line1=" 5 Rue Carnot ",
            address_city="Dakar",
            **{
                "metadata-0-key": "tier",
                "metadata-0-value": "gold",
                "metadata-1-key": "orders",
                "metadata-1-type": "number",
                "metadata-1-value": "12",
                "metadata-2-key": "vip",
                "metadata-2-type": "boolean",
                "metadata-2-value": "true",
                "metadata-3-key": "",
                "metadata-3-type": "text",
                "metadata-3-value": "",
            },
        ),
        follow=True,
    )
    customer = Customer.objects.get()
    assert response.redirect_chain == [(reverse("customers:detail", args=[customer.pk]), 302)]
    assert messages_of(response) == ["Customer “Awa Ndiaye” created."]
    assert customer.merchant == merchant
    assert customer.name == "Awa Ndiaye"
    assert customer.phone == "+221771234567"
    assert customer.address == {"line1": "5 Rue Carnot", "city": "Dakar"}
    assert customer.metadata == {"tier": "gold", "orders": 12, "vip": True}
    assert (customer.source, customer.created_by) == ("dashboard", "user:eddie")
    event = customer_history(customer).get()
    assert (event.action, event.source, event.actor) == ("created", "dashboard", "user:eddie")


def test_create_form_has_a_label_for_every_input(client, editor):
    body = logged_in(client, editor).get(reverse("customers:create")).content.decode()
    import re

    inputs = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', body)
    hidden = re.findall(r'<input type="hidden"[^>]*\bid="([^"]+)"', body)
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', body))
    missing = [id_ for id_ in inputs if id_ not in labelled and id_ not in hidden]
    assert inputs and not missing


def test_invalid_create_keeps_what_was_typed_and_shows_the_error_by_the_field(client, editor):
    response = logged_in(client, editor).post(
        reverse("customers:create"),
        customer_form_data(
            email="not-an-email",
            phone="12",
            address_city="Thiès",
            **{"metadata-0-key": "tier", "metadata-0-value": "gold"},
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["email"] == ["Enter a valid email address."]
    assert "phone" in form.errors
    body = response.content.decode()
    assert 'value="not-an-email"' in body
    assert 'value="Thiès"' in body
    assert 'value="tier"' in body and 'value="gold"' in body
    assertInHTML(
        '<ul class="errorlist" id="id_email_error"><li>Enter a valid email address.</li></ul>',
        body,
    )
    assert Customer.objects.count() == 0


def test_create_needs_an_email_or_a_phone(client, editor):
    response = logged_in(client, editor).post(
        reverse("customers:create"), customer_form_data(email="")
    )
    assert response.context["form"].errors["email"] == [
        "Give an email address or a phone number (or both)."
    ]


def test_create_with_a_duplicate_email_names_the_field(client, editor, customer):
    response = logged_in(client, editor).post(
        reverse("customers:create"), customer_form_data(email="ADA@EXAMPLE.COM")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "A customer with this email already exists."
    ]


def test_a_duplicate_caught_by_the_database_lands_on_the_field(client, editor, monkeypatch):
    def refused(**fields):
        raise ValidationError(
            {"reference": ValidationError("A customer with this reference already exists.")}
        )

    monkeypatch.setattr("customers.forms.customer_create", refused)
    response = logged_in(client, editor).post(
        reverse("customers:create"), customer_form_data(reference="crm-1")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reference"] == [
        "A customer with this reference already exists."
    ]


def test_same_email_at_another_merchant_is_fine(client, editor, foreign_customer):
    response = logged_in(client, editor).post(
        reverse("customers:create"), customer_form_data(email="chidi@example.com")
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "row, message",
    [
        (("orders", "number", "twelve"), "The value of 'orders' is not a number, e.g. 42 or 9.5."),
        (("vip", "boolean", "yes"), "The value of 'vip' must be true or false."),
        (("", "text", "orphan"), "Give a key for the value 'orphan'."),
        (
            ("bad key", "text", "x"),
            "Metadata key 'bad key' may only contain letters, digits, '_', '.' and '-'.",
        ),
    ],
)
def test_metadata_errors_show_under_the_table(client, editor, row, message):
    key, kind, value = row
    response = logged_in(client, editor).post(
        reverse("customers:create"),
        customer_form_data(
            **{"metadata-0-key": key, "metadata-0-type": kind, "metadata-0-value": value}
        ),
    )
    assert response.context["form"].errors["metadata"] == [message]
    assert f'value="{value}"' in response.content.decode()
    assert '<tr class="invalid">' in response.content.decode()


def test_metadata_key_given_twice_is_an_error(client, editor):
    response = logged_in(client, editor).post(
        reverse("customers:create"),
        customer_form_data(
            **{
                "metadata-1-key": "tier",
                "metadata-1-type": "text",
                "metadata-1-value": "gold",
                "metadata-0-key": "tier",
                "metadata-0-value": "silver",
            }
        ),
    )
    assert response.context["form"].errors["metadata"] == ["Key 'tier' appears more than once."]


def test_merchant_is_chosen_only_by_members_of_several(client, merchant, other_merchant):
    single = make_user(merchant, group="Editor")
    form = logged_in(client, single).get(reverse("customers:create")).context["form"]
    assert "merchant" not in form.fields

    double = make_user(merchant, other_merchant, group="Editor")
    form = logged_in(client, double).get(reverse("customers:create")).context["form"]
    assert set(form.fields["merchant"].queryset) == {merchant, other_merchant}
    response = client.post(
        reverse("customers:create"), customer_form_data(merchant=str(other_merchant.pk))
    )
    assert response.status_code == 302
    assert Customer.objects.get().merchant == other_merchant


def test_merchant_outside_the_users_memberships_is_refused(client, merchant, other_merchant):
    third = make_merchant("Nairobi Traders", slug="nairobi")
    user = make_user(merchant, other_merchant, group="Editor")
    response = logged_in(client, user).post(
        reverse("customers:create"), customer_form_data(merchant=str(third.pk))
    )
    assert "merchant" in response.context["form"].errors
    assert Customer.objects.count() == 0


def test_user_of_no_merchant_cannot_create(client):
    user = make_user(group="Editor")
    response = logged_in(client, user).get(reverse("customers:create"))
    assert response.status_code == 403
    assert "not a member of any merchant" in response.content.decode()


# --- update ---------------------------------------------------------------------------------


def test_edit_form_shows_the_stored_values(client, editor, merchant):
    customer = make_customer(
        merchant,
        email="kofi@example.com",
        address={"line1": "1 Ring Road", "city": "Accra"},
        metadata={"tier": "gold", "orders": 12, "vip": False},
    )
    body = logged_in(client, editor).get(reverse("customers:update", args=[customer.pk]))
    text = body.content.decode()
    assert 'value="kofi@example.com"' in text
    assertInHTML(
        '<input type="text" name="address_line1" id="id_address_line1" value="1 Ring Road" '
        'autocomplete="address-line1" maxlength="200">',
        text,
    )
    metadata = body.context["form"]["metadata"]
    rows = metadata.field.widget.get_context("metadata", metadata.value(), {})["widget"]["rows"]
    # PostgreSQL's jsonb keeps keys in its own order.
    assert sorted((r["key"], r["type"], r["value"]) for r in rows[:3]) == [
        ("orders", "number", "12"),
        ("tier", "text", "gold"),
        ("vip", "boolean", "false"),
    ]
    assert len(rows) == 6  # three blank rows to add more


def test_editor_updates_a_customer_and_history_records_only_the_change(client, editor, customer):
    response = logged_in(client, editor).post(
        reverse("customers:update", args=[customer.pk]),
        customer_form_data(
            name="Ada Diallo", email="ada@example.com", phone="+221 77 000 00 01", version="1"
        ),
        follow=True,
    )
    assert messages_of(response) == ["Customer “Ada Diallo” saved."]
    customer.refresh_from_db()
    assert customer.phone == "+221770000001"
    event = customer_history(customer).first()
    assert (event.action, event.source, event.actor) == ("updated", "dashboard", "user:eddie")
    assert event.changes == {"phone": ["", "+221770000001"]}


def test_saving_an_unchanged_form_records_nothing(client, editor, customer):
    logged_in(client, editor).post(
        reverse("customers:update", args=[customer.pk]),
        customer_form_data(name="Ada Diallo", email="ada@example.com", version="1"),
    )
    assert customer_history(customer).count() == 1


def test_edit_with_an_invalid_email_keeps_the_typed_value(client, editor, customer):
    response = logged_in(client, editor).post(
        reverse("customers:update", args=[customer.pk]),
        customer_form_data(name="Ada Diallo", email="ada@@example", version="1"),
    )
    assert response.status_code == 200
    assert 'value="ada@@example"' in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "ada@example.com"


def test_edit_based_on_a_stale_version_is_refused(client, editor, customer):
    customer_update(customer=customer, actor="api_key:abcd1234", source="api", data={"name": "X"})
    response = logged_in(client, editor).post(
        reverse("customers:update", args=[customer.pk]),
        customer_form_data(name="Ada Diallo", email="ada@example.com", version="1"),
    )
    assert response.status_code == 200
    assert "Someone else changed this customer" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "X"


def test_a_save_checks_each_unique_constraint_once(client, editor, customer):
    logged_in(client, editor)
    with CaptureQueriesContext(connection) as creating:
        created = client.post(reverse("customers:create"), customer_form_data(reference="r-1"))
    with CaptureQueriesContext(connection) as editing:
        edited = client.post(
            reverse("customers:update", args=[customer.pk]),
            customer_form_data(name="Ada Diallo", email="ada@example.com", version="1"),
        )
    assert (created.status_code, edited.status_code) == (302, 302)
    assert len(unique_checks(creating)) == 2  # email and reference, by the service only
    assert len(unique_checks(editing)) == 1  # the email: an empty reference clashes with none


def test_a_form_refused_by_its_own_inputs_still_shows_the_model_errors(client, editor):
    data = customer_form_data(email="", phone="12", **{"metadata-0-type": "number"})
    data.update({"metadata-0-key": "age", "metadata-0-value": "forty"})
    response = logged_in(client, editor).post(reverse("customers:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["metadata"] == ["The value of 'age' is not a number, e.g. 42 or 9.5."]
    assert errors["phone"] == ["Enter a valid phone number, e.g. +221771234567."]
    assert not Customer.objects.exists()


def test_saving_a_customer_deleted_meanwhile_says_so(client, editor, customer, deleted_meanwhile):
    response = logged_in(client, editor).post(
        reverse("customers:update", args=[customer.pk]),
        customer_form_data(name="Ada Diallo", email="ada@example.com", version="1"),
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["This customer has been deleted."]
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_a_customer_deleted_meanwhile_is_404(client, manager, customer, deleted_meanwhile):
    response = logged_in(client, manager).post(reverse("customers:delete", args=[customer.pk]))
    assert response.status_code == 404
    assert not CustomerEvent.objects.filter(customer_id=customer.pk, action="deleted").exists()


# --- status and delete -----------------------------------------------------------------------


def test_block_asks_for_a_reason_which_the_history_keeps(client, editor, customer):
    logged_in(client, editor)
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'href="{reverse("customers:block", args=[customer.pk])}"' in detail
    page = client.get(reverse("customers:block", args=[customer.pk]))
    assert "Block customer" in page.content.decode()
    url = reverse("customers:status", args=[customer.pk])

    refused = client.post(url, {"status": "blocked", "reason": "  "})
    assert refused.status_code == 400
    assert refused.context["form"].errors["reason"] == [CustomerStatusForm.BLOCK_NEEDS_A_REASON]
    customer.refresh_from_db()
    assert customer.status == "active"

    response = client.post(url, {"status": "blocked", "reason": "Three chargebacks"}, follow=True)
    assert messages_of(response) == ["Customer “Ada Diallo” blocked."]
    customer.refresh_from_db()
    assert customer.status == "blocked"
    event = customer_history(customer).first()
    assert (event.action, event.changes, event.reason, event.actor) == (
        "status_changed",
        {"status": ["active", "blocked"]},
        "Three chargebacks",
        f"user:{editor.username}",
    )
    body = response.content.decode()
    assert "Reason: Three chargebacks" in body
    assert 'value="active">' in body  # the Activate button is now offered


def test_activate_needs_no_reason_and_records_who_and_when(client, editor, customer):
    customer_set_status(customer=customer, status="blocked", actor="user:x", source="admin")
    logged_in(client, editor)
    url = reverse("customers:status", args=[customer.pk])
    response = client.post(url, {"status": "active"}, follow=True)
    assert messages_of(response) == ["Customer “Ada Diallo” activated."]
    event = customer_history(customer).first()
    assert (event.changes, event.actor, event.reason) == (
        {"status": ["blocked", "active"]},
        f"user:{editor.username}",
        "",
    )
    assert event.created_at is not None


def test_unknown_status_is_a_bad_request(client, editor, customer):
    response = logged_in(client, editor).post(
        reverse("customers:status", args=[customer.pk]), {"status": "vip"}
    )
    assert response.status_code == 400


def test_delete_asks_for_confirmation_then_deletes(client, manager, customer):
    logged_in(client, manager)
    url = reverse("customers:delete", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Delete <strong>Ada Diallo</strong>" in page.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(reverse("customers:list"), 302)]
    assert messages_of(response) == ["Customer “Ada Diallo” deleted."]
    assert not Customer.objects.filter(pk=customer.pk).exists()
    event = CustomerEvent.objects.filter(customer_id=customer.pk).order_by("-created_at").first()
    assert (event.action, event.actor) == ("deleted", "user:mona")


# --- API keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Viewer", "Editor"])
def test_api_keys_are_for_managers_only(client, merchant, group):
    user = make_user(merchant, group=group)
    logged_in(client, user)
    assert client.get(reverse("customers:apikey_list")).status_code == 403
    response = client.post(
        reverse("customers:apikey_create"), {"name": "x", "scopes": ["customers:read"]}
    )
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_manager_lists_only_their_merchants_keys(client, manager, merchant, other_merchant):
    own, _ = make_api_key(merchant)
    foreign, _ = make_api_key(other_merchant)
    response = logged_in(client, manager).get(reverse("customers:apikey_list"))
    assert list(response.context["api_keys"]) == [own]
    assert f"ck_{own.prefix}_" in response.content.decode()
    assert f"ck_{foreign.prefix}_" not in response.content.decode()


def test_created_key_secret_is_shown_once_and_works(client, manager, merchant):
    logged_in(client, manager)
    response = client.post(
        reverse("customers:apikey_create"),
        {"name": "Checkout", "scopes": ["customers:read", "customers:write"]},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret in response.content.decode()
    key = api_key_authenticate(secret)
    assert key is not None
    assert (key.merchant, key.name, key.created_by) == (merchant, "Checkout", manager)
    assert key.scopes == ["customers:read", "customers:write"]
    listing = client.get(reverse("customers:apikey_list")).content.decode()
    assert secret not in listing
    assert "Checkout" in listing


def test_key_without_scopes_is_refused(client, manager):
    response = logged_in(client, manager).post(reverse("customers:apikey_create"), {"name": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert ApiKey.objects.count() == 0


def test_revoke_confirms_then_revokes(client, manager, merchant):
    key, secret = make_api_key(merchant)
    logged_in(client, manager)
    url = reverse("customers:apikey_revoke", args=[key.pk])
    assert "Revoke <strong>Test key</strong>" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert messages_of(response) == ["API key “Test key” revoked."]
    key.refresh_from_db()
    assert key.is_revoked
    assert api_key_authenticate(secret) is None
    assert "Revoked" in response.content.decode()


def test_revoking_another_merchants_key_is_404(client, manager, other_merchant):
    key, _ = make_api_key(other_merchant)
    response = logged_in(client, manager).post(reverse("customers:apikey_revoke", args=[key.pk]))
    assert response.status_code == 404
    key.refresh_from_db()
    assert not key.is_revoked


# --- one FilterSet, two doors -----------------------------------------------------------------


#: Query strings that the list's FilterSet reads the same way behind both doors.
SHARED_QUERIES = [
    "",
    "ordering=name",
    "status=blocked,pending_kyc&ordering=name",
    "is_active=false&ordering=-updated_at",
    "country=Senegal&type=business",
    "country=sen&ordering=name&limit=50",
    "email=ADA@example.com",
    "phone=%2B221+77+123+45+67",
    "search=diallo&ordering=-name",
    "created_after=2020-01-01&currency=XOF",
    "ordering=name&limit=50&page=2",
    "ordering=status&limit=50&page=2",
    "status=inactive,active&ordering=-status&page=2",
    "ordering=-country",
    "type=business&ordering=type",
    "ordering=-type&limit=50&page=2",
]


def test_every_query_string_gives_the_same_customers_in_dashboard_and_api(
    client, viewer, merchant, other_merchant
):
    make_customer(merchant, name="Ada Diallo", email="ada@example.com", country="SN")
    make_customer(merchant, name="Moussa Diallo", phone="+221771234567", type="business")
    make_customer(merchant, name="Sow Trading", country="SN", type="business", currency="XOF")
    make_customer(merchant, name="Blocked Binta", status="blocked", country="GH")
    make_customer(merchant, name="Pending Paul", status="pending_kyc", currency="XOF")
    for n in range(55):
        make_customer(merchant, name=f"Filler {n:02d}", status="inactive" if n % 3 else "active")
    make_customer(other_merchant, name="Elsewhere Diallo", email="ada@example.com", country="SN")
    _, secret = make_api_key(merchant, scopes=["customers:read"])
    logged_in(client, viewer)
    api_client = Client()

    for query in SHARED_QUERIES:
        dashboard = client.get(f"{reverse('customers:list')}?{query}")
        assert dashboard.status_code == 200, query
        dashboard_ids = [str(customer.pk) for customer in dashboard.context["object_list"]]

        api = api_client.get(f"/api/v1/customers?{query}", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert api.status_code == 200, (query, api.content)
        api_ids = [customer["id"] for customer in api.json()["data"]]

        assert dashboard_ids == api_ids, query
        assert dashboard.context["paginator"].count == api.json()["meta"]["total"], query


def test_notes_keep_their_line_breaks_and_no_padding(client, viewer, merchant):
    customer = make_customer(merchant, description="Pays on Fridays.\nCall first.")
    body = logged_in(client, viewer).get(reverse("customers:detail", args=[customer.pk]))
    assert '<dd class="description">Pays on Fridays.\nCall first.</dd>' in body.text


def test_a_refused_filter_lists_and_counts_no_one(client, viewer, customer):
    response = logged_in(client, viewer).get(reverse("customers:list"), {"search": "ad"})
    assert response.context["form"].errors == {
        "search": ["Search for at least 3 characters (this is 2)."]
    }
    assert list(response.context["object_list"]) == []
    assert response.context["paginator"].count == 0


def test_editing_the_last_name_moves_a_name_made_of_it(client, editor, merchant):
    customer = make_customer(
        merchant, name="", first_name="Kwame", last_name="Mensah", email="kwame@example.com"
    )
    data = customer_form_data(
        name="Kwame Mensah", first_name="Kwame", last_name="Asante", email="kwame@example.com",
        version="1",
    )  # fmt: skip

    response = logged_in(client, editor).post(reverse("customers:update", args=[customer.pk]), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Kwame Asante"


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"emial": "x"}, "emial: Unknown query parameter; did you mean email?"),
        ({"tier": "gold"}, "tier: Unknown query parameter."),
        (
            {"ordering": "bogus"},
            "Order by: Value 'bogus' is not a valid choice; use created_at, -created_at, name, "
            "-name, updated_at, -updated_at, status, -status, type, -type, country or -country.",
        ),
    ],
)
def test_list_names_a_parameter_it_cannot_use_and_lists_no_one(
    client, viewer, customer, query, problem
):
    response = logged_in(client, viewer).get(reverse("customers:list"), query)

    assert response.status_code == 400
    assert list(response.context["object_list"]) == []
    assert response.context["filter_problems"] == [problem]
    body = response.content.decode()
    assert "Fix the filters to see customers" in body
    assert "0 customers" not in body
    assert "Correct them above" not in body


@pytest.mark.parametrize(("count", "says"), [(1, "1 customer matches"), (2, "2 customers match")])
def test_the_count_of_matches_agrees_with_its_number(client, viewer, merchant, count, says):
    for n in range(count):
        make_customer(merchant, name=f"Awa {n}", country="SN")

    response = logged_in(client, viewer).get(reverse("customers:list"), {"country": "SN"})

    assert f"{says} these filters" in " ".join(response.content.decode().split())


def test_an_export_with_an_unknown_parameter_exports_no_one_and_goes_to_the_list(
    client, viewer, customer
):
    response = logged_in(client, viewer).get(reverse("customers:export"), {"emial": "x"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:list')}?emial=x"


CLEAR = '<a class="button" href="/customers/">Clear</a>'


@pytest.mark.parametrize(
    "query", [{"limit": "50"}, {"page": "2"}, {"ordering": "name"}, {"limit": "20", "page": "1"}]
)
def test_paging_and_ordering_are_not_filters(client, viewer, customer, query):
    response = logged_in(client, viewer).get(reverse("customers:list"), query)

    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "1 customer </p>" in text or "1 customer</p>" in text
    assert "these filters" not in text
    assert CLEAR not in text


@pytest.mark.parametrize(
    "query", [{"search": "ada"}, {"country": "SN", "ordering": "name"}, {"status": "active"}]
)
def test_a_filter_shows_the_matches_and_clear(client, viewer, customer, query):
    response = logged_in(client, viewer).get(reverse("customers:list"), query)

    text = " ".join(response.content.decode().split())
    assert "1 customer matches these filters" in text
    assert CLEAR in text


def test_an_empty_list_shown_by_fifty_is_not_filtered(client, viewer):
    response = logged_in(client, viewer).get(reverse("customers:list"), {"limit": "50"})

    body = response.content.decode()
    assert "No customers yet" in body
    assert "No customer matches these filters" not in body


ERROR_SUMMARY = (
    '<div class="form-errors" id="form-errors" role="alert" tabindex="-1" data-focus-on-load>'
    "Please correct the highlighted fields below.</div>"
)


def test_a_refused_form_has_a_focusable_error_summary(client, manager, customer):
    logged_in(client, manager)
    refused = [
        client.post(reverse("customers:create"), customer_form_data(email="nope")),
        client.post(
            reverse("customers:update", args=[customer.pk]),
            customer_form_data(email="nope", version="1"),
        ),
        client.post(reverse("customers:apikey_create"), {"name": ""}),
    ]

    for response in refused:
        assert response.status_code == 200
        body = response.content.decode()
        assertInHTML(ERROR_SUMMARY, body)
        # Focused by dashboard.js: the policy lets no inline script run.
        assert "<script>" not in body and "onload" not in body


def test_a_form_not_yet_submitted_has_no_error_summary(client, editor):
    body = logged_in(client, editor).get(reverse("customers:create")).content.decode()

    assert "data-focus-on-load" not in body


def test_statuses_ticked_in_the_form_become_the_apis_one_value(client, viewer, merchant):
    make_customer(merchant, name="Blocked Binta", status="blocked")
    make_customer(merchant, name="Pending Paul", status="pending_kyc")
    make_customer(merchant, name="Active Ada")
    logged_in(client, viewer)

    ticked = client.get(reverse("customers:list"), {"status": ["pending_kyc", "blocked"]})
    shared = client.get(ticked["Location"])

    assert ticked["Location"] == f"{reverse('customers:list')}?status=pending_kyc%2Cblocked"
    names = sorted(customer.name for customer in shared.context["object_list"])
    assert names == ["Blocked Binta", "Pending Paul"]
    ticked_boxes = [
        box.data["value"] for box in shared.context["filter"].form["status"] if box.data["selected"]
    ]
    assert ticked_boxes == ["pending_kyc", "blocked"]


@pytest.mark.parametrize("value", ["SN", "", None])
def test_a_select_is_written_exactly_as_djangos_own_template_writes_it(value):
    """The project's select template writes its options itself (a country list is hundreds of
    them); the markup is Django's, groups, selection and escaping included."""
    widget = forms.Select(
        choices=[
            ("", "—"),
            ("West Africa", [("SN", "Sénégal"), ("CI", "Côte d'Ivoire")]),
            ("X<Y", "<b>Tag</b> & “quotes”"),
        ],
        attrs={"id": "id_country", "required": True, "data-note": 'say "hi"'},
    )

    def written(renderer) -> str:
        return re.sub(r">\s+<", "><", widget.render("country", value, renderer=renderer)).strip()

    assert written(TemplatesSetting()) == written(DjangoTemplates())
