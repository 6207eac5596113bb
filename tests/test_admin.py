import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertInHTML
from rest_framework.test import APIClient

from customers.models import ApiKey, Customer, CustomerEvent
from tests.factories import (
    make_api_key,
    make_customer,
    make_merchant,
    make_user,
    unique_checks,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "password")


@pytest.fixture
def root_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def customers(merchant, other_merchant):
    return {
        "amadou": make_customer(
            merchant, name="Amadou Ba", email="amadou@example.com", phone="+221771234567",
            country="SN", reference="CUS-1",
        ),
        "james": make_customer(
            merchant, name="James Okafor", email="james@example.com", type="business",
            country="NG", status="blocked",
        ),
        "yaw": make_customer(
            other_merchant, name="Yaw Mensah", email="yaw@example.com", country="GH",
            status="pending_kyc",
        ),
    }  # fmt: skip


def address_inputs(**lines) -> dict:
    """What the admin's address lines post."""
    keys = ("line1", "line2", "city", "state", "postal_code")
    return {f"address_{key}": lines.get(key, "") for key in keys}


def metadata_inputs(*rows: tuple[str, str, str]) -> dict:
    """What the admin's metadata table posts: the (key, type, value) rows, then a blank one."""
    data = {}
    for index, (key, kind, value) in enumerate([*rows, ("", "text", "")]):
        data |= {
            f"metadata-{index}-key": key,
            f"metadata-{index}-type": kind,
            f"metadata-{index}-value": value,
        }
    return data


def listed(response) -> set[str]:
    return {customer.name for customer in response.context["cl"].result_list}


def test_changelist_lists_every_customer_for_a_superuser(root_client, customers):
    response = root_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed(response) == {"Amadou Ba", "James Okafor", "Yaw Mensah"}
    for column in ("Name", "Email", "Phone", "Type", "Status", "Country", "Merchant", "Created at"):
        assert f">{column}<" in response.text or f">{column}</a>" in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("amadou", {"Amadou Ba"}),
        ("JAMES@EXAMPLE", {"James Okafor"}),
        ("+22177", {"Amadou Ba"}),
        ("CUS-1", {"Amadou Ba"}),
        ("mensah", {"Yaw Mensah"}),
        ("nobody", set()),
    ],
)
def test_changelist_search_covers_name_email_phone_and_reference(
    root_client, customers, query, expected
):
    assert listed(root_client.get(CHANGELIST, {"q": query})) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type__exact": "business"}, {"James Okafor"}),
        ({"status__exact": "blocked"}, {"James Okafor"}),
        ({"status__exact": "pending_kyc"}, {"Yaw Mensah"}),
        ({"country": "GH"}, {"Yaw Mensah"}),
    ],
)
def test_changelist_filters_by_type_status_and_country(root_client, customers, params, expected):
    assert listed(root_client.get(CHANGELIST, params)) == expected


def test_country_filter_offers_only_the_countries_of_the_users_customers(
    client, merchant, customers
):
    client.force_login(make_user(merchant, group="Viewer"))
    response = client.get(CHANGELIST)
    country_filter = next(f for f in response.context["cl"].filter_specs if f.title == "country")
    assert country_filter.lookup_choices == [("NG", "Nigeria"), ("SN", "Senegal")]


def test_changelist_filters_by_merchant(root_client, customers, other_merchant):
    response = root_client.get(CHANGELIST, {"merchant__id__exact": other_merchant.pk})
    assert listed(response) == {"Yaw Mensah"}


def customer_counts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and 'FROM "customers_customer"' in q["sql"]
    ]


@pytest.mark.parametrize(
    "params", [{}, {"status__exact": "blocked"}, {"type__exact": "business", "o": "1"}]
)
def test_changelist_totals_come_from_the_kept_counts(
    root_client, customers, django_assert_max_num_queries, params
):
    with django_assert_max_num_queries(12) as captured:
        response = root_client.get(CHANGELIST, params)
    assert response.context["cl"].result_count == len(listed(response))
    assert customer_counts(captured) == []


def test_changelist_counts_other_filters_with_a_limit(root_client, customers):
    with CaptureQueriesContext(connection) as captured:
        response = root_client.get(CHANGELIST, {"q": "ama", "country": "SN"})
    assert response.context["cl"].result_count == 1
    counts = customer_counts(captured)
    assert counts and all("LIMIT" in sql.upper() for sql in counts)


def test_a_search_needs_three_characters(root_client, customers):
    response = root_client.get(CHANGELIST, {"q": " Ba "})
    assert listed(response) == set()
    assert "Search for at least 3 characters." in response.text


@pytest.mark.parametrize(
    ("term", "found"),
    [("amadou ba", {"Amadou Ba"}), ("Ba Amadou", set()), ("CUS-1", {"Amadou Ba"}),
     ("example.com", {"Amadou Ba", "James Okafor"}), ("771234", {"Amadou Ba"}),
     ("+221 77 123 45 67", {"Amadou Ba"}), ("077 123", {"Amadou Ba"})],
)  # fmt: skip
def test_search_finds_what_the_api_and_the_dashboard_find(client, merchant, customers, term, found):
    client.force_login(make_user(merchant, group="Viewer"))
    assert listed(client.get(CHANGELIST, {"q": term})) == found
    dashboard = client.get(reverse("customers:list"), {"search": term})
    assert {customer.name for customer in dashboard.context["object_list"]} == found


def test_search_ignores_the_case_of_accented_letters(root_client, merchant):
    make_customer(merchant, name="Fatou Traoré")
    make_customer(merchant, name="Fatou Traore")
    assert listed(root_client.get(CHANGELIST, {"q": "TRAORÉ"})) == {"Fatou Traoré"}


def test_changelist_offers_no_per_filter_counts(root_client, customers):
    response = root_client.get(CHANGELIST, {"_facets": "1"})
    assert response.status_code == 200
    assert "Show counts" not in response.text
    assert "(1)" not in response.text


def test_a_search_past_the_cap_says_more_than(root_client, merchant, monkeypatch):
    for n in range(3):
        make_customer(merchant, name=f"Awa {n}")
    monkeypatch.setattr("customers.listing.TOTAL_CAP", 2)
    response = root_client.get(CHANGELIST, {"q": "awa"})
    assert (response.context["cl"].result_count, len(listed(response))) == (2, 3)
    assert "More than 2 customers: search or filter to narrow them down." in response.text


def test_add_runs_the_customer_rules_and_shows_errors(root_client, merchant):
    response = root_client.post(
        ADD,
        {
            "merchant": merchant.pk, "type": "individual", "name": "Bad", "email": "nope",
            "phone": "771234567", "country": "Atlantis", "status": "active",
            **address_inputs(), **metadata_inputs(("bad key", "text", "x")),
        },
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["email"] == ["Enter a valid email address."]
    assert errors["country"] == [
        "Country 'Atlantis' is not an ISO 3166 country; use a code such as SN or SEN, or a "
        "name in English or French such as Senegal or Sénégal."
    ]
    assert errors["phone"] == [
        "Add the country code to the phone number (e.g. +221771234567), or set the "
        "customer's country."
    ]
    assert errors["metadata"] == [
        "Metadata key 'bad key' may only contain letters, digits, '_', '.' and '-'."
    ]
    assert not Customer.objects.exists()


def test_add_normalises_and_records_the_admin_as_source(root_client, merchant):
    response = root_client.post(
        ADD,
        {
            "merchant": merchant.pk, "type": "individual", "name": "Awa Ndiaye",
            "email": " Awa@Example.SN ", "phone": "77 123 45 67", "country": "SN",
            "currency": "XOF", "status": "active",
            **address_inputs(city="Dakar"), **metadata_inputs(("orders", "number", "12")),
        },
    )  # fmt: skip
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.email, customer.phone, customer.country, customer.currency) == (
        "Awa@example.sn", "+221771234567", "SN", "XOF",
    )  # fmt: skip
    assert (customer.address, customer.metadata) == ({"city": "Dakar"}, {"orders": 12})
    assert (customer.source, customer.created_by) == ("admin", "user:root")
    assert CustomerEvent.objects.get(customer_id=customer.pk).source == "admin"


def test_add_refuses_a_duplicate_email_in_the_same_merchant(root_client, merchant, customers):
    response = root_client.post(
        ADD,
        {
            "merchant": merchant.pk, "type": "individual", "name": "Twin",
            "email": "AMADOU@example.com", "status": "active",
            **address_inputs(), **metadata_inputs(),
        },
    )  # fmt: skip
    assert response.context["adminform"].form.errors["email"] == [
        "A customer with this email already exists."
    ]


def test_change_goes_through_the_rules_and_records_history(root_client, customers):
    amadou = customers["amadou"]
    response = root_client.post(
        change_url(amadou),
        {
            "type": "individual", "name": "Amadou Ba", "email": "james@example.com",
            "phone": "+221771234567", "status": "active",
            **address_inputs(), **metadata_inputs(),
        },
    )  # fmt: skip
    assert response.context["adminform"].form.errors["email"] == [
        "A customer with this email already exists."
    ]
    response = root_client.post(
        change_url(amadou),
        {
            "type": "individual", "name": "Amadou Ba", "email": "amadou@example.com",
            "phone": "+221 77 000 00 01", "country": "SN", "reference": "CUS-1", "status": "active",
            **address_inputs(), **metadata_inputs(("tier", "text", "gold")),
        },
    )  # fmt: skip
    assert response.status_code == 302
    amadou.refresh_from_db()
    assert (amadou.phone, amadou.metadata, amadou.version) == ("+221770000001", {"tier": "gold"}, 2)
    event = CustomerEvent.objects.filter(customer_id=amadou.pk, action="updated").get()
    assert event.changes == {
        "phone": ["+221771234567", "+221770000001"],
        "metadata": [{}, {"tier": "gold"}],
    }


def amadou_form(**overrides) -> dict:
    return {
        "type": "individual", "name": "Amadou Ba", "email": "amadou@example.com",
        "phone": "+221771234567", "country": "SN", "reference": "CUS-1", "status": "active",
        **address_inputs(), **metadata_inputs(), **overrides,
    }  # fmt: skip


def test_a_save_checks_each_unique_constraint_once(root_client, customers):
    with CaptureQueriesContext(connection) as queries:
        response = root_client.post(change_url(customers["amadou"]), amadou_form(name="Ba"))
    assert response.status_code == 302
    assert len(unique_checks(queries)) == 2  # email and reference, by the service only


def test_saving_a_customer_deleted_meanwhile_says_so(root_client, customers, deleted_meanwhile):
    amadou = customers["amadou"]
    response = root_client.post(change_url(amadou), amadou_form(name="Late"))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This customer has been deleted."
    ]
    assert not LogEntry.objects.exists()


def test_deleting_a_customer_deleted_meanwhile_says_it_was_gone(
    root_client, customers, deleted_meanwhile
):
    amadou = customers["amadou"]
    delete_url = reverse("admin:customers_customer_delete", args=[amadou.pk])
    response = root_client.post(delete_url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "“Amadou Ba” had already been deleted." in [
        str(message) for message in response.context["messages"]
    ]
    assert not CustomerEvent.objects.filter(customer_id=amadou.pk, action="deleted").exists()


def test_block_and_activate_actions_change_status_with_history(root_client, customers):
    amadou, james = customers["amadou"], customers["james"]
    root_client.post(CHANGELIST, {"action": "block", "_selected_action": [amadou.pk]})
    root_client.post(CHANGELIST, {"action": "activate", "_selected_action": [james.pk]})
    amadou.refresh_from_db()
    james.refresh_from_db()
    assert (amadou.status, james.status) == ("blocked", "active")
    assert CustomerEvent.objects.filter(action="status_changed", source="admin").count() == 2


def test_export_csv_action_returns_the_selected_customers(root_client, customers):
    response = root_client.post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [customers["amadou"].pk, customers["yaw"].pk]},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("\ufeffreference,type,name,")
    assert sorted(line.split(",")[2] for line in lines[1:]) == ["Amadou Ba", "Yaw Mensah"]


def test_delete_goes_through_the_service(root_client, customers):
    amadou = customers["amadou"]
    root_client.post(reverse("admin:customers_customer_delete", args=[amadou.pk]), {"post": "yes"})
    assert not Customer.objects.filter(pk=amadou.pk).exists()
    assert CustomerEvent.objects.filter(customer_id=amadou.pk, action="deleted").exists()


@pytest.fixture
def member_client(client, merchant):
    user = make_user(merchant, group="Manager", username="member")
    client.force_login(user)
    return client


def test_member_sees_only_their_merchants_customers(member_client, customers):
    assert listed(member_client.get(CHANGELIST)) == {"Amadou Ba", "James Okafor"}


def test_member_cannot_open_another_merchants_customer(member_client, customers):
    yaw = customers["yaw"]
    response = member_client.get(change_url(yaw))
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert messages_after(response) == [
        # Django's own wording, curly quotes included.
        f"customer with ID \N{LEFT DOUBLE QUOTATION MARK}{yaw.pk}\N{RIGHT DOUBLE QUOTATION MARK} "
        "doesn\N{RIGHT SINGLE QUOTATION MARK}t exist. Perhaps it was deleted?"
    ]


def test_member_cannot_change_another_merchants_customer(member_client, customers):
    yaw = customers["yaw"]
    response = member_client.post(
        change_url(yaw),
        {
            "type": "individual", "name": "Renamed", "email": "yaw@example.com",
            "status": "active", **address_inputs(), **metadata_inputs(),
        },
    )  # fmt: skip
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    yaw_now = Customer.objects.get(pk=yaw.pk)
    assert (yaw_now.name, yaw_now.version) == ("Yaw Mensah", 1)


def test_member_cannot_act_on_another_merchants_customer(member_client, customers):
    yaw = customers["yaw"]
    member_client.post(CHANGELIST, {"action": "block", "_selected_action": [yaw.pk]})
    assert Customer.objects.get(pk=yaw.pk).status == "pending_kyc"


def test_member_is_offered_only_their_merchants(client, merchant, other_merchant, customers):
    third = make_merchant("Accra Traders", slug="accra")
    client.force_login(make_user(merchant, third, group="Manager"))
    form = client.get(ADD).context["adminform"].form
    assert list(form.fields["merchant"].queryset) == [third, merchant]
    response = client.get(CHANGELIST)
    merchant_filter = next(f for f in response.context["cl"].filter_specs if f.title == "merchant")
    assert [name for _, name in merchant_filter.lookup_choices] == [third.name, merchant.name]


def test_member_cannot_add_a_customer_to_another_merchant(client, merchant, other_merchant):
    third = make_merchant("Accra Traders", slug="accra")
    client.force_login(make_user(merchant, third, group="Manager"))
    response = client.post(
        ADD,
        {
            "merchant": other_merchant.pk, "type": "individual", "name": "Intruder",
            "email": "i@example.com", "status": "active",
            **address_inputs(), **metadata_inputs(),
        },
    )  # fmt: skip
    assert "merchant" in response.context["adminform"].form.errors
    assert not Customer.objects.filter(name="Intruder").exists()


def messages_after(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def test_viewer_is_not_offered_block_and_posting_it_does_nothing(client, merchant, customers):
    client.force_login(make_user(merchant, group="Viewer"))
    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions] == ["", "export_csv"]

    response = client.post(
        CHANGELIST, {"action": "block", "_selected_action": [customers["amadou"].pk]}
    )

    assert (response.status_code, response["Location"]) == (302, CHANGELIST)
    assert messages_after(response) == ["No action selected."]
    assert Customer.objects.get(pk=customers["amadou"].pk).status == "active"


def test_api_keys_are_listed_and_revoked_but_not_added(root_client, merchant):
    api_key, _ = make_api_key(merchant)
    changelist = reverse("admin:customers_apikey_changelist")
    assert root_client.get(reverse("admin:customers_apikey_add")).status_code == 403
    root_client.post(changelist, {"action": "revoke", "_selected_action": [api_key.pk]})
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None


def test_staff_groups_have_their_permissions():
    def codenames(group):
        return set(Permission.objects.filter(group__name=group).values_list("codename", flat=True))

    assert codenames("Viewer") == {"view_customer"}
    assert codenames("Editor") == {"view_customer", "add_customer", "change_customer"}
    assert codenames("Manager") == {
        "view_customer", "add_customer", "change_customer", "delete_customer",
        "view_apikey", "add_apikey", "change_apikey", "delete_apikey",
        "view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint",
        "delete_webhookendpoint", "view_webhookdelivery", "change_webhookdelivery",
    }  # fmt: skip


def test_names_sort_only_where_one_merchant_is_listed(root_client, client, merchant, customers):
    assert root_client.get(CHANGELIST).context["cl"].sortable_by == ("created_at",)
    one = root_client.get(CHANGELIST, {"merchant__id__exact": merchant.pk})
    assert one.context["cl"].sortable_by == ("name", "created_at")
    client.force_login(make_user(merchant, group="Viewer"))
    assert client.get(CHANGELIST).context["cl"].sortable_by == ("name", "created_at")


def test_bulk_delete_goes_through_the_services_within_the_members_merchants(
    member_client, customers
):
    selected = [customers[name].pk for name in ("amadou", "james", "yaw")]

    response = member_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )

    assert (response.status_code, response["Location"]) == (302, CHANGELIST)
    assert list(Customer.objects.values_list("name", flat=True)) == ["Yaw Mensah"]
    deleted = CustomerEvent.objects.filter(action="deleted").order_by("customer_id")
    assert sorted((e.customer_id, e.source, e.actor) for e in deleted) == sorted(
        (customers[name].pk, "admin", "user:member") for name in ("amadou", "james")
    )


def test_a_save_over_a_change_made_since_the_form_opened_is_refused(root_client, customers):
    amadou = customers["amadou"]
    form = root_client.get(change_url(amadou))
    assert form.context["adminform"].form["version"].value() == 1
    # Meanwhile, through the API, someone renames the customer.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(amadou.merchant)[1]}")
    renamed = api.patch(f"/api/v1/customers/{amadou.pk}", {"name": "Amadou Bâ"}, format="json")
    assert renamed.status_code == 200

    response = root_client.post(change_url(amadou), amadou_form(description="VIP", version="1"))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Someone else changed this customer while you were editing it. Open it again to see "
        "their changes, then make yours."
    ]
    amadou.refresh_from_db()
    assert (amadou.name, amadou.description, amadou.version) == ("Amadou Bâ", "", 2)


def test_a_save_from_an_up_to_date_form_applies(root_client, customers):
    amadou = customers["amadou"]

    response = root_client.post(change_url(amadou), amadou_form(description="VIP", version="1"))

    assert response.status_code == 302
    amadou.refresh_from_db()
    assert (amadou.description, amadou.version) == ("VIP", 2)


@pytest.mark.parametrize(
    ("country", "currency", "stored"),
    [
        ("Senegal", "xof", ("SN", "XOF")),
        ("sn", "XOF", ("SN", "XOF")),
        ("SEN", "ngn", ("SN", "NGN")),
    ],
)
def test_the_admin_reads_countries_and_currencies_as_the_api_does(
    root_client, customers, country, currency, stored
):
    amadou = customers["amadou"]

    response = root_client.post(
        change_url(amadou), amadou_form(country=country, currency=currency, version="1")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    amadou.refresh_from_db()
    assert (amadou.country, amadou.currency) == stored


@pytest.mark.parametrize(
    ("value", "expected"), [("true", {"Amadou Ba"}), ("false", {"James Okafor", "Yaw Mensah"})]
)
def test_changelist_filters_by_is_active_as_the_api_does(root_client, customers, value, expected):
    response = root_client.get(CHANGELIST, {"is_active": value})

    assert listed(response) == expected


def test_the_history_of_a_customer_opens(root_client, customers):
    amadou = customers["amadou"]
    root_client.post(change_url(amadou), amadou_form(description="VIP", version="1"))

    response = root_client.get(reverse("admin:customers_customer_history", args=[amadou.pk]))

    assert response.status_code == 200


def test_the_history_of_a_customer_shows_its_events_from_every_door(root_client, customers):
    amadou = customers["amadou"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(amadou.merchant)[1]}")
    api.patch(f"/api/v1/customers/{amadou.pk}", {"company": "Ba & Fils"}, format="json")

    response = root_client.get(reverse("admin:customers_customer_history", args=[amadou.pk]))

    events = response.context["events"]
    assert [(event.action, event.source) for event in events] == [
        ("updated", "api"),
        ("created", "admin"),
    ]
    assert "Ba &amp; Fils" in response.text


def fieldset_names(response) -> list[str | None]:
    return [fieldset.name for fieldset in response.context["adminform"]]


def test_a_member_of_one_merchant_adds_customers_to_it_without_choosing(
    member_client, merchant, other_merchant
):
    form = member_client.get(ADD)

    assert "merchant" not in form.context["adminform"].form.fields
    assert 'name="merchant"' not in form.text

    response = member_client.post(
        ADD,
        {
            "merchant": other_merchant.pk, "type": "individual", "name": "Awa Ndiaye",
            "email": "awa@example.com", "status": "active",
        },
    )  # fmt: skip

    assert response.status_code == 302
    assert Customer.objects.get().merchant == merchant


def test_a_superuser_chooses_the_merchant_even_when_there_is_one(root_client, merchant):
    form = root_client.get(ADD).context["adminform"].form

    assert list(form.fields["merchant"].queryset) == [merchant]


def test_the_record_fieldset_is_shown_only_for_a_saved_customer(root_client, customers):
    add = root_client.get(ADD)
    change = root_client.get(change_url(customers["amadou"]))

    assert fieldset_names(add) == [None, "Contact", "Location", "Account"]
    assert "Created at" not in add.text and "Updated at" not in add.text
    assert fieldset_names(change) == [None, "Contact", "Location", "Account", "Record"]
    assert str(customers["amadou"].pk) in change.text


def test_the_admin_edits_the_address_as_lines_and_the_metadata_as_a_table(root_client, merchant):
    customer = make_customer(
        merchant,
        email="kofi@example.com",
        address={"line1": "1 Ring Road", "city": "Accra"},
        metadata={"tier": "gold", "orders": 12, "vip": False},
    )

    body = root_client.get(change_url(customer)).content.decode()

    assertInHTML('<label for="id_address_line1">Address line 1 '
                 '<span class="optional">(optional)</span></label>', body)  # fmt: skip
    assertInHTML(
        '<input type="text" name="address_line1" id="id_address_line1" value="1 Ring Road" '
        'autocomplete="address-line1" maxlength="200">',
        body,
    )
    assert '<label class="visually-hidden" for="id_metadata-0-key">Key 1</label>' in body
    assert 'name="address"' not in body and 'name="metadata"' not in body  # no JSON to type
    assert 'href="/static/css/admin-customers.css"' in body


def test_the_admin_keeps_the_kind_of_each_metadata_value(root_client, customers):
    amadou = customers["amadou"]
    rows = [("orders", "number", "12"), ("vip", "boolean", "false"), ("zip", "text", "007")]

    response = root_client.post(change_url(amadou), amadou_form(**metadata_inputs(*rows)))

    assert response.status_code == 302
    amadou.refresh_from_db()
    assert amadou.metadata == {"orders": 12, "vip": False, "zip": "007"}
    form = root_client.get(change_url(amadou)).context["adminform"].form
    shown = form["metadata"].value()
    assert sorted((r["key"], r["type"], r["value"]) for r in shown) == sorted(rows)


def test_each_row_of_the_list_has_djangos_own_action_checkbox(root_client, merchant):
    from django.contrib import admin

    customer = make_customer(merchant, name='Awa <b>"&</b> Diop', email="awa@example.com")
    model_admin = admin.site.get_model_admin(Customer)
    djangos_own = admin.ModelAdmin.action_checkbox(model_admin, customer)  # a widget's render

    response = root_client.get(reverse("admin:customers_customer_changelist"))

    assertInHTML(djangos_own, response.content.decode(), count=1)
