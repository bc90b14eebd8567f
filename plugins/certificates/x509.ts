/**
 * The one doorway to @peculiar/x509. It needs the `reflect-metadata` polyfill loaded before
 * it (its ASN.1 schemas use decorators through tsyringe; without it the import throws), and
 * it signs through WebCrypto, which we point at node's own (node:crypto webcrypto) rather
 * than whatever `globalThis.crypto` a host may have replaced. Import x509 only from here.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509, webcrypto };
