"""Production settings: DEBUG off, no middleware the endpoints do not need, no request logging.

The middleware list is empty on purpose (as in TechEmpower's Django entry): the comparison is
about the framework and server, not about session or CSRF handling the endpoints never use.
These settings serve WSGI (sync views); `settings_asgi` adapts them for ASGI (async views).
"""

import os

import dj_database_url

from targets.payloads import DATABASE_URL_ENV

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sweepbench-benchmark-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "targets.django_project.urls"
# The project package is its own app: it holds the `World` model.
INSTALLED_APPS: list[str] = ["targets.django_project"]
MIDDLEWARE: list[str] = []
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# The runner seeds the database and names it here (sqlite:///path or a PostgreSQL URL).
# Under WSGI each worker thread keeps its connection open (CONN_MAX_AGE=None), as
# production deployments do.
_database_url = os.environ.get(DATABASE_URL_ENV)
DATABASES = (
    {"default": dj_database_url.parse(_database_url, conn_max_age=None)} if _database_url else {}
)
