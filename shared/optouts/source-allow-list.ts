import { BlockList, isIP } from 'node:net';

/**
 * The webhook's optional source allow-list: CIDR blocks (or single addresses) a request must come
 * from, checked before anything else (no write, no secret comparison for an outsider). Marketo
 * publishes the blocks its webhooks ("Call Webhook" flow step) come from under "Outbound IP
 * Addresses" in "Configure Protocols for Marketo Engage" (AdobeDocs/marketo.en,
 * help/marketo/getting-started/initial-setup/configure-protocols-for-marketo.md).
 */

export class InvalidSourceAllowListError extends Error {
  override readonly name = 'InvalidSourceAllowListError';
  constructor(entry: string) {
    super(
      `Webhook source allow-list entry "${entry}" is not an IPv4/IPv6 address or CIDR block (like 192.28.144.0/20); fix the setting.`,
    );
  }
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) → `192.0.2.1`. */
export const unmapped = (ip: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip);

/** Compiles the list once; the returned check says whether a source address may call the webhook. */
export function sourceAllowList(entries: readonly string[]): (sourceIp: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (!family || rest.length || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      throw new InvalidSourceAllowListError(entry);
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return (sourceIp) => {
    if (!sourceIp) return false;
    const ip = unmapped(sourceIp.trim());
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}
