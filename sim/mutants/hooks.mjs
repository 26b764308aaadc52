// Module load hook (node:module register) for the self-test: while SIM_MUTANT names
// a variant of variants.json, the text of its lib/ file is patched as it loads.
// Registered before tsx, so tsx transforms the patched TypeScript.
import { readFileSync } from 'node:fs';

const { variants } = JSON.parse(readFileSync(new URL('./variants.json', import.meta.url), 'utf8'));
let variant;

export function initialize(data) {
  variant = variants.find((v) => v.name === data?.variant);
  if (data?.variant && !variant) throw new Error(`unknown mutant ${data.variant}`);
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!variant || !url.endsWith(`/${variant.file}`)) return loaded;
  let source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8');
  for (const [find, replace] of variant.patches) {
    if (!source.includes(find)) {
      throw new Error(`mutant ${variant.name}: patch site not found in ${variant.file} (re-wire sim/mutants/variants.json): ${find}`);
    }
    source = source.replace(find, replace);
  }
  return { ...loaded, source };
}
