"""Settings for the Customers service, read from the environment (12-factor).

The essentials are DATABASE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS and REDIS_URL; the others
tune security, connections, logging and the API's limits. ``.env.example`` lists every one. With
none set, the project runs for development on a SQLite file (DEBUG=true).
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if not value.strip().isdigit() or int(value) < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of at least {minimum}, not {value!r}."
        )
    return int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (e.g. SECRET_KEY=$(openssl rand -hex 32))."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "customers",
    "webhooks",
]

MIDDLEWARE = [
    "customers.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "customers.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "customers.middleware.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The dashboard's language (the browser's, or the header's choice); the API's is English.
    "customers.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "customers.middleware.MerchantTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Widgets render with the templates above, so the customer form's address lines and metadata
# table (templates/customers/widgets/) look the same in the dashboard and the admin.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------------
# SQLite file by default; PostgreSQL in production: DATABASE_URL=postgres://user@host:5432/db

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", default=True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the socket instead of the server.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # A database that does not answer fails a request fast (503) instead of holding it:
    # seconds to connect, and seconds a statement may run (0: no limit). The web app
    # (config.wsgi) runs with a statement limit by default; commands, which may build indexes
    # over millions of rows, only with one set here.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
        options="-c statement_timeout={}s".format(
            int(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "0"))
        ),
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing with "database is locked",
    # and take it up front so a read-then-write transaction cannot deadlock.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Redis when REDIS_URL is set, so throttling and idempotency hold across processes.

REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to wait for Redis to connect or answer; past it the request goes on without it.
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.5"))
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "customers.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks and webhooks -----------------------------------------------------------
# Workers of django-tasks' database backend (`manage.py db_worker`, `make worker`) run the
# background work: the table is the queue, on SQLite and PostgreSQL alike, and several workers
# claim tasks with SKIP LOCKED. A task enqueued inside a transaction commits or rolls back with it.

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Webhook URLs: http:// and private, loopback or multicast addresses are refused unless these
# are on (development and tests). Link-local addresses (cloud metadata) are refused always.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
# Seconds to wait after each failed attempt (the last step repeats), and for how long to retry.
WEBHOOKS_RETRY_SCHEDULE = [
    int(seconds) for seconds in env_list("WEBHOOKS_RETRY_SCHEDULE", "60,300,1800,7200,18000,36000")
]
WEBHOOKS_RETRY_FOR = timedelta(hours=env_int("WEBHOOKS_RETRY_HOURS", 72, minimum=1))

# --- Uploaded files -------------------------------------------------------------------------
# Files people upload (imports) and what is made of them (rejects files), in the default
# storage under MEDIA_ROOT. Never served as they are (no MEDIA_URL): the dashboard hands them
# out through views that check who asks. Keep MEDIA_ROOT on a volume every web process and
# worker shares.

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
# The largest file the dashboard's Import page takes, in bytes. Uploads larger than
# FILE_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB) are spooled to a temporary file, never memory.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1)

# --- Auth -----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Password guessing: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one client
# address, that username is locked out from that address for LOGIN_LOCKOUT_MINUTES (counted from
# the last failure), on the dashboard's login and the admin's alike. django-axes keeps the
# failures in the database (the admin lists them: deleting one unlocks at once).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not logged: nothing would prune the log
AXES_VERBOSE = False  # no banner at every start; failures and lockouts are still logged
AXES_CLIENT_IP_CALLABLE = "customers.middleware.client_address"
AXES_LOCKOUT_CALLABLE = "customers.views.login_locked_out"

# The client address that logins and failed API authentications are counted by: REMOTE_ADDR,
# unless the app stands behind TRUSTED_PROXY_COUNT proxies of its own, each appending the address
# it saw to X-Forwarded-For (see customers.middleware.client_address). Behind a proxy with 0,
# every client shares the proxy's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Internationalisation -------------------------------------------------------------------

# The dashboard and the admin speak the language the browser prefers among LANGUAGES, or the
# one chosen with the header's switcher (a cookie); dates and numbers follow it. The API always
# speaks English (customers.middleware.LocaleMiddleware): its messages, like its codes, are part
# of its contract. The French catalogue is locale/fr/LC_MESSAGES (`make messages` updates it).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
# Behind a TLS-terminating proxy in production; all of this is off while DEBUG is on.

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp), on every page: scripts, styles, images, fonts and
# requests come from this site only, and nothing inline runs (no <script> body, no onclick=, no
# style=); no plugins; no <base> to re-point links; forms post only here; no site may frame a
# page. A view that needs more says so itself (the API docs allow data: images).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- REST framework -------------------------------------------------------------------------

# Largest request body the API reads, in bytes (413 beyond it, checked before reading). A
# customer at every limit (50 metadata values of 500 characters, 1000-character notes) is far
# below the default.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(256 * 1024)))

# Requests per API key (and per staff user) per window; the counters live in the cache above.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "1000/minute")
# Failed API authentications (a wrong, revoked or malformed key) per client address per window;
# past it, that address is answered 429 before any key it sends is looked up.
API_AUTH_FAILURE_RATE = os.environ.get("API_AUTH_FAILURE_RATE", "20/minute")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a request without credentials is told WWW-Authenticate: Bearer.
        "customers.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["customers.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_THROTTLE_RATE},
    "DEFAULT_PARSER_CLASSES": ["customers.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "customers.api.renderers.JSONRenderer",
        "customers.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "customers.api.parsers.FallbackContentNegotiation",
    "EXCEPTION_HANDLER": "customers.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customers API",
    "DESCRIPTION": (
        "The customer registry of a payment business. Every response body is an envelope: "
        '`{"data": ...}` (lists add `"meta"`) or `{"error": {"code", "message", '
        '"fields"}}`. Bodies are JSON; unknown and read-only fields are refused by name.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CustomerTypeEnum": "customers.models.Customer.Type",
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "CustomerSourceEnum": "customers.models.Customer.Source",
        "ErrorCodeEnum": "customers.api.exceptions.ERROR_CODES",
        "WebhookEndpointStatusEnum": "webhooks.models.EndpointStatus.values",
        "WebhookEventTypeEnum": "customers.api.serializers.SUBSCRIBABLE_EVENTS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "customers.api.schema.postprocess_api_schema",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
