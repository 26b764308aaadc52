/**
 * Every block of terraform/ matches the real schema of the providers
 * versions.tf pins (hashicorp/google 6.50.0, hashicorp/archive 2.7.1, read from
 * their prebuilt CDKTF bindings on npm), and every reference to a resource's
 * attribute exists. Covers every *.tf file, whoever adds it.
 *
 * The checker proves itself: a deliberately broken copy of the real files,
 * one mistake of each kind, must be refused with that mistake named.
 */
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkReferences, checkSchemas, expressionsIn, type ParsedFile, type Problem, type ProblemKind } from './check.ts';
import { block, loadTerraform, type Hcl, type Terraform } from './hcl.ts';
import { gaBindingsHave, generatedFromVersion, GOOGLE_BETA_ONLY } from './schema.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module and the schemas are read with the TypeScript compiler: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 60_000);

const SLOW = { timeout: 60_000 };
const describeProblem = (p: Problem) => `${p.file}: ${p.where}: ${p.message} [${p.kind}]`;
const allProblems = (files: ParsedFile[]) => [...checkSchemas(files), ...checkReferences(files)].map(describeProblem);

describe('terraform/ against the provider schemas', () => {
  test('every resource, data source and provider block uses only arguments and blocks of its schema, with every required one', SLOW, () => {
    // Act
    const problems = checkSchemas(tf.files).map(describeProblem);
    // Assess
    expect(problems).toEqual([]);
    expect(Object.keys(tf.resource).length).toBeGreaterThan(15);
  });

  test('every reference to an attribute of a resource or data source exists in its schema', SLOW, () => {
    expect(checkReferences(tf.files).map(describeProblem)).toEqual([]);
  });

  test('the schemas are those of the provider versions versions.tf pins', SLOW, () => {
    const providers = block(tf.terraform.find((t) => t.required_providers).required_providers);
    for (const name of ['google', 'archive'] as const) {
      const checked = generatedFromVersion(name);
      const [major, minor] = checked.split('.');
      // "~> X.Y" admits X.Y.0 and later X.*: the schema checked is the oldest one Terraform may install.
      expect(providers[name].version, `${name}: pin the version the schema was checked against`).toBe(`~> ${major}.${minor}`);
    }
    expect(generatedFromVersion('google')).toBe('6.50.0');
  });
});

/** The real files with one text replaced; fails if the replaced text is no longer there. */
async function brokenCopy(file: string, from: RegExp | string, to: string): Promise<ParsedFile[]> {
  const original = tf.files.find((f) => f.path === `terraform/${file}`);
  if (!original) throw new Error(`terraform/${file} is gone: update the broken copy`);
  const text = original.text.replace(from, to);
  if (text === original.text) throw new Error(`terraform/${file} no longer contains ${from}: update the broken copy`);
  const json = await parse(original.path, text);
  return tf.files.map((f) => (f === original ? { path: f.path, text, json } : f));
}

describe('google-beta resources, whose schemas are written from the provider\u2019s source', () => {
  test('each type written by hand is still missing from the GA bindings (or it must be read from them instead), names the source it was read from, and is used with provider = google-beta', () => {
    for (const [type, { source }] of Object.entries(GOOGLE_BETA_ONLY)) {
      expect(gaBindingsHave(type), `${type} is in @cdktf/provider-google now: drop it from GOOGLE_BETA_ONLY`).toBe(false);
      expect(source).toMatch(/terraform-provider-google-beta .+\.go \(commit [0-9a-f]{40}\)/);
      const uses = Object.entries<Hcl>(tf.resource[type] ?? {});
      expect(uses.length, type).toBeGreaterThan(0);
      for (const [name, body] of uses) expect(body.provider, `${type}.${name}`).toBe('${google-beta}');
    }
    const providers = block(tf.terraform.find((t) => t.required_providers).required_providers);
    expect(providers['google-beta']).toEqual({ source: 'hashicorp/google-beta', version: providers.google.version });
  });

  test('a misspelt argument of a hand-written schema is refused like any other', SLOW, async () => {
    const broken = await brokenCopy('pubsub.tf', /service = "pubsub\.googleapis\.com"/, 'services = "pubsub.googleapis.com"');
    const found = checkSchemas(broken).map(describeProblem);
    expect(found).toEqual(
      expect.arrayContaining([expect.stringMatching(/google_project_service_identity\.pubsub\.services: unknown argument services/), expect.stringMatching(/the required argument service is missing/)]),
    );
  });
});

describe('the check refuses a deliberately broken copy of terraform/', () => {
  const cases: [string, string, RegExp | string, string, ProblemKind, RegExp][] = [
    [
      'an unknown argument (entry_point misspelt)',
      'functions.tf',
      /\bentry_point(\s+)=/,
      'entrypoint$1=',
      'unknown-argument',
      /google_cloudfunctions2_function\.function\.build_config\.entrypoint: unknown argument entrypoint/,
    ],
    [
      'an argument only the provider may set (a computed-only attribute)',
      'functions.tf',
      /\n(\s+)timeout_seconds(\s+)=/,
      '\n$1uri = "https://example.com"\n$1timeout_seconds$2=',
      'unknown-argument',
      /service_config\.uri: uri is computed by the provider and cannot be set/,
    ],
    [
      'a missing required argument (the queue without its location)',
      'tasks.tf',
      /\n\s+location\s+=\s+var\.region\n/,
      '\n',
      'missing-required',
      /google_cloud_tasks_queue\.deliveries: the required argument location is missing/,
    ],
    [
      'a missing required block (a secret without replication)',
      'iam.tf',
      /\n\s+replication \{\n\s+auto \{\}\n\s+\}\n/,
      '\n',
      'missing-required',
      /google_secret_manager_secret\.notifier_token: the required block replication is missing/,
    ],
    [
      'a single block written twice (two retry_config)',
      'tasks.tf',
      /\n(\s+)retry_config \{/,
      '\n$1retry_config {\n$1}\n$1retry_config {',
      'repeated-single-block',
      /google_cloud_tasks_queue\.\w+\.retry_config: retry_config may appear at most once, but is written 2 times/,
    ],
    [
      'an argument of a nested block at the wrong level (runtime in service_config)',
      'functions.tf',
      /\n(\s+)available_memory(\s+)=/,
      '\n$1runtime = "nodejs24"\n$1available_memory$2=',
      'wrong-nesting',
      /service_config\.runtime: runtime is not allowed here; it belongs in build_config/,
    ],
    [
      'a nested block one level too high (storage_source straight under build_config)',
      'functions.tf',
      /source \{\n(\s+)storage_source \{([\s\S]*?)\n\s+\}\n\s+\}/,
      'storage_source {$2\n    }',
      'wrong-nesting',
      /build_config\.storage_source: storage_source is not allowed here; it belongs in build_config\.source/,
    ],
    [
      'a block written as an argument (replication = {...})',
      'iam.tf',
      /replication \{\n\s+auto \{\}\n\s+\}/,
      'replication = { auto = {} }',
      'wrong-nesting',
      /notifier_token\.replication: replication is a block: write `replication \{ \.\.\. \}`/,
    ],
    [
      'a reference to an attribute the resource does not have',
      'functions.tf',
      /service_config\[0\]\.service\)/,
      'service_config[0].service_name)',
      'unknown-attribute',
      /service_config\[0\]\.service_name does not exist/,
    ],
    [
      'a reference into a list block without an index',
      'functions.tf',
      /fn\.service_config\[0\]\.service/,
      'fn.service_config.service',
      'unknown-attribute',
      /service_config is a list of blocks: write .*service_config\[0\]\.service/,
    ],
    [
      'an attribute of a data source that does not exist',
      'functions.tf',
      /data\.archive_file\.source\.output_sha256/,
      'data.archive_file.source.output_sha1024',
      'unknown-attribute',
      /data\.archive_file\.source\.output_sha1024 does not exist/,
    ],
  ];

  test.each(cases)('%s', SLOW, async (_case, file, from, to, kind, message) => {
    // Prepare
    const broken = await brokenCopy(file, from, to);
    const before = new Set(allProblems(tf.files));
    // Act
    const found = [...checkSchemas(broken), ...checkReferences(broken)].filter((p) => !before.has(describeProblem(p)));
    // Assess: exactly the mistake made, named, of its kind.
    expect(found.map(describeProblem)).toHaveLength(1);
    expect(found[0]!.kind).toBe(kind);
    expect(found[0]!.file).toBe(`terraform/${file}`);
    expect(describeProblem(found[0]!)).toMatch(message);
  });

  test('an unknown resource type is refused, naming it', SLOW, async () => {
    const broken = await brokenCopy('tasks.tf', 'resource "google_cloud_tasks_queue" "deliveries"', 'resource "google_cloud_task_queue" "deliveries"');
    const found = checkSchemas(broken).filter((p) => p.kind === 'unknown-type');
    expect(found.map(describeProblem)).toEqual([expect.stringContaining('google_cloud_task_queue does not exist in @cdktf/provider-google')]);
  });
});

describe('expressions are read as Terraform reads them', () => {
  test('text of string literals never counts as a reference; interpolations inside them do', () => {
    const found = expressionsIn('Watch ${join(" AND ", ["google_fake.thing.x", "name=\\"${google_real.one.name}\\""])} in google_text.only');
    expect(found.join(' | ')).not.toContain('google_fake');
    expect(found.join(' | ')).not.toContain('google_text');
    expect(found).toContain('google_real.one.name');
  });
});
