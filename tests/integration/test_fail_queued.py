"""A render whose message could not be sent is stored as failed with a compare-and-set
(worker/state/lua/fail_queued.lua): only while the record is still queued, so a worker that got
the message after all and moved the record on is never overwritten."""

from __future__ import annotations

import pytest
from stage_samples import HELLO

from worker.models import RenderError

pytestmark = pytest.mark.integration


def test_a_queued_record_is_failed_and_a_building_one_is_left_alone(namespace):
    with namespace.client() as client:
        records = client.sessions._records
        session = client.sessions.create("not sent")
        client.sessions.push_files(session.id, HELLO)
        lost = records.request(session.id)
        failure = RenderError("infrastructure", "could not queue the render: broker down")

        assert records.fail_queued(session.id, lost.failed(failure)) is True
        stored = client.sessions.get_render(session.id, lost.version)
        assert stored.status == "failed" and stored.error == failure

        taken = records.request(session.id)
        assert records.transition(session.id, taken.started())  # a worker got it after all
        assert records.fail_queued(session.id, taken.failed(failure)) is False
        assert client.sessions.get_render(session.id, taken.version).status == "building"
