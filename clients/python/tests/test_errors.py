import unittest

from tasklane import (BadRequestError, ConflictError, IdempotencyConflictError, LeaseLostError, NotFoundError,
                      RateLimitedError, UnavailableError)
from tasklane.errors import error_from_answer


class ErrorFromAnswerTest(unittest.TestCase):
    def test_maps_statuses_to_typed_errors_carrying_the_server_code(self):
        cases = [
            (400, {"code": "BAD_USER_INPUT", "field": "kind", "rule": "is required", "detail": "kind: is required"}, BadRequestError),
            (404, {"code": "NOT_FOUND", "detail": "Task x not found"}, NotFoundError),
            (409, {"code": "TASK_NOT_CANCELLABLE", "detail": "already completed"}, ConflictError),
            (409, {"code": "LEASE_LOST", "task_status": "cancelled", "detail": "gone"}, LeaseLostError),
            (422, {"code": "IDEMPOTENCY_CONFLICT", "detail": "reused"}, IdempotencyConflictError),
            (503, {"code": "UNAVAILABLE", "detail": "database away"}, UnavailableError),
            (502, None, UnavailableError),
        ]
        for status, body, cls in cases:
            error = error_from_answer(status, body)
            self.assertIs(type(error), cls, (status, body))
            self.assertEqual(error.status, status)
            self.assertEqual(error.code, (body or {}).get("code"))
        bad = error_from_answer(400, cases[0][1])
        self.assertEqual((bad.field, bad.rule, str(bad)), ("kind", "is required", "kind: is required"))
        self.assertEqual(error_from_answer(409, cases[3][1]).task_status, "cancelled")

    def test_a_rate_limit_carries_retry_after(self):
        error = error_from_answer(429, {"code": "RATE_LIMITED", "detail": "slow down"}, "7")
        self.assertIsInstance(error, RateLimitedError)
        self.assertEqual(error.retry_after, 7.0)


if __name__ == "__main__":
    unittest.main()
