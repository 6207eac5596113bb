"""The test suite's settings: production's (DEBUG off), apart from what tests cannot have.

- The test servers speak plain HTTP, so nothing redirects to HTTPS or marks cookies secure.
- The static manifest exists only after ``collectstatic``; tests serve the files as found.
- Webhooks may go to the tests' own plain-HTTP receivers on loopback (their guard is tested with
  these settings off).
- Passwords are hashed with MD5: the suite logs users in hundreds of times, and PBKDF2 would
  spend most of its time there. Never a setting for anything but tests.
"""

from .settings import *  # noqa: F403
from .settings import STORAGES

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEBHOOKS_ALLOW_HTTP = WEBHOOKS_ALLOW_PRIVATE = True
