"""Request-wide plumbing that every door shares."""

import io
import re
import zoneinfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import locale
from django.utils import timezone, translation

from .api.exceptions import LengthRequired, PayloadTooLarge, error_response
from .ids import uuid7

#: A client's request id is echoed only if it is short and made of safe characters.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")

#: Bytes of an unread body read and dropped after the response, so the connection can carry
#: the client's next request (a server closes it when more is left).
DRAIN_CHUNK = 64 * 1024


class RequestIDMiddleware:
    """Every response carries ``X-Request-ID``: the client's own if it is safe to echo,
    otherwise a new one. ``request.id`` holds it for logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else str(uuid7())
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class NoStoreMiddleware:
    """A response that does not say how it may be cached gets ``Cache-Control: no-store``.

    Customers' personal data fills the API, the dashboard and the admin: no browser, proxy or
    CDN may keep a copy that outlives the session allowed to see it, and a page added later is
    covered without anyone remembering to. Responses that choose their own caching keep it: the
    static files (served before this runs) and the public OpenAPI document.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class LocaleMiddleware(locale.LocaleMiddleware):
    """The dashboard and the admin speak the language of the header's switcher (a cookie) or,
    failing it, the browser's (``Accept-Language``), among ``LANGUAGES``; the API speaks English
    whatever is asked, as its messages are part of its contract (codes never change either).

    The language is the request's only: the one active before it is back once it is answered,
    so nothing after a French page (a test, the next request of a thread) runs in French.
    """

    sync_capable = True
    async_capable = False

    def __call__(self, request):
        with translation.override(translation.get_language()):
            if is_api_path(request.path_info):
                translation.activate(settings.LANGUAGE_CODE)
                request.LANGUAGE_CODE = settings.LANGUAGE_CODE
                return self.get_response(request)
            return super().__call__(request)


def body_limit(path: str) -> int:
    """The largest body read for ``path``: the API's limit, else Django's own."""
    if is_api_path(path):
        return settings.API_MAX_BODY_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def is_chunked(environ) -> bool:
    encoding = environ.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not environ.get("CONTENT_LENGTH")


class ChunkedBodyMiddleware:
    """WSGI: a body sent with ``Transfer-Encoding: chunked`` reaches Django with its length.

    Django reads a body of ``CONTENT_LENGTH`` bytes, so without one a chunked body reads as
    empty and a PATCH would change nothing. A server that has decoded the chunks (gunicorn sets
    ``wsgi.input_terminated``) lets it be read to its end: it is read here, up to one byte more
    than the path's limit, and handed on as a body of known length, so the limit refuses it
    with 413 like any other. A server that has not decoded it gets 411 from
    ``BodyLimitMiddleware``: the body is never silently dropped.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if is_chunked(environ) and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(body_limit(environ.get("PATH_INFO", "")) + 1)
            environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.application(environ, start_response)


class BodyLimitMiddleware:
    """The API refuses a body over its limit from ``Content-Length``, before reading a byte
    (413), and a chunked body no server has decoded (411). After any response, what the view
    left unread of a body (an early 401, 403 or 415) is read and dropped, up to Django's own
    limit, so a kept-alive connection serves the client's next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.refusal(request) or self.get_response(request)
        self.drain(request)
        return response

    def refusal(self, request):
        api = is_api_path(request.path_info)
        if is_chunked(request.META):
            if api:
                return error_response(LengthRequired())
            return HttpResponse(
                LengthRequired.default_detail, status=411, content_type="text/plain"
            )
        limit = settings.API_MAX_BODY_BYTES
        if api and content_length(request) > limit:
            message = f"The request body is larger than {limit} bytes."
            return error_response(PayloadTooLarge(message))
        return None

    @staticmethod
    def drain(request):
        left = min(content_length(request), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            while left > 0 and (chunk := request.read(min(left, DRAIN_CHUNK))):
                left -= len(chunk)
        except OSError:
            pass  # the client went away: nothing to keep alive


def content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def client_address(request: HttpRequest) -> str:
    """The caller's IP address, which logins and failed API authentications are counted by.

    ``REMOTE_ADDR`` by default. Behind ``TRUSTED_PROXY_COUNT`` proxies of our own, each of which
    appends the address it saw to ``X-Forwarded-For``, it is the address the outermost one saw:
    that many entries from the right. Entries further left are whatever the client sent, and
    are never read.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


class MerchantTimeZoneMiddleware:
    """The dashboard and the admin show times in the staff member's merchant's time zone
    (``Merchant.time_zone``); the API always speaks UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Imported here: config.wsgi imports this module before the models are ready.
        from .selectors import time_zone_for_user

        if is_api_path(request.path) or not request.user.is_authenticated:
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(time_zone_for_user(request.user)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
