/** Codes of the management-point simulator: BM53xx. */
import { defineCodes } from "../../base/errors.ts";

defineCodes("testbed-mp", {
  BM5301: {
    title: "management point must listen on loopback",
    hint: "The simulator only binds 127.0.0.1; guests reach it through QEMU's guestfwd (testbed/mp/README.md).",
  },
  BM5302: {
    title: "site database invalid",
    hint: "Fix the field the message names; testbed/mp/README.md shows the site database shape.",
  },
  BM5303: {
    title: "too many management points for the guest network",
    hint: "Guest addresses 10.0.2.100-10.0.2.199 are reserved for MPs: give a case at most 100 management points.",
  },
  BM5304: {
    title: "management point TLS material invalid",
    hint: "Give the MP's certificate and key as PEM and the CA that issued the media's client certificates (testbed/mp/README.md).",
  },
});
