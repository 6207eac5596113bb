"""The other reference of `make bench`: the customer API as a DRF tutorial would scaffold it.

A ModelViewSet with a ModelSerializer of every field, PageNumberPagination (and DRF's
CursorPagination for the cursor scenario) and django-filter, scoped to the key's merchant. As a
scaffold does, it takes everything else from the project's REST_FRAMEWORK settings: the same
authentication, throttling, renderers and error handler as the API.
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, pagination, routers, serializers, viewsets

from customers.models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = "__all__"


class PagePagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    ordering = "-created_at"


class CustomerViewSet(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer
    pagination_class: type[pagination.BasePagination] = PagePagination
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_fields = ["email", "phone", "type", "status", "reference", "country", "currency"]
    search_fields = ["name", "email", "phone", "reference", "company"]

    def get_queryset(self):
        customers = Customer.objects.filter(merchant_id=self.request.auth.merchant_id)  # type: ignore[union-attr]
        return customers.order_by("-created_at")


class CustomerCursorViewSet(CustomerViewSet):
    pagination_class = CursorPagination


router = routers.SimpleRouter()
router.register("customers", CustomerViewSet, basename="scaffold-customer")
router.register("cursor/customers", CustomerCursorViewSet, basename="scaffold-cursor")
