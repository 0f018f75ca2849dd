// Installs the locked dependencies when they are missing, so that `npm start` and `npm test`
// work as the first commands on a fresh clone. Runs on whatever Node started npm.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

if (!existsSync(new URL('../node_modules/.bin/node', import.meta.url))) {
  console.error('cacheplane: installing locked dependencies (npm ci)…');
  execSync('npm ci', { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
}
