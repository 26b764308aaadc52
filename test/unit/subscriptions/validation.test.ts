import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/http/index.ts';
import { MAX_ID_BYTES, idProblem, parseSubscriptionRequest } from '../../../lib/subscriptions/index.ts';
import { onlyKnownParams, parsePageSize } from '../../../lib/subscriptions/validation.ts';
import { decodePageToken, encodePageToken } from '../../../lib/subscriptions/page-token.ts';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return (err as InvalidRequestError).problems;
  }
  throw new Error('expected InvalidRequestError');
}

describe('PUT body validation', () => {
  it('accepts an email, a push token and a locale, and canonicalises the locale', () => {
    // Act
    const request = parseSubscriptionRequest({ channels: { email: 'ann@example.com', push: 'fcm:abc-123_x' }, locale: 'pt-br' });

    // Assess
    expect(request).toEqual({ channels: { email: 'ann@example.com', push: 'fcm:abc-123_x' }, locale: 'pt-BR' });
  });

  it("accepts the shopper's IANA time zone, kept as given", () => {
    expect(parseSubscriptionRequest({ channels: { push: 'token' }, timeZone: 'Pacific/Kiritimati' })).toEqual({ channels: { push: 'token' }, timeZone: 'Pacific/Kiritimati' });
  });

  it('stores the time zone in the runtime\'s spelling, as the locale is stored canonical: another case of one zone is the same wish', () => {
    expect(parseSubscriptionRequest({ channels: { push: 'token' }, timeZone: 'europe/BERLIN' })).toEqual({ channels: { push: 'token' }, timeZone: 'Europe/Berlin' });
  });

  it.each([
    ['Mars/Olympus', 'must be an IANA time zone like Europe/Berlin, America/New_York or UTC'],
    ['+02:00', 'must be an IANA time zone like Europe/Berlin, America/New_York or UTC'],
    [2, 'must be a string, not number'],
  ])('refuses the time zone %j, naming the field', (timeZone, detail) => {
    expect(problemsOf(() => parseSubscriptionRequest({ channels: { push: 't' }, timeZone }))).toEqual([{ pointer: '#/timeZone', detail }]);
  });

  it('accepts one channel without a locale', () => {
    expect(parseSubscriptionRequest({ channels: { push: 'token' } })).toEqual({ channels: { push: 'token' } });
  });

  it.each([
    [{ channels: 'x' }, '#/channels', 'must be an object, not string'],
    [{ channels: { push: 5 } }, '#/channels/push', 'must be a string, not number'],
    [{ channels: { email: 'a@b.co' }, locale: 5 }, '#/locale', 'must be a string, not number'],
  ])('a field of the wrong type (%j) is named with its type, not called missing', (body, pointer, detail) => {
    expect(problemsOf(() => parseSubscriptionRequest(body))).toEqual([{ pointer, detail }]);
  });

  it('a missing channels object is "is required"', () => {
    expect(problemsOf(() => parseSubscriptionRequest({}))).toEqual([{ pointer: '#/channels', detail: 'is required' }]);
  });

  it('refuses empty channels, naming #/channels', () => {
    expect(problemsOf(() => parseSubscriptionRequest({ channels: {} }))).toEqual([
      { pointer: '#/channels', detail: 'must name at least one channel: email, push or webpush' },
    ]);
  });

  it('refuses a missing channels field as required', () => {
    expect(problemsOf(() => parseSubscriptionRequest({ locale: 'en' }))).toEqual([{ pointer: '#/channels', detail: 'is required' }]);
  });

  it('refuses an invalid email without echoing it', () => {
    // Act
    const problems = problemsOf(() => parseSubscriptionRequest({ channels: { email: 'not-an-address' } }));

    // Assess
    expect(problems).toEqual([{ pointer: '#/channels/email', detail: 'must be an email address like name@example.com' }]);
    expect(JSON.stringify(problems)).not.toContain('not-an-address');
  });

  it('names every unknown field, at the top and inside channels', () => {
    // Act
    const problems = problemsOf(() =>
      parseSubscriptionRequest({ channels: { email: 'a@example.com', sms: '+100' }, emial: 'x' }),
    );

    // Assess
    expect(problems.map((p) => p.pointer).sort()).toEqual(['#/channels/sms', '#/emial']);
    expect(problems.every((p) => p.detail === 'is not a known field')).toBe(true);
  });

  it.each([
    ['a push token with spaces', { channels: { push: 'a b' } }, '#/channels/push'],
    ['an empty push token', { channels: { push: '' } }, '#/channels/push'],
    ['a push token that is a number', { channels: { push: 42 } }, '#/channels/push'],
    ['an email that is null', { channels: { email: null } }, '#/channels/email'],
    ['channels that are an array', { channels: ['email'] }, '#/channels'],
    ['a locale that is not a language tag', { channels: { push: 't' }, locale: 'not a locale!' }, '#/locale'],
    ['a locale longer than 35 characters', { channels: { push: 't' }, locale: 'en-' + 'a'.repeat(40) }, '#/locale'],
  ])('refuses %s, naming the field', (_name, body, pointer) => {
    expect(problemsOf(() => parseSubscriptionRequest(body)).map((p) => p.pointer)).toEqual([pointer]);
  });
});

describe('id validation', () => {
  it.each([
    ['empty', ''],
    ['with a slash', 'a/b'],
    ['a single dot', '.'],
    ['two dots', '..'],
    ['reserved __x__', '__name__'],
    ['with a control character', 'a\u0001b'],
    ['longer than the cap', 'x'.repeat(MAX_ID_BYTES + 1)],
    ['over the cap in UTF-8 bytes though not in characters', 'é'.repeat(MAX_ID_BYTES / 2 + 1)],
  ])('refuses an id %s', (_name, id) => {
    expect(idProblem(id)).toBeTypeOf('string');
  });

  it.each([['sku-123'], ['user@example.com'], ['ünïcødé'], ['x'.repeat(MAX_ID_BYTES)], ['a.b'], ['__a']])('accepts %s', (id) => {
    expect(idProblem(id)).toBeUndefined();
  });
});

describe('query parameters', () => {
  it('refuses an unknown parameter by name', () => {
    expect(problemsOf(() => onlyKnownParams(new Map([['page_size', ['5']]]), ['pageSize', 'pageToken']))).toEqual([
      { parameter: 'page_size', detail: 'is not a known parameter; known: pageSize, pageToken' },
    ]);
  });

  it('refuses a repeated parameter', () => {
    expect(problemsOf(() => onlyKnownParams(new Map([['pageSize', ['1', '2']]]), ['pageSize']))[0]?.parameter).toBe('pageSize');
  });

  it.each([['0'], ['101'], ['-1'], ['1.5'], ['ten'], ['']])('refuses pageSize=%s', (raw) => {
    expect(problemsOf(() => parsePageSize(raw))[0]?.parameter).toBe('pageSize');
  });

  it('defaults pageSize to 20 and accepts 1 and 100', () => {
    expect([parsePageSize(undefined), parsePageSize('1'), parsePageSize('100')]).toEqual([20, 1, 100]);
  });
});

describe('page tokens', () => {
  it('round-trip the product id for the same user', () => {
    expect(decodePageToken(encodePageToken('u1', 'sku/not-really'.replace('/', '-')), 'u1')).toBe('sku-not-really');
  });

  it('are refused for another user', () => {
    expect(problemsOf(() => decodePageToken(encodePageToken('u1', 'p'), 'u2'))).toEqual([
      { parameter: 'pageToken', detail: 'was issued for another user' },
    ]);
  });

  it.each([['garbage!'], ['e30'], [Buffer.from('{"u":"u1","a":"a/b"}').toString('base64url')]])('refuse %s', (token) => {
    expect(problemsOf(() => decodePageToken(token, 'u1'))[0]?.parameter).toBe('pageToken');
  });
});
