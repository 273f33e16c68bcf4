// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (imports only point down): core → operators → runtime (with schemas) → topologies →
 * lab → cli. Each rule forbids a relative import that climbs out of the file's folder into a layer
 * above it (or beside it, where the layers say so). scripts/, bin/ and test/ may import anything.
 */
const layer = (files, forbidden, why) => {
  const regex = `^(\\.\\./)+(${forbidden.join('|')})(/|$)`;
  // no-restricted-imports sees static imports and re-exports only; a dynamic import() with a literal
  // path (or a template without expressions), and a type written import('…').T, cross the same
  // boundary, so they are matched by syntax.
  const inSelector = regex.replaceAll('/', '\\/');
  const message = `${why} (a dynamic import() is an import too)`;
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex, message: why }] }],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression > Literal.source[value=/${inSelector}/]`, message },
        { selector: `ImportExpression > TemplateLiteral.source[expressions.length=0] > TemplateElement[value.cooked=/${inSelector}/]`, message },
        { selector: `TSImportType Literal[value=/${inSelector}/]`, message: `${why} (a type written import('…') is an import too)` },
      ],
    },
  };
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', '.data/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly' },
      // Type-aware rules: a promise nobody awaits, or one handed where a void callback is expected,
      // loses its error (this code is promise-heavy: Kafka clients, drains, commits).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  layer(['core/**/*.ts'], ['operators', 'runtime', 'schemas', 'topologies', 'lab', 'cli', 'scripts'], 'core imports nothing of ours.'),
  layer(['operators/**/*.ts'], ['runtime', 'schemas', 'topologies', 'lab', 'cli', 'scripts'], 'operators import only core (and rxjs, and their own helpers).'),
  layer(['runtime/**/*.ts'], ['operators', 'topologies', 'lab', 'cli', 'scripts'], 'runtime imports core and schemas, never operators, topologies, the lab or the CLI.'),
  layer(['schemas/**/*.ts'], ['operators', 'runtime', 'topologies', 'lab', 'cli', 'scripts'], 'schemas import nothing above them (core at most).'),
  layer(['topologies/**/*.ts'], ['lab', 'cli', 'scripts'], 'topologies import operators, runtime, core and schemas; what a topology ships imports nothing from the lab or the CLI.'),
  layer(['lab/**/*.ts'], ['cli', 'scripts'], 'the lab imports anything but the CLI.'),
  {
    // Plain JavaScript outside the TypeScript project: no type information.
    files: ['**/*.cjs', '**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
