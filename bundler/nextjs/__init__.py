"""Next.js app router projects (as v0 exports them) rendered as a single browser page.

- :mod:`bundler.nextjs.routes`: which ``page``/``layout`` files make which routes, and the
  generated entry that mounts the router with them;
- :mod:`bundler.nextjs.modules`: the ``next/*`` specifiers, served from ``next/*.tsx``;
- :mod:`bundler.nextjs.env`: ``process.env`` (``NODE_ENV``, ``NEXT_PUBLIC_*``);
- :mod:`bundler.nextjs.server_only`: server actions and route handlers the page reached.
"""

from bundler.nextjs.env import env_defines, public_env
from bundler.nextjs.modules import MODULES_DIGEST, NEXT_NAMESPACE, PROVIDED_PACKAGES, NextModules
from bundler.nextjs.routes import APP_DIRS, app_entry_source, app_routes, is_route_handler
from bundler.nextjs.server_only import at_import, server_only_errors

__all__ = [
    "APP_DIRS",
    "MODULES_DIGEST",
    "NEXT_NAMESPACE",
    "PROVIDED_PACKAGES",
    "NextModules",
    "app_entry_source",
    "app_routes",
    "at_import",
    "env_defines",
    "is_route_handler",
    "public_env",
    "server_only_errors",
]
