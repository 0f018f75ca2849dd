import test from 'ava';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, timestampHex } from '../../src/redis/envelope.ts';

const RUNS = { numRuns: 200, seed: 12345 };
const timestamp = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const payload = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));

test('decode(encode(x)) is x for any payload and timestamps in [0, 2^53)', (t) => {
  fc.assert(
    fc.property(payload, timestamp, timestamp, (value, writtenAt, expiresAt) => {
      const decoded = decodeEnvelope(encodeEnvelope({ value, writtenAt, expiresAt }));
      return (
        decoded.value.equals(value) && decoded.writtenAt === writtenAt && decoded.expiresAt === expiresAt
      );
    }),
    RUNS,
  );
  t.pass();
});

test('the stored writtenAt orders as strings exactly as the numbers do', (t) => {
  fc.assert(
    fc.property(timestamp, timestamp, (a, b) => {
      const [hexA, hexB] = [timestampHex(a), timestampHex(b)];
      // What the Lua scripts compare: characters 3..18 of the stored bytes.
      const storedA = encodeEnvelope({ value: Buffer.alloc(0), writtenAt: a, expiresAt: 0 }).toString(
        'latin1',
        2,
        18,
      );
      return storedA === hexA && hexA < hexB === a < b && (hexA === hexB) === (a === b);
    }),
    RUNS,
  );
  t.pass();
});

test('the header is the magic, then 16 + 16 lowercase hex characters', (t) => {
  const raw = encodeEnvelope({ value: Buffer.from('payload'), writtenAt: 0x1a2b, expiresAt: 255 });
  t.deepEqual([...raw.subarray(0, 2)], [0xca, 0x01]);
  t.is(raw.toString('latin1', 2, 34), '0000000000001a2b00000000000000ff');
  t.is(raw.toString('latin1', 34), 'payload');
});

test('bytes without the magic prefix decode as a raw value, older than any write', (t) => {
  fc.assert(
    fc.property(payload, (value) => {
      fc.pre(value[0] !== 0xca);
      const decoded = decodeEnvelope(value);
      return decoded.value.equals(value) && decoded.writtenAt === 0 && decoded.expiresAt === 0;
    }),
    RUNS,
  );
  const truncated = encodeEnvelope({ value: Buffer.alloc(0), writtenAt: 1, expiresAt: 2 }).subarray(0, 20);
  t.is(decodeEnvelope(truncated).writtenAt, 0);
  t.is(
    decodeEnvelope(Buffer.from([0xca, 0x01, ...Buffer.from('not hex at all, definitely not hex')])).writtenAt,
    0,
  );
});

test('timestamps outside [0, 2^53) or fractional are refused', (t) => {
  for (const bad of [-1, 2 ** 53, 1.5, Number.NaN]) {
    t.throws(() => encodeEnvelope({ value: Buffer.alloc(0), writtenAt: bad, expiresAt: 0 }), {
      instanceOf: RangeError,
    });
  }
});
