"""Labels tell what ran: derived from `app_label` and the server's settings, a hand label kept
only while it still names what runs (issue 20)."""

from __future__ import annotations

import pytest

from runner.config.compose import experiment_from_config
from runner.config.experiment import Target
from runner.config.experiment.labels import target_label
from tests.conftest import compose_config, shipped_experiments

GRANIAN = ("targets.fastapi.server=granian", "+targets.fastapi.interface=asgi")


def test_quickstart_labels_are_derived_from_what_runs() -> None:
    experiment = experiment_from_config(compose_config("quickstart"))
    labels = [experiment.label(name) for name in experiment.targets]
    assert labels == ["FastAPI (uvicorn)", "Django WSGI (gunicorn sync)", "Django ASGI (uvicorn)"]


def test_a_server_override_changes_the_label() -> None:
    experiment = experiment_from_config(compose_config("quickstart", *GRANIAN))
    assert experiment.label("fastapi") == "FastAPI (granian, asgi)"


def test_settings_that_differ_are_in_the_label() -> None:
    experiment = experiment_from_config(
        compose_config(
            "quickstart",
            "targets.django_wsgi.worker_class=gthread",
            "+targets.django_wsgi.threads=8",
            "targets.django_wsgi.workers=2",
        )
    )
    assert experiment.label("django_wsgi") == "Django WSGI (gunicorn gthread, 2 workers, 8 threads)"


def test_a_hand_label_naming_another_server_shows_what_ran() -> None:
    experiment = experiment_from_config(
        compose_config("quickstart", *GRANIAN, "+targets.fastapi.label='FastAPI (uvicorn)'")
    )
    assert experiment.label("fastapi") == "FastAPI (uvicorn) [ran: granian, asgi]"


@pytest.mark.parametrize(
    ("settings", "label", "shown"),
    [
        ({"server": "uvicorn"}, "FastAPI (uvicorn)", "FastAPI (uvicorn)"),
        ({"server": "uvicorn"}, "My app", "My app"),  # names nothing to check
        ({"server": "gunicorn"}, "Django (gunicorn sync)", "Django (gunicorn sync)"),
        (
            {"server": "gunicorn", "worker_class": "gthread"},
            "Django (gunicorn sync)",
            "Django (gunicorn sync) [ran: gunicorn gthread]",
        ),
        (
            {"server": "gunicorn", "worker_class": "uvicorn_worker.UvicornWorker"},
            "Django ASGI (gunicorn + uvicorn worker)",
            "Django ASGI (gunicorn + uvicorn worker)",
        ),
        (
            {"server": "uvicorn", "workers": 2},
            "FastAPI (uvicorn, 4 workers)",
            "FastAPI (uvicorn, 4 workers) [ran: uvicorn, 2 workers]",
        ),
    ],
)
def test_a_hand_label_is_kept_while_it_describes_what_runs(
    settings: dict[str, object], label: str, shown: str
) -> None:
    target = Target.model_validate({"app": "m:app", "label": label, **settings})
    assert target_label("t", target) == shown


def test_without_labels_the_target_name_stays() -> None:
    target = Target.model_validate({"app": "m:app", "server": "uvicorn"})
    assert target_label("fastapi", target) == "fastapi"
    url = Target.model_validate({"url": "http://127.0.0.1:8000", "app_label": "Mine"})
    assert target_label("mine", url) == "Mine"


def test_every_shipped_target_label_names_its_server() -> None:
    for name in shipped_experiments():
        experiment = experiment_from_config(compose_config(name))
        for target_name, target in experiment.targets.items():
            if target.server is not None:
                assert target.server in experiment.label(target_name), (name, target_name)
