"""Log lines people and log pipelines can read: text, or one JSON object per line.

``STAGE_LOG_FORMAT=json`` turns every line the worker writes (Celery's own included) into
JSON. The one line per render carries structured fields (session, version, task id,
status, error kind, per-stage milliseconds) in either format.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "use_json", "task_id", "RENDER_FIELDS", "ms_since"]

#: The Celery task id of the render running in this context (set by the task).
task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("stage_task_id", default=None)
#: The ``extra=`` key under which a log record carries a render's structured fields.
RENDER_FIELDS = "stage_render"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...render fields, "exception"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(getattr(record, RENDER_FIELDS, None) or {})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def use_json(logger: logging.Logger) -> None:
    """Give every handler of ``logger`` the JSON formatter."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())


def ms_since(started: float) -> float:
    """Milliseconds since ``started`` (a :func:`time.perf_counter` reading), to 0.01 ms."""
    return round((time.perf_counter() - started) * 1000, 2)
