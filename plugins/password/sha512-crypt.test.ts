import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { checkSha512Crypt, parseSha512Crypt, sha512Crypt } from "./sha512-crypt.ts";
import { makeVerifier } from "./password-plugin.ts";

// Independent implementations: busybox (C, its own pw_encrypt_sha.c) and libc's crypt() (libxcrypt), through perl.
const busyboxCrypt = async (password: string, salt: string, rounds: number) =>
  (
    await execa("busybox", ["mkpasswd", "-m", "sha512", "-P", "0", "-S", `rounds=${rounds}$${salt}`], {
      input: password,
    })
  ).stdout.trim();

// perl's crypt() is libc's (libxcrypt on Debian): perl-base is essential, so always there.
const libcCrypt = async (password: string, setting: string) =>
  (
    await execa("perl", ["-e", "binmode STDIN; local $/; my $p = <STDIN>; print crypt($p, $ARGV[0])", setting], {
      input: Buffer.from(password, "utf8"),
    })
  ).stdout.trim();

// Passwords around the 64-byte block edge, non-ASCII, and salts of every length class.
const CASES: Array<[string, string, number]> = [
  ["Hello world!", "saltstring", 1000],
  ["Correct-Horse-Battery-9", "abcdefghijklmnop", 2000],
  ["a".repeat(63), "x", 1001],
  ["b".repeat(64) + "ÄÖü€", "./09AZaz", 1500],
  [
    "P4ss w0rd with spaces and a very long tail to pass 128 bytes ...................................................",
    "longsaltlongsaltIGNORED",
    1000,
  ],
  ["short", "", 1000],
];

describe("SHA-512-crypt against independent implementations", () => {
  it.each(CASES)("busybox mkpasswd agrees for %j / salt %j / %d rounds", async (password, salt, rounds) => {
    expect(sha512Crypt(password, salt, rounds)).toBe(await busyboxCrypt(password, salt.slice(0, 16), rounds));
  });

  it.each(CASES)("libc crypt() (through perl) agrees for %j / salt %j / %d rounds", async (password, salt, rounds) => {
    expect(sha512Crypt(password, salt, rounds)).toBe(await libcCrypt(password, `$6$rounds=${rounds}$${salt}$`));
  });

  it("a verifier checks with busybox for the right password and not for a wrong one", async () => {
    const verifier = makeVerifier("Right-Password-42", Buffer.from("0123456789abcdef"), 5000);
    const { rounds, salt } = parseSha512Crypt(verifier)!;
    expect(await busyboxCrypt("Right-Password-42", salt, rounds)).toBe(verifier);
    expect(await busyboxCrypt("right-Password-42", salt, rounds)).not.toBe(verifier);
    expect(checkSha512Crypt("Right-Password-42", verifier)).toBe(true);
    expect(checkSha512Crypt("Right-Password-43", verifier)).toBe(false);
  });

  it("parses only well-formed $6$ strings", () => {
    expect(parseSha512Crypt("$5$abc$def")).toBeUndefined();
    expect(parseSha512Crypt(sha512Crypt("x", "s", 1000))).toMatchObject({ rounds: 1000, salt: "s" });
  });
});
