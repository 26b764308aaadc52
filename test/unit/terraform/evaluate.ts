/**
 * Computes the environment each function would get for a set of Terraform
 * variables, so tests can parse it with lib/config.ts.
 *
 * With `terraform` on the PATH the values are computed by Terraform itself: a
 * throw-away module made of `variables.tf`, `locals.tf` (with the few resource
 * attributes it reads replaced by look-alike values) and the exact
 * `environment_variables` expression of `functions.tf`, applied with no
 * provider. Variable validations run too, so a refused value throws
 * {@link TerraformRefusedError}. Without `terraform`, {@link evaluateByHand}
 * computes the same maps with the small HCL evaluator the production clock
 * uses (sim/production/hcl-expression.ts), which refuses any expression it
 * does not know rather than guess.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { evaluateExpression, evaluateHcl, UnsupportedHclError, variableValue, type HclValue, type Scope } from '../../../sim/production/hcl-expression.ts';
import { block, resource, TERRAFORM_DIR, type Hcl, type Terraform } from './hcl.ts';

/** Variables given to an evaluation, as Terraform would read them from a .tfvars file. */
export type Variables = Record<string, unknown>;

/** What a deployment would look like for some variables. */
export interface Evaluation {
  /** Plain environment of each function (empty settings dropped, platform variables kept, as functions.tf does). */
  env: Record<string, Record<string, string>>;
  fanoutTimeoutSeconds: number;
  ackDeadlineSeconds: number;
}

/** Terraform refused the variables (a validation block failed); `output` says which. */
export class TerraformRefusedError extends Error {
  override readonly name = 'TerraformRefusedError';
  constructor(readonly output: string) {
    super(`terraform refused the variables:\n${output}`);
  }
}

/** An expression this file cannot compute without Terraform. */
export class UnsupportedExpressionError extends Error {
  override readonly name = 'UnsupportedExpressionError';
  constructor(readonly expression: string) {
    super(`cannot evaluate ${expression} without terraform; teach evaluateByHand this shape or install terraform`);
  }
}

const TERRAFORM_ENV = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };

/** Whether a `terraform` binary can be run. */
export function terraformAvailable(): boolean {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore', env: TERRAFORM_ENV });
    return true;
  } catch {
    return false;
  }
}

/** The project number the evaluations stand in for data.google_project.this.number. */
export const STAND_IN_PROJECT_NUMBER = '123456789012';

/** Resource attributes locals.tf reads, replaced by values of the same shape. */
const STAND_INS: [RegExp, string][] = [
  [/google_service_account\.tasks_invoker\.email/g, '"restock-tasks-invoker@${var.project_id}.iam.gserviceaccount.com"'],
  [/google_service_account\.pubsub_push\.email/g, '"restock-pubsub-push@${var.project_id}.iam.gserviceaccount.com"'],
  [/google_secret_manager_secret\.notifier_token\.secret_id/g, 'var.notifier_token_secret_id'],
  [/data\.google_project\.this\.number/g, `"${STAND_IN_PROJECT_NUMBER}"`],
  [/google_secret_manager_secret\.smtp_password\.secret_id/g, 'var.smtp_password_secret_id'],
  [/google_secret_manager_secret\.dkim_private_key\.secret_id/g, 'var.dkim_private_key_secret_id'],
  [/google_secret_manager_secret\.unsubscribe_key\.secret_id/g, 'var.unsubscribe_key_secret_id'],
  [/google_secret_manager_secret\.webpush_vapid_private_key\.secret_id/g, 'var.webpush_vapid_private_key_secret_id'],
  [/google_secret_manager_secret\.task_signing_key\.secret_id/g, 'var.task_signing_key_secret_id'],
  [/google_secret_manager_secret\.pseudonym_key\.secret_id/g, 'var.pseudonym_key_secret_id'],
];

const unwrap = (expression: string) => expression.replace(/^\$\{/, '').replace(/\}$/, '');

/** The `environment_variables` expression of the functions, for one function named `name`. */
function envExpression(tf: Terraform, name: string): string {
  const expression = String(block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config).environment_variables);
  return unwrap(expression).replaceAll('each.key', JSON.stringify(name));
}

/**
 * Applies a provider-less module with Terraform and reads its outputs.
 * Throws {@link TerraformRefusedError} when a variable validation fails.
 */
export function evaluateWithTerraform(tf: Terraform, variables: Variables): Evaluation {
  let locals = readFileSync(join(TERRAFORM_DIR, 'locals.tf'), 'utf8');
  for (const [pattern, standIn] of STAND_INS) locals = locals.replace(pattern, standIn);
  const leftover = /\b(google_\w+\.\w+)/.exec(locals.replace(/#.*$/gm, ''));
  if (leftover) throw new UnsupportedExpressionError(`${leftover[1]} in locals.tf (add a stand-in)`);

  const names = Object.keys(tf.locals.functions);
  const outputs = [
    `output "env" {\n  value = {\n${names.map((n) => `    ${n} = ${envExpression(tf, n)}`).join('\n')}\n  }\n}`,
    `output "fanout_timeout_seconds" {\n  value = var.function_config.fanOutRestock.timeout_seconds\n}`,
    `output "ack_deadline_seconds" {\n  value = ${unwrap(tf.locals.fanout_ack_deadline_seconds)}\n}`,
  ].join('\n');

  const dir = mkdtempSync(join(tmpdir(), 'restock-tf-eval-'));
  try {
    for (const file of readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('variables.tf'))) writeFileSync(join(dir, file), readFileSync(join(TERRAFORM_DIR, file)));
    writeFileSync(join(dir, 'locals.tf'), locals);
    writeFileSync(join(dir, 'eval.tf'), outputs);
    writeFileSync(join(dir, 'given.auto.tfvars.json'), JSON.stringify(variables));
    const run = (...args: string[]) => spawnSync('terraform', args, { cwd: dir, encoding: 'utf8', env: TERRAFORM_ENV });
    const init = run('init', '-input=false', '-no-color');
    if (init.status !== 0) throw new Error(`terraform init failed:\n${init.stderr}`);
    const apply = run('apply', '-auto-approve', '-input=false', '-no-color');
    if (apply.status !== 0) {
      if (/Invalid value for variable/.test(apply.stderr)) throw new TerraformRefusedError(apply.stderr);
      throw new Error(`terraform apply failed:\n${apply.stderr}`);
    }
    const out = JSON.parse(run('output', '-json', '-no-color').stdout) as Record<string, { value: Hcl }>;
    return { env: out.env!.value, fanoutTimeoutSeconds: out.fanout_timeout_seconds!.value, ackDeadlineSeconds: out.ack_deadline_seconds!.value };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Computes the same {@link Evaluation} from the parsed HCL, with the HCL
 * evaluator of sim/production/hcl-expression.ts: variables take their given
 * value or default (object types with their optional() defaults), locals are
 * evaluated as written, resource attributes through the stand-ins above. Runs
 * no validation. Throws {@link UnsupportedExpressionError} on an expression
 * the evaluator does not know.
 */
export function evaluateByHand(tf: Terraform, variables: Variables): Evaluation {
  const cache = new Map<string, HclValue>();
  const scope: Scope = {
    variable: (name) => {
      const declaration = tf.variable[name];
      if (!declaration) throw new UnsupportedExpressionError(`var.${name} (not declared)`);
      return variableValue(declaration, variables[name]);
    },
    local: (name) => {
      if (!cache.has(name)) {
        if (!(name in tf.locals)) throw new UnsupportedExpressionError(`local.${name} (not declared in a file locals.tf may read)`);
        cache.set(name, evaluateHcl(tf.locals[name], scope));
      }
      return cache.get(name)!;
    },
    resolve: (traversal) => {
      const standIn = STAND_INS.find(([pattern]) => traversal === pattern.source.replaceAll('\\.', '.'));
      return standIn ? evaluateExpression(standIn[1], scope) : undefined;
    },
  };
  const expression = unwrap(String(block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config).environment_variables));
  try {
    const env: Evaluation['env'] = {};
    for (const name of Object.keys(tf.locals.functions)) {
      const each = new Map<string, HclValue>([['each', { key: name }]]);
      env[name] = evaluateExpression(expression, scope, each) as Record<string, string>;
    }
    return {
      env,
      fanoutTimeoutSeconds: evaluateExpression('var.function_config.fanOutRestock.timeout_seconds', scope) as number,
      ackDeadlineSeconds: evaluateExpression(unwrap(String(tf.locals.fanout_ack_deadline_seconds)), scope) as number,
    };
  } catch (err) {
    if (err instanceof UnsupportedHclError) throw new UnsupportedExpressionError(err.message);
    throw err;
  }
}

/** The variables of `terraform.tfvars.example`, parsed as Terraform would. */
export async function exampleVariables(): Promise<Variables> {
  const path = join(TERRAFORM_DIR, 'terraform.tfvars.example');
  return (await parse('terraform.tfvars', readFileSync(path, 'utf8'))) as Variables;
}
