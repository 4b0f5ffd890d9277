"""Spark jobs: entry points and pure DataFrame transforms."""
