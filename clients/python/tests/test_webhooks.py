import base64
import hashlib
import hmac
import unittest

from tasklane import WebhookVerificationError, verify_webhook
from tasklane.webhooks import sign

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
MSG_ID = "msg_2Xn8sLq0"
TIMESTAMP = 1767225600  # 2026-01-01T00:00:00Z
BODY = '{"type":"task.completed","data":{"task_id":"vid_01jh8x2c3d4e5f6g7h8j9k0m1n"}}'
# HMAC-SHA256 over "msg_2Xn8sLq0.1767225600.<BODY>" keyed with bytes 0..31, in base64 (computed with openssl dgst -hmac). Also
# checked against the npm standardwebhooks package in test/python/python-package.test.ts.
EXPECTED = "v1,cH6Cg78hsWIUOKfR9F1saaLdYsFF93jv79xTYMSvE5c="


def headers(signature, timestamp=TIMESTAMP, msg_id=MSG_ID):
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(timestamp), "Webhook-Signature": signature}


class VerifyWebhookTest(unittest.TestCase):
    def test_signs_id_timestamp_and_body_with_the_decoded_secret(self):
        independent = base64.b64encode(
            hmac.new(KEY, f"{MSG_ID}.{TIMESTAMP}.{BODY}".encode(), hashlib.sha256).digest()).decode()
        self.assertEqual(sign(MSG_ID, TIMESTAMP, BODY, SECRET), "v1," + independent)
        self.assertEqual(sign(MSG_ID, TIMESTAMP, BODY, SECRET), EXPECTED)

    def test_accepts_a_valid_delivery_and_returns_its_payload(self):
        payload = verify_webhook(BODY.encode(), headers(EXPECTED), SECRET, now=TIMESTAMP + 10)
        self.assertEqual(payload["data"]["task_id"], "vid_01jh8x2c3d4e5f6g7h8j9k0m1n")

    def test_accepts_any_one_valid_signature_among_several(self):
        rotated = f"v1,{base64.b64encode(b'x' * 32).decode()} v2,abc {EXPECTED}"
        self.assertEqual(verify_webhook(BODY, headers(rotated), SECRET, now=TIMESTAMP)["type"], "task.completed")

    def test_rejects_a_wrong_signature_a_changed_body_and_another_secret(self):
        wrong = "v1," + base64.b64encode(b"\0" * 32).decode()
        other_secret = "whsec_" + base64.b64encode(b"\1" * 32).decode()
        for body, sig, secret in [(BODY, wrong, SECRET), (BODY + " ", EXPECTED, SECRET), (BODY, EXPECTED, other_secret),
                                  (BODY, EXPECTED.replace("v1,", "v2,"), SECRET), (BODY, "", SECRET)]:
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(body, headers(sig), secret, now=TIMESTAMP)

    def test_rejects_a_timestamp_more_than_five_minutes_off_either_way(self):
        for now in (TIMESTAMP + 301, TIMESTAMP - 301):
            with self.assertRaisesRegex(WebhookVerificationError, "5 minutes"):
                verify_webhook(BODY, headers(EXPECTED), SECRET, now=now)
        self.assertIsNotNone(verify_webhook(BODY, headers(EXPECTED), SECRET, now=TIMESTAMP + 300))

    def test_rejects_missing_headers_and_a_malformed_timestamp(self):
        with self.assertRaisesRegex(WebhookVerificationError, "webhook-id"):
            verify_webhook(BODY, {"webhook-timestamp": str(TIMESTAMP), "webhook-signature": EXPECTED}, SECRET, now=TIMESTAMP)
        with self.assertRaisesRegex(WebhookVerificationError, "whole number"):
            verify_webhook(BODY, headers(EXPECTED, timestamp="soon"), SECRET, now=TIMESTAMP)


if __name__ == "__main__":
    unittest.main()
