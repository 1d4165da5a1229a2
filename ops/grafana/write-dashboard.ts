import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD } from './dashboard';

/** The dashboard as the file Grafana imports. */
export const DASHBOARD_FILE = join(__dirname, 'trade-webhooks.json');

export function dashboardJson(): string {
  return `${JSON.stringify(DASHBOARD, null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(DASHBOARD_FILE, dashboardJson());
  console.log(`Wrote ${DASHBOARD_FILE}`);
}
