/**
 * Every SQS and SNS resource provider for one embedded fauxqs, for the runtime to register.
 */
import type { ResourceProvider } from '../provider.js';
import type { Messaging } from './engine.js';
import { createPolicyProvider, createQueueProvider } from './queue-provider.js';
import { createSubscriptionProvider, createTopicProvider, type SnsSinks } from './topic-provider.js';

/**
 * Providers for AWS::SQS::Queue, AWS::SQS::QueuePolicy, AWS::SNS::Topic, AWS::SNS::Subscription
 * and AWS::SNS::TopicPolicy. Pass `sinks.lambda` to support `lambda` subscriptions.
 */
export function messagingProviders(messaging: Pick<Messaging, 'endpoint' | 'outboxDir' | 'meter'>, sinks: SnsSinks = {}): ResourceProvider[] {
  return [
    createQueueProvider(messaging),
    createPolicyProvider('AWS::SQS::QueuePolicy'),
    createTopicProvider(messaging, sinks),
    createSubscriptionProvider(messaging, sinks),
    createPolicyProvider('AWS::SNS::TopicPolicy'),
  ];
}
