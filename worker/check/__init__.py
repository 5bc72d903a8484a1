"""The boot check: the ``stage.check`` task (:mod:`.tasks`) → :class:`.boot.BootChecker`,
which opens a ready version in headless Chromium (:mod:`.browser`) through one visit
(:mod:`.visit`, its page scripts in ``scripts/``) and maps errors to session files
(:mod:`.sourcemap`). Needs the ``check`` extra (Playwright, Pillow)."""

__all__: list[str] = []
