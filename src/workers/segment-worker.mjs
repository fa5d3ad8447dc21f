// Worker entry for piscina: worker threads do not inherit the main thread's module hooks, so register the
// TypeScript loader here before loading the real worker module (which opens its ONNX sessions at load time).
import { register } from 'tsx/esm/api';
register();
const mod = await import('./segment-worker.ts');
export default mod.default;
