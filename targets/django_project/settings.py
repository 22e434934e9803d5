"""Production settings: DEBUG off, no middleware the endpoints do not need, no request logging.

The middleware list is empty on purpose (as in TechEmpower's Django entry): the comparison is
about the framework and server, not about session or CSRF handling the endpoints never use.
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sweepbench-benchmark-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "targets.django_project.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
