"""The WSGI application that servers such as gunicorn load: ``config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from customers.middleware import ChunkedBodyMiddleware

application = ChunkedBodyMiddleware(get_wsgi_application())
