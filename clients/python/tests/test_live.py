"""Client and Worker against a live Tasklane API on loopback (AUTH=on), as the repository's test
suite starts one: TASKLANE_TEST_URL, TASKLANE_TEST_OWNER_KEY and TASKLANE_TEST_WORKER_KEY say where
and with which keys. Without them these tests are skipped, unless TASKLANE_TEST_REQUIRE_SERVER=1,
when their absence fails the run (so a run that was meant to reach a server cannot pass by skipping).
"""

import os
import threading
import unittest
import uuid

from tasklane import (Client, ConflictError, ForbiddenError, IdempotencyConflictError, LeaseLostError, NotFoundError,
                      TaskError, TaskTimeoutError, Worker)
from tasklane._http import Transport

URL = os.environ.get("TASKLANE_TEST_URL")
OWNER_KEY = os.environ.get("TASKLANE_TEST_OWNER_KEY")
WORKER_KEY = os.environ.get("TASKLANE_TEST_WORKER_KEY")
REQUIRED = os.environ.get("TASKLANE_TEST_REQUIRE_SERVER") == "1"

if REQUIRED and not (URL and OWNER_KEY and WORKER_KEY):
    raise RuntimeError("TASKLANE_TEST_REQUIRE_SERVER=1 but TASKLANE_TEST_URL/_OWNER_KEY/_WORKER_KEY are not all set")
if URL and not URL.startswith(("http://127.", "http://localhost", "http://[::1]")):
    raise RuntimeError(f"these tests talk to loopback only, not {URL}")


def unique_kind(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class RunningWorker:
    """A Worker running in a thread for one test; stopped (and joined) on exit."""

    def __init__(self, worker):
        self.worker = worker
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.worker.run(install_signal_handlers=False)
        except BaseException as error:  # noqa: BLE001
            self.error = error

    def __enter__(self):
        self.thread.start()
        return self.worker

    def __exit__(self, *exc):
        self.worker.stop()
        self.thread.join(30)


@unittest.skipUnless(URL, "no live server (TASKLANE_TEST_URL)")
class LiveClientTest(unittest.TestCase):
    def setUp(self):
        self.client = Client(URL, api_key=OWNER_KEY)

    def tearDown(self):
        self.client.close()

    def test_submit_get_list_and_cancel_speak_the_seed_shapes(self):
        kind = unique_kind("py_crud")
        task = self.client.submit(kind, {"prompt": "a cat", "duration_seconds": 5}, idempotency_key="k1-" + kind)
        self.assertEqual(list(task), ["task_id", "status", "progress", "created_at", "updated_at", "completed_at", "result", "error"])
        self.assertEqual(self.client.get(task["task_id"])["status"], "pending")
        self.assertIn(task["task_id"], [t["task_id"] for t in self.client.list(status="pending", kind=kind)])
        again = self.client.submit(kind, {"prompt": "a cat", "duration_seconds": 5}, idempotency_key="k1-" + kind)
        self.assertEqual(again["task_id"], task["task_id"])
        with self.assertRaises(IdempotencyConflictError) as caught:
            self.client.submit(kind, {"prompt": "a dog"}, idempotency_key="k1-" + kind)
        self.assertEqual((caught.exception.status, caught.exception.code), (422, "IDEMPOTENCY_CONFLICT"))
        cancelled = self.client.cancel(task["task_id"])
        self.assertEqual(cancelled, {"success": True, "message": f"Task {task['task_id']} has been cancelled", "task_id": task["task_id"]})
        self.assertEqual(self.client.wait(task["task_id"], timeout=30)["status"], "cancelled")

    def test_an_unknown_task_raises_not_found_with_the_server_code(self):
        with self.assertRaises(NotFoundError) as caught:
            self.client.get("vid_00000000000000000000000000")
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "NOT_FOUND"))

    def test_wait_gives_up_with_a_timeout_error_carrying_the_last_state(self):
        task = self.client.submit(unique_kind("py_idle"))
        with self.assertRaises(TaskTimeoutError) as caught:
            self.client.wait(task["task_id"], timeout=1)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertEqual(caught.exception.task["status"], "pending")

    def test_a_worker_key_cannot_read_tasks(self):
        with Client(URL, api_key=WORKER_KEY) as worker_client, self.assertRaises(ForbiddenError) as caught:
            worker_client.list()
        self.assertEqual(caught.exception.code, "FORBIDDEN")


@unittest.skipUnless(URL, "no live server (TASKLANE_TEST_URL)")
class LiveWorkerTest(unittest.TestCase):
    def setUp(self):
        self.client = Client(URL, api_key=OWNER_KEY)

    def tearDown(self):
        self.client.close()

    def test_a_worker_runs_a_task_with_progress_and_wait_and_follow_see_it_through(self):
        kind = unique_kind("py_run")
        worker = Worker(URL, api_key=WORKER_KEY, concurrency=2, grace_period=1)
        gate = threading.Event()

        @worker.handler(kind, service="py-render")
        def render(task, ctx):
            ctx.progress(10, "loading model")
            gate.wait(30)
            ctx.progress(60, "rendering")
            return {"video_url": f"https://cdn.example.com/{task['task_id']}.mp4", "prompt": task["input"]["prompt"]}

        with RunningWorker(worker):
            task = self.client.submit(kind, {"prompt": "a cat"})
            states = []
            for state in self.client.follow(task["task_id"], timeout=60):
                states.append(state)
                if state["progress"] == 10:
                    gate.set()
            done = self.client.wait(task["task_id"], timeout=30)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["result"]["service"], "py-render")
        self.assertEqual(done["result"]["result"], {"video_url": f"https://cdn.example.com/{task['task_id']}.mp4", "prompt": "a cat"})
        self.assertEqual(states[-1], done)
        self.assertIn(10, [s["progress"] for s in states])

    def test_a_task_error_fails_the_task_with_its_type_and_message(self):
        kind = unique_kind("py_fail")
        worker = Worker(URL, api_key=WORKER_KEY)

        @worker.handler(kind)
        def reject(task, ctx):
            raise TaskError("ContentPolicy", "rejected", retryable=False)

        with RunningWorker(worker):
            task = self.client.submit(kind, {"prompt": "x"})
            done = self.client.wait(task["task_id"], timeout=30)
        self.assertEqual((done["status"], done["error"]), ("failed", {"type": "ContentPolicy", "message": "rejected"}))
        with self.assertRaises(ConflictError) as caught:
            self.client.cancel(task["task_id"])
        self.assertEqual(caught.exception.code, "TASK_NOT_CANCELLABLE")

    def test_an_owner_key_cannot_run_a_worker(self):
        worker = Worker(URL, api_key=OWNER_KEY)
        worker.handler(unique_kind("py_nope"))(lambda task, ctx: None)
        with self.assertRaises(ForbiddenError) as caught:
            worker.run(install_signal_handlers=False)
        self.assertEqual((caught.exception.status, caught.exception.code), (403, "FORBIDDEN"))

    def test_a_write_for_an_attempt_the_worker_does_not_hold_raises_lease_lost(self):
        kind = unique_kind("py_fence")
        task = self.client.submit(kind)
        http = Transport(URL, WORKER_KEY)
        try:
            claimed = http.request("POST", "/api/v1/workers/fence/claim", json={"kinds": [kind]}).json()["tasks"]
            self.assertEqual([t["task_id"] for t in claimed], [task["task_id"]])
            with self.assertRaises(LeaseLostError) as caught:
                http.request("POST", f"/api/v1/workers/fence/tasks/{task['task_id']}/complete", json={"attempt": 2, "result": {}})
            self.assertEqual((caught.exception.status, caught.exception.task_status), (409, "processing"))
            self.assertEqual(self.client.get(task["task_id"])["status"], "processing")
        finally:
            http.close()


if __name__ == "__main__":
    unittest.main()
