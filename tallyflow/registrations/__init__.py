"""Voter registrations: the roll, its credentials, and its data-quality checks."""

# The Airflow asset a DAG updates when it changes a roll; validate_registrations runs on it.
REGISTRATIONS_ASSET = "tallyflow_registrations"
