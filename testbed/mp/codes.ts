/** Codes of the testbed's guest network to management points (testbed/mp/network.ts). */
import { defineCodes } from "../../base/errors.ts";

defineCodes("testbed-network", {
  BM5018: {
    title: "management point URL invalid",
    hint: "Give --mp as http://HOST:PORT or https://HOST:PORT (an IPv4 address or host name the testbed's host reaches, no path); the guest reaches it as http(s)://10.0.2.100, the next as .101.",
  },
});
