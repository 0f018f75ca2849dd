import test from 'ava';
import { ApiException } from '@kubernetes/client-node';
import {
  describeKubeError,
  describeStatus,
  httpStatusOf,
  KubeReadError,
} from '../../src/tenancy/kube-errors.ts';

const forbidden = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message: 'configmaps "cacheplane-namespaces" is forbidden: User "x" cannot list resource "configmaps"',
  reason: 'Forbidden',
  code: 403,
});

test('an API error response reads as its HTTP status, reason and message', (t) => {
  const error = new ApiException(403, 'Unknown API Status Code!', forbidden, {});
  t.is(
    describeKubeError(error),
    'HTTP 403 Forbidden: configmaps "cacheplane-namespaces" is forbidden: User "x" cannot list resource "configmaps"',
  );
  t.is(httpStatusOf(error), 403);
});

test('an error response without a Status body reads as the HTTP status and its name', (t) => {
  t.is(describeKubeError(new ApiException(401, 'Unauthorized', undefined, {})), 'HTTP 401 Unauthorized');
  t.is(
    describeKubeError(new ApiException(502, 'Unknown', 'Bad gateway\nmore', {})),
    'HTTP 502 Bad Gateway: Bad gateway',
  );
});

test("a watch request's refusal (a status code on a plain error) reads as the HTTP status", (t) => {
  const error = Object.assign(new Error('Forbidden'), { statusCode: 403 });
  t.is(describeKubeError(error), 'HTTP 403 Forbidden');
  t.is(httpStatusOf(error), 403);
});

test('a network failure reads with its cause', (t) => {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  t.is(
    describeKubeError(new TypeError('fetch failed', { cause })),
    'fetch failed: connect ECONNREFUSED 127.0.0.1:6443',
  );
  const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  t.is(
    describeKubeError(new TypeError('terminated', { cause: reset })),
    'terminated: UND_ERR_SOCKET: other side closed',
  );
  t.is(httpStatusOf(new TypeError('fetch failed', { cause })), undefined);
});

test('a KubeReadError reads as its own message, which already says why', (t) => {
  const cause = new ApiException(403, 'x', forbidden, {});
  const error = new KubeReadError(
    'cannot read ConfigMap "a" in namespace "b": HTTP 403 Forbidden',
    403,
    cause,
  );
  t.is(describeKubeError(error), 'cannot read ConfigMap "a" in namespace "b": HTTP 403 Forbidden');
  t.is(error.status, 403);
  t.is(error.cause, cause);
});

test('a watch ERROR event reads as its Status', (t) => {
  t.is(
    describeStatus({ code: 410, reason: 'Expired', message: 'too old resource version: 5 (17)' }),
    'HTTP 410 Expired: too old resource version: 5 (17)',
  );
  t.is(describeStatus({ code: 500 }), 'HTTP 500 Internal Server Error');
  t.is(describeStatus({ message: 'odd' }), 'HTTP error: odd');
  t.is(describeKubeError('a string'), 'a string');
});
