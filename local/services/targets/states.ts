/** Step Functions targets: StartExecution with the input; an execution that cannot start fails the delivery. */
import { oneByOne, parseJsonInput, type Sender } from './sender.js';

/** What the sender needs of the local Step Functions: its registry's StartExecution (resolves once the execution ended). */
export interface ExecutionStarter {
  startExecution(stateMachineArn: string, input: unknown): Promise<unknown>;
}

export function stateMachineSender(stateMachines: ExecutionStarter): Sender {
  return oneByOne(async (stateMachineArn, input) => {
    await stateMachines.startExecution(stateMachineArn, parseJsonInput(stateMachineArn, input));
  });
}
