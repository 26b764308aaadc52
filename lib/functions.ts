/**
 * Every function the pipeline deploys, in one table: `functions/index.ts`
 * registers exactly these, the local stack serves each in its own process,
 * the settings' start-up refusals are per function, and Terraform's
 * `local.functions` is compared with it (test/unit/terraform/consistency.test.ts).
 * A function is added here first; everything else derives from or is checked
 * against this table.
 */

/** Who calls a function: what its caller check and its deployment (ingress, invokers) follow from. */
export type Caller =
  /** The Pub/Sub push subscription (and the function's own continuation tasks). */
  | 'pubsub-push'
  /** Cloud Tasks, with the tasks service account's OIDC token. */
  | 'cloud-tasks'
  /** Storefront backends, with their ID tokens. */
  | 'storefronts'
  /** Anyone: a mailbox provider or a shopper following a link; the token in the URL is the credential. */
  | 'public'
  /** Cloud Scheduler. */
  | 'scheduler';

export interface FunctionSpec {
  /** One line: what it does. */
  summary: string;
  caller: Caller;
}

export const FUNCTIONS = {
  fanOutRestock: { summary: 'Turns a restock event into chunked delivery tasks.', caller: 'pubsub-push' },
  deliverRestockBatch: { summary: 'Sends the notifications of one chunk, exactly once per recipient.', caller: 'cloud-tasks' },
  restockSubscriptions: { summary: 'The HTTP API storefronts use to subscribe, unsubscribe and list.', caller: 'storefronts' },
  restockUnsubscribe: { summary: 'One-click unsubscribe links of restock emails (RFC 8058); public, token-verified.', caller: 'public' },
  relayOutbox: { summary: "Sweeps the inventory service's outbox and publishes what its fast path missed.", caller: 'scheduler' },
  applyShopperActions: { summary: 'Applies what shoppers asked for through the public function (an unsubscribe), from its Pub/Sub topic.', caller: 'pubsub-push' },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

/** The function names, in the table's order. */
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as readonly FunctionName[];
