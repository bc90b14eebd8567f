/** Exit codes of every command (docs/errors.md lists them). */
export const EXIT = { OK: 0, PROBLEMS: 1, USAGE: 2, INTERNAL: 3, SIGINT: 130, SIGTERM: 143 } as const;
