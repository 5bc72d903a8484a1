"""Every Redis key the worker and the client use, named in one place.

``P`` is ``STAGE_KEY_PREFIX`` (default ``stage:``); docs/contract.md is the reference for
gateways. The ``{id}`` braces are Redis Cluster hash tags: one session's (or one app's)
keys share a slot, so a Lua script may touch all of them.

    P session:{id}            hash   name, createdAt, googleScopes (JSON array)
    P session:{id}:files      hash   path → file bytes
    P session:{id}:binary     set    paths pushed as base64 (read back as base64)
    P session:{id}:version    string version counter; INCR assigns render versions
    P session:{id}:renders    hash   version → render record (JSON, RenderRecord.to_dict())
    P session:{id}:live       string the newest ready version
    P session:{id}:events     pub/sub channel: a version number each time a render ends,
                              "check:<version>" each time a version's boot check is stored
    P building                zset   "<id>:<version>" of renders in building → start (epoch s)
    P inputs                  hash   input hash → folder of a ready version built from it
    P reaper-lock             string the worker reaping this interval (expires by itself)
    P app:{sid}               hash   name, description, author, status, createdAt, updatedAt
    P app:{sid}:versions      hash   appVersionSid → app version (JSON)
    P app:{sid}:order         list   appVersionSids, newest first
    P app:{sid}:channels      hash   channel → {"appVersionSid", "revision", "updatedAt"}
    P app:{sid}:pointer-lock:<channel>   lock of the channel's pointer object writes
    P apps                    zset   sid → creation time (epoch seconds)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys", "SessionKeys", "AppKeys"]


@dataclass(frozen=True)
class SessionKeys:
    """The keys of one session."""

    session: str
    files: str
    binary: str
    version: str
    renders: str
    live: str
    events: str


@dataclass(frozen=True)
class AppKeys:
    """The keys of one published app."""

    app: str
    versions: str
    order: str
    channels: str

    def pointer_lock(self, channel: str) -> str:
        return f"{self.app}:pointer-lock:{channel}"


@dataclass(frozen=True)
class Keys:
    """The key layout under one prefix. Ids must be validated before they get here."""

    prefix: str

    def session(self, session_id: str) -> SessionKeys:
        base = f"{self.prefix}session:{{{session_id}}}"
        return SessionKeys(base, f"{base}:files", f"{base}:binary", f"{base}:version",
                           f"{base}:renders", f"{base}:live", f"{base}:events")

    def app(self, sid: str) -> AppKeys:
        base = f"{self.prefix}app:{{{sid}}}"
        return AppKeys(base, f"{base}:versions", f"{base}:order", f"{base}:channels")

    @property
    def apps(self) -> str:
        return f"{self.prefix}apps"

    @property
    def building(self) -> str:
        return f"{self.prefix}building"

    @property
    def inputs(self) -> str:
        return f"{self.prefix}inputs"

    @property
    def reaper_lock(self) -> str:
        return f"{self.prefix}reaper-lock"
