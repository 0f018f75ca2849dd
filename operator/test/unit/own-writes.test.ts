import test from 'ava';
import { OwnWrites } from '../../src/controller/own-writes.ts';

test('recent own versions are recognised, per object, and forgotten with the object', (t) => {
  const own = new OwnWrites();
  own.record('CacheNamespace', 'team-a', 'orders', '10');
  own.record('CacheNamespace', 'team-a', 'orders', '11');
  t.true(own.isOwn('CacheNamespace', 'team-a', 'orders', '10'), 'an earlier write of the same pass');
  t.true(own.isOwn('CacheNamespace', 'team-a', 'orders', '11'));
  t.false(own.isOwn('CacheNamespace', 'team-a', 'orders', '12'), 'someone else');
  t.false(own.isOwn('Secret', 'team-a', 'orders', '10'), 'another kind');
  t.false(own.isOwn('CacheNamespace', 'team-a', 'orders', undefined));
  own.forget('CacheNamespace', 'team-a', 'orders');
  t.false(own.isOwn('CacheNamespace', 'team-a', 'orders', '11'));
});

test('only the last 16 versions of an object are kept', (t) => {
  const own = new OwnWrites();
  for (let version = 1; version <= 20; version += 1) own.record('ConfigMap', 'ns', 'cm', String(version));
  t.false(own.isOwn('ConfigMap', 'ns', 'cm', '4'));
  t.true(own.isOwn('ConfigMap', 'ns', 'cm', '5'));
  t.true(own.isOwn('ConfigMap', 'ns', 'cm', '20'));
});
