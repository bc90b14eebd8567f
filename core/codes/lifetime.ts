/** Codes of media over their lifetime: the init wizard, `inspect --check`, `diff`, site files. */
export const LIFETIME_CODES = {
  BM1011: { title: "wizard needs answers", hint: "There is no terminal to ask on: give the answers as flags (see `bootmedia init --help`) or take the defaults with --yes." },
  BM3501: { title: "media file differs from its manifest", hint: "A file on the media no longer hashes to what bootmedia/manifest.json recorded at build time: the media was altered or is failing; rebuild it or write it again." },
  BM3502: { title: "media carries no manifest", hint: "bootmedia/manifest.json is missing or unreadable: the media predates it or was altered; rebuild the media to get file checks." },
  BM5305: { title: "testbed site file invalid", hint: "Fix the site file as docs/testbed.md (\"Site files\") describes: a site database, management points and cases, each naming a media spec." },
} as const satisfies Record<string, { title: string; hint: string }>;
