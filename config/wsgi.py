"""The WSGI application that servers such as gunicorn load: ``config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A web request waits at most this many seconds for one statement (see DATABASE_* settings).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "15")

from customers.middleware import ChunkedBodyMiddleware

application = ChunkedBodyMiddleware(get_wsgi_application())
