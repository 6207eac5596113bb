"""The staff dashboard: thin views over the selectors (reads), the services (writes) and the
one ``CustomerFilterSet`` the API filters with.

Memberships decide which merchants a user sees (``selectors``); model permissions decide what
they may do (``permission_required``). Another merchant's customer is a 404, exactly as if it
did not exist; an action the user may not take is a 403 even when its button is hidden.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
    View,
)
from django.views.generic.base import ContextMixin
from django.views.generic.detail import SingleObjectMixin
from django.views.generic.edit import FormMixin, ModelFormMixin
from django_filters.views import FilterView

from . import overview
from .csvio import csv_response
from .exceptions import CustomerNotFound
from .filtersets import CustomerFilterSet, EventFilterSet, unknown_parameter_message
from .forms import (
    BULK_ACTIVATE,
    BULK_BLOCK,
    BULK_DELETE,
    BULK_EXPORT,
    DASHBOARD,
    SELECTION_MAX,
    ApiKeyForm,
    CustomerBulkForm,
    CustomerForm,
    CustomerImportForm,
    CustomerStatusForm,
)
from .import_jobs import customer_import_cancel, customer_import_start
from .listing import KeysetPosition, ListPaginator, list_total
from .models import Customer, CustomerEvent, CustomerImport
from .selectors import (
    api_keys_for_user,
    customer_counts_for_caller,
    customer_history,
    customers_for_user,
    merchant_ids_for_user,
    merchants_for_user,
    only_merchant_of,
    scoped_to_user,
    works_for_several_merchants,
)
from .services import api_key_revoke, customer_delete, customer_set_status
from .templatetags.dashboard import country_name

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


class NewForMerchantMixin(FormMixin):
    """A new record goes to the user's only merchant; a user of several chooses among them."""

    request: HttpRequest

    def get_form_kwargs(self):
        user = self.request.user
        merchant, merchants = only_merchant_of(user), merchants_for_user(user)
        if merchant is None and not merchants.exists():
            raise PermissionDenied(_("You are not a member of any merchant yet."))
        return {**super().get_form_kwargs(), "merchant": merchant, "merchants": merchants}


class MerchantColumnMixin(ContextMixin):
    """Lists name each row's merchant only for users who work for several."""

    request: HttpRequest

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs, show_merchant=works_for_several_merchants(self.request.user)
        )


# --- overview -------------------------------------------------------------------------------


class OverviewView(PermissionRequiredMixin, MerchantColumnMixin, TemplateView):
    """``/``: the user's customers at a glance (by status, type, country; new per day),
    the latest changes and the webhooks' health. Every figure is a counter or an indexed
    aggregate (``customers.overview``), so the page costs the same at a million customers."""

    permission_required = "customers.view_customer"
    template_name = "customers/overview.html"
    chart_height = 120
    bar_width = 8

    def get_context_data(self, **kwargs):
        merchant_ids = merchant_ids_for_user(self.request.user)
        today = timezone.now().date()
        statuses = overview.counts_by(merchant_ids, "status", Customer.Status.choices)
        countries = overview.by_country(merchant_ids)
        days = overview.new_per_day(merchant_ids, today)
        webhooks = None
        if self.request.user.has_perm("webhooks.view_webhookendpoint"):
            webhooks = overview.webhook_health(merchant_ids)
        return super().get_context_data(
            **kwargs,
            total=sum(bar.count for bar in statuses),
            statuses=statuses,
            types=overview.counts_by(merchant_ids, "type", Customer.Type.choices),
            countries=self.country_bars(countries),
            days=self.day_bars(days),
            new_in_period=sum(count for __, count in days),
            busiest_day=max(days, key=lambda day: day[1]) if days else None,
            period_days=overview.DAYS,
            chart_width=overview.DAYS * self.bar_width,
            chart_height=self.chart_height,
            events=overview.recent_events(merchant_ids),
            webhooks=webhooks,
        )

    @staticmethod
    def country_bars(countries: list[tuple[str, int]]) -> list[overview.Bar]:
        named = [row for row in countries if row[0]]
        top, rest = named[: overview.TOP_COUNTRIES], named[overview.TOP_COUNTRIES :]
        rows = [(country_name(code), code, count) for code, count in top]
        others = sum(count for __, count in rest)
        if others:
            rows.append((_("Other countries"), "", others))
        unknown = sum(count for code, count in countries if not code)
        if unknown:
            rows.append((_("No country"), "", unknown))
        return overview.bars(rows)

    def day_bars(self, days) -> list[dict]:
        """Each day's bar in the chart's coordinates (the tallest day fills the height)."""
        tallest = max((count for __, count in days), default=0) or 1
        bars = []
        for n, (day, count) in enumerate(days):
            height = round(count / tallest * self.chart_height, 1)
            if count and height < 1:
                height = 1
            bars.append(
                {
                    "day": day,
                    "count": count,
                    "x": n * self.bar_width + 1,
                    "y": round(self.chart_height - height, 1),
                    "height": height,
                    "width": self.bar_width - 2,
                }
            )
        return bars


# --- customers ------------------------------------------------------------------------------


class CustomerAccessMixin(PermissionRequiredMixin):
    """The customers of the user's merchants; anonymous users go to the login page."""

    model = Customer
    request: HttpRequest

    def get_queryset(self):
        return customers_for_user(self.request.user).select_related("merchant")


def unknown_list_parameters(request: HttpRequest) -> dict[str, str]:
    """The query parameters of the list (and its export) that it does not know, each with what
    to say of it."""
    known = {*CustomerFilterSet.base_filters, "limit", "page"}
    return {
        name: unknown_parameter_message(name, known) for name in request.GET if name not in known
    }


class CustomerListView(CustomerAccessMixin, MerchantColumnMixin, FilterView):
    """Filters, ordering and page size all live in the query string, so a link can be shared.

    The filters and the ordering are the API's (one FilterSet). Paging is the page's own: 20, 50
    or 100 rows, and a page past the end shows the last page rather than an empty one.
    """

    permission_required = "customers.view_customer"
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    paginate_by = 20
    page_sizes = (20, 50, SELECTION_MAX)

    def get_queryset(self):
        # The page joins the merchants only where their names are a column (paginate_queryset).
        return customers_for_user(self.request.user)

    def get(self, request, *args, **kwargs):
        # The filter form submits every input, and a box ticked per chosen status: the shared
        # URL keeps the filled ones, several statuses as the API takes them (status=a,b).
        pairs = list(request.GET.lists())
        if any(len(values) != 1 or not values[0].strip() for __, values in pairs):
            filled = [(key, ",".join(v for v in values if v.strip())) for key, values in pairs]
            canonical = urlencode([(key, value) for key, value in filled if value])
            return HttpResponseRedirect(f"{request.path}?{canonical}".rstrip("?"))
        self.filterset = self.get_filterset(self.get_filterset_class())
        # As in the API, a parameter the list does not know (a typo) lists no one: it says so.
        self.unknown_parameters = unknown_list_parameters(request)
        valid = self.filterset.is_valid() and not self.unknown_parameters
        self.object_list = self.filterset.qs if valid else self.filterset.queryset.none()
        context = self.get_context_data(filter=self.filterset, object_list=self.object_list)
        return self.render_to_response(context, status=200 if valid else 400)

    def filter_problems(self) -> list[str]:
        """What is wrong with the query string that no input on the page shows: unknown
        parameters, and a bad ordering (set by the column headers, not an input)."""
        problems = [f"{name}: {message}" for name, message in self.unknown_parameters.items()]
        for error in self.filterset.form.errors.get("ordering", []):
            problems.append(f"{self.filterset.form['ordering'].label}: {error}")
        return problems

    def get_filterset_kwargs(self, filterset_class):
        # Always bound, so an empty query string still gets the default ordering.
        return {**super().get_filterset_kwargs(filterset_class), "data": self.request.GET}

    def get_paginate_by(self, queryset):
        limit = self.request.GET.get("limit", "")
        return int(limit) if limit.isdigit() and int(limit) in self.page_sizes else self.paginate_by

    def paginate_queryset(self, queryset, page_size):
        total, exact = list_total(self.filterset, customer_counts_for_caller(self.request.user))
        # The merchant's name is a column only for users who work for several.
        shown = ("merchant",) if works_for_several_merchants(self.request.user) else ()
        paginator = ListPaginator(
            queryset, page_size, total=total, total_is_exact=exact, related=shown
        )
        # A page past the end shows the last page rather than an error.
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        behind_more_filters = set(self.filterset.form.fields) - {"search", "ordering"}
        # Paging, page size and ordering change how the customers are shown, not which.
        filters = set(CustomerFilterSet.base_filters) - {"ordering"}
        errors_above = bool(set(self.filterset.form.errors) - {"ordering"})
        problems = self.filter_problems()
        return super().get_context_data(
            **kwargs,
            page_sizes=self.page_sizes,
            active_filters=sum(1 for key in self.request.GET if key in behind_more_filters),
            filtered=any(key in filters for key in self.request.GET),
            filter_problems=problems,
            filters_invalid=errors_above or bool(problems),
            errors_above=errors_above,
            bulk_actions=[
                action
                for action in BULK_ACTIONS.values()
                if self.request.user.has_perm(action.permission)
            ],
        )


class CustomerExportView(CustomerAccessMixin, View):
    """The filtered customers as CSV, streamed in chunks: a large export never sits in memory."""

    permission_required = "customers.view_customer"

    def get(self, request):
        filterset = CustomerFilterSet(
            request.GET, queryset=customers_for_user(request.user), request=request
        )
        if not filterset.is_valid() or unknown_list_parameters(request):
            # The list says what is wrong; an export never widens to rows not asked for.
            return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
        return csv_response(filterset.qs)


class CustomerDetailView(CustomerAccessMixin, DetailView):
    permission_required = "customers.view_customer"
    template_name = "customers/customer_detail.html"
    history_limit = 50

    def get_context_data(self, **kwargs):
        events = list(customer_history(self.object)[: self.history_limit + 1])
        return super().get_context_data(
            **kwargs,
            history=events[: self.history_limit],
            history_truncated=len(events) > self.history_limit,
            history_limit=self.history_limit,
        )


class CustomerFormMixin(ModelFormMixin):
    """Saves through the form, which writes through the services and keeps their refusals
    (a duplicate email, a concurrent edit) next to the fields."""

    request: HttpRequest
    form_class = CustomerForm
    template_name: str | None = "customers/customer_form.html"
    success_message = gettext_lazy("Customer “%(name)s” saved.")

    def get_success_url(self):
        return reverse("customers:detail", args=[self.object.pk])

    def form_valid(self, form):
        try:
            self.object = form.save(actor=self.request.user)
        except ValidationError:
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"name": self.object.name})
        return HttpResponseRedirect(self.get_success_url())


class CustomerCreateView(CustomerAccessMixin, NewForMerchantMixin, CustomerFormMixin, CreateView):
    permission_required = "customers.add_customer"
    success_message = gettext_lazy("Customer “%(name)s” created.")


class CustomerUpdateView(CustomerAccessMixin, CustomerFormMixin, UpdateView):
    permission_required = "customers.change_customer"
    success_message = gettext_lazy("Customer “%(name)s” saved.")


class CustomerDeleteView(CustomerAccessMixin, DeleteView):
    permission_required = "customers.delete_customer"
    template_name = "customers/customer_confirm_delete.html"
    success_url = reverse_lazy("customers:list")

    def form_valid(self, form):
        try:
            customer_delete(customer=self.object, actor=self.request.user, source=DASHBOARD)
        except CustomerNotFound:
            raise Http404("No customer matches the given query.") from None
        messages.success(
            self.request, _("Customer “%(name)s” deleted.") % {"name": self.object.name}
        )
        return HttpResponseRedirect(self.get_success_url())


class CustomerStatusView(CustomerAccessMixin, SingleObjectMixin, View):
    """Block, activate, or move a customer to another status (POST only). Blocking needs a
    reason: without one, the block page comes back asking for it."""

    permission_required = "customers.change_customer"
    http_method_names = ["post"]
    done: dict[str, "StrOrPromise"] = {
        Customer.Status.ACTIVE: gettext_lazy("Customer “%(name)s” activated."),
        Customer.Status.BLOCKED: gettext_lazy("Customer “%(name)s” blocked."),
        Customer.Status.INACTIVE: gettext_lazy("Customer “%(name)s” deactivated."),
        Customer.Status.PENDING_KYC: gettext_lazy("Customer “%(name)s” set to pending KYC."),
    }

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = CustomerStatusForm(request.POST)
        if not form.is_valid():
            if "status" in form.errors:
                return HttpResponseBadRequest(_("Unknown status."))
            return render(
                request,
                CustomerBlockView.template_name,
                {"customer": self.object, "form": form},
                status=400,
            )
        customer = customer_set_status(
            customer=self.object,
            status=form.cleaned_data["status"],
            actor=request.user,
            source=DASHBOARD,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, self.done[customer.status] % {"name": customer.name})
        return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]))


class CustomerBlockView(CustomerAccessMixin, DetailView):
    """Blocking confirmed, with its reason; the form posts to the status view."""

    permission_required = "customers.change_customer"
    template_name = "customers/customer_confirm_block.html"
    context_object_name = "customer"

    def get_context_data(self, **kwargs):
        form = CustomerStatusForm(initial={"status": Customer.Status.BLOCKED})
        return super().get_context_data(**kwargs, form=form)


def list_url(query: str) -> str:
    """The customers list with ``query``, its query string as the list gave it: read and
    encoded again, so that it can only ever be a query string."""
    query = QueryDict(query).urlencode()
    return f"{reverse('customers:list')}?{query}".rstrip("?")


#: What a bulk action's summary adds about customers deleted meanwhile.
ALREADY_GONE = ngettext_lazy("%(count)s was already gone", "%(count)s were already gone", "count")


@dataclass(frozen=True)
class BulkAction:
    """One of the list's bulk actions: the permission it needs, the status it sets (none for
    delete and export), and the words of its review page and messages (translated, with each
    language's agreements: "2 customers blocked", "2 clients bloqués")."""

    name: str
    label: "StrOrPromise"  # "Block"
    permission: str
    status: str = ""
    danger: bool = False
    button: "StrOrPromise" = ""  # "Block selected"
    title: "StrOrPromise" = ""  # "Block customers"
    confirm: "StrOrPromise" = ""  # "Block %(count)s customers", by count
    plan: "StrOrPromise" = ""  # "%(selected)s selected: %(count)s to be blocked"
    plan_unchanged: "StrOrPromise" = ""  # ", %(count)s already blocked"
    to_be: "StrOrPromise" = ""  # "To be blocked"
    unchanged_title: "StrOrPromise" = ""  # "Unchanged: already blocked"
    done: "StrOrPromise" = ""  # "%(count)s customers blocked", by count
    done_none: "StrOrPromise" = ""  # "No customer blocked"
    already: "StrOrPromise" = ""  # "%(count)s were already blocked", by count
    failed: "StrOrPromise" = ""  # "Customer “%(name)s” could not be blocked: %(reason)s"

    @property
    def asks_reason(self) -> bool:
        return self.status == Customer.Status.BLOCKED

    def changes(self, customer: Customer) -> bool:
        return not self.status or customer.status != self.status

    def review(self, *, selected: int, changing: int, unchanged: int) -> dict[str, str]:
        """The review page's heading and what it says of the selection."""
        plan = self.plan % {"selected": selected, "count": changing}
        if unchanged:
            plan += self.plan_unchanged % {"count": unchanged}
        return {"heading": self.confirm % {"count": changing}, "plan": plan}

    def summary(self, changed: int, unchanged: int, gone: int) -> str:
        """What the flash message says, e.g. "1 customer deleted, 1 was already gone."."""
        parts = [str(self.done % {"count": changed}) if changed else str(self.done_none)]
        if unchanged:
            parts.append(self.already % {"count": unchanged})
        if gone:
            parts.append(ALREADY_GONE % {"count": gone})
        return ", ".join(parts) + "."


_CHANGE = "customers.change_customer"
BULK_ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in [
        BulkAction(
            BULK_ACTIVATE,
            gettext_lazy("Activate"),
            _CHANGE,
            status=Customer.Status.ACTIVE,
            button=gettext_lazy("Activate selected"),
            title=gettext_lazy("Activate customers"),
            confirm=ngettext_lazy(
                "Activate %(count)s customer", "Activate %(count)s customers", "count"
            ),
            plan=gettext_lazy("%(selected)s selected: %(count)s to be activated"),
            plan_unchanged=gettext_lazy(", %(count)s already active"),
            to_be=gettext_lazy("To be activated"),
            unchanged_title=gettext_lazy("Unchanged: already active"),
            done=ngettext_lazy(
                "%(count)s customer activated", "%(count)s customers activated", "count"
            ),
            done_none=gettext_lazy("No customer activated"),
            already=ngettext_lazy(
                "%(count)s was already active", "%(count)s were already active", "count"
            ),
            failed=gettext_lazy("Customer “%(name)s” could not be activated: %(reason)s"),
        ),
        BulkAction(
            BULK_BLOCK,
            gettext_lazy("Block"),
            _CHANGE,
            status=Customer.Status.BLOCKED,
            danger=True,
            button=gettext_lazy("Block selected"),
            title=gettext_lazy("Block customers"),
            confirm=ngettext_lazy("Block %(count)s customer", "Block %(count)s customers", "count"),
            plan=gettext_lazy("%(selected)s selected: %(count)s to be blocked"),
            plan_unchanged=gettext_lazy(", %(count)s already blocked"),
            to_be=gettext_lazy("To be blocked"),
            unchanged_title=gettext_lazy("Unchanged: already blocked"),
            done=ngettext_lazy(
                "%(count)s customer blocked", "%(count)s customers blocked", "count"
            ),
            done_none=gettext_lazy("No customer blocked"),
            already=ngettext_lazy(
                "%(count)s was already blocked", "%(count)s were already blocked", "count"
            ),
            failed=gettext_lazy("Customer “%(name)s” could not be blocked: %(reason)s"),
        ),
        BulkAction(
            BULK_EXPORT,
            gettext_lazy("Export"),
            "customers.view_customer",
            button=gettext_lazy("Export selected"),
        ),
        BulkAction(
            BULK_DELETE,
            gettext_lazy("Delete"),
            "customers.delete_customer",
            danger=True,
            button=gettext_lazy("Delete selected"),
            title=gettext_lazy("Delete customers"),
            confirm=ngettext_lazy(
                "Delete %(count)s customer", "Delete %(count)s customers", "count"
            ),
            plan=gettext_lazy("%(selected)s selected: %(count)s to be deleted"),
            to_be=gettext_lazy("To be deleted"),
            done=ngettext_lazy(
                "%(count)s customer deleted", "%(count)s customers deleted", "count"
            ),
            done_none=gettext_lazy("No customer deleted"),
            failed=gettext_lazy("Customer “%(name)s” could not be deleted: %(reason)s"),
        ),
    ]
}


class CustomerBulkView(CustomerAccessMixin, MerchantColumnMixin, TemplateView):
    """The customers ticked on the list, activated, blocked, deleted or exported (POST only).

    The list posts the action and the ids; the review page lists who will change and who is
    already as asked (blocking asks the reason, by ``CustomerStatusForm``'s rule), and posts
    them again with ``confirmed``. Export changes nothing: the list's post is answered with the
    CSV at once. Each action needs its own permission, on every post.

    Only the user's merchants' customers are read: any other id is dropped, whether it exists
    or not. Each customer is changed through the services in a transaction of its own, so one
    that fails (or was deleted meanwhile) leaves the others changed; the flash message counts
    them all."""

    permission_required = "customers.view_customer"
    http_method_names = ["post"]
    template_name = "customers/customer_bulk_confirm.html"

    def post(self, request, *args, **kwargs):
        action = BULK_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            return HttpResponseBadRequest(_("Unknown action."))
        if not request.user.has_perm(action.permission):
            raise PermissionDenied
        form = CustomerBulkForm(request.POST)
        back = list_url(request.POST.get("query", ""))
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, str(message))
            return HttpResponseRedirect(back)
        ids = form.cleaned_data["ids"]
        if action.name == BULK_EXPORT:
            return csv_response(self.get_queryset().filter(pk__in=ids))
        found = {customer.pk: customer for customer in self.get_queryset().filter(pk__in=ids)}
        customers = [found[pk] for pk in ids if pk in found]
        confirmed = form.cleaned_data["confirmed"]
        status_form = None
        if action.status:
            data = {"status": action.status, "reason": request.POST.get("reason", "")}
            status_form = CustomerStatusForm(data if confirmed else None)
        if confirmed and (status_form is None or status_form.is_valid()):
            reason = status_form.cleaned_data["reason"] if status_form else ""
            self.apply(action, customers, gone=len(ids) - len(customers), reason=reason)
            return HttpResponseRedirect(back)
        changing = [customer for customer in customers if action.changes(customer)]
        unchanged = [customer for customer in customers if not action.changes(customer)]
        context = self.get_context_data(
            action=action,
            customers=customers,
            changing=changing,
            unchanged=unchanged,
            review=action.review(
                selected=len(customers), changing=len(changing), unchanged=len(unchanged)
            ),
            form=status_form,
            query=QueryDict(form.cleaned_data["query"]).urlencode(),
            back=back,
        )
        # Back here after confirming: the reason was refused.
        return self.render_to_response(context, status=400 if confirmed else 200)

    def apply(self, action: BulkAction, customers: list[Customer], *, gone: int, reason: str):
        changed, unchanged, failed = 0, 0, []
        for customer in customers:
            if not action.changes(customer):
                unchanged += 1
                continue
            try:
                if action.status:
                    customer_set_status(
                        customer=customer,
                        status=action.status,
                        actor=self.request.user,
                        source=DASHBOARD,
                        reason=reason,
                    )
                else:
                    customer_delete(customer=customer, actor=self.request.user, source=DASHBOARD)
            except CustomerNotFound:
                gone += 1
            except ValidationError as error:
                failed.append((customer, error))
            else:
                changed += 1
        messages.success(self.request, action.summary(changed, unchanged, gone))
        for customer, refusal in failed:
            messages.error(
                self.request,
                action.failed % {"name": customer.name, "reason": " ".join(refusal.messages)},
            )


class ApiKeyAccessMixin(PermissionRequiredMixin):
    """The keys of the user's merchants."""

    request: HttpRequest

    def get_queryset(self):
        return api_keys_for_user(self.request.user).select_related("merchant", "created_by")


class ApiKeyListView(ApiKeyAccessMixin, MerchantColumnMixin, ListView):
    permission_required = "customers.view_apikey"
    template_name = "customers/apikey_list.html"
    context_object_name = "api_keys"

    def get_queryset(self):
        return super().get_queryset().order_by("revoked_at", "-created_at")


class ApiKeyCreateView(ApiKeyAccessMixin, NewForMerchantMixin, CreateView):
    """The secret is shown once, in the response to the POST, and never stored."""

    permission_required = "customers.add_apikey"
    form_class = ApiKeyForm
    template_name = "customers/apikey_form.html"

    def form_valid(self, form):
        try:
            self.object, secret = form.save(created_by=self.request.user)
        except ValidationError:
            return self.form_invalid(form)
        response = self.response_class(
            request=self.request,
            template="customers/apikey_created.html",
            context=self.get_context_data(api_key=self.object, secret=secret),
        )
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(ApiKeyAccessMixin, DeleteView):
    """Confirm, then revoke: the key stops working at once and stays listed as revoked."""

    permission_required = "customers.change_apikey"
    template_name = "customers/apikey_confirm_revoke.html"
    context_object_name = "api_key"
    success_url = reverse_lazy("customers:apikey_list")

    def form_valid(self, form):
        api_key_revoke(api_key=self.object)
        messages.success(
            self.request, _("API key “%(name)s” revoked.") % {"name": self.object.name}
        )
        return HttpResponseRedirect(self.get_success_url())


# --- logins ---------------------------------------------------------------------------------


class LogoutView(auth_views.LogoutView):
    """Log out (POST only), then say so on the login page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is new, but the messages are stored with the response, as on any page.
        messages.success(request, _("You have been logged out."))
        return response


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """What a login that django-axes refuses gets, on the dashboard and the admin alike: 429,
    with ``Retry-After``, in the dashboard's layout. Each failed attempt restarts the wait."""
    cool_off = get_cool_off(request)
    wait = int(cool_off.total_seconds()) if cool_off else 0
    response = render(
        request,
        "registration/locked_out.html",
        {
            "username": get_client_username(request, credentials) or "",
            "failure_limit": get_failure_limit(request, credentials),
            "minutes": wait // 60,
        },
        status=429,
    )
    if wait:
        response["Retry-After"] = str(wait)
    return response


# --- activity -------------------------------------------------------------------------------


class ActivityView(PermissionRequiredMixin, MerchantColumnMixin, TemplateView):
    """Every change to the customers of the user's merchants, newest first, from every door,
    deleted customers included: the events the API's feed serves, filtered by the same
    ``EventFilterSet``. Older events are a link away (a signed position, never an offset)."""

    permission_required = "customers.view_customer"
    template_name = "customers/activity.html"
    page_size = 50
    ordering = "-created_at"

    def get(self, request, *args, **kwargs):
        events = scoped_to_user(CustomerEvent.objects.all(), request.user)
        self.filterset = EventFilterSet(request.GET, queryset=events, request=request)
        known = {*EventFilterSet.base_filters, "before"}
        self.problems = [
            f"{name}: {unknown_parameter_message(name, known)}"
            for name in request.GET
            if name not in known
        ]
        position = None
        if "before" in request.GET:
            try:
                position = KeysetPosition.decode(request.GET["before"])
                if position.ordering != self.ordering:
                    raise ValueError("a position in another list")
            except ValueError:
                self.problems.append(
                    "before: " + _("This link is not valid; go back to the first page.")
                )
        valid = self.filterset.is_valid() and not self.problems
        rows: list[CustomerEvent] = []
        if valid:
            matching = self.filterset.qs
            if position is not None:
                matching = matching.filter(position.rows_after())
            newest_first = matching.select_related("merchant").order_by("-created_at", "-id")
            rows = list(newest_first[: self.page_size + 1])
        older = None
        if len(rows) > self.page_size:
            rows = rows[: self.page_size]
            older = KeysetPosition.after_row(self.ordering, rows[-1]).encode()
        context = self.get_context_data(
            filter=self.filterset,
            events=rows,
            older=older,
            existing=set(
                Customer.objects.filter(pk__in={event.customer_id for event in rows}).values_list(
                    "pk", flat=True
                )
            ),
            problems=self.problems,
            filters_set=any(name in EventFilterSet.base_filters for name in request.GET),
        )
        return self.render_to_response(context, status=200 if valid else 400)


# --- imports --------------------------------------------------------------------------------


class UploadLimitHandler(FileUploadHandler):
    """Stops storing an upload once it passes ``limit`` bytes: the rest of the body is read and
    dropped, never spooled to disk, and the form says the file is too large."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


class CustomerImportAccessMixin(PermissionRequiredMixin):
    """The imports of the user's merchants, for those who may add customers (Editors)."""

    permission_required = "customers.add_customer"
    context_object_name: str | None = "customer_import"
    request: HttpRequest

    def get_queryset(self):
        return scoped_to_user(CustomerImport.objects.all(), self.request.user).select_related(
            "merchant", "uploaded_by"
        )


@method_decorator(csrf_exempt, name="dispatch")
class CustomerImportCreateView(CustomerImportAccessMixin, NewForMerchantMixin, FormView):
    """The Import page: upload a file. It is read and its columns mapped at once (a refused
    file is said on the form and nothing is kept); the dry run of every row then runs in the
    background, and the import's page shows it.

    The upload's size limit is enforced while the body is read, so the CSRF check (which reads
    the body) runs after the limit is in place (``csrf_protect`` on ``post``)."""

    form_class = CustomerImportForm
    template_name = "customers/import_form.html"

    def post(self, request, *args, **kwargs):
        self.upload_limit = UploadLimitHandler(request, limit=settings.IMPORT_MAX_UPLOAD_BYTES)
        request.upload_handlers.insert(0, self.upload_limit)
        return self.checked_post(request, *args, **kwargs)

    @method_decorator(csrf_protect)
    def checked_post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        limit = getattr(self, "upload_limit", None)
        return {**super().get_form_kwargs(), "too_large": bool(limit and limit.exceeded)}

    def form_valid(self, form):
        try:
            self.object = form.save(user=self.request.user)
        except ValidationError:
            return self.form_invalid(form)
        return HttpResponseRedirect(reverse("customers:import_detail", args=[self.object.pk]))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs, recent=list(self.get_queryset()[: CustomerImportListView.recent_on_form])
        )


class CustomerImportListView(CustomerImportAccessMixin, MerchantColumnMixin, ListView):
    """The imports of the user's merchants, newest first, with their status and summary."""

    template_name = "customers/import_list.html"
    context_object_name = "imports"
    paginate_by = 50
    #: How many of the latest imports the Import page itself lists.
    recent_on_form = 5


class CustomerImportDetailView(CustomerImportAccessMixin, DetailView):
    """One import at every step: validating (a progress bar), validated (the mapping, the dry
    run's counts and first rejects, Start or Cancel), queued and running (a progress bar), done
    (the summary and the rejects file) or failed (why).

    While a task works on it the page stays live: ``dashboard.js`` polls ``import_status``, and
    without JavaScript the response carries ``Refresh``, which the Content-Security-Policy
    allows. ``dashboard.js`` sets the ``js`` cookie, so a browser running it gets no reloads."""

    template_name = "customers/import_detail.html"
    refresh_seconds = 2

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.object.in_progress and not self.request.COOKIES.get("js"):
            response["Refresh"] = str(self.refresh_seconds)
        return response


class CustomerImportStatusView(CustomerImportAccessMixin, SingleObjectMixin, View):
    """The import's progress as JSON, for the page's script."""

    def get(self, request, *args, **kwargs):
        customer_import = self.get_object()
        return JsonResponse(import_status(customer_import))


def import_status(customer_import: CustomerImport) -> dict:
    return {
        "status": customer_import.status,
        "status_label": customer_import.get_status_display(),
        "in_progress": customer_import.in_progress,
        "rows_done": customer_import.rows_done,
        "total_rows": customer_import.total_rows,
        "percent": customer_import.percent,
        "created": customer_import.created,
        "updated": customer_import.updated,
        "skipped": customer_import.skipped,
        "rejected": customer_import.rejected,
    }


class CustomerImportStartView(CustomerImportAccessMixin, SingleObjectMixin, View):
    """Start the import of a validated file (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        customer_import = self.get_object()
        if customer_import_start(customer_import=customer_import):
            messages.success(
                request,
                _("Import of “%(name)s” started.") % {"name": customer_import.file_name},
            )
        else:
            messages.warning(request, _("This import has already been started."))
        return HttpResponseRedirect(reverse("customers:import_detail", args=[customer_import.pk]))


class CustomerImportCancelView(CustomerImportAccessMixin, SingleObjectMixin, View):
    """Forget a file that has not been imported, and its stored upload (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        customer_import = self.get_object()
        if not customer_import_cancel(customer_import=customer_import):
            messages.warning(request, _("This import has started: it can no longer be cancelled."))
            return HttpResponseRedirect(
                reverse("customers:import_detail", args=[customer_import.pk])
            )
        messages.success(
            request, _("Import of “%(name)s” cancelled.") % {"name": customer_import.file_name}
        )
        return HttpResponseRedirect(reverse("customers:import_create"))


class CustomerImportRejectsView(CustomerImportAccessMixin, SingleObjectMixin, View):
    """The rejected rows of a finished import: their original cells and an ``error`` column.
    Anyone who may import for the merchant may download it, as they may see its customers."""

    def get(self, request, *args, **kwargs):
        customer_import = self.get_object()
        if not customer_import.rejects_file:
            raise Http404(_("This import rejected no rows."))
        try:
            stored = customer_import.rejects_file.open("rb")
        except FileNotFoundError:
            raise Http404(_("The rejects file is no longer stored.")) from None
        stem = Path(customer_import.file_name).stem or "import"
        return FileResponse(
            stored,
            as_attachment=True,
            filename=f"{stem}.rejects.csv",
            content_type="text/csv; charset=utf-8",
        )
