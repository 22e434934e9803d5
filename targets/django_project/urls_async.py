from django.urls import path

from targets.django_project import async_views

urlpatterns = [
    path("plaintext", async_views.plaintext),
    path("json", async_views.json),
    path("db", async_views.db),
    path("queries", async_views.queries),
    path("io", async_views.io),
    path("cpu", async_views.cpu),
]
