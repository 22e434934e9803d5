"""A minimal Django project with production settings, served over WSGI and ASGI."""
