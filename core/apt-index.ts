/** apt's package index as `apt-cache show` prints it: the fields bootmedia reads of each stanza. */

export interface DebRef {
  /** Package name with architecture qualifier, e.g. busybox-static:i386. */
  name: string;
  version: string;
  /** First dependency name (used to go from a kernel metapackage to the versioned image). */
  firstDepends?: string;
  /** The .deb's SHA-256 from apt's (signed) index: a cached or downloaded file must match it. */
  sha256?: string;
}

/** `apt-cache show` stanzas by "Package:Architecture". */
export function parseAptStanzas(text: string): Map<string, DebRef> {
  const refs = new Map<string, DebRef>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (f: string) => new RegExp(`^${f}: (.+)$`, "m").exec(stanza)?.[1]?.trim();
    const pkg = field("Package");
    const arch = field("Architecture");
    const version = field("Version");
    if (!pkg || !arch || !version) continue;
    const name = `${pkg}:${arch}`;
    const sha256 = field("SHA256");
    if (!refs.has(name))
      refs.set(name, {
        name,
        version,
        firstDepends: /^Depends: ([^\s,(]+)/m.exec(stanza)?.[1],
        ...(sha256 ? { sha256 } : {}),
      });
  }
  return refs;
}
