"""The REST API's endpoints: customers, their events, webhook endpoints, the OpenAPI document
and its docs, ``/healthz``."""

import uuid
from collections.abc import Mapping

from csp.constants import SELF
from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from customers.exceptions import CustomerNotFound
from customers.filtersets import CustomerFilterSet, EventFilterSet
from customers.listing import list_total
from customers.middleware import is_api_path
from customers.models import ApiKey, Customer, CustomerEvent
from customers.normalizers import NULL_CHARACTER_MESSAGE, printable
from customers.representation import customer_json, event_json
from customers.selectors import (
    customer_counts_for_caller,
    customer_of_caller,
    customers_for_caller,
    merchant_ids_for_caller,
    only_merchant_of,
    scoped_to_caller,
)
from customers.services import customer_delete
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_delete, endpoint_rotate_secret

from .events import CustomerEventPagination, EventPagination
from .exceptions import ServerError, error_response
from .pagination import CustomerPagination, WebhookEndpointPagination
from .permissions import (
    ApiKeyHasScope,
    ApiKeyMayManageWebhooks,
    SessionHasModelPermission,
    SessionMayChange,
    SessionMayViewCustomers,
)
from .schema import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    CustomerEnvelope,
    DeletedEnvelope,
    EventEnvelope,
    SchemaGenerator,
    WebhookEndpointEnvelope,
    WebhookEndpointWithSecretEnvelope,
    error_responses,
)
from .serializers import (
    CustomerSerializer,
    EventSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from .throttling import redis_answers
from .viewsets import ResourceViewSet, StrictQueryMixin


class CallerMixin(generics.GenericAPIView):
    """Who calls: a merchant's API key, or a staff user's session; and the merchants it may
    touch (``selectors`` decides)."""

    def get_api_key(self) -> ApiKey | None:
        return self.request.auth if isinstance(self.request.auth, ApiKey) else None

    def merchant_ids(self) -> list:
        return merchant_ids_for_caller(self.request.user, self.get_api_key())

    def get_actor(self):
        return self.get_api_key() or self.request.user

    def merchant_for_new_records(self, records: str):
        """The merchant a new record belongs to: the API key's, or the staff user's only one."""
        api_key = self.get_api_key()
        merchant = api_key.merchant if api_key else only_merchant_of(self.request.user)
        if merchant is None:
            raise exceptions.ValidationError(
                f"Your account works for several merchants (or none); create {records} with "
                "the merchant's API key or from the dashboard."
            )
        return merchant


class KeptFilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping its FilterSet on the view: the list's total asks it
    which filters are in force."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


@extend_schema_view(
    list=extend_schema(
        summary="List customers",
        description="Filters combine with AND. An unknown, repeated or empty parameter is a "
        "400 naming it. Page mode by default; `cursor` switches to cursor mode.",
        responses={200: CustomerSerializer(many=True), **error_responses()},
    ),
    create=extend_schema(
        summary="Create a customer",
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(CustomerEnvelope, description="The customer as stored."),
            **error_responses(409, 413, 415, 422),
        },
    ),
    retrieve=extend_schema(
        summary="Get a customer",
        parameters=[IF_NONE_MATCH],
        responses={
            200: CustomerEnvelope,
            304: OpenApiResponse(description="Not modified: If-None-Match is current."),
            **error_responses(404),
        },
    ),
    partial_update=extend_schema(
        summary="Change a customer",
        description="Only the fields sent change; null clears an optional field; metadata is "
        "replaced whole. name cannot be cleared, and a customer keeps an email or a phone.",
        parameters=[IF_MATCH],
        responses={
            200: OpenApiResponse(CustomerEnvelope, description="The customer as stored."),
            **error_responses(404, 409, 412, 413, 415),
        },
    ),
    destroy=extend_schema(
        summary="Delete a customer",
        parameters=[IF_MATCH],
        responses={200: DeletedEnvelope, **error_responses(404, 412)},
    ),
)
class CustomerViewSet(CallerMixin, ResourceViewSet):
    """Customers of the caller's merchant: an API key's, or a staff user's merchants."""

    serializer_class = CustomerSerializer
    filter_backends = [KeptFilterBackend]
    filterset: CustomerFilterSet
    filterset_class = CustomerFilterSet
    pagination_class = CustomerPagination
    permission_classes = [permissions.IsAuthenticated, ApiKeyHasScope, SessionHasModelPermission]

    def get_queryset(self):
        # Tenancy, for every action, filter and search: another merchant's customer is
        # invisible, so it is a 404 exactly like a missing one.
        return customers_for_caller(self.request.user, self.get_api_key())

    def list(self, request, *args, **kwargs):
        # The page as CustomerSerializer renders each customer (customer_json), without a list
        # serializer and its child built around it for every request.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        return self.get_paginated_response([customer_json(customer) for customer in page])

    def get_object(self) -> Customer:
        """The customer of the URL's id, among the caller's (``selectors``)."""
        try:
            customer_id = uuid.UUID(self.kwargs[self.lookup_url_kwarg])
        except ValueError:
            raise CustomerNotFound() from None
        customer = customer_of_caller(self.request.user, self.get_api_key(), customer_id)
        if customer is None:
            raise CustomerNotFound()
        self.check_object_permissions(self.request, customer)
        return customer

    def get_query_parameter_names(self) -> set[str]:
        names = super().get_query_parameter_names()
        if self.action == "events":
            names |= set(CustomerEventPagination.query_params)
        return names

    @extend_schema(
        summary="List a customer's events",
        description="Newest first, by cursor; also after the customer's deletion. 404 only if "
        "the customer never existed in this merchant.",
        responses={200: EventSerializer(many=True), **error_responses(404)},
    )
    @action(detail=True, methods=["get"], pagination_class=CustomerEventPagination)
    def events(self, request, id=None):
        try:
            customer_id = uuid.UUID(str(id))
        except ValueError:
            raise exceptions.NotFound("No customer matches the given id.") from None
        events = scoped_to_caller(
            CustomerEvent.objects.filter(customer_id=customer_id),
            self.request.user,
            self.get_api_key(),
        )
        if not events.exists() and not self.get_queryset().filter(pk=customer_id).exists():
            raise exceptions.NotFound("No customer matches the given id.")
        page = self.paginate_queryset(events) or []
        return self.get_paginated_response([event_json(event) for event in page])

    def list_total(self) -> tuple[int, bool]:
        """(total, exact) of the list being paged, for page mode."""
        counts = customer_counts_for_caller(self.request.user, self.get_api_key())
        return list_total(self.filterset, counts)

    def get_merchant(self):
        return self.merchant_for_new_records("customers")

    def perform_create(self, serializer):
        serializer.save(
            merchant=self.get_merchant(), actor=self.get_actor(), source=Customer.Source.API
        )

    def perform_update(self, serializer, *, expected_version):
        serializer.save(
            actor=self.get_actor(), source=Customer.Source.API, expected_version=expected_version
        )

    def perform_destroy(self, instance, *, expected_version):
        customer_delete(
            customer=instance,
            actor=self.get_actor(),
            source=Customer.Source.API,
            expected_version=expected_version,
        )


@extend_schema_view(
    list=extend_schema(
        summary="Follow the event feed",
        description="Every change to the merchant's customers, oldest first, by cursor only. "
        "`meta.next_cursor` is never null once a page has had events: poll with it to receive "
        "only newer events, each exactly once. Filters combine with AND.",
        responses={200: EventSerializer(many=True), **error_responses()},
    ),
    retrieve=extend_schema(
        summary="Get an event",
        responses={200: EventEnvelope, **error_responses(404)},
    ),
)
class EventViewSet(CallerMixin, StrictQueryMixin, viewsets.ReadOnlyModelViewSet):
    """The events of the caller's merchants: an API key's, or a staff user's."""

    serializer_class = EventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = EventFilterSet
    pagination_class = EventPagination
    permission_classes = [permissions.IsAuthenticated, ApiKeyHasScope, SessionMayViewCustomers]
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return scoped_to_caller(CustomerEvent.objects.all(), self.request.user, self.get_api_key())

    def get_object(self):
        try:
            event_id = uuid.UUID(self.kwargs["id"])
        except ValueError:
            raise exceptions.NotFound("No event matches the given id.") from None
        event = self.get_queryset().filter(pk=event_id).first()
        if event is None:
            raise exceptions.NotFound("No event matches the given id.")
        return event

    def retrieve(self, request, *args, **kwargs):
        return Response({"data": event_json(self.get_object())})


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="The merchant's endpoints, newest first, by cursor. Secrets are never listed.",
        responses={200: WebhookEndpointSerializer(many=True), **error_responses()},
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="The response holds the endpoint's secret: the only time it is shown.",
        request=WebhookEndpointSerializer,
        responses={
            201: OpenApiResponse(
                WebhookEndpointWithSecretEnvelope, description="The endpoint, with its secret."
            ),
            **error_responses(413, 415),
        },
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        responses={200: WebhookEndpointEnvelope, **error_responses(404)},
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="Only the fields sent change; null clears the description.",
        responses={200: WebhookEndpointEnvelope, **error_responses(404, 413, 415)},
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Its deliveries go with it, and nothing more is sent to it.",
        responses={200: DeletedEnvelope, **error_responses(404)},
    ),
)
class WebhookEndpointViewSet(
    CallerMixin, StrictQueryMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """The webhook endpoints of the caller's merchants: an API key's (with ``webhooks:manage``),
    or a staff user's (with the model permissions). Every write goes through
    ``webhooks.services``."""

    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []
    pagination_class = WebhookEndpointPagination
    permission_classes = [
        permissions.IsAuthenticated,
        ApiKeyMayManageWebhooks,
        SessionHasModelPermission,
    ]
    http_method_names = ["get", "post", "patch", "delete", "head"]
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return scoped_to_caller(
            WebhookEndpoint.objects.all(), self.request.user, self.get_api_key()
        )

    def get_query_parameter_names(self) -> set[str]:
        names = {str(api_settings.URL_FORMAT_OVERRIDE)}
        if self.action == "list":
            names |= set(WebhookEndpointPagination.query_params)
        return names

    def check_no_body(self, request):
        """No body, or ``{}``: anything else is refused, an object by its keys. A secret is made
        by the server alone."""
        body = request.data
        if isinstance(body, Mapping) and body:
            message = "Unknown field; this request takes no body."
            raise exceptions.ValidationError({printable(str(key)): [message] for key in body})
        if not isinstance(body, Mapping):
            raise exceptions.ValidationError("This request takes no body (or an empty object).")

    def get_object(self):
        try:
            endpoint_id = uuid.UUID(self.kwargs["id"])
        except ValueError:
            raise exceptions.NotFound("No webhook endpoint matches the given id.") from None
        endpoint = self.get_queryset().filter(pk=endpoint_id).first()
        if endpoint is None:
            raise exceptions.NotFound("No webhook endpoint matches the given id.")
        self.check_object_permissions(self.request, endpoint)
        return endpoint

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = serializer.save(
            merchant=self.merchant_for_new_records("webhook endpoints"), actor=self.get_actor()
        )
        location = request.build_absolute_uri(
            reverse("api:webhook-endpoint-detail", kwargs={"id": endpoint.pk})
        )
        return Response(
            {"data": WebhookEndpointWithSecretSerializer(endpoint).data},
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def retrieve(self, request, *args, **kwargs):
        return Response({"data": self.get_serializer(self.get_object()).data})

    def partial_update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response({"data": serializer.data})

    def destroy(self, request, *args, **kwargs):
        endpoint = self.get_object()
        endpoint_id = endpoint.pk
        endpoint_delete(endpoint=endpoint)
        return Response({"data": {"id": str(endpoint_id), "deleted": True}})

    @extend_schema(
        summary="Give a webhook endpoint a new secret",
        description="The response holds the new secret, shown only now. The previous secret "
        "still signs deliveries, beside the new one, for 24 hours: time to deploy the new one.",
        request=None,
        responses={200: WebhookEndpointWithSecretEnvelope, **error_responses(404, 413, 415)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-secret",
        permission_classes=[permissions.IsAuthenticated, ApiKeyMayManageWebhooks, SessionMayChange],
    )
    def rotate_secret(self, request, id=None):
        endpoint = self.get_object()
        self.check_no_body(request)
        endpoint_rotate_secret(endpoint=endpoint)
        return Response({"data": WebhookEndpointWithSecretSerializer(endpoint).data})


@method_decorator(cache_control(public=True, max_age=300), name="dispatch")
class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document: JSON, or YAML with ``?format=yaml``. Public, like the docs, and
    the same for everyone, so caches may keep it a few minutes."""

    generator_class = SchemaGenerator
    renderer_classes = [
        OpenApiJsonRenderer,
        OpenApiJsonRenderer2,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]


@method_decorator(csp_update({"img-src": [SELF, "data:"]}), name="dispatch")
class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its assets served from drf-spectacular-sidecar (no CDN), under the site's
    Content-Security-Policy: the page loads its start-up script from ``?script`` instead of
    running it inline, and its styles from static files. Swagger UI's stylesheet draws its icons
    as data: images, which this page alone allows."""

    url_name = "api:schema"
    template_name = "api/docs.html"


class NotFoundView(APIView):
    """Any other path under ``/api/``: the envelope's 404, whoever asks."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if "\x00" in request.path:
            raise exceptions.ValidationError({"path": [NULL_CHARACTER_MESSAGE]})
        raise exceptions.NotFound("There is no such API endpoint; see /api/v1/schema.")


def bad_request(request, exception):
    """Django's 400 (``handler400``), for a request refused before any view: a host this server
    does not serve, a body Django cannot parse. Under ``/api/`` it is the envelope, as every
    API error is; elsewhere, Django's page."""
    if not is_api_path(request.path):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = "The Host header names a host this server does not serve."
    else:
        message = "The request is malformed and was refused."
    return error_response(exceptions.ValidationError(message))


def server_error(request):
    """Django's 500 (``handler500``), for an error raised outside a view (an API view's own
    are answered by the exception handler); Django has logged it. Under ``/api/`` it is the
    envelope, elsewhere Django's page."""
    if not is_api_path(request.path):
        return defaults.server_error(request)
    return error_response(ServerError())


@never_cache
@require_safe
def healthz(request):
    """The app, its database and its shared cache. No auth.

    503 when the database does not answer (nothing works without it). When Redis (``REDIS_URL``)
    does not answer, the API still serves, unthrottled: 200, with ``"status": "degraded"``.
    """
    report = {"status": "ok", "database": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        report.update(status="error", database="unreachable")
    if settings.REDIS_URL:
        report["cache"] = "ok" if redis_answers() else "unreachable"
        if report["cache"] != "ok" and report["status"] == "ok":
            report["status"] = "degraded"
    return JsonResponse(report, status=503 if report["status"] == "error" else 200)
