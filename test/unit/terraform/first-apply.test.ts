/**
 * One `terraform apply` on a fresh project brings the whole pipeline up
 * (issue 30): every resource that calls a Google API waits for that API to be
 * enabled and for the identities and IAM grants it needs, walked over the
 * dependency graph of every *.tf file; and the grants and identities a fresh
 * project does not have yet are made before anything uses them.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { dependencyGraph, dependsOn } from './graph.ts';
import { block, loadTerraform, resource, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;
let graph: Map<string, Set<string>>;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
  graph = dependencyGraph(tf.files);
}, 30_000);

/**
 * The APIs each resource or data source type calls. A Google type missing
 * here fails the walk below: whoever adds one says which API it needs.
 */
const APIS_OF: [RegExp, string[]][] = [
  [/^google_cloudfunctions2_function$/, ['cloudfunctions.googleapis.com', 'run.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com']],
  [/^(data\.)?google_cloud_run_v2_/, ['run.googleapis.com']],
  [/^google_pubsub_/, ['pubsub.googleapis.com']],
  // generateServiceIdentity of Service Usage, for the Pub/Sub agent: Pub/Sub must be on first.
  [/^google_project_service_identity$/, ['pubsub.googleapis.com']],
  [/^google_cloud_tasks_/, ['cloudtasks.googleapis.com']],
  [/^google_cloud_scheduler_/, ['cloudscheduler.googleapis.com']],
  [/^google_firestore_/, ['firestore.googleapis.com']],
  [/^google_secret_manager_/, ['secretmanager.googleapis.com']],
  [/^google_monitoring_/, ['monitoring.googleapis.com']],
  [/^google_logging_/, ['logging.googleapis.com']],
  [/^google_service_account/, ['iam.googleapis.com']],
  [/^google_project_iam_custom_role$/, ['iam.googleapis.com']],
  [/^google_project_iam_member$/, ['cloudresourcemanager.googleapis.com']],
  [/^google_storage_/, ['storage.googleapis.com']],
  [/^google_artifact_registry_/, ['artifactregistry.googleapis.com']],
  [/^data\.google_project$/, ['cloudresourcemanager.googleapis.com']],
  // The inventory service's own Spanner database, in its own project: the adopter enabled that API.
  [/^google_spanner_/, []],
  [/^google_project_service$/, []],
];

const apisOf = (address: string): string[] | undefined => {
  const type = address.replace(/\.[^.]+$/, '');
  return APIS_OF.find(([pattern]) => pattern.test(type))?.[1];
};

/** The google_project_service resources, with the services each enables. */
function serviceResources(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, r] of resourcesOf(tf, 'google_project_service')) {
    if (r.for_each === '${local.services}') out.set(`google_project_service.${name}`, [...String(tf.locals.services).matchAll(/"([a-z]+\.googleapis\.com)"/g)].map((m) => m[1]!));
    else out.set(`google_project_service.${name}`, [String(r.service)]);
  }
  return out;
}

/** Why `address` may call `api` before it is enabled, or undefined when it waits for it. */
function racesApi(address: string, api: string): string | undefined {
  const enabling = [...serviceResources()].filter(([, apis]) => apis.includes(api)).map(([a]) => a);
  if (enabling.length === 0) return `${address}: nothing enables ${api}`;
  return enabling.some((e) => dependsOn(graph, address, e)) ? undefined : `${address} does not wait for ${api} (${enabling.join(' or ')})`;
}

/** Identity-and-grant resources: IAM members and bindings of every kind. */
const isGrant = (address: string) => /^google_\w+_iam_(member|binding)\./.test(address);
const refersTo = (body: Hcl, what: RegExp) => what.test(JSON.stringify(body));
const bodyOf = (address: string): Hcl => {
  const [type, name] = address.split('.') as [string, string];
  return resource(tf, type, name);
};

describe('the first-apply order', () => {
  test('every Google resource and data source waits for each API it calls (google_project_service), walked over the reference and depends_on graph', () => {
    const googleAddresses = [...graph.keys()].filter((a) => /^(data\.)?google_/.test(a));
    expect(googleAddresses.length).toBeGreaterThan(60);
    const unknown = googleAddresses.filter((a) => apisOf(a) === undefined);
    expect(unknown, 'types without an entry in APIS_OF').toEqual([]);
    const racing = googleAddresses.flatMap((a) => apisOf(a)!.map((api) => racesApi(a, api)).filter((why): why is string => why !== undefined));
    expect(racing).toEqual([]);
  });

  test('the functions wait for every grant their build and runtime identities hold (through the IAM propagation wait), except their own invokers', () => {
    const fn = 'google_cloudfunctions2_function.function';
    const identities = /google_service_account\.(function|build)\b|local\.relay_member/;
    const grants = [...graph.keys()].filter(isGrant).filter((g) => refersTo(bodyOf(g), identities)).filter((g) => !dependsOn(graph, g, fn));
    expect(grants.length).toBeGreaterThan(10);
    const notWaited = grants.filter((g) => !dependsOn(graph, fn, g));
    expect(notWaited).toEqual([]);
    expect(dependsOn(graph, fn, 'time_sleep.iam_propagation')).toBe(true);
  });

  test('the functions wait for every secret version, so a revision never reads `latest` of a secret without one', () => {
    const versions = [...graph.keys()].filter((a) => a.startsWith('google_secret_manager_secret_version.'));
    expect(versions.length).toBeGreaterThanOrEqual(5);
    for (const version of versions) expect(dependsOn(graph, 'google_cloudfunctions2_function.function', version), version).toBe(true);
  });

  test('every push subscription waits for the function it pushes to, that function\u2019s own invoker binding, the token grant of its push identity, and its dead-letter topic\u2019s grant and subscription', () => {
    const pushes = resourcesOf(tf, 'google_pubsub_subscription').filter(([, s]) => s.push_config);
    expect(pushes.map(([name]) => name).sort()).toEqual(['fanout', 'shopper_actions']);
    for (const [name, sub] of pushes) {
      const address = `google_pubsub_subscription.${name}`;
      const push = block(sub.push_config);
      const target = /function_urls\["(\w+)"\]/.exec(String(push.push_endpoint))![1]!;
      const pushAccount = /google_service_account\.(\w+)/.exec(String(block(push.oidc_token).service_account_email))![1]!;
      const deadLetterTopic = /google_pubsub_topic\.(\w+)/.exec(String(block(sub.dead_letter_policy).dead_letter_topic))![1]!;
      const before = [
        'google_cloudfunctions2_function.function',
        // Its own binding only: a refused grant elsewhere never holds it back (issue 30 item 4).
        ...resourcesOf(tf, 'google_cloud_run_v2_service_iam_binding').filter(([, b]) => String(b.name).includes(`"${target}"`)).map(([n]) => `google_cloud_run_v2_service_iam_binding.${n}`),
        ...resourcesOf(tf, 'google_service_account_iam_member').filter(([, g]) => String(g.service_account_id).includes(`google_service_account.${pushAccount}`)).map(([n]) => `google_service_account_iam_member.${n}`),
        ...resourcesOf(tf, 'google_pubsub_topic_iam_member').filter(([, g]) => String(g.topic).includes(`google_pubsub_topic.${deadLetterTopic}`)).map(([n]) => `google_pubsub_topic_iam_member.${n}`),
        ...resourcesOf(tf, 'google_pubsub_subscription').filter(([, s]) => String(s.topic).includes(`google_pubsub_topic.${deadLetterTopic}`)).map(([n]) => `google_pubsub_subscription.${n}`),
      ];
      expect(before.length, address).toBe(5);
      for (const b of before) expect(dependsOn(graph, address, b), `${address} waits for ${b}`).toBe(true);
    }
  });

  test('the sweep\u2019s schedule waits for the relay and its invoker binding', () => {
    for (const before of ['google_cloudfunctions2_function.function', 'google_cloud_run_v2_service_iam_binding.invokers']) {
      expect(dependsOn(graph, 'google_cloud_scheduler_job.outbox_sweep', before), before).toBe(true);
    }
  });

  test('every grant waits for the identity it names (none names an account by a string built from the project number)', () => {
    const built = [...graph.keys()]
      .filter(isGrant)
      .filter((g) => /gcp-sa-|@\$\{|-compute@/.test(JSON.stringify(bodyOf(g).member ?? bodyOf(g).members ?? '')));
    expect(built).toEqual([]);
    expect(JSON.stringify(tf.locals)).not.toMatch(/gcp-sa-pubsub/);
  });
});

describe('what a fresh project does not have yet', () => {
  test('issue 30 item 1: the build identity may read Cloud Functions\u2019 own source bucket (gcf-v2-sources-<number>-<region>), by a grant conditioned on its name, waited for before the first build', () => {
    const grant = resource(tf, 'google_project_iam_member', 'build_reads_function_sources');
    expect(grant.role).toBe('roles/storage.objectViewer');
    expect(grant.member).toBe('serviceAccount:${google_service_account.build.email}');
    expect(block(grant.condition).expression).toBe('resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${local.project_number}-${var.region}")');
    expect(String(resource(tf, 'time_sleep', 'iam_propagation').triggers.grants)).toContain('google_project_iam_member.build_reads_function_sources.id');
  });

  test('issue 30 item 3: the Pub/Sub service agent is created explicitly (google-beta) and every grant to it uses its member', () => {
    const identity = resource(tf, 'google_project_service_identity', 'pubsub');
    expect(identity.provider).toBe('${google-beta}');
    expect(identity.service).toBe('pubsub.googleapis.com');
    expect(tf.locals.pubsub_service_agent).toBe('${google_project_service_identity.pubsub.member}');
    const agentGrants = [...graph.keys()].filter(isGrant).filter((g) => bodyOf(g).member === '${local.pubsub_service_agent}');
    expect(agentGrants.length).toBe(6);
    for (const g of agentGrants) expect(dependsOn(graph, g, 'google_project_service_identity.pubsub'), g).toBe(true);
  });

  test('issue 30 item 4: the public function, its identity and allUsers exist only while email or web push is sent directly (their messages carry its links), and allUsers can be left to the invoker IAM check instead', () => {
    expect(tf.locals.functions.restockUnsubscribe.deployed).toBe('${local.sends_links}');
    expect(tf.locals.direct_email).toBe('${var.email_sender == "smtp"}');
    expect(tf.locals.sends_links).toBe('${local.direct_email || var.webpush_sender == "webpush"}');
    expect(resource(tf, 'google_cloudfunctions2_function', 'function').for_each).toBe('${local.deployed_functions}');
    expect(resource(tf, 'google_service_account', 'function').for_each).toBe('${local.deployed_functions}');
    expect(resource(tf, 'google_cloud_run_v2_service_iam_member', 'unsubscribe_public').count).toBe('${local.sends_links && var.unsubscribe_allow_unauthenticated ? 1 : 0}');
    expect(tf.variable.unsubscribe_allow_unauthenticated.default).toBe(true);
    // The trigger of the pipeline waits for fan-out's own invokers, not for the public grant.
    expect(dependsOn(graph, 'google_pubsub_subscription.fanout', 'google_cloud_run_v2_service_iam_member.unsubscribe_public')).toBe(false);
    expect(dependsOn(graph, 'google_pubsub_subscription.fanout', 'google_cloud_run_v2_service_iam_binding.invokers')).toBe(false);
  });

  test('issue 30 item 5: every secret a function reads gets its version written in the same apply, from an ephemeral variable, while its feature is on', () => {
    const readers = new Map<string, string>([
      ['notifier_token', '${var.notifier_token}'],
      ['task_signing_key', '${var.task_signing_keys}'],
      ['smtp_password', '${var.smtp_password}'],
      ['dkim_private_key', '${var.dkim_private_key}'],
      ['unsubscribe_key', '${var.unsubscribe_keys}'],
      ['pseudonym_key', '${var.pseudonym_key}'],
      ['webpush_vapid_private_key', '${var.webpush_vapid_private_key}'],
    ]);
    const secretsRead = new Set(
      Object.values<Record<string, string>>(tf.locals.function_secret_env).flatMap((env) => Object.values(env).map((v) => /google_secret_manager_secret\.(\w+)\.secret_id/.exec(v)![1]!)),
    );
    expect([...secretsRead].sort()).toEqual([...readers.keys()].sort());
    for (const [secret, variable] of readers) {
      const version = resource(tf, 'google_secret_manager_secret_version', secret);
      expect(version.secret_data_wo, secret).toBe(variable);
      expect(tf.variable[variable.slice(6, -1)].ephemeral, secret).toBe(true);
    }
    // Written while the feature that reads it is on: the same conditions as locals.function_secret_env.
    expect(resource(tf, 'google_secret_manager_secret_version', 'smtp_password').count).toBe('${var.smtp_user == "" ? 0 : 1}');
    expect(resource(tf, 'google_secret_manager_secret_version', 'dkim_private_key').count).toBe('${var.dkim_domain == "" ? 0 : 1}');
    expect(resource(tf, 'google_secret_manager_secret_version', 'unsubscribe_key').count).toBe('${local.sends_links ? 1 : 0}');
    // restockSubscriptions, always deployed, always mounts the pseudonym key: its version is always written.
    expect(resource(tf, 'google_secret_manager_secret_version', 'pseudonym_key').count).toBeUndefined();
    expect(tf.locals.function_secret_env.restockSubscriptions.RESTOCK_PSEUDONYM_KEY).toBe('${google_secret_manager_secret.pseudonym_key.secret_id}');
  });
});
