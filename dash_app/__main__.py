"""Serve the results site: ``python -m dash_app [--host HOST]`` (loopback by default)."""

import argparse

from dash_app.app import app
from tallyflow.settings import LOOPBACK, get_settings

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m dash_app")
    parser.add_argument("--host", default=LOOPBACK,
                        help="address to bind (0.0.0.0 only inside a container)")
    args = parser.parse_args()
    app.run(host=args.host, port=get_settings().site_port, debug=False)
