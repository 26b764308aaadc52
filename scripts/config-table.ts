/**
 * Writes the settings table of docs/configuration.md from lib/config.ts
 * (between its `settings-table` markers), so the manual's list of settings,
 * defaults and meanings is generated, never copied; test/unit/config.test.ts
 * fails when the page and the code disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../lib/config.ts';

const PAGE = new URL('../docs/configuration.md', import.meta.url);
const FENCE = /(<!-- settings-table[^>]*-->\n)[\s\S]*?(\n<!-- \/settings-table -->)/;

const text = readFileSync(PAGE, 'utf8');
if (!FENCE.test(text)) throw new Error('docs/configuration.md has no settings-table markers');
writeFileSync(PAGE, text.replace(FENCE, (_all, open: string, close: string) => `${open}${settingsTable()}${close}`));
console.log('wrote docs/configuration.md');
