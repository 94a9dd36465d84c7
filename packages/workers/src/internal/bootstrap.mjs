// The entry piscina runs in each worker thread: one long task per thread, which lasts as long as
// the thread serves actors. Plain JavaScript, so that it loads before any TypeScript loader.
export default async function bootstrap(init) {
  if (/\.[mc]?ts$/.test(new URL(init.runtime).pathname)) {
    const { register } = await import('tsx/esm/api');
    register();
    globalThis[Symbol.for('holdfast.workers.tsx')] = true;
  }
  const { runThread } = await import(init.runtime);
  return runThread(init);
}
