type Level<T> = Map<string, Level<T> | T>;

/**
 * One value per label set of a metric, found by its label values (in the order of the label
 * names) through one Map per label: no key is built per lookup. Listed in the order created.
 */
export class LabelSets<T> {
  readonly #labelNames: readonly string[];
  readonly #create: (labels: Record<string, string>) => T;
  #root: Level<T> = new Map();
  #created: T[] = [];

  constructor(labelNames: readonly string[], create: (labels: Record<string, string>) => T) {
    if (labelNames.length === 0) throw new Error('LabelSets: at least one label name');
    this.#labelNames = labelNames;
    this.#create = create;
  }

  get(values: readonly string[]): T {
    const last = this.#labelNames.length - 1;
    if (values.length !== last + 1) {
      throw new Error(
        `expected ${last + 1} label values (${this.#labelNames.join(', ')}), got ${values.length}`,
      );
    }
    let level = this.#root;
    for (let index = 0; index < last; index += 1) {
      const value = values[index] as string;
      let next = level.get(value) as Level<T> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = values[last] as string;
    let found = level.get(value) as T | undefined;
    if (found === undefined) {
      found = this.#create(
        Object.fromEntries(this.#labelNames.map((name, index) => [name, values[index] as string])),
      );
      level.set(value, found);
      this.#created.push(found);
    }
    return found;
  }

  all(): readonly T[] {
    return this.#created;
  }

  clear(): void {
    this.#root = new Map();
    this.#created = [];
  }
}
