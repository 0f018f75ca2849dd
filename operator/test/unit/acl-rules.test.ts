import test from 'ava';
import {
  aclDrift,
  nodesOutOfSync,
  parseGetUser,
  passwordHash,
  setUserRules,
  type AclUserSpec,
  type AclUserState,
} from '../../src/redis/acl-rules.ts';
import { parseClusterNodes } from '../../src/redis/cluster-nodes.ts';
import { generatePassword, isUsablePassword } from '../../src/redis/password.ts';
import { winningClaim, type Claim } from '../../src/desired/claims.ts';

const USER: AclUserSpec = {
  name: 'cacheplane.team-a.orders',
  keyPatterns: ['orders:*'],
  commands: ['get', 'set'],
};
const HASH = passwordHash('secret');

test('passwordHash is SHA-256 hex, as Redis stores passwords', (t) => {
  t.is(HASH, '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
});

test('setUserRules: reset first, hashed password, key pattern, no channels, only the commands', (t) => {
  t.deepEqual(setUserRules(USER, HASH), [
    'reset',
    'on',
    `#${HASH}`,
    '~orders:*',
    'resetchannels',
    '-@all',
    '+get',
    '+set',
  ]);
  t.throws(() => setUserRules(USER, 'secret'), { message: /SHA-256 hex/ });
});

const IN_SYNC: AclUserState = {
  flags: ['on', 'sanitize-payload'],
  passwordHashes: [HASH],
  commandRules: ['-@all', '+set', '+get'],
  keyRules: ['~orders:*'],
  channelRules: [],
  selectorCount: 0,
};

const replies: Array<[string, unknown]> = [
  [
    'RESP2 flat array',
    [
      'flags',
      ['on', 'sanitize-payload'],
      'passwords',
      [HASH],
      'commands',
      '-@all +set +get',
      'keys',
      '~orders:*',
      'channels',
      '',
      'selectors',
      [],
    ],
  ],
  [
    'RESP3 map',
    new Map<string, unknown>([
      ['flags', ['on', 'sanitize-payload']],
      ['passwords', [HASH]],
      ['commands', '-@all +set +get'],
      ['keys', '~orders:*'],
      ['channels', ''],
      ['selectors', []],
    ]),
  ],
  [
    'object',
    {
      flags: ['on', 'sanitize-payload'],
      passwords: [HASH],
      commands: '-@all +set +get',
      keys: '~orders:*',
      channels: '',
      selectors: [],
    },
  ],
];
for (const [shape, reply] of replies) {
  test(`parseGetUser reads a ${shape}`, (t) => t.deepEqual(parseGetUser(reply), IN_SYNC));
}

test('parseGetUser: no user is undefined', (t) => {
  t.is(parseGetUser(null), undefined);
  t.is(parseGetUser(undefined), undefined);
});

const drift: Array<{ case: string; state: AclUserState | undefined; problems: RegExp[] }> = [
  { case: 'in sync (flag order and command order do not matter)', state: IN_SYNC, problems: [] },
  { case: 'missing user', state: undefined, problems: [/does not exist/] },
  { case: 'disabled', state: { ...IN_SYNC, flags: ['off'] }, problems: [/disabled/] },
  {
    case: 'nopass',
    state: { ...IN_SYNC, flags: ['on', 'nopass'], passwordHashes: [] },
    problems: [/nopass/, /0 password/],
  },
  {
    case: 'another password',
    state: { ...IN_SYNC, passwordHashes: [passwordHash('other')] },
    problems: [/1 password/],
  },
  {
    case: 'a second password',
    state: { ...IN_SYNC, passwordHashes: [HASH, passwordHash('x')] },
    problems: [/2 password/],
  },
  {
    case: 'a command added by hand',
    state: { ...IN_SYNC, commandRules: [...IN_SYNC.commandRules, '+flushall'] },
    problems: [/extra command rule\(s\): \+flushall/],
  },
  {
    case: 'a category added by hand',
    state: { ...IN_SYNC, commandRules: ['+@all'] },
    problems: [/extra command rule\(s\): \+@all/, /missing command rule\(s\): -@all \+get \+set/],
  },
  {
    case: 'a command removed',
    state: { ...IN_SYNC, commandRules: ['-@all', '+get'] },
    problems: [/missing command rule\(s\): \+set/],
  },
  {
    case: 'all keys',
    state: { ...IN_SYNC, keyRules: ['~*'] },
    problems: [/extra key pattern\(s\): ~\*/, /missing key pattern\(s\): ~orders:\*/],
  },
  {
    case: 'a read-only key pattern added',
    state: { ...IN_SYNC, keyRules: ['~orders:*', '%R~other:*'] },
    problems: [/extra key pattern\(s\): %R~other:\*/],
  },
  {
    case: 'channels',
    state: { ...IN_SYNC, channelRules: ['&*'] },
    problems: [/extra channel pattern\(s\): &\*/],
  },
  { case: 'a selector', state: { ...IN_SYNC, selectorCount: 1 }, problems: [/1 extra selector/] },
];
for (const row of drift) {
  test(`aclDrift: ${row.case}`, (t) => {
    const problems = aclDrift(USER, HASH, row.state);
    t.is(problems.length, row.problems.length, problems.join('\n'));
    row.problems.forEach((pattern, index) => t.regex(problems[index] ?? '', pattern));
  });
}

test('nodesOutOfSync names the nodes that differ', (t) => {
  const states = new Map<string, AclUserState | undefined>([
    ['10.0.0.1:6379', IN_SYNC],
    ['10.0.0.2:6379', undefined],
    ['10.0.0.3:6379', { ...IN_SYNC, commandRules: [...IN_SYNC.commandRules, '+keys'] }],
  ]);
  t.deepEqual(
    nodesOutOfSync(USER, HASH, states).map(({ node }) => node),
    ['10.0.0.2:6379', '10.0.0.3:6379'],
  );
});

test('parseClusterNodes: primaries, replicas, failing nodes; no address, no node', (t) => {
  const output = [
    '07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,node-4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected',
    '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922',
    '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 1426238316232 0 3 connected 10923-16383',
    'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460',
    '6ec23923021cf3ffec47632106199cb7f496ce01 :0@0 master,noaddr - 1426238316232 0 5 disconnected',
    '824fe116063bc5fcf9f4ffd895bc17aee7731ac3 ::1:30006@31006 slave,fail? 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238317741 6 connected',
    '',
  ].join('\n');
  t.deepEqual(
    parseClusterNodes(output).map(({ address, host, port, role, failing }) => ({
      address,
      host,
      port,
      role,
      failing,
    })),
    [
      { address: '127.0.0.1:30004', host: '127.0.0.1', port: 30004, role: 'replica', failing: false },
      { address: '127.0.0.1:30002', host: '127.0.0.1', port: 30002, role: 'primary', failing: false },
      { address: '127.0.0.1:30003', host: '127.0.0.1', port: 30003, role: 'primary', failing: true },
      { address: '127.0.0.1:30001', host: '127.0.0.1', port: 30001, role: 'primary', failing: false },
      { address: '[::1]:30006', host: '::1', port: 30006, role: 'replica', failing: true },
    ],
  );
});

test('generated passwords are 256-bit, distinct and usable; others are not', (t) => {
  const a = generatePassword();
  const b = generatePassword();
  t.not(a, b);
  t.true(isUsablePassword(a));
  t.is(Buffer.from(a, 'base64url').length, 32);
  for (const bad of [undefined, '', 'short', `${a} `, `${a}x`]) t.false(isUsablePassword(bad));
});

const claim = (name: string, creationTimestamp: string | undefined, extra: Partial<Claim> = {}): Claim => ({
  namespace: 'team-a',
  name,
  uid: `uid-${name}`,
  creationTimestamp,
  deleting: false,
  ...extra,
});

const claims: Array<{ case: string; claims: Claim[]; winner: string | undefined }> = [
  { case: 'the only claim', claims: [claim('a', '2025-01-02T00:00:00Z')], winner: 'a' },
  {
    case: 'the oldest claim',
    claims: [claim('a', '2025-01-02T00:00:00Z'), claim('b', '2025-01-01T00:00:00Z')],
    winner: 'b',
  },
  {
    case: 'same time: by namespace',
    claims: [claim('a', '2025-01-01T00:00:00Z', { namespace: 'team-b' }), claim('b', '2025-01-01T00:00:00Z')],
    winner: 'b',
  },
  {
    case: 'same time and namespace: by name',
    claims: [claim('b', '2025-01-01T00:00:00Z'), claim('a', '2025-01-01T00:00:00Z')],
    winner: 'a',
  },
  {
    case: 'a claim being deleted gives way',
    claims: [claim('a', '2025-01-01T00:00:00Z', { deleting: true }), claim('b', '2025-01-02T00:00:00Z')],
    winner: 'b',
  },
  {
    case: 'no timestamp sorts last',
    claims: [claim('a', undefined), claim('b', '2030-01-01T00:00:00Z')],
    winner: 'b',
  },
  {
    case: 'nothing left',
    claims: [claim('a', '2025-01-01T00:00:00Z', { deleting: true })],
    winner: undefined,
  },
  { case: 'no claims', claims: [], winner: undefined },
];
for (const row of claims) {
  test(`winningClaim: ${row.case}`, (t) => {
    t.is(winningClaim(row.claims)?.name, row.winner);
    t.is(winningClaim([...row.claims].reverse())?.name, row.winner);
  });
}
