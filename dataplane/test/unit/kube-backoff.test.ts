import test from 'ava';
import { backoffDelay } from '../../src/tenancy/kube-backoff.ts';

const options = { initialMs: 500, maxMs: 30_000 };
const noJitter = (): number => 0;

test('the pause doubles from initialMs with each failure, up to maxMs', (t) => {
  t.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 50].map((failures) => backoffDelay(failures, options, noJitter)),
    [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
  );
});

test('jitter takes off at most a fifth, never adds', (t) => {
  t.is(
    backoffDelay(0, options, () => 0.999_999),
    400,
  );
  t.is(
    backoffDelay(10, options, () => 0.5),
    27_000,
  );
  for (let i = 0; i < 100; i += 1) {
    const delay = backoffDelay(3, options);
    t.true(delay >= 3200 && delay <= 4000, String(delay));
  }
});
