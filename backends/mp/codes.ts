/** Codes of the management point (`bootmedia mp`, and the testbed's MPs): BM53xx. */
import { defineCodes } from "../../base/errors.ts";

defineCodes("testbed-mp", {
  BM5301: {
    title: "management point must listen on loopback",
    hint: "The testbed's MPs only bind 127.0.0.1; guests reach them through QEMU's guestfwd (testbed/mp/README.md).",
  },
  BM5302: {
    title: "site database invalid",
    hint: "Fix the field the message names; docs/management-point.md shows the site database shape.",
  },
  BM5303: {
    title: "too many management points for the guest network",
    hint: "Guest addresses 10.0.2.100-10.0.2.199 are reserved for MPs: give a case at most 100 management points.",
  },
  BM5304: {
    title: "management point TLS material invalid",
    hint: "Give the MP's certificate and key as PEM and the CA that issued the media's client certificates (docs/management-point.md).",
  },
  BM5306: {
    title: "management point cannot listen on that address",
    hint: "Another program listens on that address and port: stop it, or give `mp serve --listen HOST:PORT` a free port.",
  },
  BM5307: {
    title: "management point TLS key and certificate do not go together",
    hint: "--tls-key must be the private key of --tls-cert (both PEM); check you did not swap two MPs' files.",
  },
  BM5308: {
    title: "site file unreadable",
    hint: "Give `mp serve --site` a readable YAML or JSON site file (docs/management-point.md shows one).",
  },
  BM5309: {
    title: "state dir not writable",
    hint: "`mp serve --state-dir DIR` keeps its journal and logs in DIR: create it, or give a folder this user may write.",
  },
  BM5310: {
    title: "management point journal damaged",
    hint: "A line other than the last one of journal.jsonl is not a record: the file was edited or the disk lost data. Restore it from a backup or move it away to start with an empty state.",
  },
  BM5311: {
    title: "state dir in use",
    hint: "Another `mp serve` (the process the message names) keeps its state there: one MP per state dir.",
  },
  BM5312: {
    title: "task-sequence content not in the library",
    hint: "A step names a package (run-command, write-files or apply-image `package`) the site's library does not hold: add it with `bootmedia library add`, or fix the id.",
  },
  BM5313: {
    title: "apply-image package is no os image",
    hint: "An apply-image step names an os-image package (`bootmedia library add-os-image`, or `bootmedia os-image build`): fix the step's package id, or add the image again so its manifest has an osImage section.",
  },
});
