// Test settings: READONLY during a squad run.
module.exports = { testEnvironment: 'jsdom', roots: ['<rootDir>/../frontend', '<rootDir>/../backend'] };
