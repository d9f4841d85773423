import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_POLICY_NESTING, MAX_POLICY_OPERATORS, policyShapeProblem } from './policy-shape.ts';

const policy = (condition: string) => `permit (principal, action, resource) when { ${condition} };`;

test('nesting past the limit is found where it goes too deep; strings and comments do not count', () => {
  const deep = policy(`${'('.repeat(MAX_POLICY_NESTING)}true${')'.repeat(MAX_POLICY_NESTING)}`);
  // `permit (` and `when {` are two levels already.
  const problem = policyShapeProblem(deep);
  assert.match(problem?.message ?? '', /deeper than 32 levels/);
  assert.equal(deep[problem?.offset ?? 0], '(');
  assert.equal(policyShapeProblem(policy(`${'('.repeat(30)}true${')'.repeat(30)}`)), undefined);
  assert.equal(policyShapeProblem(policy(`"${'('.repeat(200)}" == "x" // ${'['.repeat(200)}`)), undefined);
  assert.equal(
    policyShapeProblem(policy(`"a \\" ((((" == "x"`)),
    undefined,
    'an escaped quote stays inside the string',
  );
});

test('more operators than the limit in one policy is a problem; the count starts again with each policy', () => {
  const chain = (n: number) => Array(n).fill('true').join(' && ');
  assert.match(
    policyShapeProblem(policy(chain(MAX_POLICY_OPERATORS + 2)))?.message ?? '',
    /more than 256 operators/,
  );
  assert.equal(policyShapeProblem(policy(chain(MAX_POLICY_OPERATORS))), undefined);
  const many = Array.from({ length: 5 }, () => policy(chain(200))).join('\n');
  assert.equal(policyShapeProblem(many), undefined);
  assert.match(
    policyShapeProblem(policy(`${'if true then '.repeat(300)}true${' else false'.repeat(300)}`))?.message ??
      '',
    /operators/,
  );
  assert.match(policyShapeProblem(policy(`context${'.a'.repeat(300)} == 1`))?.message ?? '', /operators/);
  // A wide set is not deep: thousands of elements are fine.
  assert.equal(
    policyShapeProblem(
      policy(`[${Array.from({ length: 5000 }, (_, i) => `"a${i}"`).join(',')}].contains(context.action)`),
    ),
    undefined,
  );
});

test('a comment ends at a carriage return too, as Cedar reads it: what follows one is checked', () => {
  const hidden = `// x\r${policy(Array(1000).fill('context.dryRun').join(' || '))}`;
  assert.match(policyShapeProblem(hidden)?.message ?? '', /more than 256 operators/);
  assert.equal(policyShapeProblem(`// a comment ((((\r\n${policy('true')}`), undefined);
});
