/**
 * The CPU time of the calling thread, for the runtime's worker threads (the Lambda sandboxes, the
 * intake thread) to report: /proc cannot tell Node's threads apart by name. Imported by its .ts
 * name from threads that run without a TypeScript loader.
 */

/** User + system CPU of this thread so far, in microseconds. */
export function threadCpuMicros(): number {
  const { user, system } = process.threadCpuUsage();
  return user + system;
}
