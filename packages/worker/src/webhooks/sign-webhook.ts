import { Webhook } from 'standardwebhooks';

/**
 * The `webhook-signature` header: one `v1,<base64 HMAC>` per secret that signs now, separated by
 * spaces (both the new and the previous secret during a rotation's overlap), as the Standard
 * Webhooks spec allows. The library does the signing.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' ');
}
