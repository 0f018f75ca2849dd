import { z } from 'zod';

/**
 * The message every replica (and any other service) publishes when cache entries change
 * (SEED-DESIGN "Message Broker Interface"), as JSON. `origin` and `sequence` are set by data-plane
 * replicas; events from other services may omit them.
 */
export interface InvalidationEvent {
  namespace: string;
  keys: string[];
  action: 'delete' | 'update';
  /** When the change happened, ms since the epoch. */
  timestamp: number;
  /** The publishing replica's id; absent for external publishers. */
  origin?: string | undefined;
  /** Per-origin sequence number, from 1, without gaps. */
  sequence?: number | undefined;
}

const EventSchema = z.object({
  namespace: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  keys: z.array(z.string().min(1)).min(1).max(100_000),
  action: z.enum(['delete', 'update']),
  timestamp: z.number().int().nonnegative(),
  origin: z.string().min(1).max(256).optional(),
  sequence: z.number().int().positive().optional(),
});

/** The JSON bytes of an event, as published on the broker. */
export function encodeEvent(event: InvalidationEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** Parses and validates a received message; throws with a readable reason when it is not an event. */
export function decodeEvent(payload: Buffer | string): InvalidationEvent {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    throw new Error('invalidation message is not JSON');
  }
  const parsed = EventSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `invalidation message is not an event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
