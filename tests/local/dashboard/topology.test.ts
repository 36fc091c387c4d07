/**
 * The dashboard's topology comes from the template alone: the template's data flow is drawn, and
 * one more rule in the template is one more node and its edges, with no code change.
 */
import { describe, expect, it } from '@jest/globals';
import { prepareTemplate, loadTemplate } from '../../../local/template/loader.js';
import { readTemplate } from '../../../local/template/parse.js';
import { topologyOf, type Topology } from '../../../local/dashboard/topology.js';

const edgesOf = (topology: Topology): string[] => topology.edges.map((edge) => `${edge.from} -${edge.kind}-> ${edge.to}`);

describe('the topology of template.yaml', () => {
  const topology = topologyOf(loadTemplate('template.yaml'));

  it('follows an order from the API through the stream, the bus and the workflow to the payment provider', () => {
    expect(edgesOf(topology)).toEqual(expect.arrayContaining([
      'OrdersApi -data-> WimsTable',
      'WimsTable -data-> CdcPipe',
      'CdcPipe -data-> CdcEnrichmentFunction',
      'CdcPipe -data-> WimsEventBus',
      'WimsEventBus -data-> OrdersStateMachineOrderCreated',
      'OrdersStateMachineOrderCreated -data-> OrdersStateMachine',
      'OrdersStateMachine -data-> PaymentsQueue',
      'PaymentsQueue -data-> PaymentsPipe',
      'PaymentsPipe -data-> PaymentProviderDestination',
      'PaymentsQueue -dead-letter-> PaymentsDeadLetterQueue',
      'CdcPipe -dead-letter-> CdcDeadLetterQueue',
      'PaymentsDeadLetterQueue -data-> PaymentFailedFunction',
    ]));
  });

  it('places the API left of the table, and the table left of the bus', () => {
    const layer = (id: string): number => topology.nodes.find((node) => node.id === id)!.layer;
    expect(layer('OrdersApi')).toBeLessThan(layer('WimsTable'));
    expect(layer('WimsTable')).toBeLessThan(layer('WimsEventBus'));
  });
});

describe('a template with one more rule', () => {
  it('draws its node, the edge from its bus and the edge to its target', () => {
    // Prepare: template.yaml plus a rule the code has never seen.
    const source = readTemplate('template.yaml');
    source.Resources.AuditedOrdersRule = {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { Ref: 'WimsEventBus' },
        EventPattern: { source: ['audit'] },
        Targets: [{ Id: 'audit', Arn: { 'Fn::GetAtt': ['FulfillmentQueue', 'Arn'] } }],
      },
    };

    // Act
    const before = topologyOf(loadTemplate('template.yaml'));
    const after = topologyOf(prepareTemplate(source, { baseDir: process.cwd() }));

    // Assess
    expect(after.nodes.map((node) => node.id)).toEqual([...before.nodes.map((node) => node.id), 'AuditedOrdersRule']);
    expect(edgesOf(after).filter((edge) => !edgesOf(before).includes(edge))).toEqual([
      'WimsEventBus -data-> AuditedOrdersRule',
      'AuditedOrdersRule -data-> FulfillmentQueue',
    ]);
    expect(after.nodes.find((node) => node.id === 'AuditedOrdersRule')?.kind).toBe('rule');
  });
});
