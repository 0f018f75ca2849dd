import test from 'ava';
import {
  configMapData,
  decodeSecretData,
  EMPTY_SNAPSHOT,
  recordsEqual,
  snapshotsEqual,
} from '../../src/tenancy/kube-snapshot.ts';

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

test('Secret data is decoded from base64 to UTF-8 text', (t) => {
  const decoded = decodeSecretData({
    'orders.username': base64('orders'),
    'orders.password': base64('pä$$ wörd ✓ 🔑'),
    'empty.password': '',
    'lines.password': base64('line1\nline2\n'),
  });
  t.deepEqual(decoded, {
    'orders.username': 'orders',
    'orders.password': 'pä$$ wörd ✓ 🔑',
    'empty.password': '',
    'lines.password': 'line1\nline2\n',
  });
  t.true(Object.isFrozen(decoded));
});

test('a Secret or ConfigMap without data reads as an empty record', (t) => {
  t.deepEqual(decodeSecretData(undefined), {});
  t.deepEqual(configMapData(undefined), {});
});

test('ConfigMap data is copied and frozen', (t) => {
  const data = { 'orders.json': '{}' };
  const copied = configMapData(data);
  t.deepEqual(copied, data);
  t.not(copied, data);
  t.true(Object.isFrozen(copied));
});

test('records are equal when they hold the same keys and values, in any order', (t) => {
  t.true(recordsEqual({}, {}));
  t.true(recordsEqual({ a: '1', b: '2' }, { b: '2', a: '1' }));
  t.false(recordsEqual({ a: '1' }, { a: '2' }));
  t.false(recordsEqual({ a: '1' }, { b: '1' }));
  t.false(recordsEqual({ a: '1' }, { a: '1', b: '2' }));
  t.false(recordsEqual({ a: '1', b: '2' }, { a: '1' }));
  t.false(recordsEqual({ a: '' }, {}));
});

test('snapshots are equal when both their entries and their credentials are', (t) => {
  const snapshot = { entries: { 'a.json': '{}' }, credentials: { 'a.password': 'x' } };
  t.true(snapshotsEqual(snapshot, { entries: { 'a.json': '{}' }, credentials: { 'a.password': 'x' } }));
  t.false(snapshotsEqual(snapshot, { ...snapshot, credentials: { 'a.password': 'y' } }));
  t.false(snapshotsEqual(snapshot, { ...snapshot, entries: {} }));
  t.true(snapshotsEqual(EMPTY_SNAPSHOT, { entries: {}, credentials: {} }));
});
