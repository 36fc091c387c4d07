/**
 * The runtime's one way to run esbuild (function bundles, the dashboard's page). esbuild's JS API
 * keeps a service process alive after a build (about 300 MiB once it has bundled the AWS SDK);
 * it is stopped as soon as no build is in flight, and the next build starts it again.
 */
import { build, stop, type BuildOptions, type BuildResult, type SameShape } from 'esbuild';

let buildsInFlight = 0;

/** Runs one esbuild build; the service is stopped afterwards unless another build still runs. */
export async function esbuild<Options extends BuildOptions>(options: SameShape<BuildOptions, Options>): Promise<BuildResult<Options>> {
  buildsInFlight++;
  try {
    return await build(options);
  } finally {
    // Stopping while another build runs would fail that build.
    if (--buildsInFlight === 0) await stop();
  }
}
