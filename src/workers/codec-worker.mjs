// Worker entry for the codec pool: worker threads do not inherit the main thread's module hooks, so register the
// TypeScript loader here before loading the real worker module.
import { register } from 'tsx/esm/api';
register();
const mod = await import('./codec-worker.ts');
export default mod.default;
