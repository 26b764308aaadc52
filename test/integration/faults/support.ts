/** What the fault tests share: a Runtime for lib code pointed at a stack, and ledger queries. */
import { parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { COLLECTIONS, type DeliveryDoc } from '../../../lib/model.ts';
import type { Runtime } from '../../../lib/runtime.ts';
import { RESOURCE_NAMES } from '../../../emulators/stack/index.ts';
import type { StackAccess } from '../../helpers/index.ts';

/** A Runtime whose clients talk to `on`'s emulators, configured as the stack configures its functions. */
export function runtimeFor(on: StackAccess, env: Record<string, string> = {}): Runtime {
  const d = on.description;
  const config = parseConfig({
    GOOGLE_CLOUD_PROJECT: d.projectId,
    RESTOCK_DELIVERY_URL: d.functions.deliverRestockBatch,
    RESTOCK_FANOUT_URL: d.functions.fanOutRestock,
    RESTOCK_TASKS_SERVICE_ACCOUNT: RESOURCE_NAMES.serviceAccount.replace('restock-local', d.projectId),
    RESTOCK_NOTIFIER: 'log',
    // On the emulators: the notifier and caller checks that production needs do not apply (lib/config.ts).
    FIRESTORE_EMULATOR_HOST: d.firestore,
    // Tasks it creates are signed with the stack's key, or its delivery refuses them (issue 31, item 1).
    ...(d.env.RESTOCK_TASK_SIGNING_KEYS ? { RESTOCK_TASK_SIGNING_KEYS: d.env.RESTOCK_TASK_SIGNING_KEYS } : {}),
    ...env,
  });
  return { config, db: on.firestore, tasks: on.tasks!, log: new Logger({ test: true }, 'ERROR', () => {}), now: Date.now };
}

export async function ledger(on: StackAccess, eventKey: string): Promise<DeliveryDoc[]> {
  const snap = await on.firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  return snap.docs.map((d) => d.data() as DeliveryDoc);
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
