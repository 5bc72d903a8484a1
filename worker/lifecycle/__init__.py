"""What a session costs is bounded by what its user keeps: retention of render versions
(:mod:`.retention`), idle sessions and deletion, shared vendor objects no version uses
(:mod:`.shared`), and the collector that runs them on the workers (:mod:`.collector`)."""

__all__: list[str] = []
