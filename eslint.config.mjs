// One flat config for the whole repository (STYLE.md §10). The dependency rule of the sidecar
// (STYLE.md §2) is enforced with no-restricted-imports blocks per folder.
import tseslint from 'typescript-eslint';

const ioLibraries = [
  'node:*',
  'fs',
  'path',
  'net',
  'http',
  'crypto',
  'pg',
  'mqtt',
  'node-opcua',
  'onnxruntime-node',
  'express',
  'pino',
  'nats',
  '@electric-sql/*',
  'nodemailer',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.tmp/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'module-build/java/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-lines': ['warn', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['gateway-sidecar/src/domain/**/*.ts'],
    ignores: ['gateway-sidecar/src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...ioLibraries, '../adapters/*', '../app/*', '../main'] },
      ],
      'no-restricted-globals': ['error', 'process'],
    },
  },
  {
    files: ['gateway-sidecar/src/app/**/*.ts'],
    ignores: ['gateway-sidecar/src/app/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../adapters/*', '../main'] }] },
  },
  {
    files: ['gateway-sidecar/src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../app/*', '../../app/*', '../main', '../../main'] }],
    },
  },
);
