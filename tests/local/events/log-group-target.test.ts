/**
 * A rule target that is a log group ARN ending in `:*` (what `GetAtt LogGroup.Arn` gives) deploys on
 * AWS and then never delivers (aws-samples/serverless-patterns#221). Locally the rule is created
 * with a warning naming the rule, the target and the fix, and an event on the real bus reaches the
 * fixed target only.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../../local/net.js';
import { EventBridgeService } from '../../../local/services/events/bus.js';
import { eventsProviders } from '../../../local/services/events/providers.js';
import { LogStore } from '../../../local/services/logs/store.js';
import type { RuntimeContext } from '../../../local/services/provider.js';
import { logGroupSender } from '../../../local/services/targets/logs.js';
import { TargetSenders } from '../../../local/services/targets/registry.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const logGroupArn = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

let workDir: string;
let events: EventBridgeService;
const runtimeLog: string[] = [];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'log-group-target-'));
  events = new EventBridgeService({ region: REGION, accountId: ACCOUNT, stateDir: undefined });
  events.startDeliveries(new TargetSenders({ logs: logGroupSender(new LogStore(join(workDir, 'logs'))) }));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

test('a :* log group target warns at start and receives nothing; the ARN without :* receives the event', async () => {
  // Prepare
  const context: RuntimeContext = testRuntimeContext({ region: REGION, accountId: ACCOUNT, stackName: 'log-group-target-test', logged: runtimeLog });
  const ruleProvider = eventsProviders(events).find((provider) => provider.type === 'AWS::Events::Rule')!;
  await ruleProvider.create({
    logicalId: 'LogEverythingRule',
    type: 'AWS::Events::Rule',
    metadata: {},
    properties: {
      Name: 'log-everything',
      EventPattern: { source: ['wims.test'] },
      Targets: [
        { Id: 'Wildcard', Arn: `${logGroupArn('/aws/events/wildcard')}:*` },
        { Id: 'Fixed', Arn: logGroupArn('/aws/events/fixed') },
      ],
    },
  }, context);

  // Act
  events.putEvents([{ Source: 'wims.test', DetailType: 'ping', Detail: '{"n":1}' }]);

  // Assess
  expect(runtimeLog).toContain(
    `events: LogEverythingRule: WARNING: rule log-everything target Wildcard is ${logGroupArn('/aws/events/wildcard')}:*; ` +
    `a log group ARN ending in ":*" (GetAtt Arn) never receives events, on AWS as here: use ${logGroupArn('/aws/events/wildcard')}`,
  );
  const fixedLog = join(workDir, 'logs', 'aws/events/fixed.log');
  await waitUntil(() => existsSync(fixedLog), { timeoutMs: 10_000, description: 'the event in the fixed log group' });
  expect(JSON.parse(readFileSync(fixedLog, 'utf8'))).toMatchObject({ source: 'wims.test', detail: { n: 1 } });
  await waitUntil(() => events.deliveries().some((delivery) => delivery.target === 'Wildcard'), { timeoutMs: 10_000, description: 'the wildcard delivery recorded' });
  expect(events.deliveries().find((delivery) => delivery.target === 'Wildcard')).toMatchObject({ ok: false });
  expect(existsSync(join(workDir, 'logs', 'aws/events/wildcard.log'))).toBe(false);
});
