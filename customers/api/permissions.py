"""What a caller may do: an API key by its scopes, a staff session by its model permissions.
Which records it may touch is the viewset's ``get_queryset()``, not a permission."""

from rest_framework import permissions

from customers.models import ApiKey, Customer

from .exceptions import InsufficientScope


class ApiKeyHasScope(permissions.BasePermission):
    """Reading needs ``customers:read``; creating, changing and deleting ``customers:write``.
    Methods the endpoint does not have are left to the 405."""

    scopes = {
        "GET": ApiKey.Scope.READ,
        "HEAD": ApiKey.Scope.READ,
        "POST": ApiKey.Scope.WRITE,
        "PATCH": ApiKey.Scope.WRITE,
        "DELETE": ApiKey.Scope.WRITE,
    }

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        scope = self.scopes.get(request.method)
        if scope is None or request.auth.has_scope(scope):
            return True
        raise InsufficientScope(f"This API key lacks the {scope} scope.")


class SessionHasModelPermission(permissions.DjangoModelPermissions):
    """A staff user needs Django's permission for the action, viewing included."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }
    message = "Your account does not have permission to do this."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return True
        if request.method not in self.perms_map:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class SessionMayViewCustomers(SessionHasModelPermission):
    """Events are the customers' history: a staff user who may view customers reads them."""

    def get_required_permissions(self, method, model_cls):
        return super().get_required_permissions(method, Customer)


class ApiKeyMayManageWebhooks(ApiKeyHasScope):
    """Webhook endpoints, read or written, need ``webhooks:manage``: a listing shows where the
    merchant's events go."""

    scopes = {method: ApiKey.Scope.WEBHOOKS for method in ApiKeyHasScope.scopes}


class SessionMayChange(SessionHasModelPermission):
    """For an action that changes a record whatever its method (``POST …/rotate-secret``)."""

    perms_map = {
        method: ["%(app_label)s.change_%(model_name)s"] for method in ApiKeyHasScope.scopes
    }
