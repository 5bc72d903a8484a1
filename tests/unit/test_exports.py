"""The package's public surface: every public error is under one root and exported."""

from __future__ import annotations

import inspect

import worker
import worker.client
import worker.errors
import worker.state


def test_every_exported_name_exists_and_every_public_member_is_exported():
    public = {
        name
        for name, value in vars(worker).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert set(worker.__all__) == public
    assert sorted(worker.__all__) == worker.__all__


def test_every_error_of_the_package_is_under_stage_error_and_exported_from_worker():
    errors = {
        name: value
        for name, value in vars(worker.errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert set(errors) == set(worker.errors.__all__)
    for name, error in errors.items():
        assert issubclass(error, worker.StageError), name
        assert getattr(worker, name) is error, f"{name} is not exported from worker"


def test_errors_raised_elsewhere_in_the_package_come_from_the_errors_module():
    # An error class defined in another module would sit outside the documented tree.
    import worker.check.browser
    import worker.messages
    import worker.render.job
    import worker.state.connection

    for module in (
        worker.check.browser,
        worker.messages,
        worker.render.job,
        worker.state.connection,
        worker.client,
    ):
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Exception):
                assert value.__module__ == "worker.errors" or not value.__module__.startswith(
                    "worker"
                ), f"{module.__name__}.{name} is defined outside worker.errors"


def test_the_gateway_and_state_packages_export_what_callers_use():
    for package in (worker.client, worker.state):
        for name in package.__all__:
            assert hasattr(package, name), f"{package.__name__}.{name}"
    assert worker.client.StageClient.__module__ == "worker.client.api"
