/**
 * Deployment entry (package.json `main`): registers every function with
 * functions-framework. Each Cloud Function picks its own by `entry_point`;
 * locally each runs in its own process with `--target`.
 */
import './fanOutRestock.ts';
import './deliverRestockBatch.ts';
import './restockSubscriptions.ts';
import './restockUnsubscribe.ts';
import './applyShopperActions.ts';
import './relayOutbox.ts';

/** The names registered above; Terraform deploys exactly these. */
export const FUNCTION_NAMES = ['fanOutRestock', 'deliverRestockBatch', 'restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions', 'relayOutbox'] as const;
