/**
 * `applyShopperActions`: PLACEHOLDER until the code side of issue 31 item 8
 * lands (another branch writes the real function). Terraform deploys this
 * entry point (terraform/locals.tf, private, pushed by the shopper-actions
 * subscription) and the tests compare Terraform's function list with
 * FUNCTION_NAMES, which needs the name registered here.
 *
 * It applies nothing yet: every push is answered 501, so Pub/Sub retries it
 * and, after pubsub_max_delivery_attempts, keeps it in the dead-letter
 * subscription; no unsubscribe request is acknowledged without being applied.
 */
import * as ff from '@google-cloud/functions-framework';

ff.http('applyShopperActions', (_req, res) => {
  res.status(501).set('content-type', 'application/problem+json').set('x-content-type-options', 'nosniff');
  res.send(JSON.stringify({ type: 'about:blank', title: 'Not Implemented', status: 501, detail: 'applyShopperActions is not implemented yet.' }));
});
