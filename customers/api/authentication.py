"""Who is calling: a merchant's API key (``Authorization: Bearer`` or ``X-API-Key``), or a staff
user's session (the browsable API, with CSRF). A key in the query string is never read.

Failed key attempts are counted per client address; past ``API_AUTH_FAILURE_RATE`` the address
is answered 429 before its keys are looked up (``FailedAuthentications``)."""

from rest_framework import authentication, exceptions

from customers.models import ApiKey
from customers.services import api_key_authenticate

from .throttling import FailedAuthentications


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``request.user`` is anonymous and ``request.auth`` the ``ApiKey``: a key acts for its
    merchant, not for a person."""

    keyword = "Bearer"

    def authenticate(self, request):
        failures = FailedAuthentications(request)
        try:
            raw_key = self._raw_key(request)
            if raw_key is None:
                return None
            failures.refuse_if_over(raw_key)
            api_key = api_key_authenticate(raw_key)
            if api_key is None:
                raise exceptions.AuthenticationFailed("The API key is invalid or has been revoked.")
        except exceptions.AuthenticationFailed:
            failures.count()
            raise
        return (ApiKeyUser(api_key), api_key)

    def authenticate_header(self, request):
        return self.keyword

    def _raw_key(self, request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        bearer = None
        if header is not None:
            scheme, _, credentials = header.strip().partition(" ")
            if scheme.lower() != self.keyword.lower():
                return None  # another scheme (Basic…): not ours, so not authenticated
            bearer = credentials.strip()
            if not bearer:
                raise exceptions.AuthenticationFailed("The Authorization header has no key.")
        x_api_key = request.META.get("HTTP_X_API_KEY")
        if x_api_key is not None:
            x_api_key = x_api_key.strip()
            if not x_api_key:
                raise exceptions.AuthenticationFailed("The X-API-Key header is empty.")
            if bearer is not None and bearer != x_api_key:
                raise exceptions.AuthenticationFailed(
                    "Authorization and X-API-Key carry different keys; send one."
                )
        return bearer or x_api_key


class ApiKeyUser:
    """The ``request.user`` of a key: authenticated, and no one in particular."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    def __str__(self):
        return f"api_key:{self.api_key.prefix}"

    def get_username(self) -> str:
        return str(self)

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perm_list, obj=None) -> bool:
        return False
