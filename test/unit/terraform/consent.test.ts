/**
 * Issue 32 in production: every secret a function mounts for consent is one it
 * may read (a secretAccessor grant to its own identity, under the same
 * condition as the mount), and nobody else is granted it.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadTerraform, resource, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

/** The grants on one secret, as `resource name: member`. */
function grantsOn(secret: string): Record<string, Hcl> {
  return Object.fromEntries(resourcesOf(tf, 'google_secret_manager_secret_iam_member').filter(([, g]) => g.secret_id === `\${google_secret_manager_secret.${secret}.id}`));
}

describe('consent secrets in terraform/ (issue 32)', () => {
  test('the pseudonym key is readable by exactly the deployed functions that mount it, through one grant derived from the mounts', () => {
    const grants = grantsOn('pseudonym_key');
    expect(Object.keys(grants)).toEqual(['pseudonym_key_readers']);
    const readers = grants.pseudonym_key_readers;
    expect(readers.role).toBe('roles/secretmanager.secretAccessor');
    expect(readers.member).toBe('serviceAccount:${google_service_account.function[each.key].email}');
    expect(readers.for_each).toBe('${toset([for name, secrets in local.function_secret_env : name if contains(keys(secrets), "RESTOCK_PSEUDONYM_KEY") && local.functions[name].deployed])}');
    // Its version is written on every apply that mounts it, and the functions wait for it.
    expect(resource(tf, 'google_secret_manager_secret_version', 'pseudonym_key')).toMatchObject({ secret_data_wo: '${var.pseudonym_key}', secret_data_wo_version: '${var.pseudonym_key_version}' });
    expect(resource(tf, 'google_cloudfunctions2_function', 'function').depends_on).toContain('${google_secret_manager_secret_version.pseudonym_key}');
    expect(resource(tf, 'google_secret_manager_secret', 'pseudonym_key').secret_id).toBe('${local.names.pseudonym_key_secret}');
    expect(tf.locals.names.pseudonym_key_secret).toBe('${var.name_prefix}${var.pseudonym_key_secret_id}');
  });

  test('restockSubscriptions may read each mail secret under exactly the condition it mounts it', () => {
    const mounts = tf.locals.function_secret_env.restockSubscriptions as Record<string, string>;
    const condition = (mount: string) => /^\$\{(.*) \? google_secret_manager_secret\.\w+\.secret_id : ""\}$/.exec(mount)?.[1];
    expect(resource(tf, 'google_secret_manager_secret_iam_member', 'subscriptions_reads_smtp_password').count).toBe(`\${${condition(mounts.RESTOCK_SMTP_PASSWORD!)} ? 1 : 0}`);
    expect(resource(tf, 'google_secret_manager_secret_iam_member', 'subscriptions_reads_dkim_private_key').count).toBe(`\${${condition(mounts.RESTOCK_DKIM_PRIVATE_KEY!)} ? 1 : 0}`);
    expect(condition(mounts.RESTOCK_UNSUBSCRIBE_SECRET!)).toBe('local.confirms_email');
    expect(resource(tf, 'google_secret_manager_secret_iam_member', 'unsubscribe_key_readers').for_each).toBe(
      '${local.sends_links ? toset(concat(["deliverRestockBatch", "restockUnsubscribe"], local.confirms_email ? ["restockSubscriptions"] : [])) : toset([])}',
    );
    for (const name of ['subscriptions_reads_smtp_password', 'subscriptions_reads_dkim_private_key']) {
      expect(resource(tf, 'google_secret_manager_secret_iam_member', name).member, name).toBe('serviceAccount:${google_service_account.function["restockSubscriptions"].email}');
    }
  });

  test('the new grants are waited for before the functions are built', () => {
    const grants = String(resource(tf, 'time_sleep', 'iam_propagation').triggers.grants);
    for (const name of ['pseudonym_key_readers', 'subscriptions_reads_smtp_password', 'subscriptions_reads_dkim_private_key']) {
      expect(grants, name).toContain(`google_secret_manager_secret_iam_member.${name} : grant.id`);
    }
  });
});
