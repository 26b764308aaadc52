/**
 * A shop's templates directory for a test (RESTOCK_TEMPLATES_DIR): each
 * entry's path, `<channel>/<language>/<part>.liquid`, written with its text
 * under a fresh temporary directory, whose path is returned.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function templatesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'restock-templates-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
