"""ASGI settings: the WSGI settings with async views, and connections as Django advises for ASGI.

Django runs each ASGI request's ORM work in a thread of its own, so a connection kept open per
thread would pile up: connections are closed after each request (CONN_MAX_AGE=0), and
PostgreSQL uses psycopg's connection pool instead (Django's `pool` option).
"""

from targets.django_project.settings import *  # noqa: F403
from targets.django_project.settings import DATABASES

ROOT_URLCONF = "targets.django_project.urls_async"

if DATABASES:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = True
