"""The Django admin for operators.

Saving goes through the customer services, so the admin runs the same rules and records the
same history as every other door. Staff who are not superusers see only their merchants.
"""

import contextlib
import hashlib

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors
from .csvio import csv_response
from .exceptions import CustomerNotFound
from .filtersets import SEARCH_MIN_LENGTH, CustomerFilterSet
from .forms import CustomerServiceForm
from .listing import ListPaginator, capped_count
from .models import ApiKey, Customer, CustomerCount, Membership, Merchant
from .normalizers import country_choices
from .selectors import customer_history
from .services import api_key_revoke, customer_delete, customer_set_status

admin.site.site_header = gettext_lazy("Customers administration")
admin.site.site_title = gettext_lazy("Customers admin")
admin.site.index_title = gettext_lazy("Registry")


class MerchantListFilter(admin.RelatedFieldListFilter):
    """Offers only the merchants the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(m.pk, str(m)) for m in selectors.merchants_for_user(request.user)]


class ActiveListFilter(admin.SimpleListFilter):
    """Active or not, as the API's and the dashboard's ``is_active`` filter reads it."""

    title = gettext_lazy("active")
    parameter_name = "is_active"

    def lookups(self, request, model_admin):
        return [("true", _("Active")), ("false", _("Not active"))]

    def queryset(self, request, queryset):
        if self.value() in {"true", "false"}:
            return CustomerFilterSet.active_or_not(queryset, self.value() == "true")
        return queryset


class CountryListFilter(admin.SimpleListFilter):
    """The countries the user's customers live in, found through the country index and cached
    for a few minutes rather than looked up on every page view."""

    title = gettext_lazy("country")
    parameter_name = "country"
    cache_seconds = 300

    def lookups(self, request, model_admin):
        merchant_ids = selectors.merchant_ids_for_user(request.user)
        key = (
            "admin-countries:"
            + hashlib.sha256(",".join(sorted(map(str, merchant_ids))).encode()).hexdigest()
        )
        codes = cache.get(key)
        if codes is None:
            codes = selectors.customer_countries(merchant_ids)
            cache.set(key, codes, self.cache_seconds)
        names = dict(country_choices())
        return [(code, names.get(code, code)) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(country=self.value())
        return queryset


class TenantScopedAdmin(admin.ModelAdmin):
    """Rows of the merchants the user belongs to; a superuser sees every merchant."""

    def get_queryset(self, request):
        return selectors.scoped_to_user(super().get_queryset(request), request.user)

    def action_checkbox(self, obj):
        """Django's checkbox of a row, the same markup written at once: rendering a form
        widget through the template engine for each of a page's hundred rows took a quarter of
        the list's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "merchant":
            kwargs["queryset"] = selectors.merchants_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CustomerAdminForm(CustomerServiceForm):
    """The admin's customer form, which saves through the services as the last step of its
    validation.

    Django's admin has no step between validating a form and saving it where a refusal of the
    services (a duplicate, a concurrent change) could still reach the form. So the services run
    here, inside the transaction the admin opens for the whole request, and the form is valid
    only if they accepted the change; ``CustomerAdmin.save_model`` then has nothing left to do.
    """

    #: Who saves: the request's user, set by ``CustomerAdmin.get_form``.
    actor = None
    #: The merchant of a new customer when the user is not asked (see ``CustomerAdmin.get_form``).
    new_customers_merchant: Merchant | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stored is None and self.new_customers_merchant is not None:
            self.instance.merchant = self.new_customers_merchant

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            # A refusal is put on the form by save_customer, which makes the form invalid.
            with contextlib.suppress(ValidationError):
                self.instance = self.save_customer(actor=self.actor, source=Customer.Source.ADMIN)

    def save(self, commit=True):
        return self.instance

    def save_m2m(self):
        """Nothing to do: a customer has no many-to-many fields."""


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ("name", "email", "phone", "type", "status", "country", "merchant", "created_at")
    list_filter = (
        "type",
        "status",
        ActiveListFilter,
        CountryListFilter,
        ("merchant", MerchantListFilter),
    )
    list_select_related = ("merchant",)
    # Searched by get_search_results; the admin shows a search box when this is set.
    search_fields = ("name", "email", "phone", "reference", "company")
    search_help_text = "Part of the name, email, phone, reference or company."
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-choice counts would each scan the table
    form = CustomerAdminForm

    class Media:
        # The address lines and the metadata table, laid out in the admin (no inline styles).
        css = {"all": ("css/admin-customers.css",)}

    actions = ("block", "activate", "export_csv")
    # The version travels in the form (a hidden input), which refuses a stale save.
    readonly_fields = ("id", "source", "created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("merchant", "type", "name", "first_name", "last_name", "company")}),
        ("Contact", {"fields": ("email", "phone", "whatsapp", "website")}),
        ("Location", {"fields": ("country", "address", "currency")}),
        ("Account", {"fields": ("reference", "status", "description", "metadata")}),
        ("Record", {"fields": readonly_fields}),
    )

    def own_merchant(self, request) -> Merchant | None:
        """The user's only merchant: new customers go there without asking, and the list holds
        that merchant's alone. ``None`` for a superuser, who sees and chooses among every
        merchant, and for a user of several."""
        if request.user.is_superuser:
            return None
        return selectors.only_merchant_of(request.user)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # A customer not yet saved has no id, source, author or dates to show.
        (name, identity), *others, _record = self.fieldsets
        if self.own_merchant(request) is not None:
            fields = tuple(field for field in identity["fields"] if field != "merchant")
            identity = {**identity, "fields": fields}
        return ((name, identity), *others)

    def get_readonly_fields(self, request, obj=None):
        # A customer never moves to another merchant.
        return (*self.readonly_fields, "merchant") if obj else self.readonly_fields

    #: Changelist parameters whose totals the kept counts answer, and the count they filter.
    COUNTED_PARAMETERS = {
        "p": None,
        "o": None,
        "status__exact": "status",
        "type__exact": "type",
        "merchant__id__exact": "merchant_id",
    }

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """Totals from the kept counts where they can answer, else counted up to a cap, never
        a COUNT of the whole table; pages fetched by a deferred join. (A customer's History
        pages its log entries with Django's own.)"""
        if queryset.model is not Customer:
            return super().get_paginator(
                request, queryset, per_page, orphans, allow_empty_first_page
            )
        total = self.counted_total(request)
        exact = True
        if total is None:
            total, exact = capped_count(queryset)
        return ListPaginator(
            queryset,
            per_page,
            total=total,
            total_is_exact=exact,
            related=self.list_select_related,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )

    def counted_total(self, request) -> int | None:
        counts = selectors.scoped_to_user(CustomerCount.objects.all(), request.user)
        for name, value in request.GET.items():
            if name not in self.COUNTED_PARAMETERS:
                return None
            if field := self.COUNTED_PARAMETERS[name]:
                counts = counts.filter(**{field: value})
        return counts.aggregate(total=Coalesce(Sum("count"), 0))["total"]

    def get_sortable_by(self, request):
        # Only orders an index serves: sorting a million rows by email would read them all.
        # Names are indexed per merchant, so they sort when the list holds one merchant's.
        one_merchant = "merchant__id__exact" in request.GET or self.own_merchant(request)
        return ("name", "created_at") if one_merchant else ("created_at",)

    def get_search_results(self, request, queryset, search_term):
        """The API's and the dashboard's search: the words as typed, found in the name, email,
        phone, reference or company (not each word anywhere, as the admin would by default),
        so every door finds the same customers and the trigram indexes serve it."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if len(term) < SEARCH_MIN_LENGTH:
            self.message_user(
                request,
                _("Search for at least %(count)s characters.") % {"count": SEARCH_MIN_LENGTH},
                messages.WARNING,
            )
            return queryset.none(), False
        return CustomerFilterSet.search_customers(queryset, term), False

    #: The most events a customer's History shows.
    history_limit = 200

    def history_view(self, request, object_id, extra_context=None):
        """The customer's events, from every door, rather than the admin's own log."""
        customer = self.get_object(request, unquote(object_id))
        events = list(customer_history(customer)[: self.history_limit + 1]) if customer else []
        context = {
            **(extra_context or {}),
            "events": events[: self.history_limit],
            "events_truncated": len(events) > self.history_limit,
        }
        return super().history_view(request, object_id, context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        merchant = None if obj is not None else self.own_merchant(request)
        return type(
            form.__name__, (form,), {"actor": request.user, "new_customers_merchant": merchant}
        )

    def save_model(self, request, obj, form, change):
        """Saved already, through the services, by ``CustomerAdminForm``."""

    def delete_model(self, request, obj):
        try:
            customer_delete(customer=obj, actor=request.user, source=Customer.Source.ADMIN)
        except CustomerNotFound:
            self.message_user(
                request, _("“%(name)s” had already been deleted.") % {"name": obj}, messages.WARNING
            )

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            self.delete_model(request, customer)

    def _set_status(self, request, queryset, status, done):
        changed = 0
        for customer in queryset:
            if customer.status != status:
                customer_set_status(
                    customer=customer,
                    status=status,
                    actor=request.user,
                    source=Customer.Source.ADMIN,
                )
                changed += 1
        self.message_user(request, done % {"count": changed}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Block selected customers"), permissions=["change"])
    def block(self, request, queryset):
        self._set_status(
            request, queryset, Customer.Status.BLOCKED, _("%(count)s customer(s) blocked.")
        )

    @admin.action(description=gettext_lazy("Activate selected customers"), permissions=["change"])
    def activate(self, request, queryset):
        self._set_status(
            request, queryset, Customer.Status.ACTIVE, _("%(count)s customer(s) activated.")
        )

    @admin.action(
        description=gettext_lazy("Export selected customers as CSV"), permissions=["view"]
    )
    def export_csv(self, request, queryset):
        return csv_response(queryset.order_by(*self.ordering))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        return selectors.merchants_for_user(request.user)


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """Keys are created where their secret can be shown once (dashboard, command); here they
    are listed and revoked."""

    list_display = (
        "name",
        "prefix",
        "merchant",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("merchant", MerchantListFilter),)
    list_select_related = ("merchant",)
    search_fields = ("name", "prefix")
    readonly_fields = (
        "merchant",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    fields = ("name", *readonly_fields)
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at=None):
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("Keys revoked."), messages.SUCCESS)
