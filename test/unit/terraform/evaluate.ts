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
 * computes the same maps for the expression shapes used here, and refuses any
 * other shape rather than guess.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { block, resource, TERRAFORM_DIR, variableFed, type Hcl, type Terraform } from './hcl.ts';

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
    `output "fanout_timeout_seconds" {\n  value = var.fanout_timeout_seconds\n}`,
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
 * Computes the same {@link Evaluation} from the parsed HCL for the expression
 * shapes locals.tf uses (variables, tostring, the URL template, the budget
 * arithmetic, the stand-ins). Runs no validation. Throws
 * {@link UnsupportedExpressionError} on any other shape.
 */
export function evaluateByHand(tf: Terraform, variables: Variables): Evaluation {
  const value = (name: string): unknown => (name in variables ? variables[name] : tf.variable[name]?.default);
  const template = (text: string, extra: Record<string, string> = {}) =>
    text.replace(/\$\{(var\.|local\.|lower\()?(\w+)\)?\}/g, (whole, how: string | undefined, name: string) => {
      if (how === 'var.') return String(value(name));
      if (how === 'lower(' && name in extra) return extra[name]!.toLowerCase();
      if (how === undefined && name in extra) return extra[name]!;
      if (how === 'local.' && name === 'project_number' && tf.locals.project_number === '${data.google_project.this.number}') return STAND_IN_PROJECT_NUMBER;
      throw new UnsupportedExpressionError(whole);
    });

  const urlTemplate = /=> "([^"]+)"/.exec(String(tf.locals.function_urls))?.[1];
  if (!urlTemplate) throw new UnsupportedExpressionError(String(tf.locals.function_urls));
  const budget = /^\$\{\(var\.(\w+) - var\.(\w+)\) \* 1000\}$/.exec(String(tf.locals.fanout_time_budget_ms));
  if (!budget) throw new UnsupportedExpressionError(String(tf.locals.fanout_time_budget_ms));
  const ack = /^\$\{min\((\d+), var\.(\w+)\)\}$/.exec(String(tf.locals.fanout_ack_deadline_seconds));
  if (!ack) throw new UnsupportedExpressionError(String(tf.locals.fanout_ack_deadline_seconds));

  const evaluate = (expression: unknown): string => {
    const text = String(expression);
    if (!text.includes('${')) return text;
    const fromVariable = variableFed(text);
    if (fromVariable) return String(value(fromVariable));
    const url = /^\$\{local\.function_urls\["(\w+)"\]\}$/.exec(text);
    if (url) return template(urlTemplate, { name: url[1]! });
    if (text === '${tostring(local.fanout_time_budget_ms)}') return String(((value(budget[1]!) as number) - (value(budget[2]!) as number)) * 1000);
    for (const [pattern, standIn] of STAND_INS) {
      if (text === `\${${pattern.source.replaceAll('\\.', '.')}}`) return template(standIn.replace(/^"|"$/g, ''));
    }
    throw new UnsupportedExpressionError(text);
  };

  const expression = String(block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config).environment_variables);
  const shape = '${merge({ for k, v in merge(local.shared_env, local.function_env[each.key]) : k => v if v != "" }, local.platform_env)}';
  if (expression !== shape) throw new UnsupportedExpressionError(expression);
  const env: Evaluation['env'] = {};
  for (const name of Object.keys(tf.locals.functions)) {
    const merged = { ...tf.locals.shared_env, ...tf.locals.function_env[name] };
    const settings = Object.entries(merged).map(([k, v]) => [k, evaluate(v)]).filter(([, v]) => v !== '');
    env[name] = { ...Object.fromEntries(settings), ...(tf.locals.platform_env as Record<string, string>) };
  }
  const timeout = value('fanout_timeout_seconds') as number;
  return { env, fanoutTimeoutSeconds: timeout, ackDeadlineSeconds: Math.min(Number(ack[1]), value(ack[2]!) as number) };
}

/** The variables of `terraform.tfvars.example`, parsed as Terraform would. */
export async function exampleVariables(): Promise<Variables> {
  const path = join(TERRAFORM_DIR, 'terraform.tfvars.example');
  return (await parse('terraform.tfvars', readFileSync(path, 'utf8'))) as Variables;
}
