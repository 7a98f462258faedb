// Writes one VM's vm.json in a tight loop through ConfigStore.save, alternating two contents of
// different sizes, until the torn-writes test kills it. Arguments: HOME ID.
import { ConfigStore } from '../../src/main/engine/config/store';

const [home, id] = process.argv.slice(2) as [string, string];
const store = new ConfigStore(home);
const base = store.load(id);
const contents = ['A'.repeat(3000), 'B'.repeat(40)];
console.log('writing');
for (let n = 0; ; n++) store.save({ ...base, description: contents[n % 2]! });
