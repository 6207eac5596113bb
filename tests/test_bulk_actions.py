"""Bulk actions on the customers list: tick rows, review what will change, confirm; each change
goes through the services, for the user's merchants only, with the action's permission."""

import csv
import io
import uuid
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from customers.csvio import EXPORT_COLUMNS
from customers.forms import SELECTION_MAX, CustomerStatusForm
from customers.models import Customer, CustomerEvent
from customers.selectors import customer_history
from customers.services import customer_set_status
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

BULK = reverse("customers:bulk")
LIST = reverse("customers:list")


@pytest.fixture
def ada(merchant):
    return make_customer(merchant, name="Ada Diallo", email="ada@example.com")


@pytest.fixture
def binta(merchant):
    return make_customer(merchant, name="Binta Sow", phone="+221771234567")


@pytest.fixture
def foreign(other_merchant):
    return make_customer(other_merchant, name="Chidi Okafor", email="chidi@example.com")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def statuses(*customers: Customer) -> list[str]:
    return [Customer.objects.get(pk=customer.pk).status for customer in customers]


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


class Elements(HTMLParser):
    """The attributes of every ``tag`` of a page, each with the id of the form around it."""

    def __init__(self, tag: str):
        super().__init__()
        self.tag, self.found, self.form = tag, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.form = dict(attrs).get("id", "")
        if tag == self.tag:
            self.found.append({**dict(attrs), "inside": self.form})

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None


def elements(body: str, tag: str) -> list[dict]:
    parser = Elements(tag)
    parser.feed(body)
    return parser.found


# --- the list ---------------------------------------------------------------------------------


def test_list_has_a_labelled_box_per_row_outside_the_filter_form(client, viewer, ada):
    client.force_login(viewer)
    body = client.get(LIST).content.decode()
    boxes = [i for i in elements(body, "input") if i.get("type") == "checkbox" and "form" in i]
    assert boxes == [
        {
            "type": "checkbox",
            "name": "ids",
            "value": str(ada.pk),
            "form": "bulk-actions",
            "aria-label": "Select Ada Diallo",
            "inside": None,
        }
    ]
    select_all = [i for i in elements(body, "input") if "data-select-all" in i]
    assert select_all[0]["aria-label"] == "Select all on this page"
    forms = elements(body, "form")
    assert [(f.get("id"), f["method"]) for f in forms if f["action"].startswith(BULK)] == [
        ("bulk-actions", "post")
    ]


@pytest.mark.parametrize(
    "group, buttons",
    [
        ("Viewer", ["export"]),
        ("Editor", ["activate", "block", "export"]),
        ("Manager", ["activate", "block", "export", "delete"]),
    ],
)
def test_list_offers_only_the_actions_the_user_may_take(client, merchant, ada, group, buttons):
    client.force_login(make_user(merchant, group=group))
    body = client.get(LIST).content.decode()
    offered = [b["value"] for b in elements(body, "button") if b.get("name") == "action"]
    assert offered == buttons
    assert all(b["inside"] == "bulk-actions" for b in elements(body, "button") if "name" in b)


# --- block ------------------------------------------------------------------------------------


def test_bulk_block_reviews_asks_a_reason_then_blocks_each_with_its_own_event(
    client, editor, ada, binta
):
    client.force_login(editor)
    selection = {"action": "block", "ids": [ada.pk, binta.pk], "query": "status=active&limit=50"}
    review = client.post(BULK, selection)
    assert review.status_code == 200
    assert [c.name for c in review.context["changing"]] == ["Ada Diallo", "Binta Sow"]
    assert review.context["unchanged"] == []
    body = review.content.decode()
    assert "Block 2 customers" in body
    assert 'name="reason"' in body
    assert statuses(ada, binta) == ["active", "active"]  # the review changes nothing

    response = client.post(
        BULK, {**selection, "confirmed": "on", "reason": "Chargebacks"}, follow=True
    )
    assert response.redirect_chain == [(f"{LIST}?status=active&limit=50", 302)]
    assert messages_of(response) == ["2 customers blocked."]
    assert statuses(ada, binta) == ["blocked", "blocked"]
    for customer in (ada, binta):
        event = customer_history(customer).first()
        assert (event.action, event.changes, event.reason, event.actor, event.source) == (
            "status_changed",
            {"status": ["active", "blocked"]},
            "Chargebacks",
            "user:eddie",
            "dashboard",
        )


def test_bulk_block_without_a_reason_is_refused_and_changes_nothing(client, editor, ada, binta):
    client.force_login(editor)
    events = CustomerEvent.objects.count()
    response = client.post(
        BULK, {"action": "block", "ids": [ada.pk, binta.pk], "confirmed": "on", "reason": "  "}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == [CustomerStatusForm.BLOCK_NEEDS_A_REASON]
    assert [c.name for c in response.context["changing"]] == ["Ada Diallo", "Binta Sow"]
    assert statuses(ada, binta) == ["active", "active"]
    assert CustomerEvent.objects.count() == events


def test_customers_already_blocked_are_listed_as_unchanged(client, editor, ada, binta):
    customer_set_status(customer=binta, status="blocked", actor="user:x", source="admin")
    client.force_login(editor)
    review = client.post(BULK, {"action": "block", "ids": [ada.pk, binta.pk]})
    assert [c.name for c in review.context["changing"]] == ["Ada Diallo"]
    assert [c.name for c in review.context["unchanged"]] == ["Binta Sow"]
    assert "Unchanged: already blocked (1)" in review.content.decode()
    events = CustomerEvent.objects.filter(customer_id=binta.pk).count()

    response = client.post(
        BULK,
        {"action": "block", "ids": [ada.pk, binta.pk], "confirmed": "on", "reason": "Fraud"},
        follow=True,
    )
    assert messages_of(response) == ["1 customer blocked, 1 was already blocked."]
    assert CustomerEvent.objects.filter(customer_id=binta.pk).count() == events


# --- activate ---------------------------------------------------------------------------------


def test_bulk_activate_needs_no_reason(client, editor, ada, binta):
    for customer in (ada, binta):
        customer_set_status(customer=customer, status="blocked", actor="user:x", source="admin")
    client.force_login(editor)
    review = client.post(BULK, {"action": "activate", "ids": [ada.pk, binta.pk]})
    assert 'name="reason"' not in review.content.decode()
    response = client.post(
        BULK, {"action": "activate", "ids": [ada.pk, binta.pk], "confirmed": "on"}, follow=True
    )
    assert response.redirect_chain == [(LIST, 302)]
    assert messages_of(response) == ["2 customers activated."]
    assert statuses(ada, binta) == ["active", "active"]
    event = customer_history(ada).first()
    assert (event.changes, event.actor, event.reason) == (
        {"status": ["blocked", "active"]},
        "user:eddie",
        "",
    )


# --- delete -----------------------------------------------------------------------------------


def test_manager_deletes_the_selection_after_the_review(client, manager, ada, binta):
    client.force_login(manager)
    review = client.post(BULK, {"action": "delete", "ids": [ada.pk, binta.pk]})
    assert "This cannot be undone." in review.content.decode()
    assert Customer.objects.count() == 2
    response = client.post(
        BULK, {"action": "delete", "ids": [ada.pk, binta.pk], "confirmed": "on"}, follow=True
    )
    assert messages_of(response) == ["2 customers deleted."]
    assert not Customer.objects.exists()
    deleted = CustomerEvent.objects.filter(action="deleted", actor="user:mona")
    assert {event.customer_id for event in deleted} == {ada.pk, binta.pk}


@pytest.mark.parametrize("confirmed", [{}, {"confirmed": "on"}])
def test_editor_may_not_delete_even_posting_anyway(client, editor, ada, confirmed):
    client.force_login(editor)
    response = client.post(BULK, {"action": "delete", "ids": [ada.pk], **confirmed})
    assert response.status_code == 403
    assert Customer.objects.filter(pk=ada.pk).exists()


@pytest.mark.parametrize("action", ["activate", "block"])
@pytest.mark.parametrize("confirmed", [{}, {"confirmed": "on", "reason": "Fraud"}])
def test_viewer_may_not_change_statuses_even_posting_anyway(client, viewer, ada, action, confirmed):
    client.force_login(viewer)
    response = client.post(BULK, {"action": action, "ids": [ada.pk], **confirmed})
    assert response.status_code == 403
    assert statuses(ada) == ["active"]


def test_a_customer_deleted_after_the_review_is_reported_as_gone(client, manager, ada, binta):
    client.force_login(manager)
    client.post(BULK, {"action": "delete", "ids": [ada.pk, binta.pk]})
    Customer.objects.filter(pk=binta.pk).delete()  # by someone else, meanwhile
    response = client.post(
        BULK, {"action": "delete", "ids": [ada.pk, binta.pk], "confirmed": "on"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == ["1 customer deleted, 1 was already gone."]


def test_a_customer_deleted_while_the_action_runs_is_skipped(
    client, manager, ada, binta, deleted_meanwhile
):
    client.force_login(manager)
    response = client.post(
        BULK, {"action": "delete", "ids": [ada.pk, binta.pk], "confirmed": "on"}, follow=True
    )
    assert messages_of(response) == ["No customer deleted, 2 were already gone."]


def test_a_customer_deleted_before_blocking_is_skipped_and_the_others_blocked(
    client, editor, ada, binta, monkeypatch
):
    from customers import views

    def deleting_binta_first(*, customer, **kwargs):
        if customer.pk == binta.pk:
            Customer.objects.filter(pk=binta.pk).delete()
        return customer_set_status(customer=customer, **kwargs)

    monkeypatch.setattr(views, "customer_set_status", deleting_binta_first)
    client.force_login(editor)
    response = client.post(
        BULK,
        {"action": "block", "ids": [binta.pk, ada.pk], "confirmed": "on", "reason": "Fraud"},
        follow=True,
    )
    assert messages_of(response) == ["1 customer blocked, 1 was already gone."]
    assert statuses(ada) == ["blocked"]


# --- export -----------------------------------------------------------------------------------


def test_export_of_the_selection_has_exactly_those_rows(client, viewer, merchant, ada, binta):
    make_customer(merchant, name="Not Selected", email="not@example.com")
    client.force_login(viewer)
    response = client.post(BULK, {"action": "export", "ids": [ada.pk, binta.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = read_csv(response)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert sorted(row["name"] for row in rows) == ["Ada Diallo", "Binta Sow"]
    assert Customer.objects.count() == 3


# --- what a selection may hold ------------------------------------------------------------------


def test_another_merchants_and_unknown_ids_are_ignored(client, manager, ada, foreign):
    client.force_login(manager)
    ids = [ada.pk, foreign.pk, uuid.uuid4(), "not-an-id"]
    review = client.post(BULK, {"action": "delete", "ids": ids})
    assert [c.name for c in review.context["customers"]] == ["Ada Diallo"]
    body = review.content.decode()
    assert "Chidi" not in body
    assert str(foreign.pk) not in body

    export = client.post(BULK, {"action": "export", "ids": ids})
    assert [row["name"] for row in read_csv(export)] == ["Ada Diallo"]

    client.post(BULK, {"action": "delete", "ids": ids, "confirmed": "on"})
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert Customer.objects.filter(pk=foreign.pk).exists()
    assert not CustomerEvent.objects.filter(customer_id=foreign.pk, action="deleted").exists()


def test_an_empty_selection_goes_back_to_the_list_saying_so(client, editor, ada):
    client.force_login(editor)
    response = client.post(BULK, {"action": "block", "query": "country=SN"}, follow=True)
    assert response.redirect_chain == [(f"{LIST}?country=SN", 302)]
    assert messages_of(response) == ["Select at least one customer."]


def test_a_selection_larger_than_a_page_is_refused(client, editor, ada):
    client.force_login(editor)
    ids = [ada.pk] + [uuid.uuid4() for _ in range(SELECTION_MAX)]
    response = client.post(BULK, {"action": "activate", "ids": ids}, follow=True)
    assert messages_of(response) == [f"Select at most {SELECTION_MAX} customers at a time."]


def test_unknown_action_is_a_bad_request_and_get_is_not_allowed(client, manager, ada):
    client.force_login(manager)
    assert client.post(BULK, {"action": "vip", "ids": [ada.pk]}).status_code == 400
    assert client.get(BULK).status_code == 405


def test_the_query_string_taken_back_to_the_list_stays_a_query_string(client, editor, ada):
    client.force_login(editor)
    response = client.post(BULK, {"action": "block", "query": "x=1#/\r\nLocation: //evil"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LIST}?x=1%23")


def test_anonymous_post_goes_to_login_and_changes_nothing(client, ada):
    response = client.post(BULK, {"action": "block", "ids": [ada.pk], "confirmed": "on"})
    assert response.status_code == 302
    assert statuses(ada) == ["active"]


def test_review_page_costs_the_same_queries_for_a_full_page(
    client, manager, merchant, django_assert_max_num_queries
):
    customers = [make_customer(merchant, phone=f"+2217712{n:05d}") for n in range(SELECTION_MAX)]
    client.force_login(manager)
    with django_assert_max_num_queries(6):
        response = client.post(BULK, {"action": "block", "ids": [c.pk for c in customers]})
    assert len(response.context["changing"]) == SELECTION_MAX
