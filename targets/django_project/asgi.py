import os

from django.core.asgi import get_asgi_application

# ASGI serves the async views (settings_asgi); WSGI (wsgi.py) serves the sync ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "targets.django_project.settings_asgi")
application = get_asgi_application()
