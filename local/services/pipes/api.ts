/**
 * EventBridge Pipes' API (REST JSON, `/v1/pipes`) on the local pipes: ListPipes, DescribePipe,
 * StartPipe and StopPipe. Stopping a pipe really stops it: its poller ends, and nothing more is
 * read from its source until StartPipe.
 *
 * LIMITATIONS: no pagination; StartPipe and StopPipe answer once the pipe is RUNNING or STOPPED
 * (AWS answers STARTING or STOPPING and gets there a moment later); see pipe.ts for how a stream
 * source resumes.
 */
import { AwsApiError, type RestResponse, type RestRoute } from '../api.js';
import type { Pipe } from './pipe.js';

function summary(pipe: Pipe) {
  const { Source, Target, Enrichment } = pipe.definition;
  return {
    Name: pipe.name,
    Arn: pipe.arn,
    DesiredState: pipe.desiredState,
    CurrentState: pipe.currentState,
    Source,
    Target,
    ...(Enrichment === undefined ? {} : { Enrichment }),
    CreationTime: pipe.createdAt,
    LastModifiedTime: pipe.lastModifiedAt,
  };
}

export function pipesApi(pipes: ReadonlyMap<string, Pipe>): RestRoute[] {
  const find = (name: string): Pipe => {
    const pipe = pipes.get(name);
    if (pipe === undefined) throw new AwsApiError('NotFoundException', `Pipe ${name} does not exist.`, 404);
    return pipe;
  };
  const change = (state: 'RUNNING' | 'STOPPED') => async (_request: unknown, parameters: Record<string, string>): Promise<RestResponse> => {
    const pipe = find(parameters.Name!);
    await pipe.changeDesiredState(state);
    const { Name, Arn, DesiredState, CurrentState, CreationTime, LastModifiedTime } = summary(pipe);
    return { body: { Name, Arn, DesiredState, CurrentState, CreationTime, LastModifiedTime } };
  };
  return [
    { operation: 'ListPipes', method: 'GET', path: '/v1/pipes', handle: () => ({ body: { Pipes: [...pipes.values()].map(summary) } }) },
    {
      operation: 'DescribePipe',
      method: 'GET',
      path: '/v1/pipes/{Name}',
      handle: (_request, parameters) => {
        const pipe = find(parameters.Name!);
        const { RoleArn, SourceParameters, EnrichmentParameters, TargetParameters } = pipe.definition;
        return { body: { ...summary(pipe), RoleArn, SourceParameters, EnrichmentParameters, TargetParameters } };
      },
    },
    { operation: 'StartPipe', method: 'POST', path: '/v1/pipes/{Name}/start', handle: change('RUNNING') },
    { operation: 'StopPipe', method: 'POST', path: '/v1/pipes/{Name}/stop', handle: change('STOPPED') },
  ];
}
