"""Serve the results site: ``python -m dash_app [--host HOST]`` (loopback by default).

Served by gunicorn, a production WSGI server: one process (the casting API's rate limit
and publisher live in it) with threads for concurrent requests. No access log: request
lines would keep receipts next to client addresses.
"""

import argparse

from gunicorn.app.base import BaseApplication

from tallyflow.settings import LOOPBACK, get_settings

THREADS = 8


class Site(BaseApplication):
    def __init__(self, bind: str) -> None:
        self.bind = bind
        super().__init__()

    def load_config(self) -> None:
        for key, value in {
            "bind": self.bind, "workers": 1, "threads": THREADS, "worker_class": "gthread",
            "accesslog": None, "errorlog": "-", "loglevel": "warning",
            "timeout": 60, "graceful_timeout": 10,
            # Headers and request lines as small as the API needs.
            "limit_request_line": 4094, "limit_request_fields": 50,
            "limit_request_field_size": 8190,
        }.items():
            self.cfg.set(key, value)

    def load(self):
        from dash_app.app import server

        return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m dash_app")
    parser.add_argument("--host", default=LOOPBACK,
                        help="address to bind (0.0.0.0 only inside a container)")
    args = parser.parse_args()
    print(f"the results site serves http://{args.host}:{get_settings().site_port}/", flush=True)
    Site(f"{args.host}:{get_settings().site_port}").run()
