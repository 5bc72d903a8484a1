"""The worker's Celery app, ``worker.celery_app:app``, configured from ``STAGE_*`` variables."""

from __future__ import annotations

from worker.celery_config import create_celery
from worker.settings import Settings

__all__ = ["app", "settings"]

settings = Settings.from_env()
app = create_celery(settings, include=["worker.tasks"])
