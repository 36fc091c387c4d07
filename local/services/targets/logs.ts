/**
 * CloudWatch Logs targets: one line per input in the log group's file. A log group ARN ending in
 * `:*` (what `GetAtt LogGroup.Arn` gives) fails every delivery with NO_RESOURCE, not retried: as a
 * rule target it deploys on AWS but never receives anything.
 */
import type { LogStore } from '../logs/store.js';
import { TargetError } from './error.js';
import { oneByOne, type Sender } from './sender.js';

/** A log group ARN ending in `:*`; group 1 is the ARN without it. */
export const WILDCARD_LOG_GROUP_ARN = /^(arn:[^:]+:logs:[^:]*:[^:]*:log-group:[^:]+):\*$/;

/** `arn:aws:logs:region:account:log-group:NAME`. */
export function logGroupSender(logs: LogStore): Sender {
  return oneByOne(async (logGroupArn, line) => {
    const wildcard = WILDCARD_LOG_GROUP_ARN.exec(logGroupArn);
    if (wildcard) {
      throw new TargetError(`Target ${logGroupArn}: a log group ARN ending in ":*" receives nothing; use ${wildcard[1]}`, { code: 'NO_RESOURCE', retryable: false });
    }
    const match = /:log-group:([^:]+)$/.exec(logGroupArn);
    if (match?.[1] === undefined) {
      throw new TargetError(`Target ${logGroupArn} is not a log group ARN`, { code: 'INVALID_PARAMETER', retryable: false });
    }
    logs.append(match[1], line);
  });
}
