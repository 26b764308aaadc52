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

/** The names registered above (lib/functions.ts, the one table of them); Terraform deploys exactly these. */
export { FUNCTION_NAMES } from '../lib/functions.ts';
