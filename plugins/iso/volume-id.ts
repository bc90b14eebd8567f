/** ISO volume ids from names: A-Z 0-9 _, at most 32, numbered when a set has several volumes. */
export function volumeIdOf(name: string, index: number, count: number): string {
  const base = name.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return count > 1 ? `${base.slice(0, 32 - String(index).length - 1)}_${index}` : base.slice(0, 32);
}
