"""Alembic revision scripts, oldest first (``v0001_initial``, ``v0002_run_workers`` ...)."""
