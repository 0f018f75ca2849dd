// metav1.MicroTime for client-node 2.0.1. Its typed serializer writes a Date in a MicroTime field
// (Lease renewTime, Event eventTime) with toISOString(), milliseconds, and the API server refuses
// that ("cannot parse ".362Z" as ".000000""): it wants exactly six fractional digits. The
// serializer passes a string through untouched, so the fields get a string of the right form.

/** `2025-01-01T12:00:00.123000Z`, typed as the Date the generated models declare. */
export function microTime(date: Date): Date {
  return `${date.toISOString().slice(0, 23)}000Z` as unknown as Date;
}

/** Reads a MicroTime as client-node returns it (a string, or a Date on other paths). */
export function readMicroTime(value: Date | string | undefined): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
