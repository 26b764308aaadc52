/**
 * The built-in templates render exactly what the code rendered before they
 * became Liquid templates: builtin-messages.json was written by the code of
 * lib/notify/templates.ts as it was (commit "test: pin today's messages"),
 * and every case of builtin-cases.ts must still render byte for byte the same
 * on every channel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { renderEmail, renderPush, webPushPayload } from '../../../lib/notify/index.ts';
import { BUILTIN_CASES, UNSUBSCRIBE_LINK } from './builtin-cases.ts';

const PINNED = JSON.parse(readFileSync(new URL('./builtin-messages.json', import.meta.url), 'utf8')) as Record<string, { email: unknown; push: unknown; webpush: unknown }>;

describe('the built-in messages are the ones sent before templates could be edited', () => {
  test('every pinned case has a notification and every notification a pinned message', () => {
    expect(Object.keys(PINNED).sort()).toEqual(Object.keys(BUILTIN_CASES).sort());
  });

  test.each(Object.entries(BUILTIN_CASES))('%s renders as pinned on email, push and webpush', (name, n) => {
    const webpush = webPushPayload({ ...n, channel: 'webpush' }, UNSUBSCRIBE_LINK);
    expect(renderEmail(n, UNSUBSCRIBE_LINK)).toEqual(PINNED[name]!.email);
    expect(renderPush({ ...n, channel: 'push' })).toEqual(PINNED[name]!.push);
    expect({ title: webpush.title, body: webpush.body, lang: webpush.lang }).toEqual(PINNED[name]!.webpush);
  });
});
