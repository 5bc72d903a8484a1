"""Rendering: the ``stage.render`` task (:mod:`.tasks`) → the job, one render's record
lifecycle in Redis (:mod:`.job`) → the pipeline that builds and stores a version
(:mod:`.pipeline`); the reaper (:mod:`.reaper`) re-drives renders whose worker was lost."""

from worker.render.pipeline import BuiltVersion, RenderInput, build_version, input_hash

__all__ = ["BuiltVersion", "RenderInput", "build_version", "input_hash"]
