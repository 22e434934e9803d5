from django.urls import path

from targets.django_project import views

urlpatterns = [
    path("plaintext", views.plaintext),
    path("json", views.json),
    path("db", views.db),
    path("queries", views.queries),
    path("io", views.io),
    path("cpu", views.cpu),
]
