// Prints the top self-time functions of V8 CPU profiles (node --cpu-prof), idle time excluded.
//   node bench/profile-summary.ts <file.cpuprofile>... [--top N]
import { formatProfile, summarizeProfile } from './lib/profile.ts';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const files = args.filter((_, index) => topAt < 0 || (index !== topAt && index !== topAt + 1));
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.ts <file.cpuprofile>... [--top N]');
  process.exit(2);
}
for (const file of files) console.log(`${file}\n${formatProfile(summarizeProfile(file, top))}\n`);
