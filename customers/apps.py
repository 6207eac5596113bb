from django.apps import AppConfig
from django.db.backends.signals import connection_created

from . import sqlite


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # SQLite folds the case of every letter, as PostgreSQL does: see customers/sqlite.py.
        connection_created.connect(sqlite.register_functions, dispatch_uid="customers.sqlite")
