"""Serve the results site on the configured loopback port: ``python -m dash_app``."""

from dash_app.app import app
from tallyflow.settings import LOOPBACK, get_settings

if __name__ == "__main__":
    app.run(host=LOOPBACK, port=get_settings().site_port, debug=False)
