"""The exit codes every ``stage-render`` command shares."""

EXIT_READY, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
