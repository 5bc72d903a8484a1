"""What the worker and the gateway keep in Redis: sessions, render records, indexes, keys.

Every key is named in :mod:`worker.state.keys`, every Redis error becomes a
:class:`worker.errors.StoreUnavailableError` in :mod:`worker.state.connection`, and every
multi-key change is one Lua script of ``lua/``. :class:`worker.state.stores.RedisStores`
holds them all over one client. (This package's own import stays light: the settings read
cluster URLs with :mod:`worker.state.cluster`.)
"""

from worker.state.keys import Keys, SessionKeys

__all__ = ["Keys", "SessionKeys"]
