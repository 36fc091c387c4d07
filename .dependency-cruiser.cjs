/**
 * The import graph's rules, checked by `npm test` (`depcruise`): no cycles anywhere, and data
 * flows one way in the local runtime (sources → processors → senders).
 */
module.exports = {
  forbidden: [
    {
      name: 'sources-know-no-consumer',
      comment: 'A source (stream or SQS poller) hands records to whoever started it: it imports no processor and no sender.',
      severity: 'error',
      from: { path: '^local/services/sources/' },
      to: { path: '^local/services/(pipes|events|lambda|messaging|scheduler|stepfunctions|targets)/' },
    },
    {
      name: 'senders-know-no-source',
      comment: 'A sender delivers what it is given: it imports no source and no processor that feeds it.',
      severity: 'error',
      from: { path: '^local/services/targets/' },
      to: { path: '^local/services/(sources|pipes|scheduler)/|^local/services/events/bus\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'An import cycle hides which module is built first; break it with a type-only contract or a callback.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.aws-sam|\\.venv|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
