// Build settings: READONLY during a squad run (see ownership.yaml).
module.exports = { entry: './frontend/src/index.tsx', output: { path: __dirname + '/../dist' } };
