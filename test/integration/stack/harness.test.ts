import { describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../../../emulators/stack/index.ts';
import { stack } from '../../helpers/index.ts';

describe('the shared integration stack', () => {
  it('runs every component, each answering on its port', async () => {
    // Prepare
    const { description } = stack();

    // Act
    const answers = await Promise.all(
      Object.values(description.functions).map(async (url) => (await fetch(url, { method: 'GET' })).status),
    );
    const sinkHealth = await fetch(`${description.sink}/healthz`);

    // Assess
    for (const status of answers) expect(status).toBeGreaterThanOrEqual(200);
    expect(sinkHealth.status).toBe(200);
    for (const name of COMPONENT_NAMES) expect(description.pids[name], name).toBeGreaterThan(0);
  });

  it('configures the functions to trust the Cloud Tasks emulator tokens and to call the sink', () => {
    // Prepare
    const { description } = stack();

    // Act
    const env = description.env;

    // Assess
    expect(env.RESTOCK_OIDC_ISSUERS).toBe(description.oidcIssuer);
    expect(env.RESTOCK_OIDC_JWKS_URL).toBe(description.jwksUrl);
    expect(env.RESTOCK_VERIFY_OIDC).toBe('true');
    expect(env.RESTOCK_NOTIFIER_URL).toBe(description.sink);
    expect(env.CLOUD_TASKS_EMULATOR_HOST).toBe(description.tasks);
    expect(env.RESTOCK_DELIVERY_URL).toBe(description.functions.deliverRestockBatch);
  });

  it('gives Firestore clients that read what they write', async () => {
    // Prepare
    const { firestore } = stack();
    const ref = firestore.collection('harness').doc(`probe-${Date.now()}`);

    // Act
    await ref.set({ ok: true });
    const snapshot = await ref.get();

    // Assess
    expect(snapshot.data()).toEqual({ ok: true });
  });

  it('has the topic, the push subscription to fanOutRestock and the dead-letter subscription', async () => {
    // Prepare
    const { pubsub, description } = stack();

    // Act
    const [subscription] = await pubsub.subscription(description.subscription).getMetadata();
    const [deadLetter] = await pubsub.subscription(description.deadLetterSubscription).exists();

    // Assess
    expect(subscription.pushConfig?.pushEndpoint).toBe(description.functions.fanOutRestock);
    expect(subscription.topic).toBe(`projects/${description.projectId}/topics/${description.topic}`);
    expect(subscription.deadLetterPolicy?.deadLetterTopic).toBe(
      `projects/${description.projectId}/topics/${description.deadLetterTopic}`,
    );
    expect(deadLetter).toBe(true);
  });
});
