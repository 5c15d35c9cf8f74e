// ESLint for the web client (web/*.js, plain ES modules in the browser):
// the recommended rules, and rules against errors that vanish.

import js from '@eslint/js';
import globals from 'globals';

/** A selector and why it is refused. */
const swallowed = [
  {
    // `catch {}` or `catch { return; }`: the error is not even named.
    selector: 'CatchClause[param=null]',
    message: 'Name the error and hand it on: show it, rethrow it, or report() it (notice.js).',
  },
  {
    // `.catch(() => ...)`: a handler that drops what it catches.
    selector: "CallExpression[callee.property.name='catch'] > :function[params.length=0]",
    message: 'A .catch() handler must take the error and hand it on (report() it, notice.js).',
  },
  {
    // `.then(ok, () => ...)`: the same, as then's second argument.
    selector: "CallExpression[callee.property.name='then'][arguments.length=2] > :function.arguments:last-child[params.length=0]",
    message: 'A rejection handler must take the error and hand it on (report() it, notice.js).',
  },
];

export default [
  js.configs.recommended,
  {
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A caught error that is named must be used (ESLint's default since 9,
      // stated here so that it stays).
      'no-unused-vars': ['error', { caughtErrors: 'all' }],
      'no-restricted-syntax': ['error', ...swallowed],
      // Errors are reported through notice.js, which logs them; other
      // console calls are left-over debugging.
      'no-console': ['error', { allow: ['error'] }],
      'prefer-promise-reject-errors': 'error',
      'no-throw-literal': 'error',
      'no-promise-executor-return': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // The service worker: a classic script, in a worker's scope.
    files: ['web/sw.js'],
    languageOptions: {
      sourceType: 'script',
      globals: globals.serviceworker,
    },
  },
];
