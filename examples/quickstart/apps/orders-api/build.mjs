// Build: copies the app into dist/ with a header naming the version and build time.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const source = readFileSync(new URL('./index.js', import.meta.url), 'utf8');
const dist = new URL('./dist/', import.meta.url);
mkdirSync(dist, { recursive: true });
writeFileSync(new URL('index.js', dist), `// ${pkg.name} ${pkg.version}, built ${new Date().toISOString()}\n${source}`);
console.log(`built ${pkg.name} ${pkg.version} -> dist/index.js`);
