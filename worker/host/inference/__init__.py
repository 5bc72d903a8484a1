"""``@stage/inference``: model calls for published apps' routes, metered per app.

:func:`inference_module` builds the platform module from the host's settings: the
OpenAI-compatible provider when ``STAGE_INFERENCE_BASE_URL`` is set (else every call says
what to set), usage and quotas in the host's Redis, images in the artifact store.
"""

from __future__ import annotations

from worker.host.inference.meter import Meter
from worker.host.inference.module import NOT_CONFIGURED, Inference
from worker.host.inference.provider import OpenAICompatible, Provider, ProviderError
from worker.settings import Settings
from worker.state.connection import connect_redis
from worker.state.keys import Keys
from worker.storage import ArtifactStore

__all__ = [
    "Inference",
    "Meter",
    "OpenAICompatible",
    "Provider",
    "ProviderError",
    "NOT_CONFIGURED",
    "inference_module",
]


def inference_module(settings: Settings, store: ArtifactStore) -> Inference:
    """The ``inference`` module of a host configured by ``settings``."""
    provider = None
    if settings.inference_base_url:
        provider = OpenAICompatible(
            settings.inference_base_url,
            settings.inference_api_key,
            retries=settings.inference_retries,
        )
    meter = Meter(
        connect_redis(settings.redis_url),
        Keys(settings.key_prefix),
        {
            "tokens": settings.inference_app_quota_tokens,
            "images": settings.inference_app_quota_images,
        },
    )
    return Inference(settings, provider, meter, store)
