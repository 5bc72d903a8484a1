"""Settings from STAGE_* variables: defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from worker.errors import ConfigError
from worker.settings import Settings


def config_error(environ: dict[str, str], **overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ, **overrides)
    return str(info.value)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_empty_environment_gives_the_documented_defaults():
    settings = Settings.from_env({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.effective_broker_url == settings.redis_url
    assert settings.key_prefix == "stage:"
    assert settings.queue == "stage.render"
    assert settings.s3_bucket == ""
    assert settings.artifacts_dir == Path(".stage/artifacts")
    assert settings.max_files == 500
    assert settings.max_file_bytes == 2 * 1024 * 1024
    assert settings.max_session_bytes == 20 * 1024 * 1024
    assert settings.max_path_length == 256
    assert (
        settings.build_timeout_s
        < settings.soft_time_limit_s
        < settings.hard_time_limit_s
        < settings.visibility_timeout_s
    )


def test_variables_without_the_stage_prefix_are_ignored():
    assert Settings.from_env({"PATH": "/bin", "STAGEFOO": "1", "stage_foo": "1"}) == Settings()


def test_every_field_is_read_from_stage_and_its_upper_case_name():
    for f in dataclasses.fields(Settings):
        assert Settings.variable(f.name) == "STAGE_" + f.name.upper()


def test_numbers_and_paths_are_parsed_to_their_field_types():
    settings = Settings.from_env(
        {
            "STAGE_MAX_FILES": "7",
            "STAGE_BUILD_TIMEOUT_S": "2.5",
            "STAGE_RENDER_MAX_RETRIES": "0",
            "STAGE_ARTIFACTS_DIR": "/var/lib/stage",
            "STAGE_BROKER_URL": "redis://broker:6379/1",
        }
    )
    assert settings.max_files == 7 and isinstance(settings.max_files, int)
    assert settings.build_timeout_s == 2.5
    assert settings.render_max_retries == 0
    assert settings.artifacts_dir == Path("/var/lib/stage")
    assert settings.effective_broker_url == "redis://broker:6379/1"


def test_unknown_stage_variable_fails_naming_it_and_listing_the_known_ones():
    message = config_error({"STAGE_MAX_FILE": "10"})
    assert message.startswith("unknown setting STAGE_MAX_FILE='10'; known settings: ")
    assert "STAGE_MAX_FILES" in message and "STAGE_BUILD_TIMEOUT_S" in message


def test_non_number_for_an_integer_names_the_variable_and_value():
    assert config_error({"STAGE_MAX_FILES": "ten"}) == (
        "STAGE_MAX_FILES='ten': must be a whole number"
    )


def test_fraction_for_an_integer_is_not_a_whole_number():
    assert config_error({"STAGE_MAX_SCOPES": "2.5"}) == (
        "STAGE_MAX_SCOPES='2.5': must be a whole number"
    )


def test_non_number_for_a_float_names_the_variable_and_value():
    assert config_error({"STAGE_RETRY_BACKOFF_S": "1s"}) == (
        "STAGE_RETRY_BACKOFF_S='1s': must be a number"
    )


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf"])
def test_non_finite_float_is_rejected(raw):
    # nan compares false with everything: unchecked, it would pass the ordering rule below.
    message = config_error({"STAGE_BUILD_TIMEOUT_S": raw})
    assert message == f"STAGE_BUILD_TIMEOUT_S={float(raw)!r}: must be a finite number"


def test_negative_number_is_rejected():
    assert config_error({"STAGE_MAX_SCOPES": "-1"}) == "STAGE_MAX_SCOPES=-1: must not be negative"


def test_zero_where_a_positive_number_is_needed_is_rejected():
    assert config_error({"STAGE_MAX_FILES": "0"}) == "STAGE_MAX_FILES=0: must be greater than 0"


def test_build_timeout_not_below_soft_limit_names_both_variables():
    assert config_error({"STAGE_BUILD_TIMEOUT_S": "60", "STAGE_SOFT_TIME_LIMIT_S": "60"}) == (
        "STAGE_BUILD_TIMEOUT_S=60.0: must be less than STAGE_SOFT_TIME_LIMIT_S=60"
    )


def test_soft_limit_not_below_hard_limit_names_both_variables():
    assert config_error({"STAGE_SOFT_TIME_LIMIT_S": "120"}) == (
        "STAGE_SOFT_TIME_LIMIT_S=120.0: must be less than STAGE_HARD_TIME_LIMIT_S=90"
    )


def test_hard_limit_not_below_visibility_timeout_names_both_variables():
    assert config_error({"STAGE_HARD_TIME_LIMIT_S": "300.5"}) == (
        "STAGE_HARD_TIME_LIMIT_S=300.5: must be less than STAGE_VISIBILITY_TIMEOUT_S=300"
    )


def test_limits_raised_together_in_order_are_accepted():
    settings = Settings.from_env(
        {
            "STAGE_BUILD_TIMEOUT_S": "100",
            "STAGE_SOFT_TIME_LIMIT_S": "200",
            "STAGE_HARD_TIME_LIMIT_S": "300",
            "STAGE_VISIBILITY_TIMEOUT_S": "400",
        }
    )
    assert settings.hard_time_limit_s == 300.0


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        (
            "STAGE_REDIS_URL",
            "http://localhost:6379",
            "must be a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL",
        ),
        (
            "STAGE_BROKER_URL",
            "kafka://localhost:9092",
            "must be a redis://, rediss://, unix://, amqp:// or amqps:// URL",
        ),
        (
            "STAGE_BROKER_URL",
            "redis+cluster://localhost:7000",
            "must be a redis://, rediss://, unix://, amqp:// or amqps:// URL",
        ),
        ("STAGE_BROKER_QUEUE_TYPE", "stream", "must be one of quorum, classic"),
        ("STAGE_S3_ENDPOINT_URL", "localhost:9000", "must be an http:// or https:// URL"),
        ("STAGE_PUBLIC_BASE_URL", "ftp://cdn.example", "must be an http:// or https:// URL"),
    ],
)
def test_url_with_the_wrong_scheme_names_the_variable_and_what_is_allowed(variable, value, rule):
    assert config_error({variable: value}) == f"{variable}={value!r}: {rule}"


@pytest.mark.parametrize("url", ["rediss://cache:6380/0", "unix:///run/redis.sock"])
def test_tls_and_socket_redis_urls_are_accepted(url):
    assert Settings.from_env({"STAGE_REDIS_URL": url}).redis_url == url


def test_rabbitmq_broker_and_cluster_store_are_accepted_together():
    settings = Settings.from_env(
        {
            "STAGE_REDIS_URL": "redis+cluster://r1:7000,r2:7001",
            "STAGE_BROKER_URL": "amqp://stage:secret@rabbit:5672/stage",
        }
    )
    assert settings.effective_broker_url == "amqp://stage:secret@rabbit:5672/stage"
    assert settings.broker_queue_type == "quorum"


def test_cluster_store_without_a_broker_names_the_missing_variable():
    assert config_error({"STAGE_REDIS_URL": "redis+cluster://r1:7000"}) == (
        "STAGE_BROKER_URL='': must be set when STAGE_REDIS_URL is a Redis Cluster (a cluster "
        "cannot be the Celery broker; use RabbitMQ, amqp://…)"
    )


@pytest.mark.parametrize("prefix", ["", "stage :", "stage:\n"])
def test_empty_or_spaced_key_prefix_is_rejected(prefix):
    assert config_error({"STAGE_KEY_PREFIX": prefix}) == (
        f"STAGE_KEY_PREFIX={prefix!r}: must be non-empty and contain no whitespace"
    )


def test_overrides_win_over_the_environment():
    settings = Settings.from_env({"STAGE_MAX_FILES": "7", "STAGE_QUEUE": "env"}, max_files=9)
    assert (settings.max_files, settings.queue) == (9, "env")


def test_overrides_are_validated_like_the_environment():
    assert config_error({}, build_timeout_s=75.0) == (
        "STAGE_BUILD_TIMEOUT_S=75.0: must be less than STAGE_SOFT_TIME_LIMIT_S=60"
    )


def test_a_changed_copy_is_validated_too():
    with pytest.raises(ConfigError) as info:
        dataclasses.replace(Settings(), queue="")
    assert str(info.value) == "STAGE_QUEUE='': must not be empty"


def test_boot_check_settings_default_to_checking_on_their_own_queue():
    settings = Settings.from_env({})
    assert settings.check is True
    assert settings.check_queue == "stage.check"
    assert settings.check_timeout_s == 10.0
    assert settings.chromium_path == "/usr/bin/chromium"
    off = Settings.from_env({"STAGE_CHECK": "false", "STAGE_CHECK_TIMEOUT_S": "2.5"})
    assert off.check is False and off.check_timeout_s == 2.5


def test_check_queue_may_not_be_the_render_queue():
    assert config_error({"STAGE_QUEUE": "jobs", "STAGE_CHECK_QUEUE": "jobs"}) == (
        "STAGE_CHECK_QUEUE='jobs': must differ from STAGE_QUEUE: render workers and "
        "checkers consume their own queues"
    )


def test_check_timeout_must_be_positive():
    assert config_error({"STAGE_CHECK_TIMEOUT_S": "0"}) == (
        "STAGE_CHECK_TIMEOUT_S=0.0: must be greater than 0"
    )
