"""The gateway side of the contract: ``from worker.client import StageClient``.

It writes the Redis keys of docs/contract.md and sends ``stage.render`` by name, exactly as
a gateway in another language would, and publishes ready renders as apps. It loads no
build, browser or Deno code.
"""

from worker.client.api import AppsAPI, SessionsAPI, StageClient
from worker.client.publishing import App, AppStore, AppVersion, Channel, Channels, Publication

__all__ = [
    "App",
    "AppStore",
    "AppVersion",
    "AppsAPI",
    "Channel",
    "Channels",
    "Publication",
    "SessionsAPI",
    "StageClient",
]
