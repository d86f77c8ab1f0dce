import { describe, expect, it } from 'vitest';
import { ConfigError, isPublicAddress, loadConfig, parseRetrySchedule, validateWebhook } from '../src/index.ts';

describe('webhook settings', () => {
  it('defaults to the issue schedule, a 10 s timeout and delivery on', () => {
    const { webhooks } = loadConfig({});
    expect(webhooks.retryDelaysMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(webhooks).toMatchObject({ timeoutMs: 10_000, deliver: true, concurrency: 32 });
  });

  it('allows private addresses and http only for local development unless told', () => {
    expect(loadConfig({}).webhooks).toMatchObject({ allowPrivate: true, allowHttp: true });
    expect(loadConfig({ HOST: '0.0.0.0' }).webhooks).toMatchObject({ allowPrivate: false, allowHttp: true });
    expect(loadConfig({ AUTH: 'on' }).webhooks).toMatchObject({ allowPrivate: false, allowHttp: false });
    expect(loadConfig({ AUTH: 'on', WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_ALLOW_HTTP: 'on' }).webhooks).toMatchObject({ allowPrivate: true, allowHttp: true });
  });

  it('reads WEBHOOK_RETRY_SCHEDULE with units and names a bad one', () => {
    expect(parseRetrySchedule('100ms, 2s,1m,1h,3')).toEqual([100, 2000, 60_000, 3_600_000, 3000]);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE="5s,soon"/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(/on or off/);
  });
});

describe('webhook addresses', () => {
  it('tells public addresses from loopback, private, link-local, metadata and mapped ones', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700::1111']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of ['127.0.0.1', '127.8.9.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', 'not-an-ip']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('normalizes the URL and fills the default events', () => {
    expect(validateWebhook({ url: 'HTTPS://Example.COM/hooks' }, { allowPrivate: false, allowHttp: false })).toEqual({
      url: 'https://example.com/hooks',
      events: ['completed', 'failed', 'cancelled'],
    });
    // A decimal IPv4 is still 127.0.0.1.
    expect(() => validateWebhook({ url: 'https://2130706433/x' }, { allowPrivate: false, allowHttp: false })).toThrow(/webhook\.url: must not point at a loopback/);
    expect(() => validateWebhook({ url: 'https://a:b@example.com/x' }, { allowPrivate: true, allowHttp: true })).toThrow(/user name or password/);
    expect(() => validateWebhook({ url: 'https://example.com', extra: 1 }, { allowPrivate: true, allowHttp: true })).toThrow(/webhook\.extra/);
    expect(() => validateWebhook({ url: 'https://example.com', events: [] }, { allowPrivate: true, allowHttp: true })).toThrow(/webhook\.events/);
  });
});
