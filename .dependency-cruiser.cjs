/**
 * The import graph's rules, checked by `npm test` (`depcruise`): no cycles anywhere, and data
 * flows one way in the local runtime (sources → processors → senders).
 */
module.exports = {
  forbidden: [
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
