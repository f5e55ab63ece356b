"""The portal's rate limits are the routes' own (``@limiter.limit``), so flask-limiter's check
before every request is left out (portal/extensions.py): the limited routes must still be
limited, and limits meant for every route, when someone configures them, must still apply."""

from __future__ import annotations

import pytest

from portal import create_app
from tests.test_alerts import subscribe

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_routes_own_limit_still_holds_and_other_pages_are_not_limited(app_config) -> None:
    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "STATUS_LOOKUP_RATE_LIMIT": "2 per hour"}
    )
    client = limited.test_client()
    assert [client.get("/privacy").status_code for _ in range(12)] == [200] * 12
    assert subscribe(client, "een@voorbeeld.nl").status_code == 303
    assert subscribe(client, "twee@voorbeeld.nl").status_code == 303
    assert subscribe(client, "drie@voorbeeld.nl").status_code == 429


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_limits_for_every_route_apply_when_configured(app_config, setting: str) -> None:
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, setting: "3 per hour"})
    client = limited.test_client()
    assert [client.get("/privacy").status_code for _ in range(4)] == [200, 200, 200, 429]
