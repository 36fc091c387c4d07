/**
 * The pipeline yields the CPU to intake. On AWS, a request to API Gateway never waits for Step
 * Functions or a Lambda function to get a core; on one machine every thread shares the same few.
 * So once the intake thread exists (API Gateway and the metering proxy, local/service-thread.ts)
 * and DynamoDB Local is started, the runtime lowers the CPU priority of its main thread, where
 * Pipes, EventBridge, Step Functions and the queues run; the Lambda sandboxes and any process it
 * starts later inherit it. On a busy machine intake then answers at its own pace while the
 * backlog drains with the CPU it leaves, as a stream or a queue in front of a slower consumer
 * would on AWS.
 *
 * Only on Linux, where a nice value belongs to one thread: on macOS and Windows it is the whole
 * process's, and lowering it would lower intake with the rest.
 */
import { getPriority, setPriority } from 'node:os';

/** The pipeline's nice value: 19 gave intake no better p99 here (157 vs 161 ms) and left the backlog almost no CPU while intake ran. */
const PIPELINE_NICE = 10;

/** Lowers the calling thread's priority to {@link PIPELINE_NICE} on Linux (never raises it). */
export function lowerPipelinePriority(log: (message: string) => void): void {
  if (process.platform !== 'linux') return;
  try {
    if (getPriority(0) < PIPELINE_NICE) setPriority(0, PIPELINE_NICE);
  } catch (error) {
    log(`the pipeline keeps intake's CPU priority: ${(error as Error).message}`);
  }
}
