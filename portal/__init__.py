"""Wijkzaken signal portal: the app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the domain layer imports ``portal.*`` and must not load Flask
    from flask import Flask


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    from flask import Flask

    from portal import cli, extensions, views_common
    from portal import config as portal_config
    from portal.backoffice import bp as backoffice_bp
    from portal.paths import resource_dir
    from portal.public import bp as public_bp

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    portal_config.load(app, config)
    if proxies := int(app.config["TRUSTED_PROXIES"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    extensions.init_app(app)
    views_common.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(backoffice_bp)
    cli.init_app(app)
    return app
