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
    P session:{id}:pins       hash   version → until (epoch s): a publish is copying it
    P session:{id}:trash      set    expired versions whose objects are not deleted yet
    P session:{id}:gc-lock    string the collector working on this session (expires by itself)
    P session:{id}:builder    hash   node → the worker node holding the session's warm build
                              context; claim:<version> → "<task id> <node>" of the routed
                              copy that claimed it (expires after STAGE_WARM_IDLE_S)
    P worker:<node>           string a render worker node's heartbeat (expires by itself)
    P sessions                zset   session id → last push, render or creation (epoch s)
    P gc-due                  zset   session id → when a render of it ended (retention to run)
    P deleted                 zset   deleted session id → when (its objects swept until grace)
    P gc-lock                 string the worker collecting this interval (expires by itself)
    P gc-scan                 string SCAN cursor of the pass that indexes unlisted sessions
    P shared-units            zset   shared unit (a vendor/<set>/ folder, or the one overlay
                              file) → when a ready version last started using it (epoch s)
    P shared:<unit>           set    "<id>:<version>" of ready versions that load the unit
    P shared-lock:<unit>      string the collector deciding about the unit (expires by itself)
    P building                zset   "<id>:<version>" of renders in building → start (epoch s)
    P inputs                  hash   input hash → folder of a ready version built from it
    P reaper-lock             string the worker reaping this interval (expires by itself)
    P app:{sid}               hash   name, description, author, status, createdAt, updatedAt
    P app:{sid}:versions      hash   appVersionSid → app version (JSON)
    P app:{sid}:order         list   appVersionSids, newest first
    P app:{sid}:channels      hash   channel → {"appVersionSid", "revision", "updatedAt"}
    P app:{sid}:pointer-lock:<channel>   lock of the channel's pointer object writes
    P app:{sid}:logs:<appVersionSid>     list   the version's route console lines (JSON),
                                               newest last, trimmed to STAGE_API_LOG_LINES
    P app:{sid}:inference:<YYYY-MM-DD>   hash   the app's model use that UTC day: totals
                                               ``tokens``, ``images``, in-flight reservations
                                               ``reserved:tokens``, ``reserved:images``, and
                                               per model ``model:<name>:<count>``
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
    pins: str
    trash: str
    gc_lock: str
    builder: str


@dataclass(frozen=True)
class AppKeys:
    """The keys of one published app."""

    app: str
    versions: str
    order: str
    channels: str

    def pointer_lock(self, channel: str) -> str:
        return f"{self.app}:pointer-lock:{channel}"

    def logs(self, app_version_sid: str) -> str:
        return f"{self.app}:logs:{app_version_sid}"

    def inference(self, day: str) -> str:
        """``day`` is a UTC date, ``YYYY-MM-DD``."""
        return f"{self.app}:inference:{day}"


@dataclass(frozen=True)
class Keys:
    """The key layout under one prefix. Ids must be validated before they get here."""

    prefix: str

    def session(self, session_id: str) -> SessionKeys:
        base = f"{self.prefix}session:{{{session_id}}}"
        return SessionKeys(
            base,
            f"{base}:files",
            f"{base}:binary",
            f"{base}:version",
            f"{base}:renders",
            f"{base}:live",
            f"{base}:events",
            f"{base}:pins",
            f"{base}:trash",
            f"{base}:gc-lock",
            f"{base}:builder",
        )

    def app(self, sid: str) -> AppKeys:
        base = f"{self.prefix}app:{{{sid}}}"
        return AppKeys(base, f"{base}:versions", f"{base}:order", f"{base}:channels")

    @property
    def apps(self) -> str:
        return f"{self.prefix}apps"

    def worker(self, node: str) -> str:
        """A render worker node's heartbeat."""
        return f"{self.prefix}worker:{node}"

    @property
    def building(self) -> str:
        return f"{self.prefix}building"

    @property
    def inputs(self) -> str:
        return f"{self.prefix}inputs"

    @property
    def reaper_lock(self) -> str:
        return f"{self.prefix}reaper-lock"

    @property
    def sessions(self) -> str:
        return f"{self.prefix}sessions"

    @property
    def gc_due(self) -> str:
        return f"{self.prefix}gc-due"

    @property
    def deleted(self) -> str:
        return f"{self.prefix}deleted"

    @property
    def gc_lock(self) -> str:
        return f"{self.prefix}gc-lock"

    @property
    def gc_scan(self) -> str:
        return f"{self.prefix}gc-scan"

    @property
    def shared_units(self) -> str:
        return f"{self.prefix}shared-units"

    def shared(self, unit: str) -> str:
        return f"{self.prefix}shared:{unit}"

    def shared_lock(self, unit: str) -> str:
        return f"{self.prefix}shared-lock:{unit}"
