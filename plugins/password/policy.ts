/**
 * The media password strength policy (plugins/password/README.md): at least 12
 * characters, and characters from at least 3 of the 4 classes. A violation names the
 * rule it breaks, never the password (nor any part of it).
 */
export const PASSWORD_POLICY = { MIN_LENGTH: 12, MIN_CLASSES: 3 } as const;

export const CHARACTER_CLASSES = ["lower", "upper", "digit", "symbol"] as const;
type CharacterClass = (typeof CHARACTER_CLASSES)[number];

const CLASS_TEST = {
  lower: (c: string) => /\p{Ll}/u.test(c),
  upper: (c: string) => /\p{Lu}/u.test(c),
  digit: (c: string) => /\p{Nd}/u.test(c),
  // Everything else that is not a control character: punctuation, space, symbols, other letters.
  symbol: (c: string) => !/[\p{Ll}\p{Lu}\p{Nd}\p{Cc}]/u.test(c),
} satisfies Record<CharacterClass, (c: string) => boolean>;

export function classesOf(password: string): CharacterClass[] {
  const chars = [...password];
  return CHARACTER_CLASSES.filter((k) => chars.some(CLASS_TEST[k]));
}

/** The rules `password` breaks, as sentences safe to print (empty: it passes). */
export function checkPasswordPolicy(password: string): string[] {
  const broken: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_POLICY.MIN_LENGTH) {
    broken.push(`it has ${length} characters; the policy asks for at least ${PASSWORD_POLICY.MIN_LENGTH}`);
  }
  const classes = classesOf(password);
  if (classes.length < PASSWORD_POLICY.MIN_CLASSES) {
    const missing = CHARACTER_CLASSES.filter((k) => !classes.includes(k));
    broken.push(
      `it uses ${classes.length} of the 4 character classes; the policy asks for ${PASSWORD_POLICY.MIN_CLASSES} (add ${missing.join(" or ")})`,
    );
  }
  if (/\p{Cc}/u.test(password))
    broken.push("it contains control characters (a newline or tab cannot be typed at the boot prompt)");
  return broken;
}
