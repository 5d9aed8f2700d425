// Which verified identity authorises a sender address, the way SES checks it: the exact
// address identity, else its domain, else a parent domain (verifying example.com covers
// mail.example.com). Identity names are stored lower-case (store/port.ts).
import type { Identity, Store } from '../store/port.js';
import { addressProblem, domainOf } from './addresses.js';

/** Identity names to try for an address, most specific first. */
export function identityCandidates(address: string): string[] {
  const addr = address.trim().toLowerCase();
  if (addressProblem(addr)) return [];
  const out = [addr];
  const labels = domainOf(addr).split('.');
  // Stop before the bare TLD: "com" is never an identity.
  for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}

export async function resolveIdentity(store: Store, address: string): Promise<Identity | undefined> {
  for (const name of identityCandidates(address)) {
    const found = await store.getIdentity(name);
    if (found) return found;
  }
  return undefined;
}

export async function findIdentity(store: Store, address: string): Promise<string | undefined> {
  return (await resolveIdentity(store, address))?.name;
}
