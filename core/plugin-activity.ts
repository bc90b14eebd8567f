/**
 * Which plugin's code runs now (loading its module, apply(), a tap of a hook), so that when
 * plugin code ends the process the command can say whose it was.
 */
interface PluginActivity {
  plugin: string;
  /** The hook's name, or "load" / "apply" / "create". */
  hook: string;
}

const active: PluginActivity[] = [];

/** Marks `a` as running until the returned function is called. */
export function enterPlugin(a: PluginActivity): () => void {
  active.push(a);
  return () => {
    const i = active.lastIndexOf(a);
    if (i >= 0) active.splice(i, 1);
  };
}

/** The plugin code running now (the latest entered, when hooks run side by side). */
export function runningPlugin(): PluginActivity | undefined {
  return active.at(-1);
}
