"""Certifying an election: close, drain, recount, reconcile, tabulate, certify and lock.

Each step is a module here (the close is ``tallyflow.elections.lifecycle.close_election``;
the recount and the steps in a row are Spark jobs: ``jobs.recount_election`` and
``jobs.certify_election``). The ``certify_election`` DAG runs each as its own task and
``tallyflow certify`` runs them in a row. Every step records an audit entry: who, when,
and how it went.

A discrepancy stops certification with a report naming each check, what was expected,
what was found and where; the election then stays ``closed`` and, once the cause is
fixed, certification can run again. Certifying a certified election changes nothing and
reports the certificate it already has.
"""
