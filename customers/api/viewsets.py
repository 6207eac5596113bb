"""The HTTP side of a resource, once: the envelope, strict query strings, ETags and
conditional writes, ``Location`` and ``Idempotency-Key``.

A concrete viewset (``CustomerViewSet``) stays declarative: it names its queryset, serializer,
filters and pagination, and writes through its services in ``perform_create``,
``perform_update`` and ``perform_destroy``.
"""

import re

import django_filters
from django.db import transaction
from django.urls import reverse
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from customers.filtersets import unknown_parameter_message
from customers.models import IdempotencyKey
from customers.normalizers import NULL_CHARACTER_MESSAGE

from .exceptions import PreconditionFailed
from .idempotency import idempotency_hold, idempotency_record, request_fingerprint

#: One entity tag of a list (RFC 9110): "opaque" or W/"opaque", then a comma or the end. The
#: opaque part may hold a comma itself, so the list is read tag by tag, not split on commas.
ENTITY_TAG_ITEM = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,[ \t,]*|$)')


class StrictQueryMixin(generics.GenericAPIView):
    """A query parameter the endpoint does not know, repeated or empty is a 400 naming it, so a
    typo never widens a list; NUL characters in the path or the query are a 400 too. Filters
    belong to the list: one resource is found by its id alone."""

    #: The endpoint's FilterSet: its filters are the list's query parameters.
    filterset_class: type[django_filters.FilterSet]

    def initial(self, request, *args, **kwargs):
        self.check_null_characters(request)
        super().initial(request, *args, **kwargs)
        self.check_query_parameters(request)

    def check_null_characters(self, request):
        errors = {
            name: [NULL_CHARACTER_MESSAGE] for name, value in self.kwargs.items() if "\x00" in value
        }
        if "\x00" in request.path and not errors:
            errors["path"] = [NULL_CHARACTER_MESSAGE]
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                errors[name] = [NULL_CHARACTER_MESSAGE]
        if errors:
            raise exceptions.ValidationError(errors)

    def get_query_parameter_names(self) -> set[str]:
        names = {str(api_settings.URL_FORMAT_OVERRIDE)}
        if getattr(self, "action", None) == "list":
            names |= set(self.filterset_class.base_filters)
            names |= set(getattr(self.pagination_class, "query_params", ()))
        return names

    def check_query_parameters(self, request):
        allowed = self.get_query_parameter_names()
        errors = {}
        for name, values in request.query_params.lists():
            if name not in allowed:
                errors[name] = [unknown_parameter_message(name, allowed)]
            elif len(values) > 1:
                errors[name] = ["Send this parameter once (several statuses: status=a,b)."]
            elif not values[0]:
                errors[name] = ["Give a value, or leave the parameter out."]
        if errors:
            raise exceptions.ValidationError(errors)

    def filter_queryset(self, queryset):
        # Filters belong to the list; one resource is found by its id alone.
        listing = getattr(self, "action", None) == "list"
        return super().filter_queryset(queryset) if listing else queryset


class ResourceViewSet(StrictQueryMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Create, list, retrieve, PATCH and delete; PUT is 405.

    - Every body is ``{"data": ...}`` (a list adds ``"meta"``); errors are the exception
      handler's ``{"error": ...}``.
    - Strict query strings (``StrictQueryMixin``).
    - One resource carries ``ETag`` (its ``version``). ``If-None-Match`` on GET gives 304;
      ``If-Match`` on PATCH and DELETE must name the current version, checked by the write
      itself (one conditional statement), else 412 and nothing changes.
    - POST may carry ``Idempotency-Key`` (see ``customers.api.idempotency``).
    """

    http_method_names = ["get", "post", "patch", "delete", "head"]
    lookup_url_kwarg = "id"
    idempotency_header = "Idempotency-Key"

    # --- ETags --------------------------------------------------------------------------

    @staticmethod
    def etag(instance) -> str:
        return f'"{instance.version}"'

    def if_match_versions(self, request) -> set[str] | None:
        """The strong entity tags of ``If-Match`` (``{"*"}`` for any), None without it."""
        header = request.headers.get("If-Match")
        if header is None:
            return None
        if header.strip() == "*":
            return {"*"}
        tags = self._entity_tags(header, "If-Match")
        return {tag for weak, tag in tags if not weak}  # If-Match compares strongly

    def _entity_tags(self, header: str, name: str) -> list[tuple[bool, str]]:
        tags, position, header = [], 0, header.strip()
        while position < len(header):
            match = ENTITY_TAG_ITEM.match(header, position)
            if match is None:
                raise exceptions.ValidationError(
                    {name: ['Send entity tags as given in ETag, e.g. "3" (with the quotes).']}
                )
            tags.append((bool(match[1]), f'"{match[2]}"'))
            position = match.end()
        return tags

    def check_if_match(self, instance, tags: set[str] | None):
        if tags is not None and "*" not in tags and self.etag(instance) not in tags:
            raise PreconditionFailed()

    def not_modified(self, request, instance) -> bool:
        header = request.headers.get("If-None-Match")
        if header is None:
            return False
        if header.strip() == "*":
            return True
        tags = self._entity_tags(header, "If-None-Match")
        return self.etag(instance) in {tag for _weak, tag in tags}  # weak comparison

    # --- actions ------------------------------------------------------------------------

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        headers = {"ETag": self.etag(instance)}
        if self.not_modified(request, instance):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response({"data": self.get_serializer(instance).data}, headers=headers)

    def create(self, request, *args, **kwargs):
        key = self.get_idempotency_key(request)
        if key is None:
            return self.create_once(request)
        merchant = self.get_merchant()
        fingerprint = request_fingerprint(request.data)
        with transaction.atomic():
            earlier = idempotency_hold(merchant=merchant, key=key, request_hash=fingerprint)
            if earlier is not None:
                headers = {**earlier.response_headers, "Idempotent-Replayed": "true"}
                return Response(earlier.response_body, status=earlier.status_code, headers=headers)
            response = self.create_once(request)
            idempotency_record(
                merchant=merchant,
                key=key,
                request_hash=fingerprint,
                status_code=response.status_code,
                body=response.data,
                headers=response.headers,
            )
        return response

    def create_once(self, request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        instance = serializer.instance
        if instance is None:
            raise TypeError("perform_create() must save the serializer.")
        location = request.build_absolute_uri(
            reverse(f"api:{self.basename}-detail", kwargs={self.lookup_url_kwarg: instance.pk})
        )
        headers = {"Location": location, "ETag": self.etag(instance)}
        return Response({"data": serializer.data}, status=status.HTTP_201_CREATED, headers=headers)

    def partial_update(self, request, *args, **kwargs):
        tags = self.if_match_versions(request)
        instance = self.get_object()
        self.check_if_match(instance, tags)
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        # With If-Match the write must find the version the client named (else 412). Without,
        # the change applies to the customer as stored when it is written, whoever wrote last.
        expected_version = None if tags is None else instance.version
        self.perform_update(serializer, expected_version=expected_version)
        headers = {"ETag": self.etag(serializer.instance)}
        return Response({"data": serializer.data}, headers=headers)

    def destroy(self, request, *args, **kwargs):
        tags = self.if_match_versions(request)
        instance = self.get_object()
        self.check_if_match(instance, tags)
        self.perform_destroy(instance, expected_version=None if tags is None else instance.version)
        return Response({"data": {"id": str(instance.pk), "deleted": True}})

    # --- Idempotency-Key ----------------------------------------------------------------

    def get_idempotency_key(self, request) -> str | None:
        key = request.headers.get(self.idempotency_header)
        if key is None:
            return None
        if not 1 <= len(key) <= IdempotencyKey.MAX_LENGTH or not (
            key.isascii() and key.isprintable()
        ):
            raise exceptions.ValidationError(
                {
                    self.idempotency_header: [
                        f"Send 1 to {IdempotencyKey.MAX_LENGTH} printable ASCII "
                        "characters, e.g. a UUID."
                    ]
                }
            )
        return key

    # --- what a concrete viewset provides ----------------------------------------------

    def get_merchant(self):
        """The merchant the request acts for (idempotency keys are per merchant)."""
        raise NotImplementedError

    def perform_create(self, serializer):
        raise NotImplementedError

    def perform_update(self, serializer, *, expected_version: int | None):
        raise NotImplementedError

    def perform_destroy(self, instance, *, expected_version: int | None):
        raise NotImplementedError
