/**
 * Every SQS and SNS resource provider for one embedded fauxqs, for the runtime to register.
 */
import type { ResourceProvider } from '../provider.js';
import type { Messaging } from './engine.js';
import { createPolicyProvider, createQueueProvider } from './queue-provider.js';
import type { TargetSender } from '../targets/sender.js';
import { createSubscriptionProvider, createTopicProvider } from './topic-provider.js';

/**
 * Providers for AWS::SQS::Queue, AWS::SQS::QueuePolicy, AWS::SNS::Topic, AWS::SNS::Subscription
 * and AWS::SNS::TopicPolicy; `senders` deliver to `lambda` subscriptions.
 */
export function messagingProviders(messaging: Pick<Messaging, 'endpoint' | 'outboxDir' | 'meter'>, senders: TargetSender): ResourceProvider[] {
  return [
    createQueueProvider(messaging),
    createPolicyProvider('AWS::SQS::QueuePolicy'),
    createTopicProvider(messaging, senders),
    createSubscriptionProvider(messaging, senders),
    createPolicyProvider('AWS::SNS::TopicPolicy'),
  ];
}
