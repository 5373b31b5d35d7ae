/** A registry of pluggable parts by name; an unknown name throws and lists the known ones. */
export interface Registry<T> {
  get(name: string): T;
  has(name: string): boolean;
  names(): string[];
}

export function createRegistry<T>(kind: string, entries: Record<string, T>): Registry<T> {
  const map = new Map(Object.entries(entries));
  return {
    get(name) {
      const found = map.get(name);
      if (found === undefined)
        throw new Error(`unknown ${kind} '${name}' (known: ${[...map.keys()].join(', ')})`);
      return found;
    },
    has: (name) => map.has(name),
    names: () => [...map.keys()],
  };
}
