"""Tallyflow: the election domain, settings and clients. Never imports Airflow or Dash."""

__version__ = "0.1.0"
