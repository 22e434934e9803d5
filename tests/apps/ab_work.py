"""A bare ASGI app with a tunable CPU cost per request, for runner.ab's tests.

Each request (any path but /count) busy-loops for a known time before the standard /json
answer (tests/apps/weighted.py): `app` and `twin` for AB_WORK_MS milliseconds (default 1),
`heavier` for 30% more, `tenth` for 10% more. Two names of the same work are identical twins; `heavier` is a
candidate doing 30% more work a request.
"""

import os

from tests.apps.weighted import make_app

WORK_S = float(os.environ.get("AB_WORK_MS", "1")) / 1000

app = make_app(WORK_S)
twin = make_app(WORK_S)
heavier = make_app(WORK_S * 1.3)
tenth = make_app(WORK_S * 1.1)
